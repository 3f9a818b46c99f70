/**
 * Issue 14 part 1, last clause: where a shared storage that supports linked clones exists, the planner weighs ONE
 * replica of a node-local template there (full clone onto it → template, no migration; every VM links-clones
 * from it with `target=`) against one replica per node, by the plan's estimate. Real simulator over HTTPS, real
 * SQLite state.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile.js';
import { defaultSettings, type SharedReplicaMode } from '../../src/config/settings.js';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { planTableData, renderPlan } from '../../src/core/plan-table.js';
import { planPrepare, runPrepare } from '../../src/core/prepare.js';
import { recover } from '../../src/core/recover.js';
import { pruneTemplates } from '../../src/core/replicas.js';
import type { DeployPlan } from '../../src/core/types.js';
import type { SimSeedInput } from '../../src/sim/seed.js';
import { foreignSnapshot, startRunEnv, users, type RunEnv } from './run-harness.js';

/** Five small nodes (three 1 GiB stands each fit), debian on pve1's local-lvm, ceph (rbd) shared. */
function fiveNodes(o: { memoryGiB?: number } = {}): SimSeedInput {
  const names = ['pve1', 'pve2', 'pve3', 'pve4', 'pve5'];
  return {
    clusterName: 'sim',
    version: '9.1.2',
    nodes: names.map((name) => ({ name, cores: 8, memoryGiB: o.memoryGiB ?? 4, diskGiB: 100, load: 0.05 })),
    storages: [
      { id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: 1000 },
      { id: 'ceph', type: 'rbd', shared: true, capacityGiB: 4000 },
    ],
    vms: [
      {
        vmid: 9000, name: 'debian-12-tpl', node: 'pve1', template: true, storage: 'local-lvm', diskGiB: 8,
        cores: 1, memory: 1024, nets: [{ bridge: 'vmbr0', model: 'virtio', mac: 'BC:24:11:5A:90:00' }],
      },
      // someone else's template, with a name like ours: never touched
      {
        vmid: 9500, name: 'tpl-9000-shared-ceph-old', node: 'pve2', template: true, storage: 'ceph', diskGiB: 2,
        cores: 1, memory: 512, nets: [{ bridge: 'vmbr0', model: 'virtio', mac: 'BC:24:11:5A:95:00' }],
      },
    ],
    pools: [],
    users: [],
    network: [
      { node: '*', iface: 'eno1', type: 'eth', autostart: true },
      ...names.map((node) => ({ node, iface: 'vmbr0', type: 'bridge' as const, bridge_ports: 'eno1', autostart: true })),
    ],
  };
}

const BASIC = parseProfile('name: basic\nmachines:\n  - name: vm\n    template: debian-12-tpl\n    networks: ["lan"]\n', 'basic.yml');

function withMode(env: RunEnv, mode: SharedReplicaMode): void {
  env.ctx.settings.placement = { ...defaultSettings().placement, sharedReplica: mode };
}

const ourVms = (env: RunEnv) => [...env.sim.state.vms.values()].filter((v) => v.vmid >= 10000 && v.vmid < 100000);
const replicasOnCluster = (env: RunEnv) => [...env.sim.state.vms.values()].filter((v) => v.vmid >= 100000 && v.vmid <= 100999);
const tasksOf = (env: RunEnv, type: string) =>
  [...env.sim.state.tasksByNode.values()].flat().filter((t) => t.type === type);

describe('one shared replica where it is faster: 5 nodes, debian on pve1 local-lvm, ceph shared', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let foreignBefore: unknown;
  beforeAll(async () => {
    env = await startRunEnv({ seed: fiveNodes() });
    foreignBefore = foreignSnapshot(env.sim);
  });
  afterAll(async () => env?.close());

  it('auto: the plan takes one replica on ceph, and its estimate beats one replica per node', async () => {
    withMode(env, 'never');
    const perNode = await planDeploy(env.ctx, { profile: BASIC, users: users(12), group: 'probe-never' });
    expect(perNode.replicas.length).toBeGreaterThanOrEqual(3);
    expect(perNode.replicas.every((r) => !r.shared && r.targetNode !== 'pve1')).toBe(true);
    withMode(env, 'auto');
    plan = await planDeploy(env.ctx, { profile: BASIC, users: users(12), group: 'shr' });
    expect(new Set(plan.stands.map((s) => s.node)).size).toBeGreaterThanOrEqual(4); // spread by capacity
    expect(plan.replicas).toEqual([
      expect.objectContaining({ sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve1', storage: 'ceph', shared: true, exists: false, name: 'tpl-9000-shared-ceph' }),
    ]);
    const r = plan.replicas[0]!;
    for (const s of plan.stands) {
      for (const vm of s.vms) {
        if (vm.node === 'pve1') expect(vm.templateVmid).toBe(9000);
        else expect([vm.templateVmid, vm.templateNode]).toEqual([r.vmid, 'pve1']);
      }
    }
    expect(plan.estimate!.ms).toBeLessThan(perNode.estimate!.ms);
    expect(plan.estimate!.replicasToMake).toBe(1);
    // the plan says so (CLI table; --json carries `shared: true` on the replica)
    expect(planTableData(plan).replicas).toEqual([`create replica ${r.vmid} (tpl-9000-shared-ceph) of template 9000 from pve1 on shared storage ceph, for every node`]);
    expect(renderPlan(plan)).toContain(`Template replicas:\n  create replica ${r.vmid} (tpl-9000-shared-ceph)`);
  });

  it('the deploy makes exactly one replica (one full clone onto ceph, no migration), every VM a linked clone of it, all ready', async () => {
    const result = await runDeploy(env.ctx, plan);
    expect(result.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(plan.stands.map((s) => `${s.userid}:ready:`));
    const r = plan.replicas[0]!;
    expect(replicasOnCluster(env).map((v) => [v.vmid, v.node, v.config.name, Boolean(v.config.template)])).toEqual([[r.vmid, 'pve1', 'tpl-9000-shared-ceph', true]]);
    expect(String(replicasOnCluster(env)[0]!.config.scsi0)).toMatch(/^ceph:/);
    expect(tasksOf(env, 'qmigrate')).toHaveLength(0);
    // the replica is the one full clone: every stand VM is a linked clone (its disk names a base volume)
    for (const s of plan.stands) {
      for (const vm of s.vms) {
        const live = env.sim.state.vms.get(vm.vmid)!;
        expect(live.node).toBe(vm.node);
        expect(String(live.config.scsi0)).toMatch(/^[^:,]+:[^,/]+\/vm-/);
        // a linked clone of the replica lives on its base's storage, the shared one
        if (vm.node !== 'pve1') expect(String(live.config.scsi0)).toMatch(new RegExp(`^ceph:base-${r.vmid}-disk-0/vm-${vm.vmid}-disk-0`));
      }
    }
    const rec = await env.ctx.store.replicas.list('sim');
    expect(rec).toEqual([expect.objectContaining({ sourceVmid: 9000, node: 'pve1', vmid: r.vmid, storage: 'ceph', shared: true })]);
  });

  it('a later deploy of another group reuses it (makes none), on every node', async () => {
    const again = await planDeploy(env.ctx, { profile: BASIC, users: users(3, 'later'), group: 'shr2' });
    expect(again.replicas).toEqual([expect.objectContaining({ vmid: plan.replicas[0]!.vmid, shared: true, exists: true })]);
    expect(again.estimate!.replicasToMake).toBe(0);
    const before = replicasOnCluster(env).length;
    const res = await runDeploy(env.ctx, again);
    expect(res.status).toBe('succeeded');
    expect(replicasOnCluster(env)).toHaveLength(before);
    // a re-run of the first group plans the same sources
    const rerun = await planDeploy(env.ctx, { profile: BASIC, users: users(12), group: 'shr' });
    expect(rerun.replicas).toEqual([expect.objectContaining({ vmid: plan.replicas[0]!.vmid, exists: true })]);
    expect(rerun.stands.flatMap((s) => s.vms.map((v) => v.templateVmid))).toEqual(plan.stands.flatMap((s) => s.vms.map((v) => v.templateVmid)));
  });

  it('cleanup leaves the replica; --prune then removes it and nothing that is not ours', async () => {
    for (const g of ['shr', 'shr2']) {
      const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: g }));
      expect(res.status).toBe('succeeded');
    }
    expect(ourVms(env)).toHaveLength(0);
    expect(replicasOnCluster(env)).toHaveLength(1);
    const pruned = await pruneTemplates(env.ctx);
    expect(pruned.removed.map((e) => e.name)).toEqual(['tpl-9000-shared-ceph']);
    expect(replicasOnCluster(env)).toHaveLength(0);
    expect(await env.ctx.store.replicas.list('sim')).toEqual([]);
    expect(env.sim.state.vms.get(9500)?.config.name).toBe('tpl-9000-shared-ceph-old');
    expect(foreignSnapshot(env.sim)).toEqual(foreignBefore);
  });

  it('--prepare in auto makes one replica per node (made ahead, a copy costs the class nothing; per-node keeps each node on its own lock); with always the shared one; the deploy after reuses them', async () => {
    withMode(env, 'always');
    const shared = await planPrepare(env.ctx, { profile: BASIC });
    expect(shared.replicas).toEqual([expect.objectContaining({ shared: true, storage: 'ceph', exists: false })]);
    withMode(env, 'auto');
    const prep = await planPrepare(env.ctx, { profile: BASIC });
    expect(prep.replicas.length).toBeGreaterThanOrEqual(3);
    expect(prep.replicas.every((r) => !r.shared && !r.exists && r.targetNode !== 'pve1' && r.storage === 'local-lvm')).toBe(true);
    const made = await runPrepare(env.ctx, prep);
    expect([made.made, made.failed]).toEqual([prep.replicas.length, 0]);
    const p = await planDeploy(env.ctx, { profile: BASIC, users: users(12, 'prep'), group: 'shr3' });
    expect(p.replicas.length).toBeGreaterThan(0);
    expect(p.replicas.every((r) => r.exists && !r.shared)).toBe(true);
    expect(p.estimate!.replicasToMake).toBe(0);
    const before = replicasOnCluster(env).length;
    expect((await runDeploy(env.ctx, p)).status).toBe('succeeded');
    expect(replicasOnCluster(env)).toHaveLength(before);
  });
});

describe('placement.shared_replica forces or forbids it; per-node where it is faster', () => {
  let env: RunEnv;
  beforeAll(async () => {
    // big nodes: 40 stands per node fit, so many clones from every node would queue on the one ceph lock
    env = await startRunEnv({ seed: fiveNodes({ memoryGiB: 64 }) });
  });
  afterAll(async () => env?.close());

  it('auto keeps one replica per node when the shared lock would cost more (many clones on every node)', async () => {
    withMode(env, 'auto');
    const big = users(150);
    const auto = await planDeploy(env.ctx, { profile: BASIC, users: big, group: 'big-auto' });
    expect(auto.replicas.length).toBeGreaterThan(1);
    expect(auto.replicas.some((r) => r.shared)).toBe(false);
    withMode(env, 'always');
    const always = await planDeploy(env.ctx, { profile: BASIC, users: big, group: 'big-always' });
    expect(always.replicas).toEqual([expect.objectContaining({ shared: true, storage: 'ceph' })]);
    expect(always.estimate!.ms).toBeGreaterThan(auto.estimate!.ms);
  });

  it('sdn mode (stands span nodes, placed VM by VM) weighs it the same way', async () => {
    withMode(env, 'auto');
    const sdn = await planDeploy(env.ctx, { profile: BASIC, users: users(5, 's'), group: 'sdn-auto', placement: 'round-robin', mode: 'sdn' });
    expect(new Set(sdn.stands.flatMap((s) => s.vms.map((v) => v.node))).size).toBe(5);
    expect(sdn.replicas).toEqual([expect.objectContaining({ shared: true, storage: 'ceph', targetNode: 'pve1' })]);
  });

  it('never: per-node replicas even where shared would be faster; always: one shared replica', async () => {
    withMode(env, 'never');
    const never = await planDeploy(env.ctx, { profile: BASIC, users: users(5, 'n'), group: 'small-never', placement: 'round-robin' });
    expect(never.replicas.length).toBe(4);
    expect(never.replicas.some((r) => r.shared)).toBe(false);
    withMode(env, 'always');
    const always = await planDeploy(env.ctx, { profile: BASIC, users: users(5, 'a'), group: 'small-always', placement: 'round-robin' });
    expect(always.replicas).toEqual([expect.objectContaining({ shared: true, targetNode: 'pve1', storage: 'ceph' })]);
  });
});

describe('recover: a lost state file gives the shared replica back as shared', () => {
  let env: RunEnv;
  beforeAll(async () => {
    env = await startRunEnv({ seed: fiveNodes() });
  });
  afterAll(async () => env?.close());

  it('rebuilds its record (shared, on ceph) from the replica\'s description; the next plan reuses it', async () => {
    withMode(env, 'always');
    const plan = await planDeploy(env.ctx, { profile: BASIC, users: users(6), group: 'lostshr' });
    expect((await runDeploy(env.ctx, plan)).status).toBe('succeeded');
    await env.ctx.close();
    for (const f of [env.statePath, `${env.statePath}-wal`, `${env.statePath}-shm`]) await rm(f, { force: true });
    const ctx = await env.reopen();
    ctx.settings.placement = { ...defaultSettings().placement, sharedReplica: 'auto' };
    const r = await recover(ctx);
    expect(r.replicas).toBe(1);
    expect(await ctx.store.replicas.list('sim')).toEqual([
      expect.objectContaining({ sourceVmid: 9000, node: 'pve1', vmid: plan.replicas[0]!.vmid, shared: true, storage: 'ceph' }),
    ]);
    const again = await planDeploy(ctx, { profile: BASIC, users: users(6), group: 'lostshr' });
    expect(again.replicas).toEqual([expect.objectContaining({ vmid: plan.replicas[0]!.vmid, shared: true, exists: true })]);
  });
});
