import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'discord.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';
import { JobManager, type JobResult } from '../../src/discord/jobs.js';
import { discordSettings } from '../../src/discord/settings.js';
import { openStore, type Store } from '../../src/store/index.js';
import { silentLogger } from '../../src/log.js';

// One job per group, a queue per cluster, progress messages through the fake's REST.
describe('JobManager', () => {
  let fake: FakeDiscord;
  let client: Client;
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    fake = await startFakeDiscord();
    client = new Client({ intents: [], rest: { api: fake.apiUrl } });
    client.rest.setToken(BOT_TOKEN);
    dir = mkdtempSync(join(tmpdir(), 'jobs-'));
    store = await openStore(join(dir, 'state.sqlite'));
  });
  afterAll(async () => {
    await client.destroy();
    await fake.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function gate() {
    let open!: () => void;
    const p = new Promise<void>((r) => (open = r));
    return { p, open };
  }

  it('refuses a second job on a busy group naming its holder, queues per cluster, runs other clusters at once', async () => {
    const settings = discordSettings({ guildId: fake.guildId, roles: { admin: [], teacher: [], student: [] }, progressIntervalMs: 50 });
    const jobs = new JobManager({ client, store, settings, logger: silentLogger() });
    const started: string[] = [];
    const a = gate();
    const mk = (name: string, group: string, cluster: string, wait?: Promise<void>) =>
      jobs.start<JobResult>({
        kind: 'cleanup',
        group,
        cluster,
        actor: { id: '1', name },
        lang: 'en',
        channelId: fake.channelId,
        run: async () => {
          started.push(group);
          await wait;
          return { outcome: 'succeeded' };
        },
      });
    const ja = await mk('alice', 'g1', 'lab', a.p);
    await expect(mk('bob', 'g1', 'lab')).rejects.toThrow('Group g1 is busy: alice is running a job on it.');
    const jb = await mk('bob', 'g2', 'lab');
    const jc = await mk('carol', 'g3', 'other');
    await jc.finished;
    expect(started).toEqual(['g1', 'g3']); // g2 waits behind g1 on cluster lab
    expect(fake.messages.get(jb.job.message.messageId!)!.embeds[0]!.description).toContain('Queued: 1 job ahead on this cluster.');
    a.open();
    await ja.finished;
    await jb.finished;
    expect(started).toEqual(['g1', 'g3', 'g2']);
    const final = fake.messages.get(jb.job.message.messageId!)!.embeds[0]!;
    expect(final.footer!.text).toMatch(/^Finished: success/);
    expect(final.description).not.toContain('Queued');
    expect(jobs.list()).toEqual([]);
  });
});
