/**
 * The planner's time model (issue 14): the makespan estimate's components against hand-computed schedules, the
 * timing model learned from task lists, the waiter's poll schedule, and one deploy on the simulator compared with
 * its estimate (a wide tolerance: the run pays real request latency, scaled up by the fast time scale).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeploy } from '../../src/core/deploy.js';
import { estimateDeploy, formatEstimate, type TemplateDisk } from '../../src/core/estimate.js';
import { planDeploy } from '../../src/core/plan.js';
import { synthesizePlan, type StandShape } from '../../src/core/placement-time.js';
import { defaultTimingModel, fitTimingModel, samplesFromTaskList, MIN_SAMPLES } from '../../src/core/timing-model.js';
import { pollDelays } from '../../src/proxmox/tasks.js';
import { DEFAULT_TIMING } from '../../src/sim/index.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

const templates = new Map<number, TemplateDisk>([
  [9000, { diskGiB: 8, storage: 'local-lvm', node: 'pve1' }],
  [9002, { diskGiB: 16, storage: 'ceph', node: 'pve2' }],
]);
const shared = new Set(['ceph']);
const shape = (key: string, vms: number[], bridges = 0): StandShape => ({
  key, vms: vms.map((v) => ({ sourceVmid: v, full: false })), bridges, memMiB: 1024, cores: 1, userExists: false, pinned: false,
});
const local = (vmid: number, node: string, warm = false) =>
  vmid === 9002 || templates.get(vmid)?.node === node ? ('direct' as const) : warm ? ('replica-exists' as const) : ('replica-needed' as const);
const estimate = (shapes: StandShape[], assign: string[], o: { warm?: boolean; start?: boolean } = {}) =>
  estimateDeploy({
    plan: synthesizePlan({ shapes, sourceOf: (v, n) => local(v, n, o.warm), templates, start: o.start ?? true }, assign),
    model: { ...defaultTimingModel(), requestMs: 0 },
    templates,
    sharedStorages: shared,
  });
// one VM's fixed chain in the model: clone, config (mean), snapshot (mean), start
const m = defaultTimingModel();
const chain = m.linkedCloneMs + m.configWriteMs + m.snapshotMs + m.startMs;

describe('estimateDeploy', () => {
  it('one linked clone: clone → config → snapshot → start, each task seen at a poll shortly after its end', () => {
    const e = estimate([shape('a', [9000])], ['pve1']);
    expect(e.ms).toBeGreaterThanOrEqual(chain);
    // the expected-end poll schedule loses at most a few hundred ms per task
    expect(e.ms).toBeLessThan(chain + 1500);
    expect(e.replicasMade).toBe(0);
  });

  it('forty linked clones of one node-local template queue on its storage lock (40 × 0.3 s), eight at a time', () => {
    const e = estimate([shape('a', Array.from({ length: 40 }, () => 9000))], ['pve1']);
    expect(e.ms).toBeGreaterThanOrEqual(40 * m.linkedCloneLockMs + (chain - m.linkedCloneLockMs));
  });

  it('a stand on a node without the template waits for the replica chain: full clone → template → migrate', () => {
    const e = estimate([shape('a', [9000]), shape('b', [9000])], ['pve1', 'pve2']);
    const replica = Object.values(e.replicaReadyMs);
    expect(replica).toHaveLength(1);
    const chainMs = 8 * m.fullCloneMsPerGiB + m.templateMs + 8 * m.migrateMsPerGiB;
    expect(replica[0]).toBeGreaterThanOrEqual(chainMs);
    expect(replica[0]).toBeLessThan(chainMs + 1500);
    expect(e.last?.stand).toBe('b');
    expect(e.ms).toBeGreaterThanOrEqual(chainMs + chain);
  });

  it('prepared replicas (warm) take the chain away; the template node alone is faster still than cold', () => {
    const shapes = Array.from({ length: 12 }, (_, i) => shape(`s${i}`, [9000, 9002]));
    const split = shapes.map((_, i) => (i < 6 ? 'pve1' : 'pve2'));
    const cold = estimate(shapes, split);
    const warm = estimate(shapes, split, { warm: true });
    const onOne = estimate(shapes, shapes.map(() => 'pve1'));
    expect(warm.ms).toBeLessThan(cold.ms - 10_000);
    expect(onOne.ms).toBeLessThan(cold.ms);
    expect(warm.replicasMade).toBe(0);
    expect(cold.replicasMade).toBe(1);
  });

  it('one shared replica: full clone onto the shared storage + template, no migrate; every node clones from it', () => {
    const shapes = [shape('a', [9000]), shape('b', [9000]), shape('c', [9000])];
    const plan = synthesizePlan({ shapes, sourceOf: (v, n) => local(v, n), sharedReplicas: new Map([[9000, 'ceph']]), templates, start: true }, ['pve1', 'pve2', 'pve3']);
    expect(plan.replicas).toEqual([expect.objectContaining({ sourceNode: 'pve1', targetNode: 'pve1', storage: 'ceph', shared: true, exists: false })]);
    // b and c clone from the one replica, on its node (target= their own)
    expect(plan.stands.slice(1).map((s) => [s.vms[0]!.templateVmid, s.vms[0]!.templateNode])).toEqual([[plan.replicas[0]!.vmid, 'pve1'], [plan.replicas[0]!.vmid, 'pve1']]);
    const e = estimateDeploy({ plan, model: { ...m, requestMs: 0 }, templates, sharedStorages: shared });
    expect(e.replicasMade).toBe(1);
    const chainMs = 8 * m.fullCloneMsPerGiB + m.templateMs;
    const ready = Object.values(e.replicaReadyMs);
    expect(ready).toHaveLength(1);
    expect(ready[0]).toBeGreaterThanOrEqual(chainMs);
    // no migration: well under the per-node chain, which adds 8 GiB × migrateMsPerGiB
    expect(ready[0]).toBeLessThan(chainMs + 1500);
    expect(ready[0]! + 1500).toBeLessThan(chainMs + 8 * m.migrateMsPerGiB);
    // per node, the same class makes two replicas (pve2, pve3), each migrated
    const perNode = estimate(shapes, ['pve1', 'pve2', 'pve3']);
    expect(perNode.replicasMade).toBe(2);
    expect(e.ms).toBeLessThan(perNode.ms);
  });

  it("the shared replica's full clone holds the shared storage's one lock: clones of a template on that storage wait", () => {
    // x clones 9002 (on ceph) on pve2; a and b need 9000's replica on pve2 and pve3
    const shapes = [shape('x', [9002]), shape('a', [9000]), shape('b', [9000])];
    const assign = ['pve2', 'pve2', 'pve3'];
    const sharedPlan = synthesizePlan({ shapes, sourceOf: (v, n) => local(v, n), sharedReplicas: new Map([[9000, 'ceph']]), templates, start: true }, assign);
    const withShared = estimateDeploy({ plan: sharedPlan, model: { ...m, requestMs: 0 }, templates, sharedStorages: shared });
    const lockMs = 8 * m.fullCloneLockMsPerGiB;
    // x's linked clone queues behind the replica's full clone on the cluster-wide ceph lock
    expect(withShared.standEndMs.x).toBeGreaterThanOrEqual(lockMs + chain);
    // per node, the replicas' copies lock local-lvm on pve1 only: x clones at once
    const perNodePlan = synthesizePlan({ shapes, sourceOf: (v, n) => local(v, n), templates, start: true }, assign);
    const perNode = estimateDeploy({ plan: perNodePlan, model: { ...m, requestMs: 0 }, templates, sharedStorages: shared });
    expect(perNode.standEndMs.x).toBeLessThan(chain + 1500);
    expect(withShared.replicasMade).toBe(1);
  });

  it('formats the estimate for people', () => {
    expect(formatEstimate(28_400)).toBe('about 28 s');
    expect(formatEstimate(100_000)).toBe('about 1 min 40 s');
    expect(formatEstimate(120_000)).toBe('about 2 min');
    expect(formatEstimate(7_500_000)).toBe('about 2 h 5 min');
  });
});

describe('the timing model', () => {
  it('defaults to the simulator’s constants (means where it draws uniformly)', () => {
    const d = defaultTimingModel();
    expect(d.linkedCloneMs).toBe(DEFAULT_TIMING.linkedCloneMs);
    expect(d.fullCloneMsPerGiB).toBe(DEFAULT_TIMING.fullCloneMsPerGiB);
    expect(d.startMs).toBe(DEFAULT_TIMING.startMs);
    expect(d.snapshotMs).toBe((DEFAULT_TIMING.snapshotMinMs + DEFAULT_TIMING.snapshotMaxMs) / 2);
    expect(d.workersPerNode).toBe(DEFAULT_TIMING.workersPerNode);
  });

  it('takes the cluster’s medians from task lists, sorting clones into linked and full by length', () => {
    const t = (type: string, id: string, secs: number, status = 'OK') => ({ upid: `UPID:${type}:${id}:${secs}`, type, id, starttime: 1000, endtime: 1000 + secs, status });
    const list = [
      t('qmstart', '1', 5), t('qmstart', '2', 6), t('qmstart', '3', 7), t('qmstart', '4', 60, 'command failed'),
      t('qmclone', '9000', 2), t('qmclone', '9000', 3), t('qmclone', '9000', 3), // linked: under half a full copy of 8 GiB
      t('qmclone', '9000', 24), t('qmclone', '9000', 24), t('qmclone', '9000', 32), // full: 3, 3 and 4 s per GiB
      t('qmigrate', '100001', 16), t('qmigrate', '100001', 16),
      { upid: 'x', type: 'qmstart', id: '5', starttime: 1000, endtime: undefined }, // still running: no endtime
    ];
    const vms = new Map([[9000, { template: true, diskGiB: 8, shared: false }], [100001, { template: true, diskGiB: 8, shared: false }]]);
    const fit = fitTimingModel(samplesFromTaskList(list), vms);
    expect(fit.startMs).toBe(6000);
    expect(fit.linkedCloneMs).toBe(3000);
    expect(fit.linkedCloneLockMs).toBeCloseTo(3000 * (DEFAULT_TIMING.linkedCloneLockMs / DEFAULT_TIMING.linkedCloneMs));
    expect(fit.fullCloneMsPerGiB).toBe(3000);
    expect(fit.sources.startMs).toBe('cluster (3 tasks)');
    // two migrations are fewer than MIN_SAMPLES: the default stays
    expect(MIN_SAMPLES).toBe(3);
    expect(fit.migrateMsPerGiB).toBe(DEFAULT_TIMING.migrateMsPerGiB);
    expect(fit.sources.migrateMsPerGiB).toBeUndefined();
  });
});

describe('the waiter’s poll schedule', () => {
  it('without an expected length: 300 ms growing ×1.5 to 2 s, as before', () => {
    const d = pollDelays({ startMs: 300, maxMs: 2000 });
    expect([d(), d(), d(), d(), d(), d(), d()]).toEqual([300, 450, 675, 1013, 1520, 2000, 2000]);
  });

  it('with one: the usual polls until the expected end, one just after it, then short ones (an on-time task is seen at once)', () => {
    const clone = pollDelays({ expectedMs: 8000, startMs: 300, maxMs: 2000 });
    // the usual 300, 450, 675, 1013, 1520 ms reach 3958 ms, within the first half of 8 s
    expect([clone(), clone(), clone(), clone(), clone()]).toEqual([300, 450, 675, 1013, 1520]);
    // then one poll at 8250 (expected end + 4%, at most 250 ms), then 300 ms growing
    expect([clone(), clone(), clone()]).toEqual([4292, 300, 450]);
    const linked = pollDelays({ expectedMs: 2000, startMs: 300, maxMs: 2000 });
    expect([linked(), linked(), linked(), linked()]).toEqual([300, 450, 1330, 200]);
    // a snapshot (0.2–1 s, mean 0.6 s): 300 is already half of it, then 330 lands just after the mean, then 100 ms
    const snap = pollDelays({ expectedMs: 600, startMs: 300, maxMs: 2000 });
    expect([snap(), snap(), snap(), snap()]).toEqual([300, 330, 100, 150]);
  });
});

describe('estimate vs a deploy on the simulator', () => {
  let env: RunEnv;
  beforeAll(async () => {
    // slow enough that the two chains end well apart in real time (4 s of simulated time = 0.8 s)
    env = await startRunEnv({ timeScale: 0.2 });
  });
  afterAll(async () => env?.close());

  // No timing assertion (a loaded machine stretches every real request): the estimate's schedule is compared with
  // the order in which the simulator really finished things. Its accuracy is a benchmark goal (bench/README.md).
  it('predicts the order in which the replica chains end, as the simulator then ends them', async () => {
    const s = env.ctx.settings;
    // keep stands on pve2: per-node replicas are made (full clone → template → migrate)
    env.ctx.settings.placement = { ...s.placement, timeAware: false, sharedReplica: 'never' };
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(4), group: 'est', start: true });
    const e = plan.estimate!;
    expect(e.replicasToMake).toBe(2);
    // the migrations (last step of each chain) in the order the simulator ended them (task end times are whole
    // seconds of the server's wall clock, too coarse at this time scale: watch the tasks instead)
    const migrations: number[] = [];
    const watch = setInterval(() => {
      for (const t of env.sim.state.tasksByNode.get('pve1') ?? []) {
        if (t.type === 'qmigrate' && t.status === 'stopped' && !migrations.includes(Number(t.id))) migrations.push(Number(t.id));
      }
    }, 5);
    const r = await runDeploy(env.ctx, plan).finally(() => clearInterval(watch));
    expect(r.status).toBe('succeeded');
    const est = estimateDeploy({
      plan,
      model: defaultTimingModel(),
      templates: new Map([
        [9000, { diskGiB: 8, storage: 'local-lvm', node: 'pve1' }],
        [9001, { diskGiB: 4, storage: 'local-lvm', node: 'pve1' }],
      ]),
      sharedStorages: new Set(['ceph']),
    });
    const predicted = Object.entries(est.replicaReadyMs).sort((a, b) => a[1] - b[1]).map(([vmid]) => Number(vmid));
    expect(migrations).toEqual(predicted);
    // the smaller template's chain (4 GiB) ends first
    expect(plan.replicas.find((x) => x.vmid === predicted[0])?.sourceVmid).toBe(9001);
  });
});
