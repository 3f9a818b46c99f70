import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack.js';

// Bad input, refusals, the 15-minute token horizon (shortened) and /cleanup — real bot, fake Discord, simulator.
describe('/deploy edge cases and /cleanup', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ timeScale: 0.02, settings: { progressIntervalMs: 150 } });
  });
  afterAll(async () => s?.stop());

  const ourVms = () => [...s.sim.state.vms.values()].filter((v) => (v.config.tags ?? '').toString().includes('stands'));

  function upload(name: string, text: string) {
    const url = s.fake.serveFile(name, text);
    return { users: { filename: name, url, size: Buffer.byteLength(text), contentType: 'text/plain; charset=utf-8' } };
  }
  async function replyTo(token: string) {
    const r = await s.fake.waitFor((x) => x.interactionToken === token && x.method === 'PATCH', 20_000, 'reply');
    return r.body as { content?: string; embeds?: { title?: string; description?: string }[] };
  }

  it('answers a malformed user list with its errors by line number, ephemerally, and creates nothing', async () => {
    const { fake } = s;
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'bad-1' },
      attachments: upload('class.txt', 'ivanov\nbad user@@x\nroot@pam\npetrov\n'),
    });
    const body = await replyTo(token);
    expect(fake.requestsFor(token)[0]!.body.data.flags).toBe(64);
    const lines = body.content!.split('\n');
    expect(lines[0]).toMatch(/^class\.txt: \d problems; nothing was created\.$/);
    expect(lines.some((l) => l.startsWith('class.txt:2: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('class.txt:3: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('class.txt:1: ') || l.startsWith('class.txt:4: '))).toBe(false);
    expect(ourVms()).toHaveLength(0);
  });

  it('refuses attachments from hosts that are not allowed and files over the size limit', async () => {
    const { fake } = s;
    const a = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic' },
      attachments: { users: { filename: 'class.txt', url: 'http://files.example.invalid/class.txt', size: 10 } },
    });
    expect((await replyTo(a.token)).content).toBe('The attachment comes from files.example.invalid, which is not an allowed attachment host.');
    const big = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic' },
      attachments: { users: { filename: 'class.txt', url: fake.serveFile('big.txt', 'x'), size: 2 * 1024 * 1024 } },
    });
    expect((await replyTo(big.token)).content).toBe('The attachment is 2097152 bytes; the limit is 1048576 bytes.');
  });

  it('refuses /deploy and /cleanup to a student, ephemerally, and audits the refusals', async () => {
    const { fake } = s;
    for (const name of ['deploy', 'cleanup']) {
      const { token } = fake.slash({ member: fake.members.student, name, options: { group: 'x' } });
      const cb = await fake.waitFor((r) => r.interactionToken === token && r.path.endsWith('/callback'));
      expect(cb.body).toMatchObject({ type: 4, data: { content: 'Access denied: this needs the teacher role.', flags: 64 } });
    }
    for (const name of ['deploy', 'cleanup']) {
      const line = `<@${fake.members.student.user.id}> ${name} -: denied`;
      await fake.waitFor((r) => r.path === `/channels/${fake.auditChannelId}/messages` && r.body?.content === line, 5000, line);
    }
    expect(ourVms()).toHaveLength(0);
  });

  it('moves progress to a channel message when the interaction token dies, and sends credentials by DM', async () => {
    const { fake } = s;
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'long-1' },
      attachments: upload('long.txt', 'kuznetsov\nsmirnov\npopov\nvasiliev\n'),
    });
    const plan = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000)).message!;
    fake.tokenTtlMs = 400; // the click's token dies while the deploy runs:
    // every clone request answers 1 s (real) late, so the deploy outlives the token however fast the engine gets
    s.sim.faults.add({ kind: 'latency', method: 'POST', path: '/nodes/*/qemu/*/clone', latencyMs: 1_000 / 0.02 });
    const click = fake.click({ member: fake.members.teacher, messageId: plan.id, customId: fake.button(plan.id, 'deploy:confirm:') });
    const moved = await fake.waitFor(
      (r) => r.method === 'POST' && r.path === `/channels/${fake.channelId}/messages` && r.body?.embeds?.[0]?.title === 'Deploy long-1',
      30_000,
      'channel progress message',
    );
    expect(moved.authorization).toBe('Bot fake-bot-token');
    const expired = fake.requestsFor(click.token).filter((r) => r.status === 401);
    expect(expired.length).toBe(1); // one 401 and the token is never used again
    const final = await fake.waitFor(
      (r) => r.method === 'PATCH' && r.path === `/channels/${fake.channelId}/messages/${moved.message!.id}` && /Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
      30_000,
      'final edit of the channel message',
    );
    expect(final.body.embeds[0].footer.text).toMatch(/^Finished: success/);
    const jobs = await s.bot.app.store.jobs.list({ group: 'long-1' });
    expect(jobs[0]!.discord).toEqual({ channelId: fake.channelId, messageId: moved.message!.id });
    const dms = await fake.waitFor((r) => r.status === 200 && r.files[0]?.name === 'long-1-credentials.csv', 10_000, 'credentials DM');
    expect(fake.dmChannels.get(dms.path.split('/')[2]!)).toBe(fake.members.teacher.user.id);
    expect(fake.requestsFor(click.token).filter((r) => r.status === 401).length).toBe(1);
    fake.tokenTtlMs = 15 * 60_000;
    s.sim.faults.clear();
  });

  it('cleans up a group after a dry-run listing and Confirm, leaving nothing of it', async () => {
    const { fake } = s;
    const before = ourVms().length;
    expect(before).toBe(4);
    // the deploy's last steps (credentials) finish just after its final edit
    for (let k = 0; k < 100 && s.bot.bot.jobs.list().length; k++) await new Promise((r) => setTimeout(r, 50));
    const { token } = fake.slash({ member: fake.members.teacher, name: 'cleanup', options: { group: 'long-1' } });
    const listing = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000)).message!;
    expect(listing.content).toBe('');
    expect(listing.embeds[0]!.title).toBe('Cleanup of long-1: what will be removed');
    expect(listing.embeds[0]!.description).toMatch(/^kuznetsov@pve: VMs \d+ kuznetsov-vm/m);
    expect(ourVms()).toHaveLength(4); // a dry run
    const click = fake.click({ member: fake.members.teacher, messageId: listing.id, customId: fake.button(listing.id, 'cleanup:confirm:') });
    const post = await fake.waitFor((r) => r.interactionToken === click.token && r.method === 'POST' && !r.path.endsWith('/callback'));
    await fake.waitFor(
      (r) => r.message?.id === post.message!.id && /Finished: success/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
      30_000,
      'cleanup summary',
    );
    expect(ourVms()).toHaveLength(0);
  });

  it('times the Confirm out: the plan says so, and a late click is answered "expired" with nothing created', async () => {
    await s.restart({ progressIntervalMs: 150, confirmTimeoutMs: 300 });
    const { fake } = s;
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'late-1' },
      attachments: upload('late.txt', 'late1\n'),
    });
    const plan = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000)).message!;
    const confirmId = fake.button(plan.id, 'deploy:confirm:');
    await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH' && r.body?.content === 'No confirmation in time. Nothing was changed.', 10_000);
    expect(fake.messages.get(plan.id)!.components).toEqual([]);
    const click = fake.click({ member: fake.members.teacher, messageId: plan.id, customId: confirmId });
    const r = await fake.waitFor((x) => x.interactionToken === click.token && x.path.endsWith('/callback'));
    expect(r.body.data).toMatchObject({ content: 'This confirmation has expired or was already used. Run the command again.', flags: 64 });
    expect(await s.bot.app.store.groups.get('late-1')).toBeUndefined();
  });
});
