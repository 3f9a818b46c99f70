/**
 * `stands templates --prepare --profile P [--cluster C] [--nodes a,b]` (and the bot's `/templates prepare`): make,
 * or verify, every template replica a deploy of profile P would need, ahead of class, so the class's deploy makes
 * none. The replicas are planned the way the deploy plans them (templates.ts createReplicaPlanner: same names,
 * same VMID range, recorded replicas reused) and made by the deploy's own replica stage (deploy/replicas.ts), in
 * the engine's lanes. Idempotent: a replica that is recorded and present as a template on its node is only
 * verified; one that a killed run left half-made is carried on from what the cluster shows.
 */
import { failureOf } from './failure.js';
import { msg, type Msg } from '../i18n/index.js';
import type { Profile } from '../config/profile.js';
import { UserError } from '../errors.js';
import type { AppContext } from './context.js';
import { makeReplica, type ReplicaRun } from './deploy/replicas.js';
import { DEFAULT_EXEC_LIMITS, Lanes, abortable, isAbort, newJobId, safeEmitter } from './executor.js';
import { loadInventory, type TemplateInfo } from './inventory.js';
import { estimateAssignment, planTiming } from './plan-estimate.js';
import { chooseSharedReplicas, sharedReplicaCandidates } from './shared-replica.js';
import { createReplicaPlanner, resolveTemplateRef } from './templates.js';
import { defaultTimingModel, expectedTaskMs } from './timing-model.js';
import type { EngineEventHandler, ReplicaPlan } from './types.js';
import { VmidAllocator } from './vmids.js';

export interface PrepareInput {
  profile: Profile;
  cluster?: string;
  /** Only these nodes (default: every online node). */
  nodes?: readonly string[];
}

export interface PreparePlan {
  cluster: string;
  profile: string;
  nodes: string[];
  /** every replica the profile needs on those nodes: `exists` ones are verified, the rest made */
  replicas: ReplicaPlan[];
  /** nodes (or templates on them) that cannot get a replica, with the reason */
  skipped: { node: string; reason: string }[];
}

export interface PrepareItem {
  replica: ReplicaPlan;
  status: 'present' | 'made' | 'failed';
  /** In English; `errorMsg` is the same as a code. */
  error?: string;
  errorMsg?: Msg;
  ms: number;
}

export interface PrepareResult {
  job: string;
  cluster: string;
  items: PrepareItem[];
  skipped: PreparePlan['skipped'];
  made: number;
  present: number;
  failed: number;
}

/** How a replica is named in progress lines: `tpl-9000-pve2 (100001) on pve2`, `tpl-9000-shared-ceph (100002) on ceph`. */
export const replicaLabel = (r: ReplicaPlan): string => `${r.name} (${r.vmid}) on ${r.shared ? `${r.storage}, shared` : r.targetNode}`;

/** The lock `--prepare` holds on a cluster: two of them at once would plan the same replica VMIDs. */
export const prepareLockName = (cluster: string): string => `replicas@${cluster}`;

export async function planPrepare(ctx: AppContext, input: PrepareInput): Promise<PreparePlan> {
  const cluster = input.cluster ?? ctx.defaultCluster;
  const client = ctx.client(cluster);
  const [inv, recorded, stands, journal] = await Promise.all([
    loadInventory(client, { cluster, networks: false, logger: ctx.logger.child({ cluster }) }),
    ctx.store.replicas.list(cluster),
    ctx.store.stands.list({ cluster }),
    ctx.store.journal.list({ cluster }),
  ]);
  const known = new Set(inv.nodes.map((n) => n.name));
  for (const n of input.nodes ?? []) {
    if (!known.has(n)) throw new UserError(msg('opt.notANode', { node: n, cluster, nodes: [...known].join(', ') }));
  }
  const skipped: PreparePlan['skipped'] = [];
  const wanted = input.nodes ? [...input.nodes] : inv.nodes.map((n) => n.name);
  const nodes = wanted.filter((n) => {
    const node = inv.nodes.find((x) => x.name === n);
    if (node && !node.online) skipped.push({ node: n, reason: `node is ${node.status}` });
    return node?.online;
  });

  const infos: TemplateInfo[] = [];
  const machines: { info: TemplateInfo; full: boolean }[] = [];
  const problems: Msg[] = [];
  for (const m of input.profile.machines) {
    const full = m.full ?? input.profile.clone === 'full';
    const res = resolveTemplateRef(inv, { machine: m.name, template: m.template, templateNode: m.templateNode }, input.profile.file, { full });
    if (!res.ok) {
      problems.push(msg('prepare.problem', { subject: res.row.subjectMsg ?? res.row.subject, problem: res.row.problemMsg ?? res.row.problem }));
      continue;
    }
    const info = await inv.templateInfo(res.template.vmid);
    if (!infos.some((i) => i.vmid === info.vmid)) infos.push(info);
    machines.push({ info, full });
  }
  if (problems.length) throw new UserError(msg('prepare.cannot', { profile: input.profile.name, problems }));

  const taken: number[] = inv.vms.map((v) => v.vmid);
  for (const s of stands) for (const v of s.vms) taken.push(v.vmid);
  for (const e of journal) if (e.kind === 'vm' || e.kind === 'replica') taken.push(Number(e.id));
  for (const r of recorded) taken.push(r.vmid);
  const [min, max] = ctx.settings.templates.replicaVmidRange;
  const vmids = new VmidAllocator({ min, max }, taken);
  const plannerFor = (sharedReplicas: ReadonlyMap<number, string>) =>
    createReplicaPlanner({ inventory: inv, recorded, replicate: ctx.settings.templates.replicate, vmids, sharedReplicas });
  // per-node replicas or one on shared storage. Made ahead of class, a replica's copy costs the class nothing, so
  // the shared one's shorter chain buys nothing; per-node ones keep each node's clones on its own storage lock,
  // which is what a class of any size gains from. So `auto` prepares per-node wherever that works (a tie of
  // feasible choices goes to per-node), and shared only where per-node cannot serve a node; `always` forces it.
  const choice = sharedReplicaCandidates(inv, machines, nodes, recorded, [], ctx.settings.placement.sharedReplica);
  const timing = planTiming(inv, infos, recorded, [], ctx.settings);
  const { shared } = chooseSharedReplicas({
    ...choice,
    evaluate: (sharedReplicas) =>
      feasible(
        estimateAssignment(
        {
          timing,
          demands: nodes.map((n) => ({ key: n, memMiB: 0, cores: 0 })),
          infos,
          machines,
          replicas: plannerFor(sharedReplicas),
          bridgesPerStand: 0,
          userExists: () => true,
          start: false,
        },
        nodes,
        ),
      ),
  });
  const planner = plannerFor(shared);
  for (const node of nodes) {
    for (const info of infos) {
      const src = planner.sourceFor(info, node);
      if (src.kind === 'unavailable') skipped.push({ node, reason: src.reason });
    }
  }
  return { cluster, profile: input.profile.name, nodes, replicas: planner.replicas(), skipped };
}

/**
 * Make the missing replicas of a PreparePlan (present ones are left alone), largest disk first, through the
 * deploy's replica stage. Events: `step-started` / `step-finished` / `step-failed`-like `stand-failed` per
 * replica (step `replica`, `vm` = replica VMID), then `job-done`.
 */
export async function runPrepare(
  ctx: AppContext,
  plan: PreparePlan,
  o: { onEvent?: EngineEventHandler; signal?: AbortSignal; requestedBy?: string } = {},
): Promise<PrepareResult> {
  const job = newJobId('prepare');
  const log = ctx.logger.child({ job, cluster: plan.cluster });
  const emit = safeEmitter(o.onEvent, (err) => log.warn({ err }, 'event handler threw'));
  const lock = await ctx.store.acquireGroupLock(prepareLockName(plan.cluster), `job:${job}`, 30_000);
  const renew = setInterval(() => void lock.renew(30_000).catch(() => undefined), 10_000);
  renew.unref();
  const items: PrepareItem[] = [];
  try {
    const client = ctx.client(plan.cluster);
    const resources = await client.clusterResources(undefined, { maxAgeMs: 0 });
    const vmIndex = new Map(resources.filter((r) => r.vmid !== undefined && (r.type === 'qemu' || r.type === 'lxc')).map((r) => [r.vmid!, r]));
    const shared = new Map(resources.filter((r) => r.type === 'storage' && r.storage).map((r) => [r.storage!, Boolean(r.shared)]));
    const c = ctx.settings.concurrency;
    const disk = (r: ReplicaPlan): number => (vmIndex.get(r.sourceVmid)?.maxdisk ?? 0);
    const timing = defaultTimingModel();
    const todo = plan.replicas.filter((r) => !r.exists).sort((a, b) => disk(b) - disk(a));
    const run: ReplicaRun = {
      ctx,
      cluster: plan.cluster,
      job,
      client,
      lanes: new Lanes({ ...DEFAULT_EXEC_LIMITS, perNode: c.perNode, fullClonesPerStorage: c.fullClonesPerStorage, linkedClonesPerStorage: c.linkedClonesPerStorage }),
      vmIndex,
      signal: o.signal,
      replicaGate: Promise.resolve(),
      replicaPriority: new Map(todo.map((r, i) => [r.vmid, 1 + todo.length - i])),
      counts: { replicas: 0 },
      emit,
      lockKey: (storage, node) => (shared.get(storage) ? storage : `${storage}@${node}`),
      abortable: (p) => abortable(p, o.signal),
      wait: async (task, expectedMs) => void (await abortable(client.waitTask(task, expectedMs !== undefined ? { expectedMs } : {}), o.signal)),
      expected: (what) => expectedTaskMs(timing, what),
      templateDiskGiB: new Map(todo.map((r) => [r.sourceVmid, (vmIndex.get(r.sourceVmid)?.maxdisk ?? 0) / 1024 ** 3])),
    };
    const total = plan.replicas.length;
    let done = 0;
    emit({ type: 'job-started', job, total, message: `preparing ${total} template replicas of ${plan.profile} on ${plan.cluster}` });
    for (const r of plan.replicas.filter((x) => x.exists)) {
      items.push({ replica: r, status: 'present', ms: 0 });
      done++;
      emit({ type: 'stand-done', job, stand: replicaLabel(r), vm: r.vmid, step: 'replica', message: `${replicaLabel(r)}: present, nothing to do`, done, total });
    }
    await Promise.all(
      todo.map(async (r) => {
        const t0 = Date.now();
        emit({ type: 'step-started', job, stand: replicaLabel(r), vm: r.vmid, step: 'replica', message: r.shared ? `full clone onto ${r.storage} → template` : 'full clone → template → migrate', done, total });
        try {
          await makeReplica(run, r);
          items.push({ replica: r, status: 'made', ms: Date.now() - t0 });
          done++;
          emit({ type: 'stand-done', job, stand: replicaLabel(r), vm: r.vmid, step: 'replica', message: `${replicaLabel(r)}: made`, done, total });
        } catch (err) {
          if (isAbort(err)) throw err;
          const { error, errorMsg } = failureOf(err);
          items.push({ replica: r, status: 'failed', error, errorMsg, ms: Date.now() - t0 });
          done++;
          emit({ type: 'stand-failed', job, stand: replicaLabel(r), vm: r.vmid, step: 'replica', message: error, msg: errorMsg, done, total });
        }
      }),
    );
    const result: PrepareResult = {
      job,
      cluster: plan.cluster,
      items: items.sort((a, b) => a.replica.sourceVmid - b.replica.sourceVmid || a.replica.targetNode.localeCompare(b.replica.targetNode)),
      skipped: plan.skipped,
      made: items.filter((i) => i.status === 'made').length,
      present: items.filter((i) => i.status === 'present').length,
      failed: items.filter((i) => i.status === 'failed').length,
    };
    emit({ type: 'job-finished', job, done, total, message: `${result.made} made, ${result.present} present, ${result.failed} failed` });
    log.info({ made: result.made, present: result.present, failed: result.failed }, 'replicas prepared');
    return result;
  } finally {
    clearInterval(renew);
    await lock.release().catch(() => undefined);
  }
}

/** Whether an assignment can be served at all (every node reaches its templates), as an estimate every feasible one ties on. */
function feasible(e: { ms: number; make: number } | undefined): { ms: number; make: number } | undefined {
  return e && { ms: 0, make: 0 };
}
