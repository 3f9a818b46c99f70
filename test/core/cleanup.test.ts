import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCleanupPlan, planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { DeployPlan } from '../../src/core/types.js';
import { foreignSnapshot, leftovers, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('cleanup', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let foreignBefore: unknown;

  beforeAll(async () => {
    env = await startRunEnv();
    foreignBefore = foreignSnapshot(env.sim);
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(4), group: 'net2', start: true });
    const r = await runDeploy(env.ctx, plan);
    expect(r.status).toBe('succeeded');
  });
  afterAll(async () => env?.close());

  it('a dry run lists every stand\'s VMs, bridges, pool and user and changes nothing', async () => {
    env.sim.stats.reset();
    const cplan = await planCleanup(env.ctx, { group: 'net2' });
    const lines = describeCleanupPlan(cplan);
    expect(lines).toHaveLength(4);
    const s = plan.stands[0]!;
    expect(lines[0]).toContain(`${s.userid}: VMs ${s.vms.map((v) => v.vmid).join(' ')}`.split(' ')[0]);
    expect(lines[0]).toContain(`pool ${s.pool}`);
    expect(lines[0]).toContain(`user ${s.userid}`);
    expect(lines[0]).toContain(`${s.segments[0]!.iface}@${s.node}`);
    const writes = Object.keys(env.sim.stats.byRoute).filter((r) => !r.startsWith('GET'));
    expect(writes).toEqual([]);
    expect(env.sim.stats.requests).toBeGreaterThan(0);
  });

  it('one user: removes only that stand', async () => {
    const one = plan.stands[3]!;
    const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'net2', user: one.userid }));
    expect(res.status).toBe('succeeded');
    for (const vm of one.vms) expect(env.sim.state.vms.has(vm.vmid)).toBe(false);
    expect(env.sim.state.users.has(one.userid)).toBe(false);
    for (const s of plan.stands.slice(0, 3)) for (const vm of s.vms) expect(env.sim.state.vms.has(vm.vmid)).toBe(true);
    expect((await env.ctx.store.stands.listByGroup('net2')).map((s) => s.userid)).toEqual(plan.stands.slice(0, 3).map((s) => s.userid));
  });

  it('keeps a recorded object that the cluster does not mark ours (a foreign VM smuggled into the record)', async () => {
    const s = plan.stands[0]!;
    await env.ctx.store.stands.update('net2', s.userid, (r) => ({
      ...r,
      vms: [...r.vms, { machine: 'x', vmid: 100, node: 'pve1', name: 'web-prod', status: 'ready', steps: [] }],
    }));
    const cplan = await planCleanup(env.ctx, { group: 'net2' });
    // the English texts as always; the same as codes beside them (kept items carry whatMsg/reasonMsg)
    expect(cplan.kept).toContainEqual(
      expect.objectContaining({ what: 'VM 100 (web-prod) on pve1', reason: "recorded, but not the VM we created: it is not marked as net2's" }),
    );
    expect(cplan.kept.find((k) => k.what === 'VM 100 (web-prod) on pve1')?.whatMsg).toEqual({ code: 'kept.vm', params: { vmid: 100, node: 'pve1', name: 'web-prod' } });
    expect(cplan.stands.flatMap((x) => x.vms.map((v) => v.vmid))).not.toContain(100);
  });

  it('tolerates objects already gone, removes everything of ours, and nothing else', async () => {
    // someone deleted one VM and one pool by hand
    const s = plan.stands[1]!;
    env.sim.state.vms.delete(s.vms[0]!.vmid);
    for (const n of env.sim.state.nodes.values()) n.vmids.delete(s.vms[0]!.vmid);
    env.sim.state.pools.get(s.pool)!.vmids.delete(s.vms[0]!.vmid);
    const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'net2' }));
    expect(res.stands.map((x) => `${x.userid}:${x.status}:${x.error ?? ''}`)).toEqual(
      plan.stands.slice(0, 3).map((x) => `${x.userid}:removed:`),
    );
    expect(leftovers(env)).toEqual([]);
    expect(foreignSnapshot(env.sim)).toEqual(foreignBefore);
    expect(env.sim.state.network.get('pve3')!.pending?.has('vmbr99')).toBe(true);
    expect(await env.ctx.store.stands.listByGroup('net2')).toEqual([]);
    expect(await env.ctx.store.groups.get('net2')).toBeUndefined();
    const journal = await env.ctx.store.journal.list({});
    expect(journal.map((e) => e.kind)).toEqual(journal.map(() => 'replica'));
    // template replicas are kept for the next class
    for (const r of plan.replicas) expect(env.sim.state.vms.get(r.vmid)?.config.template).toBeTruthy();
  });
});
