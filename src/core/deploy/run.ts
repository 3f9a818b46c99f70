/**
 * runDeploy: carries out a DeployPlan. Stands run as independent pipelines (no phase barriers) inside the lanes
 * of executor.ts; each object is journaled before it is created, so a crash leaves nothing we cannot find again,
 * and every step first looks at the cluster (the truth) so a re-run completes what is missing and touches nothing
 * that is done.
 */
import { holdReservations } from '../locks.js';
import { setMaxListeners } from 'node:events';
import { defaultTimingModel, expectedTaskMs, type TimingModel } from '../timing-model.js';
import type { Logger } from '../../log.js';
import type { ProxmoxClient } from '../../proxmox/client.js';
import type { ClusterResource, NetworkList, PveUser, TaskRef } from '../../proxmox/types.js';
import type { JobRecord } from '../../store/schemas.js';
import type { AppContext } from '../context.js';
import { consoleUrl, type StandCredential } from '../credentials.js';
import {
  DEFAULT_EXEC_LIMITS,
  abortable,
  Lanes,
  Progress,
  isAbort,
  newJobId,
  reasonOf,
  safeEmitter,
  throwIfAborted,
} from '../executor.js';
import type { DeployPlan, EngineEvent, ReplicaPlan, StandPlan, VmPlan } from '../types.js';
import {
  GROUP_LOCK_TTL_MS,
  type DeployOptions,
  type DeployStandResult,
  type DeployCounts,
  type DeployResult,
  StandFailure,
  type StandState,
  Deferred,
  standFailed,
  consoleBaseFor,
  aclKey,
  diskGiB,
} from './context.js';
import { access } from './access.js';
import { foreignPending, foreignMessage, nodeNetwork } from './bridges.js';
import { sdnNetwork } from './sdn.js';
import { replicaReady } from './replicas.js';
import { runVm } from './vm.js';
import { recordStands, recordChange, flush } from './records.js';
import { standStepKinds } from './steps.js';
import { msg, render, type Msg } from '../../i18n/index.js';

export async function runDeploy(ctx: AppContext, plan: DeployPlan, options: DeployOptions = {}): Promise<DeployResult> {
  const job = options.jobId ?? newJobId('deploy');
  const lock = await ctx.store.acquireGroupLock(plan.group, `job:${job}`, GROUP_LOCK_TTL_MS);
  // the plan's VMIDs, bridges and VNets stay this group's while it runs (other groups' planners skip them)
  const reserved = await holdReservations(ctx.store, plan).catch(async (err: unknown) => {
    await lock.release().catch(() => undefined);
    throw err;
  });
  const renew = setInterval(() => {
    void lock.renew(GROUP_LOCK_TTL_MS).catch(() => undefined);
    void reserved.renew().catch(() => undefined);
  }, GROUP_LOCK_TTL_MS / 3);
  renew.unref();
  let finished = false;
  try {
    const run = new DeployRun(ctx, plan, job, options);
    const result = await run.execute();
    finished = result.status !== 'cancelled';
    return result;
  } finally {
    clearInterval(renew);
    // finished: the journal and the stand records now hold every id; a cancelled job keeps them for its resume
    if (finished) await reserved.release().catch(() => undefined);
    await lock.release().catch(() => undefined);
  }
}

export class DeployRun {
  readonly client: ProxmoxClient;
  readonly log: Logger;
  readonly emit: (e: EngineEvent) => void;
  readonly lanes: Lanes;
  readonly progress: Progress;
  readonly signal: AbortSignal | undefined;
  readonly cluster: string;
  readonly consoleBase: string;
  readonly started = Date.now();
  readonly counts: DeployCounts = {
    users: 0,
    pools: 0,
    acls: 0,
    vms: 0,
    bridges: 0,
    vnets: 0,
    replicas: 0,
    networkApplies: 0,
  };
  /** Warnings of the run, in English and, index for index, as codes (DeployResult.warningMsgs). */
  readonly warnings: string[] = [];
  readonly warningMsgs: (Msg | string)[] = [];
  warn(w: Msg | string): void {
    this.warnings.push(typeof w === 'string' ? w : render('en', w));
    this.warningMsgs.push(w);
  }
  readonly stands = new Map<string, StandState>();
  vmIndex = new Map<number, ClusterResource>();
  users = new Map<string, PveUser>();
  pools = new Map<string, { comment?: string }>();
  acl = new Set<string>();
  networks = new Map<string, NetworkList>();
  rolePromise: Promise<void> | undefined;
  readonly replicaPromises = new Map<string, Promise<void>>();
  lastJobWrite = 0;
  readonly sharedStorage = new Map<string, boolean>();
  /** Nodes with someone else's pending network edit at the start: their stands are not started at all. */
  readonly blocked = new Map<string, Msg>();
  sdnBlocked: Msg | undefined;
  readonly templateStorage = new Map<number, string>();
  readonly templateDiskGiB = new Map<number, number>();
  /** Order of the replica copies in the full-clone lane (they start together; a slot frees for the highest). */
  readonly replicaPriority = new Map<number, number>();
  replicaGate: Promise<void> = Promise.resolve();
  /** When our clones' holds on each storage lock end, as far as we know (PVE-time ms; expectedClone). */
  private readonly lockFreeAt = new Map<string, number>();
  bridgeJournal: Promise<Set<string>> | undefined;
  /** Task durations the waits expect (issue 14): the model the plan was estimated with. */
  readonly timing: TimingModel;

  constructor(
    readonly ctx: AppContext,
    readonly plan: DeployPlan,
    readonly job: string,
    readonly options: DeployOptions,
  ) {
    this.cluster = plan.cluster;
    this.client = ctx.client(plan.cluster);
    this.log = ctx.logger.child({ job, group: plan.group, cluster: plan.cluster });
    this.emit = safeEmitter(options.onEvent, (err) => this.log.warn({ err }, 'event handler threw'));
    const c = ctx.settings?.concurrency;
    this.lanes = new Lanes({
      ...DEFAULT_EXEC_LIMITS,
      ...(c ? { perNode: c.perNode, fullClonesPerStorage: c.fullClonesPerStorage, linkedClonesPerStorage: c.linkedClonesPerStorage } : {}),
      ...options.limits,
    });
    this.progress = new Progress(job, (e) => {
      this.emit(e);
      void this.saveProgress(e);
    });
    this.signal = options.signal;
    // every awaited request listens for the abort: hundreds at once in a big class
    if (this.signal) setMaxListeners(0, this.signal);
    this.consoleBase = consoleBaseFor(ctx, plan.cluster);
    this.timing = plan.estimate?.model ? { ...defaultTimingModel(), ...plan.estimate.model, sources: {} } : defaultTimingModel();
  }

  // ------------------------------------------------------------------------------------------- the job

  async execute(): Promise<DeployResult> {
    const { plan, job } = this;
    await this.startJob();
    this.emit({ type: 'planned', job, total: plan.stands.length, message: `${plan.stands.length} stands in ${plan.group}` });
    this.emit({ type: 'job-started', job, total: plan.stands.length, message: `deploying ${plan.group} on ${plan.cluster}` });
    for (const s of plan.stands) {
      this.stands.set(s.userid, {
        plan: s,
        createdUser: false,
        pool: new Deferred(),
        network: new Deferred(),
        networkUp: new Deferred(),
        vmCreated: new Set(),
        vmDone: new Set(),
        pending: [],
      });
      for (const kind of standStepKinds(s, plan.start)) this.progress.plan(kind);
    }
    this.progress.tick(true);

    let aborted = false;
    try {
      await this.abortable(this.survey());
      if (this.plan.mode === 'bridges' && !this.options.applyForeignPending) {
        for (const [node, list] of this.networks) {
          const foreign = await foreignPending(this, node, list);
          if (foreign.length) this.blocked.set(node, foreignMessage(this, node, foreign));
        }
      }
      if (this.plan.mode === 'sdn' && !this.options.applyForeignPending && this.plan.stands.some((s) => s.segments.length)) {
        // applying SDN reloads every node's network: someone else's pending edit anywhere blocks it
        const foreign: string[] = [];
        for (const n of this.plan.applyNodes) {
          const f = await foreignPending(this, n, await this.client.listNetwork(n));
          if (f.length) foreign.push(`${n}: ${f.join(', ')}`);
        }
        if (foreign.length) {
          this.sdnBlocked = msg('fail.sdnBlocked', { list: foreign.join('; ') });
        }
      }
      await recordStands(this);
      const networkWork = this.plan.mode === 'sdn' ? [sdnNetwork(this)] : this.bridgeNodes().map((n) => nodeNetwork(this, n));
      // Replicas are on the critical path of every stand of their node: start them all now, not at first use. The
      // full-clone lane takes them in this order: biggest disk first (the longest copy + migration ends last),
      // then the replica more VMs wait for.
      const users = (r: ReplicaPlan): number =>
        this.plan.stands.reduce(
          (n, s) => n + (this.blockedReason(s) ? 0 : s.vms.filter((vm) => vm.templateVmid === r.vmid && vm.templateNode === r.targetNode).length),
          0,
        );
      const replicas = this.plan.replicas
        .filter((r) => !r.exists && users(r) > 0)
        .sort((a, b) => (this.templateDiskGiB.get(b.sourceVmid) ?? 0) - (this.templateDiskGiB.get(a.sourceVmid) ?? 0) || users(b) - users(a));
      replicas.forEach((r, i) => this.replicaPriority.set(r.vmid, 1 + replicas.length - i));
      for (const r of replicas) void replicaReady(this, { templateVmid: r.vmid, templateNode: r.targetNode } as VmPlan).catch(() => undefined);
      const standWork = plan.stands.map((s) => this.runStand(this.stands.get(s.userid)!));
      await Promise.allSettled([...networkWork, ...standWork]);
      aborted = Boolean(this.signal?.aborted);
    } catch (err) {
      if (!isAbort(err)) throw err;
      aborted = true;
    }

    if (!aborted && this.options.rollbackFailed) await this.rollbackFailed();
    return this.finish(aborted);
  }

  async startJob(): Promise<void> {
    const now = new Date().toISOString();
    const existing = await this.ctx.store.jobs.get(this.job);
    const progress = { done: 0, total: 0 };
    if (existing) {
      await this.ctx.store.jobs.update(this.job, { status: 'running', error: undefined, progress, result: { plan: this.plan } });
    } else {
      await this.ctx.store.jobs.create({
        id: this.job,
        kind: 'deploy',
        group: this.plan.group,
        cluster: this.plan.cluster,
        status: 'running',
        progress,
        requestedBy: this.options.requestedBy ?? { via: 'cli' },
        holder: `job:${this.job}`,
        // the plan rides along so `resume` can carry on after a crash without re-planning
        result: { plan: this.plan },
        createdAt: now,
        updatedAt: now,
      });
    }
    const group = await this.ctx.store.groups.get(this.plan.group);
    await this.ctx.store.groups.put({
      name: this.plan.group,
      cluster: this.plan.cluster,
      profile: { name: this.plan.profile.name, file: this.plan.profile.file, snapshot: this.plan.profile.snapshot },
      usersFile: this.plan.usersFile,
      mode: this.plan.mode,
      createdAt: group?.createdAt ?? now,
      updatedAt: now,
    });
  }

  async saveProgress(e: EngineEvent): Promise<void> {
    const now = Date.now();
    // the job record carries the whole plan (for resume): rewriting it is not free, so at most every 5 s
    if (now - this.lastJobWrite < 5000 && e.done !== e.total) return;
    this.lastJobWrite = now;
    await this.ctx.store.jobs
      .update(this.job, { progress: { done: e.done ?? 0, total: e.total ?? 0 } })
      .catch((err: unknown) => this.log.debug({ err }, 'progress not saved'));
  }

  /** One look at the cluster: what exists already (a re-run, a resume, someone else's objects). */
  async survey(): Promise<void> {
    const nodes = this.plan.mode === 'bridges' ? this.bridgeNodes() : [];
    const [all, users, pools, acl] = await Promise.all([
      this.client.clusterResources(),
      this.client.listUsers(),
      this.client.listPools(),
      this.client.listAcl(),
    ]);
    const vms = all.filter((r) => (r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined);
    this.vmIndex = new Map(vms.map((v) => [v.vmid!, v]));
    for (const r of all) if (r.type === 'storage' && r.storage) this.sharedStorage.set(r.storage, Boolean(r.shared));
    this.users = new Map(users.map((u) => [u.userid, u]));
    this.pools = new Map(pools.map((p) => [p.poolid, { comment: p.comment }]));
    this.acl = new Set(acl.filter((a) => a.type === 'user').map((a) => aclKey(a.path, a.ugid, a.roleid)));
    const lists = await Promise.all(nodes.map((n) => this.client.listNetwork(n)));
    nodes.forEach((n, i) => this.networks.set(n, lists[i]!));
    // where each template's disks live: linked clones allocate on that storage, under its lock
    const templates = new Map<number, string>();
    for (const s of this.plan.stands) for (const vm of s.vms) if (this.vmIndex.has(vm.templateVmid)) templates.set(vm.templateVmid, vm.templateNode);
    // replica sources too: their disk size orders the replica copies (longest first)
    const sources = new Set<number>();
    for (const r of this.plan.replicas) if (!r.exists && this.vmIndex.has(r.sourceVmid)) sources.add(r.sourceVmid);
    for (const vmid of sources) templates.set(vmid, this.vmIndex.get(vmid)?.node ?? '');
    for (const r of this.plan.replicas) this.templateStorage.set(r.vmid, r.storage);
    await Promise.all(
      [...templates].map(async ([vmid, node]) => {
        if (this.templateStorage.has(vmid) && !sources.has(vmid)) return;
        const cfg = await this.client.vmConfig(this.vmIndex.get(vmid)?.node ?? node, vmid).catch(() => undefined);
        const disks = Object.entries(cfg ?? {}).filter(
          (e): e is [string, string] => /^(scsi|virtio|sata|ide)\d+$/.test(e[0]) && typeof e[1] === 'string' && !/media=cdrom/.test(e[1]),
        );
        const storage = disks[0]?.[1].split(':')[0];
        if (storage && !this.templateStorage.has(vmid)) this.templateStorage.set(vmid, storage);
        this.templateDiskGiB.set(vmid, disks.reduce((a, [, v]) => a + diskGiB(v), 0));
      }),
    );
  }

  /**
   * The key of the storage lock an allocation takes, as PVE keys it: one cluster-wide lock for shared storage,
   * one per node for node-local storage.
   */
  lockKey(storage: string, node: string): string {
    return this.sharedStorage.get(storage) ? storage : `${storage}@${node}`;
  }

  bridgeNodes(): string[] {
    const nodes = new Set<string>();
    for (const s of this.plan.stands) for (const seg of s.segments) if (seg.kind === 'bridge') nodes.add(seg.node ?? s.node);
    return [...nodes].sort();
  }

  // ------------------------------------------------------------------------------------------ one stand

  async runStand(st: StandState): Promise<void> {
    const s = st.plan;
    const blocked = this.blockedReason(s);
    if (blocked) {
      // nothing is created for a stand whose bridges cannot be applied
      standFailed(st, blocked);
      for (const d of [st.pool, st.network, st.networkUp]) d.reject(new StandFailure(blocked));
      for (const kind of standStepKinds(s, this.plan.start)) this.progress.drop(kind);
      await recordChange(this, st, (r) => ({ ...r, status: 'failed', error: st.error, errorMsg: st.errorMsg }), true).catch(() => undefined);
      this.emit({ type: 'stand-failed', job: this.job, stand: s.userid, message: st.error, ...(st.errorMsg ? { msg: st.errorMsg } : {}) });
      return;
    }
    const steps: Promise<unknown>[] = [access(this, st), ...s.vms.map((vm) => runVm(this, st, vm))];
    if (!s.segments.length) {
      st.network.resolve();
      st.networkUp.resolve();
    }
    const settled = await Promise.allSettled([...steps, st.network.promise]);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.signal?.aborted) {
      await flush(this, st).catch((err: unknown) => this.log.warn({ err, stand: s.userid }, 'stand record not saved'));
      return;
    }
    const now = new Date().toISOString();
    if (failure) {
      standFailed(st, failure.reason);
      this.log.warn({ stand: s.userid, err: failure.reason }, 'stand failed');
      await recordChange(
        this,
        st,
        (r) => ({
          ...r,
          status: 'failed',
          error: st.error,
          errorMsg: st.errorMsg,
          history: [...r.history, { at: now, event: 'deploy-failed', job: this.job, message: st.error }].slice(-100),
        }),
        true,
      ).catch(() => undefined);
      this.emit({ type: 'stand-failed', job: this.job, stand: s.userid, message: st.error, ...(st.errorMsg ? { msg: st.errorMsg } : {}) });
      return;
    }
    await recordChange(
      this,
      st,
      (r) => ({
        ...r,
        status: 'ready',
        error: undefined,
        errorMsg: undefined,
        history: [...r.history, { at: now, event: 'deploy-done', job: this.job }].slice(-100),
      }),
      true,
    );
    this.emit({ type: 'stand-done', job: this.job, stand: s.userid, message: `${s.userid} ready on ${s.node}` });
  }

  /** Why this stand must not start at all (someone else's pending network edit where it needs ours applied). */
  blockedReason(s: StandPlan): Msg | undefined {
    const nodes = new Set(s.segments.filter((g) => g.kind === 'bridge').map((g) => g.node ?? s.node));
    return [...nodes].map((n) => this.blocked.get(n)).find((m) => m !== undefined) ?? (s.segments.length ? this.sdnBlocked : undefined);
  }

  fail(st: StandState, reason: Msg): never {
    standFailed(st, reason);
    throw new StandFailure(reason);
  }

  /** Runs a step with started/finished events and progress accounting. */
  async step<T>(st: StandState, kind: string, vm: number | undefined, fn: () => Promise<T | 'skipped'>): Promise<T | 'skipped'> {
    throwIfAborted(this.signal);
    const t0 = Date.now();
    this.emit({ type: 'step-started', job: this.job, stand: st.plan.userid, ...(vm === undefined ? {} : { vm }), step: kind });
    this.progress.start(kind);
    try {
      const r = await fn();
      const ms = r === 'skipped' ? 0 : Date.now() - t0;
      this.emit({
        type: 'step-finished',
        job: this.job,
        stand: st.plan.userid,
        ...(vm === undefined ? {} : { vm }),
        step: kind,
        ...(r === 'skipped' ? { message: 'already done' } : {}),
      });
      this.progress.finish(kind, ms);
      return r;
    } catch (err) {
      this.progress.drop(kind);
      throw err;
    }
  }

  /** Rejects as soon as the job is cancelled; what is in flight finishes on the server, its result is ignored. */
  abortable<T>(p: Promise<T>): Promise<T> {
    return abortable(p, this.signal);
  }

  /** Wait for a task; `expectedMs` (from the timing model) lets the waiter poll near its expected end. */
  async wait(task: TaskRef, expectedMs?: number): Promise<void> {
    await this.abortable(this.client.waitTask(task, expectedMs !== undefined ? { expectedMs } : {}));
  }

  /**
   * The expected length of a clone task just started on storage lock `key`: its wait behind our own clones ahead
   * of it on that lock (PVE serves the lock one allocation at a time), then the clone itself. The waiter polls
   * near that end instead of polling a queued clone finely from the end of an unqueued one.
   */
  expectedClone(key: string, o: { full: boolean; diskGiB: number }): number {
    const now = this.client.pveNow();
    const hold = o.full ? o.diskGiB * this.timing.fullCloneLockMsPerGiB : this.timing.linkedCloneLockMs;
    const begin = Math.max(now, this.lockFreeAt.get(key) ?? 0);
    this.lockFreeAt.set(key, begin + hold);
    return begin - now + this.expected({ kind: 'clone', ...o });
  }

  /** How long a task of this kind should take on this cluster (the plan's timing model, else the defaults). */
  expected(what: Parameters<typeof expectedTaskMs>[1]): number {
    return expectedTaskMs(this.timing, what);
  }

  // ------------------------------------------------------------------------------------------- the end

  async rollbackFailed(): Promise<void> {
    const failed = [...this.stands.values()].filter((st) => st.error);
    if (!failed.length) return;
    const { planCleanup, runCleanup } = await import('../cleanup.js');
    const cplan = await planCleanup(this.ctx, { group: this.plan.group, users: failed.map((st) => st.plan.userid) });
    const res = await runCleanup(this.ctx, cplan, {
      onEvent: (e) => this.emit({ ...e, job: this.job }),
      lockHeld: true,
      applyForeignPending: this.options.applyForeignPending,
    });
    for (const st of failed) {
      const r = res.stands.find((x) => x.userid === st.plan.userid);
      if (r?.status === 'removed') (st as StandState & { rolledBack?: boolean }).rolledBack = true;
    }
  }

  async finish(aborted: boolean): Promise<DeployResult> {
    const stands: DeployStandResult[] = [];
    const credentials: StandCredential[] = [];
    for (const st of this.stands.values()) {
      const s = st.plan;
      const status: DeployStandResult['status'] = st.error ? 'failed' : aborted && st.vmDone.size < s.vms.length ? 'cancelled' : 'ready';
      const first = s.vms[0];
      const cred: StandCredential = {
        group: s.group,
        userid: s.userid,
        pool: s.pool,
        ...(st.password ? { password: st.password } : {}),
        ...(first ? { consoleUrl: consoleUrl(this.consoleBase, first.vmid) } : {}),
      };
      if (st.password && status !== 'failed') credentials.push(cred);
      else if (st.password && !(st as { rolledBack?: boolean }).rolledBack) credentials.push(cred);
      stands.push({
        userid: s.userid,
        pool: s.pool,
        node: s.node,
        status,
        ...(st.error ? { error: st.error } : {}),
        ...(st.errorMsg ? { errorMsg: st.errorMsg } : {}),
        vms: s.vms.map((vm) => ({
          machine: vm.machine,
          vmid: vm.vmid,
          name: vm.name,
          node: vm.node,
          status: st.vmDone.has(vm.vmid) ? 'ready' : st.error ? 'failed' : 'not-done',
          created: st.vmCreated.has(vm.vmid),
          consoleUrl: consoleUrl(this.consoleBase, vm.vmid),
        })),
        createdUser: st.createdUser,
        ...(st.password ? { password: st.password } : {}),
        ...(cred.consoleUrl ? { consoleUrl: cred.consoleUrl } : {}),
        ...((st as { rolledBack?: boolean }).rolledBack ? { rolledBack: true } : {}),
      });
    }
    const ready = stands.filter((s) => s.status === 'ready').length;
    const failed = stands.filter((s) => s.status === 'failed').length;
    const status: DeployResult['status'] = aborted ? 'cancelled' : failed === 0 ? 'succeeded' : ready === 0 ? 'failed' : 'partial';
    const result: DeployResult = {
      job: this.job,
      group: this.plan.group,
      cluster: this.cluster,
      status,
      stands,
      credentials,
      created: this.counts,
      ready,
      failed,
      warnings: [...this.plan.warnings, ...this.warnings],
      warningMsgs: [...(this.plan.warningMsgs?.length === this.plan.warnings.length ? this.plan.warningMsgs : this.plan.warnings), ...this.warningMsgs],
      durationMs: Date.now() - this.started,
    };
    const counts = this.progress.counts;
    // the stored result never holds a password
    const stored = {
      ...result,
      credentials: undefined,
      stands: stands.map(({ password: _p, ...rest }) => rest),
      // an unfinished job keeps its plan so `resume` can carry on
      plan: status === 'succeeded' ? undefined : this.plan,
    };
    await this.ctx.store.jobs
      .update(this.job, {
        status,
        progress: { done: counts.done, total: counts.total },
        result: stored,
        finishedAt: new Date().toISOString(),
        ...(failed ? { error: render('en', msg('fail.standsFailed', { failed, total: stands.length })), errorMsg: msg('fail.standsFailed', { failed, total: stands.length }) } : {}),
      })
      .catch((err: unknown) => this.log.warn({ err }, 'job record not updated'));
    await this.ctx.store.audit
      .append({
        actor: this.options.requestedBy?.name ?? this.options.requestedBy?.via ?? 'cli',
        action: 'deploy',
        group: this.plan.group,
        job: this.job,
        outcome: status === 'succeeded' ? 'ok' : status === 'partial' ? 'partial' : 'failed',
        details: { ready, failed, vmsCreated: this.counts.vms },
      })
      .catch(() => undefined);
    this.progress.tick(true);
    this.emit({
      type: 'job-finished',
      job: this.job,
      done: counts.done,
      total: counts.total,
      message: `${status}: ${ready} ready, ${failed} failed${aborted ? ' (cancelled)' : ''}`,
    });
    return result;
  }
}

/** Resume a deploy: the job's stored plan (or the group's latest one) is run again; it converges. */
export async function resume(ctx: AppContext, jobOrGroup: string, options: Omit<DeployOptions, 'jobId'> = {}): Promise<DeployResult> {
  let job = await ctx.store.jobs.get(jobOrGroup);
  if (!job) {
    // the group's latest deploy only: an older unfinished one was superseded by whatever ran after it
    const jobs = (await ctx.store.jobs.list({ group: jobOrGroup })).filter((j) => j.kind === 'deploy');
    job = jobs.at(-1);
  }
  const plan = job ? planOf(job) : undefined;
  if (!job || !plan) {
    const { UserError } = await import('../../errors.js');
    throw new UserError(
      job?.status === 'succeeded' ? msg('resume.finished', { group: jobOrGroup, job: job.id }) : msg('resume.nothing', { group: jobOrGroup }),
    );
  }
  return runDeploy(ctx, plan, { ...options, jobId: job.id });
}

function planOf(job: JobRecord): DeployPlan | undefined {
  const r = job.result as { plan?: DeployPlan } | undefined;
  return r?.plan && typeof r.plan === 'object' && Array.isArray(r.plan.stands) ? r.plan : undefined;
}
