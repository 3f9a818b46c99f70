import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { foreignSnapshot, leftovers, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('sdn mode', () => {
  let env: RunEnv;
  beforeAll(async () => {
    env = await startRunEnv();
  });
  afterAll(async () => env?.close());

  it('refuses to apply SDN when someone else\'s pending edit appears after planning, creating nothing', async () => {
    // the planner itself refuses while alice's edit is pending; alice applies it, then bob starts editing pve2
    await expect(planDeploy(env.ctx, { profile: await netlabProfile(), users: users(2), group: 'sdn0', mode: 'sdn' })).rejects.toThrow(
      'applying SDN reloads the network of every node',
    );
    env.sim.state.applyNetwork('pve3');
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(2), group: 'sdn0', mode: 'sdn' });
    await env.ctx.client().createBridge('pve2', { iface: 'vmbr97', comments: 'bob' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.status).toBe('failed');
    expect(r.stands[0]!.error).toBe(
      "SDN changes cannot be applied: applying reloads every node's network, and there are pending network changes " +
        'that are not ours (pve2: vmbr97 (bob)); ask their author, or re-run with --apply-foreign-pending',
    );
    expect(env.sim.state.sdnPending).toBeNull();
    expect([...env.sim.state.vms.keys()].filter((v) => v >= 10000)).toEqual([]);
    await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'sdn0' }));
    // bob gives up his edit
    await env.ctx.client().revertNetwork('pve2');
  });

  it('deploys VNets, applies once, and cleans up to nothing once the node is clean', async () => {
    const before = foreignSnapshot(env.sim);
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(3), group: 'sdn1', mode: 'sdn' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(plan.stands.map((s) => `${s.userid}:ready:`));
    expect(r.created.vnets).toBe(plan.stands.reduce((a, s) => a + s.segments.length, 0));
    expect(env.sim.state.sdnPending).toBeNull();
    for (const s of plan.stands) {
      for (const g of s.segments) expect(env.sim.state.sdn.vnets.get(g.iface)?.alias).toBe(g.comment);
      for (const vm of s.vms) for (const n of vm.nets) expect(String(env.sim.state.vms.get(vm.vmid)!.config[`net${n.index}`])).toContain(/bridge=[^,]+/.exec(n.value)![0]);
    }
    const c = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'sdn1' }));
    expect(c.status).toBe('succeeded');
    expect(leftovers(env)).toEqual([]);
    expect([...env.sim.state.sdn.vnets.values()].filter((v) => /^stands:/.test(v.alias ?? ''))).toEqual([]);
    expect(foreignSnapshot(env.sim)).toEqual(before);
  });

  it('fails the stands on a node whose network reload failed in the SDN apply (WARNINGS), the others get ready', async () => {
    env.sim.faults.add({ kind: 'sdn-reload-failure', method: 'PUT', path: '/nodes/pve2/network', times: 1 });
    try {
      const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(4), group: 'sdn2', mode: 'sdn', start: true });
      const onPve2 = plan.stands.filter((s) => s.vms.some((v) => v.node === 'pve2')).map((s) => s.userid);
      expect(onPve2.length).toBeGreaterThan(0);
      expect(onPve2.length).toBeLessThan(plan.stands.length);
      const r = await runDeploy(env.ctx, plan);
      const expected = plan.stands.map((s) =>
        onPve2.includes(s.userid)
          ? `${s.userid}:failed:SDN applied, but pve2 (you need ifupdown2 to reload network configuration: exit code 255) did not ` +
            "reload its network, so the stand's VNets are not usable there; fix the node, apply SDN again " +
            '(Datacenter → SDN → Apply) and re-run the deploy'
          : `${s.userid}:ready:`,
      );
      expect(r.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(expected);
      // the ready stands' VMs run on the VNets of the nodes that did reload
      for (const s of r.stands.filter((x) => x.status === 'ready')) for (const vm of s.vms) expect(env.sim.state.vms.get(vm.vmid)?.status).toBe('running');
    } finally {
      env.sim.faults.clear();
    }
    const c = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'sdn2' }));
    expect(c.status).toBe('succeeded');
    expect(leftovers(env)).toEqual([]);
  });
});
