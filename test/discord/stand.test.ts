import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireLeases } from '../../src/core/leases.js';
import { leaseTick, warnLeases } from '../../src/discord/leases.js';
import { startStack, type Stack } from './stack.js';

// Students on their own stand: /link by a teacher, /stand request | info | reset | delete, limits, and no way to
// reach someone else's stand — real bot, fake Discord, engine, simulator.
describe('/stand and /link', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      timeScale: 0.01,
      botYml: ['self_service:', '  enabled: true', '  profiles: [basic]', '  max_stands_per_student: 1', '  lease: 4h'].join('\n'),
    });
  });
  afterAll(async () => s?.stop());

  async function run(member: keyof Stack['fake']['members'], name: string, sub?: string, options: Record<string, string> = {}) {
    const { fake } = s;
    const { token } = fake.slash({ member: fake.members[member], name, ...(sub ? { subcommand: sub } : {}), options });
    const r = await fake.waitFor((x) => x.interactionToken === token && x.method === 'PATCH' && !x.body?.embeds?.length, 30_000, `${name} ${sub ?? ''}`);
    expect(fake.requestsFor(token)[0]!.body.data.flags).toBe(64);
    return r.body.content as string;
  }
  const vmsOf = (user: string) => [...s.sim.state.vms.values()].filter((v) => String(v.config.name ?? '').startsWith(`${user}-`));

  it('tells an unlinked student to ask for /link, and lets only teachers /link', async () => {
    expect(await run('student', 'stand', 'request')).toBe('You have no Proxmox account linked. Ask a teacher to /link you.');
    const { fake } = s;
    const { token } = fake.slash({ member: fake.members.student, name: 'link', options: { member: fake.members.student.user.id, user: 'ivanov@pve' } });
    const cb = await fake.waitFor((r) => r.interactionToken === token && r.path.endsWith('/callback'));
    expect(cb.body.data.content).toBe('Access denied: this needs the teacher role.');
    expect(await run('teacher', 'link', undefined, { member: fake.members.student.user.id, user: 'ivanov@pve' })).toBe(
      `<@${fake.members.student.user.id}> is now linked to ivanov@pve.`,
    );
    expect(await run('teacher', 'link', undefined, { member: fake.members.student2.user.id, user: 'bad user' })).toBe(
      'bad user is not a valid Proxmox user id (name@realm).',
    );
  });

  it('creates a student their own stand and shows the password only to them', async () => {
    const text = await run('student', 'stand', 'request');
    const lines = text.split('\n');
    expect(lines[0]).toBe('Your stand in self-basic is ready. Login: ivanov@pve');
    expect(lines[1]).toMatch(/^Password: \|\|.{12,}\|\|$/);
    expect(vmsOf('ivanov')).toHaveLength(1);
    const pw = lines[1]!.slice('Password: ||'.length, -2);
    // only the ephemeral reply (flag 64) carries it: nothing public, nothing in the audit channel
    const visible = [...s.fake.channelMessages(s.fake.channelId), ...s.fake.channelMessages(s.fake.auditChannelId)].filter((x) => !((x.flags ?? 0) & 64));
    const publicText = JSON.stringify(visible);
    expect(publicText.includes(pw)).toBe(false);
    expect(await run('student', 'stand', 'request')).toBe('You already have 1 stand, the most a student may have.');
  });

  it('warns the student by DM once before the lease ends', async () => {
    const { fake } = s;
    const inThreeAndAHalfHours = Date.now() + 3.5 * 3600_000;
    expect(await warnLeases(s.bot.bot, inThreeAndAHalfHours)).toEqual(['self-basic/ivanov@pve']);
    const dms = fake.dmsTo(fake.members.student.user.id);
    expect(dms.map((d) => d.content)).toEqual([expect.stringMatching(/^Your stand in self-basic expires <t:\d+:R>\. Save your work\.$/)]);
    expect(await warnLeases(s.bot.bot, inThreeAndAHalfHours + 60_000)).toEqual([]);
  });

  it('shows info, resets and cannot reach another student’s stand', async () => {
    const { fake } = s;
    const routes = { ...s.sim.stats.byRoute };
    const delta = (route: string) => (s.sim.stats.byRoute[route] ?? 0) - (routes[route] ?? 0);
    const { token } = fake.slash({ member: fake.members.student, name: 'stand', subcommand: 'info' });
    const r = await fake.waitFor((x) => x.interactionToken === token && x.method === 'PATCH');
    expect(r.body.embeds[0].title).toMatch(/^Stand in self-basic on pve\d: ready$/);
    // basic.yml says nothing about isolation: the stand is not isolated, and /stand info says so
    expect(r.body.embeds[0].description).toMatch(/\nNot isolated$/);
    // the member's own VM, read from its node (one list per node), not from the lagging cluster resources
    const vm = vmsOf('ivanov')[0]!;
    expect(r.body.embeds[0].description).toContain(`ivanov-vm (${vm.vmid}) — running · `);
    expect(delta('GET /nodes/{node}/qemu')).toBe(1);
    expect(delta('GET /cluster/resources')).toBe(0);
    expect(await run('student', 'stand', 'rollback')).toBe('Done: rolled back to the start snapshot.');
    expect(await run('student', 'stand', 'reset')).toBe('Done: reset to the start snapshot.'); // the old name, an alias
    // student2 is linked to someone else: none of the /stand actions reach ivanov's stand
    await run('teacher', 'link', undefined, { member: fake.members.student2.user.id, user: 'petrov@pve' });
    for (const sub of ['delete', 'reset', 'stop']) {
      expect(await run('student2', 'stand', sub)).toBe('У вас нет стенда. Используйте /stand request.');
    }
    expect(await run('student2', 'stand', 'delete', { group: 'self-basic' })).toBe('У вас нет стенда. Используйте /stand request.');
    expect(vmsOf('ivanov')).toHaveLength(1);
    expect(s.sim.state.vms.get(vmsOf('ivanov')[0]!.vmid)!.status).toBe('running');
  });

  it('deletes the student’s own stand and /unlink removes the link', async () => {
    expect(await run('student', 'stand', 'delete')).toBe('Done: deleted.');
    expect(vmsOf('ivanov')).toHaveLength(0);
    const { fake } = s;
    expect(await run('teacher', 'unlink', undefined, { member: fake.members.student.user.id })).toBe(`<@${fake.members.student.user.id}> is no longer linked.`);
    expect(await run('student', 'stand', 'info')).toBe('You have no Proxmox account linked. Ask a teacher to /link you.');
    const audit = await s.bot.app.store.audit.list();
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(expect.arrayContaining(['stand request:ok', 'stand reset:ok', 'stand delete:ok', 'link:ok', 'unlink:ok']));
  });

  it('stops an expired stand on the lease schedule and audits it', async () => {
    const { fake } = s;
    await run('teacher', 'link', undefined, { member: fake.members.student.user.id, user: 'ivanov@pve' });
    expect((await run('student', 'stand', 'request')).split('\n')[0]).toBe('Your stand in self-basic is ready. Login: ivanov@pve');
    const app = s.bot.app;
    await leaseTick(s.bot.bot, () => expireLeases(app, { now: Date.now() + 5 * 3600_000, action: 'stop' }));
    expect(vmsOf('ivanov').map((v) => v.status)).toEqual(['stopped']);
    const line = `<@${s.bot.client.user!.id}> lease stop self-basic/ivanov@pve: ok`;
    await fake.waitFor((r) => r.path === `/channels/${fake.auditChannelId}/messages` && r.body?.content === line, 5000, line);
  });
});
