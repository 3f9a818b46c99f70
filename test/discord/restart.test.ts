import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack.js';

// A bot restart in the middle of a deploy: the job is checkpointed on shutdown, resumed by the next start, and
// its progress message (found again through the store) reaches the final state. No duplicates on the cluster.
describe('bot restart mid-deploy', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ timeScale: 0.05, settings: { progressIntervalMs: 150 } });
  });
  afterAll(async () => s?.stop());

  it('resumes the deploy and finishes it in the same progress message', async () => {
    const { fake, sim } = s;
    const names = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const text = names.join('\n');
    const url = fake.serveFile('restart.txt', text);
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'rs-1' },
      attachments: { users: { filename: 'restart.txt', url, size: text.length } },
    });
    const plan = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000)).message!;
    // every clone answers 1 s (real) late until the restart: the deploy (seconds on the simulator otherwise) is surely
    // still under way when the bot restarts, however fast the machine (as in standby.test.ts)
    sim.faults.add({ kind: 'latency', method: 'POST', path: '/nodes/*/qemu/*/clone', latencyMs: 1_000 / 0.05 });
    const click = fake.click({ member: fake.members.teacher, messageId: plan.id, customId: fake.button(plan.id, 'deploy:confirm:') });
    const post = await fake.waitFor((r) => r.interactionToken === click.token && r.method === 'POST' && !r.path.endsWith('/callback'));
    const msgId = post.message!.id;
    // wait until some work is under way, then restart
    await fake.waitFor(
      (r) => r.method === 'PATCH' && r.message?.id === msgId && /🔄/.test(r.body?.embeds?.[0]?.description ?? '') && !/Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
      20_000,
      'a stand in progress (not the final edit)',
    );
    // one job per group: a second /deploy or /cleanup of it is refused, naming who holds it
    for (const name of ['deploy', 'cleanup']) {
      const again = fake.slash({
        member: fake.members.admin,
        name,
        options: name === 'deploy' ? { profile: 'basic', group: 'rs-1' } : { group: 'rs-1' },
        ...(name === 'deploy' ? { attachments: { users: { filename: 'restart.txt', url, size: text.length } } } : {}),
      });
      const refusal = await fake.waitFor((r) => r.interactionToken === again.token && r.method === 'PATCH', 20_000);
      expect(refusal.body.content).toBe('Group rs-1 is busy: teacher is running a job on it.');
    }
    const bot = await s.restart();
    sim.faults.clear();
    expect(bot.resumed).toHaveLength(1);
    // the old bot said so before it went
    const paused = fake.requests.find((r) => r.message?.id === msgId && /Paused: the bot is restarting/.test(r.body?.embeds?.[0]?.description ?? ''));
    expect(paused).toBeDefined();
    const [job] = await bot.app.store.jobs.list({ group: 'rs-1' });
    expect(job!.id).toBe(bot.resumed[0]);
    expect(job!.discord).toEqual({ channelId: fake.channelId, messageId: msgId });

    const final = await fake.waitFor(
      (r) => r.method === 'PATCH' && r.path === `/channels/${fake.channelId}/messages/${msgId}` && /Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
      40_000,
      'final edit after the restart',
    );
    expect(final.authorization).toBe('Bot fake-bot-token');
    expect(final.body.embeds[0].footer.text).toMatch(/^Finished: success/);
    expect(final.body.embeds[0].description).toContain('Resumed after a bot restart.');
    expect(final.body.embeds[0].description).toContain('6/6 stands done');
    const vms = [...sim.state.vms.values()].filter((v) => /^a\d-vm$/.test(String(v.config.name ?? '')));
    expect(vms.map((v) => v.config.name).sort()).toEqual(names.map((n) => `${n}-vm`));
    expect((await bot.app.store.jobs.get(job!.id))!.status).toBe('succeeded');
  });
});
