import { defaultSettings } from '../../src/config/settings.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('rollbackFailed', () => {
  let env: RunEnv;
  beforeAll(async () => {
    env = await startRunEnv();
  });
  afterAll(async () => env?.close());

  it('a stand that cannot be made is reported with its reason, the others finish, and what it created is removed', async () => {
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(3), group: 'rb' });
    const victim = plan.stands[1]!;
    const taken = victim.vms[2]!.vmid;
    // someone else takes one of the victim's VMIDs between planning and running
    const client = env.ctx.client();
    await client.waitTask(await client.cloneVm('pve1', 9000, { newid: taken, name: 'intruder' }));
    const r = await runDeploy(env.ctx, plan, { rollbackFailed: true });
    expect(r.status).toBe('partial');
    const failed = r.stands.find((s) => s.userid === victim.userid)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`VMID ${taken} is taken by another VM (intruder on pve1); plan the deploy again`);
    expect(failed.rolledBack).toBe(true);
    expect(r.stands.filter((s) => s.status === 'ready').map((s) => s.userid)).toEqual(
      plan.stands.filter((s) => s !== victim).map((s) => s.userid),
    );
    const st = env.sim.state;
    for (const vm of victim.vms.slice(0, 2)) expect(st.vms.has(vm.vmid)).toBe(false);
    expect(st.vms.get(taken)?.config.name).toBe('intruder');
    expect(st.users.has(victim.userid)).toBe(false);
    expect(st.pools.has(victim.pool)).toBe(false);
    for (const g of victim.segments) expect(st.network.get(g.node!)!.current.has(g.iface)).toBe(false);
    expect(await env.ctx.store.stands.get('rb', victim.userid)).toBeUndefined();
    for (const s of plan.stands.filter((x) => x !== victim)) for (const vm of s.vms) expect(st.vms.has(vm.vmid)).toBe(true);
  });
});

describe('someone else edits a node\'s network after planning', () => {
  let env: RunEnv;
  beforeAll(async () => {
    // stands on both nodes (the balanced strategy alone, no time-aware moves)
    env = await startRunEnv({ settings: { placement: { ...defaultSettings().placement, timeAware: false } } });
  });
  afterAll(async () => env?.close());

  it('stops that node\'s stands naming the edit, applies nothing of theirs, finishes the other node; --apply-foreign-pending applies', async () => {
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(4), group: 'fp' });
    const onPve1 = plan.stands.filter((s) => s.node === 'pve1');
    const onPve2 = plan.stands.filter((s) => s.node === 'pve2');
    expect(onPve1.length).toBeGreaterThan(0);
    expect(onPve2.length).toBeGreaterThan(0);
    await env.ctx.client().createBridge('pve1', { iface: 'vmbr98', comments: 'test net (bob)' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.status).toBe('partial');
    for (const s of onPve1) {
      expect(r.stands.find((x) => x.userid === s.userid)!.error).toBe(
        'node pve1 has pending network changes that are not ours: vmbr98 (test net (bob)); applying would apply them too, ' +
          "so this stand's bridges were not set up (ask their author, or re-run with --apply-foreign-pending)",
      );
    }
    for (const s of onPve2) expect(r.stands.find((x) => x.userid === s.userid)!.status).toBe('ready');
    const pve1 = env.sim.state.network.get('pve1')!;
    expect([...pve1.pending!.keys()].filter((k) => !pve1.current.has(k))).toEqual(['vmbr98']);
    expect(pve1.current.has('vmbr98')).toBe(false);
    // nothing was created for the stopped stands
    for (const s of onPve1) {
      for (const vm of s.vms) expect(env.sim.state.vms.has(vm.vmid)).toBe(false);
      expect(env.sim.state.pools.has(s.pool)).toBe(false);
      expect(env.sim.state.users.has(s.userid)).toBe(false);
    }

    const again = await runDeploy(env.ctx, plan, { applyForeignPending: true });
    expect(again.status).toBe('succeeded');
    expect(again.warnings.some((w) => w.includes('vmbr98 (test net (bob))'))).toBe(true);
    expect(env.sim.state.network.get('pve1')!.pending).toBeNull();
  });
});
