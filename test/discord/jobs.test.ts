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

  it('counts a stand done at its last step, and never edits the message to what it already shows', async () => {
    const settings = discordSettings({ guildId: fake.guildId, roles: { admin: [], teacher: [], student: [] }, progressIntervalMs: 50 });
    const jobs = new JobManager({ client, store, settings, logger: silentLogger() });
    const g = gate();
    const { job, finished } = await jobs.start<JobResult>({
      kind: 'deploy',
      group: 'g-steps',
      cluster: 'lab',
      actor: { id: '1', name: 'alice' },
      lang: 'en',
      channelId: fake.channelId,
      stands: ['a@pve', 'b@pve'],
      standSteps: { 'a@pve': 2, 'b@pve': 2 },
      jobId: 'deploy-x',
      run: async (onEvent) => {
        // as the engine starts: events that change nothing on screen yet
        onEvent({ type: 'planned', job: 'deploy-x', total: 2 });
        onEvent({ type: 'job-started', job: 'deploy-x', total: 2 });
        await jobs.holder('g-steps')!.editor.flush(); // whatever is pending goes out now (if it is worth sending)
        const ev = (type: 'step-started' | 'step-finished', stand: string, step: string) => onEvent({ type, job: 'deploy-x', stand, step });
        ev('step-started', 'a@pve', 'access');
        ev('step-finished', 'a@pve', 'access');
        ev('step-started', 'a@pve', 'clone');
        ev('step-finished', 'a@pve', 'clone');
        // a's stand-done waits for b (the node's network apply): the counter must not
        await g.p;
        ev('step-finished', 'b@pve', 'access');
        ev('step-finished', 'b@pve', 'clone');
        onEvent({ type: 'stand-done', job: 'deploy-x', stand: 'a@pve' });
        onEvent({ type: 'stand-done', job: 'deploy-x', stand: 'b@pve' });
        return { outcome: 'succeeded' };
      },
    });
    const id = job.message.messageId!;
    const mid = await fake.waitFor((r) => r.method === 'PATCH' && r.message?.id === id && /1\/2 stands done/.test(r.body?.embeds?.[0]?.description ?? ''), 30_000, 'an edit showing 1/2 stands done');
    expect(mid.body.embeds[0].description).toContain('✅ a@pve — done');
    g.open();
    await finished;
    const bodies = fake.requests
      .filter((r) => r.message?.id === id && (r.method === 'POST' || r.method === 'PATCH'))
      .map((r) => JSON.stringify(r.body.embeds));
    expect(fake.requests.find((r) => r.message?.id === id)!.method).toBe('POST');
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    // the first edit is not the message just created, and no edit repeats the one before it
    for (let i = 1; i < bodies.length; i++) expect(bodies[i], `request ${i} repeats ${i - 1}`).not.toBe(bodies[i - 1]);
    expect(JSON.parse(bodies.at(-1)!)[0].description).toContain('2/2 stands done');
  });
});
