/**
 * /templates prepare (issue 14): admin only (a teacher is refused and audited); makes every replica a deploy of the
 * profile needs, shows the progress in the reply; a second run finds them all present and changes nothing.
 * Real bot and discord.js client ↔ fake Discord ↔ engine ↔ simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack.js';

describe('/templates prepare', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ timeScale: 0.01 });
  });
  afterAll(async () => s?.stop());

  const prepare = (member: 'admin' | 'teacher') =>
    s.fake.slash({ member: s.fake.members[member], name: 'templates', subcommand: 'prepare', options: { profile: 'netlab' } });
  const finalReply = (token: string) =>
    s.fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH' && /Done: /.test(r.body?.content ?? ''), 60_000, 'the prepare summary');
  const replicaVms = () => [...s.sim.state.vms.values()].filter((v) => v.vmid >= 100000).map((v) => `${v.vmid}@${v.node}:${v.config.template ? 'tpl' : 'vm'}`).sort();

  it('refuses a teacher (admins only), audited, and makes nothing', async () => {
    const { token } = prepare('teacher');
    const r = await s.fake.waitFor((x) => x.interactionToken === token && x.method === 'POST', 20_000, 'the refusal');
    expect(JSON.stringify(r.body)).toContain('Access denied: this needs the admin role.');
    await s.fake.waitFor((x) => x.method === 'POST' && /templates prepare -: denied/.test(x.body?.content ?? ''), 20_000, 'the audit line');
    expect(replicaVms()).toEqual([]);
  });

  it('makes the four replicas of netlab for an admin, with progress in the reply', async () => {
    const { token } = prepare('admin');
    const r = await finalReply(token);
    expect(r.body.content).toContain('Template replicas for profile netlab on sim: 4 needed, 4 to make.');
    expect(r.body.content).toContain('Done: 4 made, 0 present, 0 failed.');
    expect(r.body.content.match(/✔ tpl-900[01]-pve[23] \(\d+\) on pve[23]/g)).toHaveLength(4);
    expect(replicaVms()).toHaveLength(4);
    expect(replicaVms().every((v) => v.endsWith(':tpl'))).toBe(true);
    await s.fake.waitFor((x) => x.method === 'POST' && /templates prepare -: ok \(prepare-/.test(x.body?.content ?? ''), 20_000, 'the audit line');
  });

  it('is idempotent: the second run finds all four present and makes nothing', async () => {
    const before = replicaVms();
    const vmCount = s.sim.state.vms.size;
    const { token } = prepare('admin');
    const r = await finalReply(token);
    expect(r.body.content).toContain('4 needed, 0 to make.');
    expect(r.body.content).toContain('Done: 0 made, 4 present, 0 failed.');
    expect(replicaVms()).toEqual(before);
    expect(s.sim.state.vms.size).toBe(vmCount);
  });
});
