import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Events, GatewayIntentBits, MessageFlags } from 'discord.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';
import { createRouter } from '../../src/discord/router.js';
import { createAuditor } from '../../src/discord/audit.js';
import { discordSettings } from '../../src/discord/settings.js';
import { JobManager } from '../../src/discord/jobs.js';
import { PendingStore } from '../../src/discord/pending.js';
import { buttonId, type Bot, type BotCommand } from '../../src/discord/types.js';
import { openStore, type Store } from '../../src/store/index.js';
import { silentLogger } from '../../src/log.js';
import { UserError } from '../../src/errors.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';
import type { AppContext } from '../../src/core/context.js';

// The router with the real discord.js client against the fake: authorization, defer mode, error mapping, buttons.
describe('interaction router', () => {
  let fake: FakeDiscord;
  let client: Client;
  let store: Store;
  let dir: string;
  const ran: string[] = [];

  const commands: BotCommand[] = [
    {
      data: { name: 'teach', description: 'teacher only' },
      access: 'teacher',
      ephemeral: false,
      run: async (cx) => {
        ran.push('teach');
        await cx.interaction.editReply({
          content: cx.m.confirm,
          components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: buttonId('teach', 'go', 'x1'), label: 'Go' }] }],
        });
      },
      buttons: {
        go: {
          access: 'teacher',
          run: async (cx, arg) => {
            await cx.interaction.update({ content: `went ${arg}`, components: [] });
          },
        },
      },
    },
    {
      data: { name: 'oops', description: 'fails', options: [{ type: 3, name: 'kind', description: 'k' }] },
      access: 'student',
      ephemeral: true,
      run: async (cx) => {
        const kind = cx.interaction.options.getString('kind');
        if (kind === 'user') throw new UserError('group net-1 does not exist');
        if (kind === 'pve') throw new ProxmoxApiError({ status: 500, method: 'POST', path: '/nodes/pve1/qemu', pveMessage: 'storage full', retrySafe: false });
        throw new Error('secret detail: token=abc');
      },
    },
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'router-'));
    fake = await startFakeDiscord();
    store = await openStore(join(dir, 'state.sqlite'));
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    const settings = discordSettings({
      guildId: fake.guildId,
      roles: { admin: [fake.roles.admin], teacher: [fake.roles.teacher], student: [fake.roles.student] },
      auditChannelId: fake.auditChannelId,
    });
    const logger = silentLogger();
    const bot: Bot = {
      app: { store, logger } as unknown as AppContext,
      client,
      settings,
      logger,
      jobs: new JobManager({ client, store, settings, logger }),
      pending: new PendingStore(),
      audit: createAuditor({ store, client, channelId: fake.auditChannelId, lang: 'en', logger }),
    };
    client.on(Events.InteractionCreate, createRouter(bot, commands));
    const ready = new Promise((r) => client.once(Events.ClientReady, r));
    await client.login(BOT_TOKEN);
    await ready;
  });
  afterAll(async () => {
    await client.destroy();
    await fake.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a student a teacher command with an ephemeral reply, audits it, and never runs it', async () => {
    const { token } = fake.slash({ member: fake.members.student, name: 'teach' });
    const cb = await fake.waitFor((r) => r.interactionToken === token && r.path.endsWith('/callback'));
    expect(cb.body.type).toBe(4);
    expect(cb.body.data.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(cb.body.data.content).toBe('Access denied: this needs the teacher role.');
    const post = await fake.waitFor((r) => r.path === `/channels/${fake.auditChannelId}/messages`);
    expect(post.body.content).toBe(`<@${fake.members.student.user.id}> teach -: denied`);
    expect(ran).toEqual([]);
    const [entry] = await store.audit.list({ limit: 1 });
    expect(entry).toMatchObject({ action: 'teach', outcome: 'denied' });
  });

  it('answers in Russian for a ru member', async () => {
    const { token } = fake.slash({ member: fake.members.student2, name: 'teach' });
    const cb = await fake.waitFor((r) => r.interactionToken === token && r.path.endsWith('/callback'));
    expect(cb.body.data.content).toBe('Доступ запрещён: нужна роль «преподаватель».');
  });

  it('defers publicly as declared, runs, and re-checks roles on every button press', async () => {
    const { token } = fake.slash({ member: fake.members.teacher, name: 'teach' });
    const edit = await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH');
    const cb = fake.requestsFor(token).find((r) => r.path.endsWith('/callback'))!;
    expect(cb.body).toMatchObject({ type: 5, data: { flags: 0 } });
    const msgId = edit.message!.id;
    const bad = fake.click({ member: fake.members.student, messageId: msgId, customId: 'teach:go:x1' });
    const refusal = await fake.waitFor((r) => r.interactionToken === bad.token && r.path.endsWith('/callback'));
    expect(refusal.body.data).toMatchObject({ content: 'Access denied: this needs the teacher role.', flags: 64 });
    expect(fake.messages.get(msgId)!.content).toBe('Confirm');
    const good = fake.click({ member: fake.members.admin, messageId: msgId, customId: 'teach:go:x1' });
    await fake.waitFor((r) => r.interactionToken === good.token && r.path.endsWith('/callback'));
    expect(fake.messages.get(msgId)!.content).toBe('went x1');
  });

  it('maps errors: UserError as is, Proxmox errors by their message, anything else as a reference', async () => {
    const texts: string[] = [];
    for (const kind of ['user', 'pve', 'bug']) {
      const { token } = fake.slash({ member: fake.members.student, name: 'oops', options: { kind } });
      const r = await fake.waitFor((x) => x.interactionToken === token && x.method === 'PATCH');
      expect(fake.requestsFor(token)[0]!.body.data.flags).toBe(64);
      texts.push(r.body.content);
    }
    expect(texts[0]).toBe('group net-1 does not exist');
    expect(texts[1]).toBe('Proxmox refused the request: 500 storage full');
    expect(texts[2]).toMatch(/^Internal error, reference [A-Z0-9]{6}\. The bot's log has the details\.$/);
  });
});
