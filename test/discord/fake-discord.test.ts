import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentBuilder, Client, Events, GatewayIntentBits, MessageFlags, type Interaction } from 'discord.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';

// The fake itself: the real discord.js client logs in to it and round-trips the interaction surface we use.
describe('fake Discord', () => {
  let fake: FakeDiscord;
  let client: Client;
  const handlers: ((i: Interaction) => Promise<void>)[] = [];

  beforeAll(async () => {
    fake = await startFakeDiscord({ heartbeatIntervalMs: 200 });
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    client.on(Events.InteractionCreate, (i) => {
      for (const h of handlers) void h(i);
    });
    const ready = new Promise((r) => client.once(Events.ClientReady, r));
    await client.login(BOT_TOKEN);
    await ready;
  });
  afterAll(async () => {
    await client.destroy();
    await fake.stop();
  });

  it('caches the guild with its roles and channels after login', () => {
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.roles.cache.get(fake.roles.teacher)?.name).toBe('teacher');
    expect(guild?.channels.cache.has(fake.channelId)).toBe(true);
  });

  it('round-trips defer, edits through a 429, a follow-up with a file, and a button click', async () => {
    handlers.length = 0;
    handlers.push(async (i) => {
      if (i.isChatInputCommand()) {
        await i.deferReply({ flags: MessageFlags.Ephemeral });
        await i.editReply({ content: 'one' });
        await i.editReply({ content: 'two', components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: 'x:go', label: 'Go' }] }] });
        await i.followUp({ content: 'file', files: [new AttachmentBuilder(Buffer.from('a,b\n'), { name: 'c.csv' })], flags: MessageFlags.Ephemeral });
      } else if (i.isButton()) {
        await i.update({ content: `clicked ${i.customId} by ${i.user.username}`, components: [] });
      }
    });
    fake.injectFault({ method: 'PATCH', pathIncludes: '@original', status: 429, times: 1 });
    const { token } = fake.slash({ member: fake.members.teacher, name: 'probe' });
    await fake.waitFor((r) => r.interactionToken === token && r.files.length === 1);
    const patches = fake.requestsFor(token).filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.status)).toEqual([429, 200, 200]);
    const original = fake.original(token)!;
    expect(original.content).toBe('two');
    expect(fake.followUps(token)[0]!.files[0]!.data.toString()).toBe('a,b\n');
    const click = fake.click({ member: fake.members.student, messageId: original.id, customId: 'x:go' });
    await fake.waitFor((r) => r.interactionToken === click.token && r.path.endsWith('/callback'));
    expect(fake.messages.get(original.id)!.content).toBe('clicked x:go by student');
  });

  it('answers an edit after the token lifetime with 401 50027 and a late ack with 10062', async () => {
    handlers.length = 0;
    const seen: string[] = [];
    fake.tokenTtlMs = 150;
    handlers.push(async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await new Promise((r) => setTimeout(r, 250));
      await i.editReply('late').catch((e: { code?: number; status?: number }) => seen.push(`${e.status} ${e.code}`));
    });
    const { token } = fake.slash({ member: fake.members.teacher, name: 'probe' });
    await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH');
    for (let k = 0; k < 100 && !seen.length; k++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['401 50027']);
    fake.tokenTtlMs = 15 * 60_000;
  });

  it('serves attachments and answers autocomplete', async () => {
    handlers.length = 0;
    handlers.push(async (i) => {
      if (i.isAutocomplete()) await i.respond([{ name: `v:${i.options.getFocused()}`, value: 'x' }]);
    });
    const url = fake.serveFile('users.txt', 'ivanov\n');
    expect(await (await fetch(url)).text()).toBe('ivanov\n');
    const { token } = fake.autocomplete({ member: fake.members.teacher, name: 'deploy', focused: 'profile', value: 'net' });
    await fake.waitFor((r) => r.interactionToken === token);
    expect([...fake.interactions.values()].find((i) => i.token === token)!.autocompleteChoices).toEqual([{ name: 'v:net', value: 'x' }]);
  });

  it('answers heartbeats, and replays missed events to a client that resumes', async () => {
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.gatewayOps.filter((o) => o === 1).length).toBeGreaterThan(0);
    handlers.length = 0;
    const seen: string[] = [];
    handlers.push(async (i) => void seen.push(i.id));
    fake.dropGateway(4000);
    const { id } = fake.slash({ member: fake.members.teacher, name: 'probe' }); // sent while disconnected
    for (let k = 0; k < 100 && !seen.includes(id); k++) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([id]);
    expect(fake.gatewayOps).toContain(6);
  });
});
