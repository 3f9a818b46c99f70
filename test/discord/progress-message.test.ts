import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'discord.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';
import { ProgressMessage } from '../../src/discord/jobs.js';
import { discordSettings } from '../../src/discord/settings.js';
import { silentLogger } from '../../src/log.js';

// Where a progress message lives over a job's life: a webhook follow-up while the interaction token is young,
// a channel message (bot token) from `tokenSwitchMs` on, the old message pointing at the new one.
describe('ProgressMessage', () => {
  let fake: FakeDiscord;
  let client: Client;
  beforeAll(async () => {
    fake = await startFakeDiscord();
    client = new Client({ intents: [], rest: { api: fake.apiUrl } });
    client.rest.setToken(BOT_TOKEN);
  });
  afterAll(async () => {
    await client.destroy();
    await fake.stop();
  });

  it('moves to a channel message once the token is tokenSwitchMs old, and links the old message to it', async () => {
    const settings = discordSettings({ guildId: fake.guildId, roles: { admin: [], teacher: [], student: [] }, tokenSwitchMs: 14 * 60_000 });
    const { token } = fake.slash({ member: fake.members.teacher, name: 'deploy' });
    const createdAt = Date.now();
    let clock = createdAt;
    const moves: string[] = [];
    const pm = new ProgressMessage(client, settings, fake.channelId, { appId: fake.appId, token, createdAt }, (id) => void moves.push(id), silentLogger(), undefined, () => clock);
    await pm.send({ content: 'one' });
    expect(pm.via).toBe('webhook');
    const first = pm.messageId!;
    clock += 60_000;
    await pm.send({ content: 'two' });
    expect(fake.messages.get(first)!.content).toBe('two');
    clock = createdAt + 14 * 60_000; // the switch point: one minute of token life left
    await pm.send({ content: 'three' });
    expect(pm.via).toBe('channel');
    expect(moves).toEqual([pm.messageId]);
    expect(fake.messages.get(pm.messageId!)!.content).toBe('three');
    expect(fake.messages.get(first)!.content).toBe(`Progress continues in a channel message: https://discord.com/channels/${fake.guildId}/${fake.channelId}/${pm.messageId}`);
    const before = fake.requestsFor(token).length;
    await pm.send({ content: 'four' });
    expect(fake.requestsFor(token).length).toBe(before); // the token is not used after the switch
    const last = fake.requests.at(-1)!;
    expect([last.method, last.path, last.authorization]).toEqual(['PATCH', `/channels/${fake.channelId}/messages/${pm.messageId}`, `Bot ${BOT_TOKEN}`]);
  });

  it('starts in the channel when there is no usable token, and re-creates a deleted message', async () => {
    const settings = discordSettings({ guildId: fake.guildId, roles: { admin: [], teacher: [], student: [] } });
    const moves: string[] = [];
    const pm = new ProgressMessage(client, settings, fake.channelId, undefined, (id) => void moves.push(id), silentLogger());
    await pm.send({ content: 'a' });
    const first = pm.messageId!;
    fake.messages.delete(first);
    await pm.send({ content: 'b' });
    expect(pm.messageId).not.toBe(first);
    expect(moves).toEqual([pm.messageId]);
    expect(fake.messages.get(pm.messageId!)!.content).toBe('b');
  });
});
