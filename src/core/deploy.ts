/**
 * runDeploy: carries out a DeployPlan. Stands run as independent pipelines (no phase barriers) inside the lanes
 * of executor.ts; each object is journaled before it is created, so a crash leaves nothing we cannot find again,
 * and every step first looks at the cluster (the truth) so a re-run completes what is missing and touches nothing
 * that is done.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../log.js';
import { ProxmoxApiError, TaskFailedError, isNotFound } from '../proxmox/errors.js';
import type { ProxmoxClient } from '../proxmox/client.js';
import type { ClusterResource, NetworkList, Params, PveUser, TaskRef, VmConfig } from '../proxmox/types.js';
import type { JobRecord, StandRecord, StandVm } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { consoleUrl, generatePassword, type StandCredential } from './credentials.js';
import {
  DEFAULT_EXEC_LIMITS,
  JobAbortedError,
  Lanes,
  Progress,
  isAbort,
  isTransientTaskFailure,
  newJobId,
  reasonOf,
  safeEmitter,
  throwIfAborted,
  type ExecLimits,
} from './executor.js';
import { holdReservations, lockTtlFromEnv } from './locks.js';
import { parsePendingIfaces } from './networks.js';
import { hasGroupTag, parsePoolComment, parseVmDescription, poolComment, userComment } from './ownership.js';
import { parseSegmentMarker, userName } from './naming.js';
import type { DeployPlan, EngineEvent, EngineEventHandler, ReplicaPlan, SegmentPlan, StandPlan, VmPlan } from './types.js';

/** The group lock lives this long without renewal: a crashed job's lock frees itself after it (STANDS_LOCK_TTL_MS). */
export const GROUP_LOCK_TTL_MS = lockTtlFromEnv();

/** PVEVMUser plus what students need to go back to `start` themselves. */
export const ROLLBACK_ROLE_EXTRA_PRIVS = ['VM.Snapshot.Rollback'];
const PVEVMUSER_FALLBACK_PRIVS = [
  'VM.Audit',
  'VM.Console',
  'VM.PowerMgmt',
  'VM.Backup',
  'VM.Config.CDROM',
  'VM.Config.Cloudinit',
];

export interface DeployOptions {
  onEvent?: EngineEventHandler;
  signal?: AbortSignal;
  /** Remove what a failed stand created. */
  rollbackFailed?: boolean;
  /** Apply a node's network even when someone else's pending edit is on it (their edit gets applied too). */
  applyForeignPending?: boolean;
  /** Resume this job id (its record is reused) instead of starting a new one. */
  jobId?: string;
  requestedBy?: JobRecord['requestedBy'];
  limits?: Partial<ExecLimits>;
}

export interface DeployVmResult {
  machine: string;
  vmid: number;
  name: string;
  node: string;
  status: 'ready' | 'failed' | 'not-done';
  /** Cloned by this run (false: it existed from an earlier run). */
  created: boolean;
  consoleUrl: string;
}

export interface DeployStandResult {
  userid: string;
  pool: string;
  node: string;
  status: 'ready' | 'failed' | 'cancelled';
  error?: string;
  vms: DeployVmResult[];
  /** We created the PVE user (in this run or an earlier one). */
  createdUser: boolean;
  /** Only when the user was created in this run: shown once, never stored. */
  password?: string;
  consoleUrl?: string;
  rolledBack?: boolean;
}

export interface DeployCounts {
  users: number;
  pools: number;
  acls: number;
  vms: number;
  bridges: number;
  vnets: number;
  replicas: number;
  networkApplies: number;
}

export interface DeployResult {
  job: string;
  group: string;
  cluster: string;
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  stands: DeployStandResult[];
  /** Users created in this run with their one-time passwords (never stored, never logged). */
  credentials: StandCredential[];
  created: DeployCounts;
  ready: number;
  failed: number;
  warnings: string[];
  durationMs: number;
}

/** A stand-level failure with a reason that is safe to show. */
export class StandFailure extends Error {
  override readonly name = 'StandFailure';
}

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

interface StandState {
  plan: StandPlan;
  error?: string;
  password?: string;
  createdUser: boolean;
  pool: Deferred<void>;
  network: Deferred<void>;
  /** Network applied (bridges up): needed before a VM starts. */
  networkUp: Deferred<void>;
  vmCreated: Set<number>;
  vmDone: Set<number>;
  /** The stand's record as this run wrote it first (what an earlier run recorded, merged with the plan). */
  record?: StandRecord;
  /** Record changes not written yet: step marks are coalesced per stand (see recordChange). */
  pending: ((r: StandRecord) => StandRecord)[];
  flushTimer?: NodeJS.Timeout;
}

/**
 * How long a stand's step marks may wait before they are written. They only save work on a re-run (each step
 * looks at the cluster first), so a crash losing them costs a few requests, never an object: what proves
 * ownership is the journal, written before each create. The store rewrites the whole stand record per write.
 */
const STAND_FLUSH_MS = 2000;

class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // a stand that fails before anyone waits must not crash the process with an unhandled rejection
    this.promise.catch(() => undefined);
  }
}

class DeployRun {
  private readonly client: ProxmoxClient;
  private readonly log: Logger;
  private readonly emit: (e: EngineEvent) => void;
  private readonly lanes: Lanes;
  private readonly progress: Progress;
  private readonly signal: AbortSignal | undefined;
  private readonly cluster: string;
  private readonly consoleBase: string;
  private readonly started = Date.now();
  private readonly counts: DeployCounts = {
    users: 0,
    pools: 0,
    acls: 0,
    vms: 0,
    bridges: 0,
    vnets: 0,
    replicas: 0,
    networkApplies: 0,
  };
  private readonly warnings: string[] = [];
  private readonly stands = new Map<string, StandState>();
  private vmIndex = new Map<number, ClusterResource>();
  private users = new Map<string, PveUser>();
  private pools = new Map<string, { comment?: string }>();
  private acl = new Set<string>();
  private networks = new Map<string, NetworkList>();
  private rolePromise: Promise<void> | undefined;
  private readonly replicaPromises = new Map<string, Promise<void>>();
  private lastJobWrite = 0;
  private readonly sharedStorage = new Map<string, boolean>();
  /** Nodes with someone else's pending network edit at the start: their stands are not started at all. */
  private readonly blocked = new Map<string, string>();
  private sdnBlocked: string | undefined;
  private readonly templateStorage = new Map<number, string>();
  private readonly templateDiskGiB = new Map<number, number>();
  /** Order of the replica copies in the full-clone lane (they start together; a slot frees for the highest). */
  private readonly replicaPriority = new Map<number, number>();
  private replicaGate: Promise<void> = Promise.resolve();
  private bridgeJournal: Promise<Set<string>> | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly plan: DeployPlan,
    private readonly job: string,
    private readonly options: DeployOptions,
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
      this.progress.plan('access');
      if (s.segments.length) this.progress.plan('network');
      for (const _vm of s.vms) {
        this.progress.plan('clone');
        this.progress.plan('config');
        this.progress.plan('snapshot');
        if (plan.start) this.progress.plan('start');
      }
    }
    this.progress.tick(true);

    let aborted = false;
    try {
      await this.abortable(this.survey());
      if (this.plan.mode === 'bridges' && !this.options.applyForeignPending) {
        for (const [node, list] of this.networks) {
          const foreign = await this.foreignPending(node, list);
          if (foreign.length) this.blocked.set(node, this.foreignMessage(node, foreign));
        }
      }
      if (this.plan.mode === 'sdn' && !this.options.applyForeignPending && this.plan.stands.some((s) => s.segments.length)) {
        // applying SDN reloads every node's network: someone else's pending edit anywhere blocks it
        const foreign: string[] = [];
        for (const n of this.plan.applyNodes) {
          const f = await this.foreignPending(n, await this.client.listNetwork(n));
          if (f.length) foreign.push(`${n}: ${f.join(', ')}`);
        }
        if (foreign.length) {
          this.sdnBlocked =
            `SDN changes cannot be applied: applying reloads every node's network, and there are pending network ` +
            `changes that are not ours (${foreign.join('; ')}); ask their author, or re-run with --apply-foreign-pending`;
        }
      }
      await this.recordStands();
      const networkWork = this.plan.mode === 'sdn' ? [this.sdnNetwork()] : this.bridgeNodes().map((n) => this.nodeNetwork(n));
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
      for (const r of replicas) void this.replicaReady({ templateVmid: r.vmid, templateNode: r.targetNode } as VmPlan).catch(() => undefined);
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

  private async startJob(): Promise<void> {
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

  private async saveProgress(e: EngineEvent): Promise<void> {
    const now = Date.now();
    // the job record carries the whole plan (for resume): rewriting it is not free, so at most every 5 s
    if (now - this.lastJobWrite < 5000 && e.done !== e.total) return;
    this.lastJobWrite = now;
    await this.ctx.store.jobs
      .update(this.job, { progress: { done: e.done ?? 0, total: e.total ?? 0 } })
      .catch((err: unknown) => this.log.debug({ err }, 'progress not saved'));
  }

  /** One look at the cluster: what exists already (a re-run, a resume, someone else's objects). */
  private async survey(): Promise<void> {
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
  private lockKey(storage: string, node: string): string {
    return this.sharedStorage.get(storage) ? storage : `${storage}@${node}`;
  }

  private bridgeNodes(): string[] {
    const nodes = new Set<string>();
    for (const s of this.plan.stands) for (const seg of s.segments) if (seg.kind === 'bridge') nodes.add(seg.node ?? s.node);
    return [...nodes].sort();
  }

  /** Stand records before anything is created (status deploying), merged with what an earlier run recorded. */
  private async recordStands(): Promise<void> {
    const now = new Date().toISOString();
    for (const s of this.plan.stands) {
      const st = this.stands.get(s.userid)!;
      const prev = await this.ctx.store.stands.get(s.group, s.userid);
      st.createdUser = prev?.createdUser ?? false;
      const vms: StandVm[] = s.vms.map((vm) => {
        const old = prev?.vms.find((v) => v.vmid === vm.vmid);
        return old
          ? { ...old, template: old.template ?? vm.templateVmid }
          : { machine: vm.machine, vmid: vm.vmid, node: vm.node, name: vm.name, status: 'planned' as const, steps: [], template: vm.templateVmid };
      });
      // VMs an earlier run recorded that are not in this plan stay recorded (cleanup must still find them)
      for (const old of prev?.vms ?? []) if (!vms.some((v) => v.vmid === old.vmid)) vms.push(old);
      st.record = await this.ctx.store.stands.put({
        cluster: this.cluster,
        group: s.group,
        user: userName(s.userid),
        userid: s.userid,
        profile: this.plan.profile.name,
        pool: s.pool,
        node: s.node,
        mode: this.plan.mode,
        vms,
        segments: mergeSegments(prev?.segments ?? [], s.segments),
        vlans: s.vlans,
        createdUser: st.createdUser,
        poolCreated: prev?.poolCreated ?? false,
        aclCreated: prev?.aclCreated ?? false,
        status: 'deploying',
        discord: s.discord ?? prev?.discord,
        leaseExpiresAt: this.plan.leaseExpiresAt ?? prev?.leaseExpiresAt,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
        history: [...(prev?.history ?? []), { at: now, event: 'deploy-started', job: this.job }].slice(-100),
      });
    }
  }

  // ------------------------------------------------------------------------------------------ one stand

  private async runStand(st: StandState): Promise<void> {
    const s = st.plan;
    const blocked = this.blockedReason(s);
    if (blocked) {
      // nothing is created for a stand whose bridges cannot be applied
      st.error ??= blocked;
      for (const d of [st.pool, st.network, st.networkUp]) d.reject(new StandFailure(blocked));
      this.progress.drop('access');
      if (s.segments.length) this.progress.drop('network');
      for (const _vm of s.vms) for (const k of ['clone', 'config', 'snapshot', ...(this.plan.start ? ['start'] : [])]) this.progress.drop(k);
      await this.recordChange(st, (r) => ({ ...r, status: 'failed', error: blocked }), true).catch(() => undefined);
      this.emit({ type: 'stand-failed', job: this.job, stand: s.userid, message: blocked });
      return;
    }
    const steps: Promise<unknown>[] = [this.access(st), ...s.vms.map((vm) => this.runVm(st, vm))];
    if (!s.segments.length) {
      st.network.resolve();
      st.networkUp.resolve();
    }
    const settled = await Promise.allSettled([...steps, st.network.promise]);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.signal?.aborted) {
      await this.flush(st).catch((err: unknown) => this.log.warn({ err, stand: s.userid }, 'stand record not saved'));
      return;
    }
    const now = new Date().toISOString();
    if (failure) {
      st.error ??= reasonOf(failure.reason);
      this.log.warn({ stand: s.userid, err: failure.reason }, 'stand failed');
      await this.recordChange(
        st,
        (r) => ({
          ...r,
          status: 'failed',
          error: st.error,
          history: [...r.history, { at: now, event: 'deploy-failed', job: this.job, message: st.error }].slice(-100),
        }),
        true,
      ).catch(() => undefined);
      this.emit({ type: 'stand-failed', job: this.job, stand: s.userid, message: st.error });
      return;
    }
    await this.recordChange(
      st,
      (r) => ({
        ...r,
        status: 'ready',
        error: undefined,
        history: [...r.history, { at: now, event: 'deploy-done', job: this.job }].slice(-100),
      }),
      true,
    );
    this.emit({ type: 'stand-done', job: this.job, stand: s.userid, message: `${s.userid} ready on ${s.node}` });
  }

  /**
   * Change the stand's record: with `now`, written before this returns (with every change still pending);
   * otherwise within STAND_FLUSH_MS, together with whatever else the stand changed meanwhile.
   */
  private recordChange(st: StandState, change: (r: StandRecord) => StandRecord, now = false): Promise<void> {
    st.pending.push(change);
    if (now) return this.flush(st);
    st.flushTimer ??= setTimeout(() => {
      st.flushTimer = undefined;
      void this.flush(st).catch((err: unknown) => this.log.warn({ err, stand: st.plan.userid }, 'stand record not saved'));
    }, STAND_FLUSH_MS);
    return Promise.resolve();
  }

  /** Write the stand's pending changes (one read-modify-write: the store serialises it per stand). */
  private async flush(st: StandState): Promise<void> {
    if (st.flushTimer) clearTimeout(st.flushTimer);
    st.flushTimer = undefined;
    const changes = st.pending.splice(0);
    if (!changes.length) return;
    await this.ctx.store.stands.update(st.plan.group, st.plan.userid, (r) => changes.reduce((acc, f) => f(acc), r));
  }

  /** Why this stand must not start at all (someone else's pending network edit where it needs ours applied). */
  private blockedReason(s: StandPlan): string | undefined {
    const nodes = new Set(s.segments.filter((g) => g.kind === 'bridge').map((g) => g.node ?? s.node));
    return [...nodes].map((n) => this.blocked.get(n)).find((m) => m !== undefined) ?? (s.segments.length ? this.sdnBlocked : undefined);
  }

  private fail(st: StandState, message: string): never {
    st.error ??= message;
    throw new StandFailure(message);
  }

  /** Runs a step with started/finished events and progress accounting. */
  private async step<T>(st: StandState, kind: string, vm: number | undefined, fn: () => Promise<T | 'skipped'>): Promise<T | 'skipped'> {
    throwIfAborted(this.signal);
    const t0 = Date.now();
    this.emit({ type: 'step-started', job: this.job, stand: st.plan.userid, ...(vm === undefined ? {} : { vm }), step: kind });
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
  private abortable<T>(p: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (!signal) return p;
    if (signal.aborted) {
      p.catch(() => undefined);
      return Promise.reject(new JobAbortedError());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new JobAbortedError());
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private async wait(task: TaskRef): Promise<void> {
    await this.abortable(this.client.waitTask(task));
  }

  // ------------------------------------------------------------------------------ user, pool, ACL (serialised)

  private async access(st: StandState): Promise<void> {
    const s = st.plan;
    try {
      await this.step(st, 'access', undefined, async () => {
        let wrote = false;
        // the pool first: every clone of the stand waits for it, nothing waits for the user but its ACL
        wrote = (await this.ensurePool(st)) || wrote;
        st.pool.resolve();
        wrote = (await this.ensureUser(st)) || wrote;
        wrote = (await this.ensureAcl(st)) || wrote;
        return wrote ? undefined : 'skipped';
      });
    } catch (err) {
      st.pool.reject(err);
      throw err;
    }
    void s;
  }

  private async ensureUser(st: StandState): Promise<boolean> {
    const s = st.plan;
    if (this.users.has(s.userid)) {
      // it exists: ours only if our journal says we created it (in this group or another)
      const j = await this.ctx.store.journal.get('user', s.userid, this.cluster);
      if (j && j.group === s.group) {
        st.createdUser = true;
        if (j.state !== 'confirmed') await this.ctx.store.journal.confirm('user', s.userid, this.cluster);
        // a run killed right after creating the user may not have written its record yet
        if (!st.record?.createdUser) void this.recordChange(st, (r) => ({ ...r, createdUser: true }));
        // Passwords are shown once, when a job ends, and never stored: a job that never ended (killed, or a bot
        // that went down) created this user without anyone seeing its password.
        const creator = j.job ? await this.ctx.store.jobs.get(j.job) : undefined;
        if (!creator || creator.status === 'queued' || creator.status === 'running') {
          this.warnings.push(
            `${s.userid} was created by an interrupted run, so its password was never shown: ` +
              `set a new one with \`stands password --user ${s.userid}\``,
          );
        }
      }
      return false;
    }
    const password = generatePassword(this.ctx.settings?.passwords?.length ?? 16);
    await this.ctx.store.journal.intend('user', s.userid, { cluster: this.cluster, group: s.group, user: s.userid, job: this.job });
    throwIfAborted(this.signal);
    await this.abortable(
      this.lanes.accessWrite(() =>
        this.client.createUser({
          userid: s.userid,
          password,
          comment: userComment(s.group),
          ...(s.email ? { email: s.email } : {}),
          ...(s.displayName ? { firstname: s.displayName } : {}),
        }),
        1,
      ),
    );
    await this.ctx.store.journal.confirm('user', s.userid, this.cluster);
    this.users.set(s.userid, { userid: s.userid } as PveUser);
    st.createdUser = true;
    st.password = password;
    this.counts.users++;
    void this.recordChange(st, (r) => ({ ...r, createdUser: true }));
    return true;
  }

  private async ensurePool(st: StandState): Promise<boolean> {
    const s = st.plan;
    const existing = this.pools.get(s.pool);
    if (existing) {
      const marker = parsePoolComment(existing.comment);
      const j = await this.ctx.store.journal.get('pool', s.pool, this.cluster);
      const ours = (marker?.group === s.group && marker.userid === s.userid) || (j?.group === s.group && j.user === s.userid);
      if (!ours) this.fail(st, `pool ${s.pool} already exists and is not this stand's (comment: ${existing.comment ?? 'none'})`);
      if (j?.state === 'intended') await this.ctx.store.journal.confirm('pool', s.pool, this.cluster);
      return false;
    }
    await this.ctx.store.journal.intend('pool', s.pool, { cluster: this.cluster, group: s.group, user: s.userid, job: this.job });
    throwIfAborted(this.signal);
    await this.abortable(this.lanes.accessWrite(() => this.client.createPool(s.pool, poolComment(s.group, s.userid, this.plan.profile.name)), 2));
    await this.ctx.store.journal.confirm('pool', s.pool, this.cluster);
    this.pools.set(s.pool, { comment: poolComment(s.group, s.userid, this.plan.profile.name) });
    this.counts.pools++;
    void this.recordChange(st, (r) => ({ ...r, poolCreated: true }));
    return true;
  }

  private async ensureAcl(st: StandState): Promise<boolean> {
    const s = st.plan;
    const role = this.plan.aclRole;
    const path = `/pool/${s.pool}`;
    const key = aclKey(path, s.userid, role);
    if (this.acl.has(key)) return false;
    await this.ensureRole(role);
    await this.ctx.store.journal.intend('acl', key, { cluster: this.cluster, group: s.group, user: s.userid, job: this.job });
    throwIfAborted(this.signal);
    await this.abortable(
      this.lanes.accessWrite(() => this.client.updateAcl({ path, roles: [role], users: [s.userid], propagate: true })),
    );
    await this.ctx.store.journal.confirm('acl', key, this.cluster);
    this.acl.add(key);
    this.counts.acls++;
    void this.recordChange(st, (r) => ({ ...r, aclCreated: true }));
    return true;
  }

  /** A custom role (e.g. one that adds snapshot rollback) is created once, from PVEVMUser's privileges. */
  private ensureRole(role: string): Promise<void> {
    if (/^(PVE\w+|Administrator|NoAccess)$/.test(role)) return Promise.resolve();
    this.rolePromise ??= (async () => {
      const roles = await this.client.listRoles();
      if (roles.some((r) => r.roleid === role)) return;
      const custom = this.ctx.settings?.acl?.customRole;
      const base = roles.find((r) => r.roleid === 'PVEVMUser')?.privs?.split(',').filter(Boolean) ?? PVEVMUSER_FALLBACK_PRIVS;
      const privs = custom?.name === role ? custom.privs : [...new Set([...base, ...ROLLBACK_ROLE_EXTRA_PRIVS])];
      await this.lanes.accessWrite(() => this.client.createRole(role, privs));
      this.log.info({ role, privs }, 'created role');
    })();
    return this.rolePromise;
  }

  // ------------------------------------------------------------------------------------- bridges (per node)

  private isOurIface(node: string, iface: string, list: NetworkList, journaled: Set<string>): boolean {
    if (journaled.has(`${node}/${iface}`)) return true;
    const i = list.ifaces.find((x) => x.iface === iface);
    return Boolean(i && parseSegmentMarker(i.comments));
  }

  /** Someone else's pending edits on `node` (names, with their comments), or [] when every pending edit is ours. */
  private async foreignPending(node: string, list: NetworkList): Promise<string[]> {
    if (!list.changes) return [];
    const { ifaces, unattributed } = parsePendingIfaces(list.changes);
    // the bridge journal is read once per run (a scan of every entry); read again only when something looks foreign
    let journaled = await (this.bridgeJournal ??= this.readBridgeJournal());
    if ([...ifaces].some((i) => !this.isOurIface(node, i, list, journaled))) journaled = await (this.bridgeJournal = this.readBridgeJournal());
    const foreign = [...ifaces]
      .filter((i) => !this.isOurIface(node, i, list, journaled))
      .map((i) => {
        const c = list.ifaces.find((x) => x.iface === i)?.comments;
        return c ? `${i} (${c.trim()})` : i;
      });
    if (unattributed) foreign.push('an edit not tied to an interface');
    return foreign;
  }

  private async readBridgeJournal(): Promise<Set<string>> {
    return new Set((await this.ctx.store.journal.list({ cluster: this.cluster, kind: 'bridge' })).map((e) => e.id));
  }

  private foreignMessage(node: string, foreign: string[]): string {
    return (
      `node ${node} has pending network changes that are not ours: ${foreign.join(', ')}; applying would apply them ` +
      `too, so this stand's bridges were not set up (ask their author, or re-run with --apply-foreign-pending)`
    );
  }

  /** Create the bridges of every stand on `node`, then apply the node's network once. */
  private async nodeNetwork(node: string): Promise<void> {
    const stands = [...this.stands.values()].filter((st) => st.plan.segments.some((g) => g.kind === 'bridge' && (g.node ?? st.plan.node) === node));
    const failAll = (message: string, list = stands): void => {
      for (const st of list) {
        st.error ??= message;
        st.network.reject(new StandFailure(message));
        st.networkUp.reject(new StandFailure(message));
      }
    };
    try {
      let list = this.networks.get(node) ?? (await this.client.listNetwork(node));
      const foreignBefore = await this.foreignPending(node, list);
      if (foreignBefore.length && !this.options.applyForeignPending) {
        failAll(this.foreignMessage(node, foreignBefore));
        return;
      }
      const created: string[] = [];
      const ready: StandState[] = [];
      for (const st of stands) {
        try {
          await this.step(st, 'network', undefined, async () => {
            let wrote = false;
            for (const seg of st.plan.segments) {
              if (seg.kind !== 'bridge') continue;
              if (await this.ensureBridge(st, node, seg, list)) {
                created.push(seg.iface);
                wrote = true;
              }
            }
            return wrote ? undefined : 'skipped';
          });
          st.network.resolve();
          ready.push(st);
        } catch (err) {
          if (isAbort(err)) throw err;
          st.error ??= reasonOf(err);
          st.network.reject(err);
          st.networkUp.reject(err);
        }
      }
      // Apply when anything of ours is pending (created now, or left pending by a crashed run).
      if (created.length) list = await this.client.listNetwork(node);
      if (!list.changes) {
        for (const st of ready) st.networkUp.resolve();
        return;
      }
      const foreign = await this.foreignPending(node, list);
      if (foreign.length) {
        if (!this.options.applyForeignPending) {
          // Someone edited the node while we worked: take our pending bridges back out, never apply theirs.
          for (const iface of created) {
            await this.client.deleteNetwork(node, iface).catch((err: unknown) => this.log.warn({ err, node, iface }, 'could not withdraw a pending bridge'));
            await this.ctx.store.journal.forget('bridge', `${node}/${iface}`, this.cluster);
          }
          failAll(this.foreignMessage(node, foreign), ready);
          return;
        }
        const w = `node ${node}: applied someone else's pending network changes too (${foreign.join(', ')}), as --apply-foreign-pending asked`;
        this.warnings.push(w);
        this.log.warn({ node, foreign }, 'applying foreign pending network changes');
      }
      throwIfAborted(this.signal);
      await this.lanes.networkApply(node, async () => {
        const task = await this.abortable(this.lanes.node(node, () => this.client.applyNetwork(node)));
        await this.wait(task);
      });
      this.counts.networkApplies++;
      for (const st of ready) st.networkUp.resolve();
    } catch (err) {
      const message = `network on ${node}: ${reasonOf(err)}`;
      for (const st of stands) {
        st.network.reject(err);
        st.networkUp.reject(err);
        if (!isAbort(err)) st.error ??= message;
      }
    }
  }

  /** True when a bridge was created now. */
  private async ensureBridge(st: StandState, node: string, seg: SegmentPlan, list: NetworkList): Promise<boolean> {
    const s = st.plan;
    const existing = list.ifaces.find((i) => i.iface === seg.iface);
    if (existing) {
      const marker = parseSegmentMarker(existing.comments);
      const ours = marker && `stands:${marker.group}:${marker.user}:${marker.alias}` === seg.comment;
      if (!ours) this.fail(st, `bridge ${seg.iface} on ${node} already exists and is not this stand's (${existing.comments ?? 'no comment'})`);
      await this.ctx.store.journal.intend('bridge', `${node}/${seg.iface}`, { cluster: this.cluster, group: s.group, user: s.userid, node, job: this.job });
      await this.ctx.store.journal.confirm('bridge', `${node}/${seg.iface}`, this.cluster);
      return false;
    }
    await this.ctx.store.journal.intend('bridge', `${node}/${seg.iface}`, {
      cluster: this.cluster,
      group: s.group,
      user: s.userid,
      node,
      job: this.job,
    });
    throwIfAborted(this.signal);
    await this.abortable(
      this.lanes.node(node, () =>
        this.client.createBridge(node, {
          iface: seg.iface,
          autostart: true,
          ...(seg.vlanAware ? { bridge_vlan_aware: true } : {}),
          comments: seg.comment,
        }),
      ),
    );
    await this.ctx.store.journal.confirm('bridge', `${node}/${seg.iface}`, this.cluster);
    list.ifaces.push({ iface: seg.iface, type: 'bridge', comments: seg.comment } as NetworkList['ifaces'][number]);
    this.counts.bridges++;
    return true;
  }

  // --------------------------------------------------------------------------------------------- SDN mode

  private async sdnNetwork(): Promise<void> {
    const stands = [...this.stands.values()].filter((st) => st.plan.segments.some((g) => g.kind === 'vnet'));
    if (this.sdnBlocked) return;
    const failAll = (err: unknown, list = stands): void => {
      for (const st of list) {
        if (!isAbort(err)) st.error ??= reasonOf(err);
        st.network.reject(err);
        st.networkUp.reject(err);
      }
    };
    if (!stands.length) return;
    try {
      const zone = this.plan.sdnZone;
      const zones = await this.client.listZones({ pending: true });
      if (zone && !zones.some((z) => z.zone === zone)) {
        // stands.yml: the zone is created when missing (and kept by cleanup: other groups use it too)
        const sdn = this.ctx.settings.network.sdn;
        await this.abortable(
          this.lanes.accessWrite(() =>
            this.client.createZone({ zone, type: sdn.zoneType, ...(sdn.zoneType === 'vlan' && sdn.bridge ? { bridge: sdn.bridge } : {}) }),
          ),
        );
      }
      const vnets = await this.client.listVnets({ pending: true });
      const ready: StandState[] = [];
      let created = 0;
      for (const st of stands) {
        try {
          await this.step(st, 'network', undefined, async () => {
            let wrote = false;
            for (const seg of st.plan.segments) {
              if (seg.kind !== 'vnet') continue;
              const existing = vnets.find((v) => v.vnet === seg.iface);
              const jid = seg.iface;
              if (existing) {
                if (existing.alias !== seg.comment) this.fail(st, `VNet ${seg.iface} already exists and is not this stand's (${existing.alias ?? 'no alias'})`);
                continue;
              }
              await this.ctx.store.journal.intend('vnet', jid, { cluster: this.cluster, group: st.plan.group, user: st.plan.userid, job: this.job });
              throwIfAborted(this.signal);
              await this.abortable(
                this.lanes.accessWrite(() =>
                  this.client.createVnet({
                    vnet: seg.iface,
                    zone: seg.zone ?? zone ?? '',
                    ...(seg.tag === undefined ? {} : { tag: seg.tag }),
                    alias: seg.comment,
                    ...(seg.vlanAware ? { vlanaware: true } : {}),
                  }),
                ),
              );
              await this.ctx.store.journal.confirm('vnet', jid, this.cluster);
              vnets.push({ vnet: seg.iface, zone: seg.zone, alias: seg.comment } as (typeof vnets)[number]);
              this.counts.vnets++;
              created++;
              wrote = true;
            }
            return wrote ? undefined : 'skipped';
          });
          st.network.resolve();
          ready.push(st);
        } catch (err) {
          if (isAbort(err)) throw err;
          st.error ??= reasonOf(err);
          st.network.reject(err);
          st.networkUp.reject(err);
        }
      }
      const pendingSdn = (await this.client.listVnets({ pending: true })).filter((v) => v.state && v.state !== 'applied');
      if (!created && !pendingSdn.length) {
        for (const st of ready) st.networkUp.resolve();
        return;
      }
      // SDN apply reloads the network of every node: refuse when any node carries someone else's pending edit
      const foreign: string[] = [];
      for (const v of pendingSdn) if (!parseSegmentMarker(v.alias)) foreign.push(`VNet ${v.vnet}`);
      for (const n of this.plan.applyNodes) {
        const list = await this.client.listNetwork(n);
        const f = await this.foreignPending(n, list);
        if (f.length) foreign.push(`${n}: ${f.join(', ')}`);
      }
      if (foreign.length && !this.options.applyForeignPending) {
        failAll(new StandFailure(`SDN not applied: pending changes that are not ours: ${foreign.join('; ')} (re-run with --apply-foreign-pending to apply them too)`), ready);
        return;
      }
      throwIfAborted(this.signal);
      await this.lanes.sdn.add(async () => {
        const task = await this.abortable(this.client.applySdn());
        await this.wait(task);
      });
      this.counts.networkApplies++;
      for (const st of ready) st.networkUp.resolve();
    } catch (err) {
      failAll(err);
    }
  }

  // -------------------------------------------------------------------------------------------- replicas

  private replicaFor(vm: VmPlan): ReplicaPlan | undefined {
    return this.plan.replicas.find((r) => r.vmid === vm.templateVmid && r.targetNode === vm.templateNode && !r.exists);
  }

  private replicaReady(vm: VmPlan): Promise<void> {
    const r = this.replicaFor(vm);
    if (!r) return Promise.resolve();
    const key = `${r.sourceVmid}/${r.targetNode}`;
    let p = this.replicaPromises.get(key);
    if (!p) {
      p = this.makeReplica(r);
      p.catch(() => undefined);
      this.replicaPromises.set(key, p);
    }
    return p;
  }

  /**
   * Full clone of the template on its node → template → migrate to the target node (as the seed did). Each
   * attempt starts from what the cluster shows, so an ambiguous or failed step (596 after a migrate, a failed
   * clone task) is simply looked at again and carried on.
   */
  private async makeReplica(r: ReplicaPlan): Promise<void> {
    const meta = {
      cluster: this.cluster,
      node: r.targetNode,
      job: this.job,
      extra: { sourceVmid: r.sourceVmid, sourceNode: r.sourceNode, targetNode: r.targetNode, name: r.name },
    };
    // one after another up to the full-clone lane, so the lane sees them in the order they were started
    const gate = this.replicaGate;
    let open!: () => void;
    this.replicaGate = new Promise<void>((res) => (open = res));
    try {
      await gate;
      await this.ctx.store.journal.intend('replica', r.vmid, meta);
    } finally {
      open();
    }
    // A replica that cannot be made fails every stand waiting for it on that node: it gets two more tries than a VM.
    const attempts = this.lanes.limits.cloneAttempts + 2;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(this.signal);
      try {
        const where = attempt === 1 ? this.vmIndex.get(r.vmid)?.node : (await this.client.findVm(r.vmid))?.node || undefined;
        await this.replicaOnce(r, where);
        break;
      } catch (err) {
        const retryable = isTransientTaskFailure(err) || (err instanceof ProxmoxApiError && (err.ambiguous || err.status >= 500));
        if (isAbort(err) || err instanceof StandFailure || attempt >= attempts || !retryable) throw err;
        this.emit({ type: 'retry', job: this.job, vm: r.vmid, step: 'replica', message: `replica ${r.name}: ${reasonOf(err)}; attempt ${attempt + 1} of ${attempts}` });
        await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
    await this.ctx.store.replicas.put({
      cluster: this.cluster,
      sourceVmid: r.sourceVmid,
      sourceNode: r.sourceNode,
      node: r.targetNode,
      vmid: r.vmid,
      name: r.name,
      storage: r.storage,
      createdAt: new Date().toISOString(),
    });
    await this.ctx.store.journal.confirm('replica', r.vmid, this.cluster);
    this.counts.replicas++;
  }

  private async replicaOnce(r: ReplicaPlan, found: string | undefined): Promise<void> {
    let where = found;
    if (where) {
      const cfg = await this.client.vmConfig(where, r.vmid);
      if (cfg.name !== r.name) throw new StandFailure(`VMID ${r.vmid} planned for template replica ${r.name} is taken by ${cfg.name ?? 'another VM'}`);
      if (cfg.lock) await this.abortable(this.client.waitUnlocked(where, r.vmid));
    } else {
      await this.lanes.storage(this.lockKey(r.storage, r.sourceNode), true, async () => {
        const task = await this.abortable(
          this.lanes.node(
            r.sourceNode,
            () =>
              this.client.cloneVm(r.sourceNode, r.sourceVmid, {
                newid: r.vmid,
                name: r.name,
                full: true,
                storage: r.storage,
                description: `Template replica of ${r.sourceVmid} for ${r.targetNode}, made by pve-stands`,
              }),
            2,
          ),
        );
        try {
          await this.wait(task);
        } catch (err) {
          if (!isAbort(err)) await this.removeFailedClone({ vmid: r.vmid, node: r.sourceNode }).catch(() => undefined);
          throw err;
        }
      }, this.replicaPriority.get(r.vmid) ?? 1);
      where = r.sourceNode;
    }
    const node = where;
    const cfg = await this.client.vmConfig(node, r.vmid);
    if (!cfg.template) {
      throwIfAborted(this.signal);
      const t = await this.abortable(this.lanes.node(node, () => this.client.convertToTemplate(node, r.vmid), 2));
      await this.wait(t);
    }
    if (node !== r.targetNode) {
      throwIfAborted(this.signal);
      const t = await this.abortable(
        this.lanes.node(node, () => this.client.migrateVm(node, r.vmid, r.targetNode, { withLocalDisks: true }), 2),
      );
      await this.wait(t);
    }
  }

  // ----------------------------------------------------------------------------------------------- one VM

  private async updateVm(st: StandState, vmid: number, change: (v: StandVm) => StandVm): Promise<void> {
    await this.recordChange(st, (r) => ({ ...r, vms: r.vms.map((v) => (v.vmid === vmid ? change(v) : v)) }));
  }

  private async markStep(st: StandState, vm: VmPlan, step: string, status?: StandVm['status']): Promise<void> {
    await this.updateVm(st, vm.vmid, (v) => ({
      ...v,
      node: vm.node,
      steps: v.steps.includes(step) ? v.steps : [...v.steps, step],
      ...(status ? { status } : {}),
    }));
  }

  /** Is this existing VM ours (this stand's)? The journal proves it; failing that, our tags/description. */
  private async isOurVm(st: StandState, vm: VmPlan, cfg: VmConfig): Promise<boolean> {
    const j = await this.ctx.store.journal.get('vm', vm.vmid, this.cluster);
    if (j && j.group === st.plan.group && j.user === st.plan.userid) return true;
    const d = parseVmDescription(cfg.description);
    if (d && d.group === st.plan.group && d.userid === st.plan.userid) return true;
    return hasGroupTag(cfg.tags, st.plan.group) && cfg.name === vm.name;
  }

  private async runVm(st: StandState, vm: VmPlan): Promise<void> {
    const s = st.plan;
    const rec = st.record?.vms.find((v) => v.vmid === vm.vmid);
    const steps = new Set(rec?.steps ?? []);
    let live = this.vmIndex.get(vm.vmid);
    let cfg: VmConfig | undefined;
    let preexisting = false;

    // A finished VM of an earlier run: leave it alone (no config rewrite, so MACs stay).
    const finished =
      live && rec?.status === 'ready' && !live.lock && (live.tags === undefined || hasGroupTag(live.tags, s.group)) && (!this.plan.start || steps.has('start'));
    if (finished) {
      for (const k of ['clone', 'config', 'snapshot', ...(this.plan.start ? ['start'] : [])]) {
        await this.step(st, k, vm.vmid, async () => 'skipped');
      }
      st.vmDone.add(vm.vmid);
      return;
    }

    if (live) {
      const node = live.node ?? vm.node;
      cfg = await this.abortable(this.lanes.node(node, () => this.client.vmConfig(node, vm.vmid)));
      if (!(await this.isOurVm(st, vm, cfg))) {
        this.fail(st, `VMID ${vm.vmid} is taken by another VM (${cfg.name ?? 'unnamed'} on ${node}); plan the deploy again`);
      }
      if (cfg.lock === 'clone' || cfg.lock === 'destroyed') {
        // a clone (or destroy) of an earlier run is still running on the server: let it end, then look again
        cfg = await this.awaitUnlockedConfig(node, vm.vmid);
        if (!cfg) live = undefined;
      } else if (cfg.lock) {
        this.fail(st, `VM ${vm.vmid} is locked (${cfg.lock}); if no task is running, clear it with 'qm unlock ${vm.vmid}'`);
      }
      preexisting = Boolean(cfg);
    }

    // clone
    await this.step(st, 'clone', vm.vmid, async () => {
      if (cfg) {
        await this.ctx.store.journal.confirm('vm', vm.vmid, this.cluster);
        return 'skipped';
      }
      await st.pool.promise;
      await this.replicaReady(vm);
      cfg = await this.cloneVm(st, vm);
      st.vmCreated.add(vm.vmid);
      this.counts.vms++;
      await this.markStep(st, vm, 'clone', 'cloned');
      return undefined;
    });

    // config: exactly the profile's NICs, resources, tags (one write)
    await this.step(st, 'config', vm.vmid, async () => {
      if (preexisting && cfg && hasGroupTag(cfg.tags, s.group)) {
        await this.markStep(st, vm, 'config', 'configured');
        return 'skipped';
      }
      await st.network.promise;
      const params: Params = { tags: vm.tags.join(';') };
      for (const nic of vm.nets) params[`net${nic.index}`] = nic.value;
      const planned = new Set(vm.nets.map((n) => n.index));
      const extra = new Set(vm.deleteNets);
      for (const k of Object.keys(cfg ?? {})) {
        const m = /^net(\d+)$/.exec(k);
        if (m && !planned.has(Number(m[1]))) extra.add(Number(m[1]));
      }
      if (extra.size) params.delete = [...extra].sort((a, b) => a - b).map((i) => `net${i}`).join(',');
      if (vm.cores !== undefined) params.cores = vm.cores;
      if (vm.memory !== undefined) params.memory = vm.memory;
      throwIfAborted(this.signal);
      await this.abortable(this.lanes.node(vm.node, () => this.client.updateVmConfig(vm.node, vm.vmid, params)));
      await this.markStep(st, vm, 'config', 'configured');
      return undefined;
    });

    // snapshot `start` (reset goes back to it)
    await this.step(st, 'snapshot', vm.vmid, async () => {
      if (steps.has('snapshot')) return 'skipped';
      if (preexisting) {
        const snaps = await this.abortable(this.lanes.node(vm.node, () => this.client.listSnapshots(vm.node, vm.vmid)));
        if (snaps.some((x) => x.name === 'start')) {
          await this.markStep(st, vm, 'snapshot');
          return 'skipped';
        }
      }
      throwIfAborted(this.signal);
      const task = await this.abortable(
        this.lanes.node(vm.node, () => this.client.createSnapshot(vm.node, vm.vmid, 'start', 'state after deploy (stands reset returns here)')),
      );
      await this.wait(task);
      await this.markStep(st, vm, 'snapshot');
      return undefined;
    });

    if (this.plan.start) {
      await this.step(st, 'start', vm.vmid, async () => {
        await st.networkUp.promise;
        if (preexisting) {
          const status = await this.abortable(this.client.vmStatus(vm.node, vm.vmid));
          if (status.status === 'running') {
            await this.markStep(st, vm, 'start');
            return 'skipped';
          }
        }
        throwIfAborted(this.signal);
        const task = await this.abortable(this.lanes.node(vm.node, () => this.client.startVm(vm.node, vm.vmid)));
        try {
          await this.wait(task);
        } catch (err) {
          if (!(err instanceof TaskFailedError && /already running/.test(err.exitstatus))) throw err;
        }
        await this.markStep(st, vm, 'start');
        return undefined;
      });
    }
    await this.updateVm(st, vm.vmid, (v) => ({ ...v, status: 'ready' }));
    st.vmDone.add(vm.vmid);
  }

  /** Poll the config until its lock is gone; undefined when the VM vanished (a failed clone removes itself). */
  private async awaitUnlockedConfig(node: string, vmid: number): Promise<VmConfig | undefined> {
    try {
      await this.abortable(this.client.waitUnlocked(node, vmid));
      return await this.abortable(this.client.vmConfig(node, vmid));
    } catch (err) {
      if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) return undefined;
      throw err;
    }
  }

  /** Verify the VMID is free right before, journal, clone, wait; transient task failures are retried. */
  private async cloneVm(st: StandState, vm: VmPlan): Promise<VmConfig> {
    const s = st.plan;
    const tplStorage = this.templateStorage.get(vm.templateVmid);
    const storageKey =
      vm.full && vm.storage
        ? this.lockKey(vm.storage, vm.node)
        : tplStorage
          ? this.lockKey(tplStorage, vm.templateNode)
          : `${vm.templateNode}:tpl${vm.templateVmid}`;
    const attempts = this.lanes.limits.cloneAttempts;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(this.signal);
      try {
        await this.lanes.storage(storageKey, vm.full, async () => {
          const free = await this.abortable(this.client.isVmidFree(vm.vmid));
          if (!free) {
            const where = await this.client.findVm(vm.vmid);
            const node = where?.node || vm.node;
            const c = await this.client.vmConfig(node, vm.vmid).catch(() => undefined);
            if (!c || !(await this.isOurVm(st, vm, c))) {
              this.fail(st, `VMID ${vm.vmid} was taken by another VM (${c?.name ?? 'unknown'}) after planning; plan the deploy again`);
            }
            if (c.lock) await this.abortable(this.client.waitUnlocked(node, vm.vmid));
            return;
          }
          await this.ctx.store.journal.intend('vm', vm.vmid, {
            cluster: this.cluster,
            group: s.group,
            user: s.userid,
            node: vm.node,
            job: this.job,
            extra: { name: vm.name, machine: vm.machine },
          });
          throwIfAborted(this.signal);
          const task = await this.abortable(
            this.lanes.node(
              vm.templateNode,
              () =>
                this.client.cloneVm(vm.templateNode, vm.templateVmid, {
                  newid: vm.vmid,
                  name: vm.name,
                  pool: s.pool,
                  full: vm.full,
                  ...(vm.node !== vm.templateNode ? { target: vm.node } : {}),
                  ...(vm.full && vm.storage ? { storage: vm.storage } : {}),
                  description: vm.description,
                }),
              1,
            ),
          );
          await this.wait(task);
        });
        const cfg = await this.awaitUnlockedConfig(vm.node, vm.vmid);
        if (!cfg) throw new StandFailure(`VM ${vm.vmid} vanished right after its clone finished`);
        await this.ctx.store.journal.confirm('vm', vm.vmid, this.cluster);
        return cfg;
      } catch (err) {
        if (isAbort(err) || err instanceof StandFailure || attempt >= attempts || !isTransientTaskFailure(err)) throw err;
        this.emit({
          type: 'retry',
          job: this.job,
          stand: s.userid,
          vm: vm.vmid,
          step: 'clone',
          message: `clone of ${vm.name} failed (${reasonOf(err)}); attempt ${attempt + 1} of ${attempts}`,
        });
        await this.removeFailedClone(vm);
        await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
  }

  /** PVE removes a failed clone's config itself; if anything is left (ours: the journal says so), destroy it. */
  private async removeFailedClone(vm: { vmid: number; node: string }): Promise<void> {
    if (await this.client.isVmidFree(vm.vmid)) return;
    const where = await this.client.findVm(vm.vmid);
    const node = where?.node || vm.node;
    try {
      await this.client.waitUnlocked(node, vm.vmid, { deadlineMs: 60_000 });
      const t = await this.client.destroyVm(node, vm.vmid, { purge: true });
      await this.client.waitTask(t);
    } catch (err) {
      if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) return;
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------- the end

  private async rollbackFailed(): Promise<void> {
    const failed = [...this.stands.values()].filter((st) => st.error);
    if (!failed.length) return;
    const { planCleanup, runCleanup } = await import('./cleanup.js');
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

  private async finish(aborted: boolean): Promise<DeployResult> {
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
        ...(failed ? { error: `${failed} of ${stands.length} stands failed` } : {}),
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

/** Console link base: stands.yml console_url for the cluster, else the cluster's console_url, else its url. */
export function consoleBaseFor(ctx: AppContext, cluster: string): string {
  const fromSettings = ctx.settings?.consoleUrl?.[cluster];
  if (fromSettings) return fromSettings;
  const cc = ctx.connections.clusters[cluster];
  return cc?.consoleUrl ?? cc?.url ?? ctx.client(cluster).cluster.url;
}

function aclKey(path: string, userid: string, role: string): string {
  return `${path}|${userid}|${role}`;
}

function mergeSegments(prev: StandRecord['segments'], planned: SegmentPlan[]): StandRecord['segments'] {
  const out = [...prev];
  for (const g of planned) {
    if (out.some((x) => x.iface === g.iface && x.node === g.node)) continue;
    out.push({
      alias: g.alias,
      kind: g.kind,
      iface: g.iface,
      ...(g.node ? { node: g.node } : {}),
      vlanAware: g.vlanAware,
      ...(g.tag === undefined ? {} : { tag: g.tag }),
      ...(g.zone ? { zone: g.zone } : {}),
    });
  }
  return out;
}

/** `size=8G` of a disk value, in GiB (0 when absent). */
function diskGiB(value: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])?/.exec(value);
  if (!m) return 0;
  // PVE's disk size: bytes without a suffix
  const unit = m[2] ? ({ K: 1 / 1024 ** 2, M: 1 / 1024, G: 1, T: 1024 }[m[2]] ?? 1) : 1 / 1024 ** 3;
  return Number(m[1]) * unit;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
    const { UserError } = await import('../errors.js');
    throw new UserError(
      job?.status === 'succeeded'
        ? `nothing to resume: the last deploy of ${jobOrGroup} (${job.id}) finished`
        : `nothing to resume: no unfinished deploy job or group named ${jobOrGroup}`,
    );
  }
  return runDeploy(ctx, plan, { ...options, jobId: job.id });
}

function planOf(job: JobRecord): DeployPlan | undefined {
  const r = job.result as { plan?: DeployPlan } | undefined;
  return r?.plan && typeof r.plan === 'object' && Array.isArray(r.plan.stands) ? r.plan : undefined;
}
