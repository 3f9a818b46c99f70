/**
 * The executor's machinery, shared by deploy, cleanup and power: lanes (p-queue limits that respect what PVE can
 * take), cancellation, step retries, job ids and progress/ETA accounting.
 *
 * Why these lanes (BEHAVIOUR.md §2.3, §2.6, §3):
 * - pvedaemon runs 3 workers per node and sync handlers block a worker while they wait for locks, so at most
 *   `perNode` requests are in work per node (tasks run in forked workers and do not count: only the request does);
 * - disk allocation takes a per-storage lock with a 10 s acquisition timeout (`cluster_lock_storage`), one per node
 *   for local storage, one cluster-wide for shared storage. A waiter fails only when the holds queued ahead of it
 *   add up to more than 10 s. A linked clone holds it for a fraction of the clone (a thin snapshot: ~0.3 of ~2 s),
 *   so clone time ÷ hold time of them keep the lock busy, and a few more cover each slot's own gaps (the request,
 *   the poll that sees the end): 12 slots, 11 × 0.3 s queued at worst (benchmark 7: 8 slots left ceph's lock idle a
 *   quarter of the time while a replica copy held 3 of them). Full clones may copy under the lock (LINBIT measured
 *   ~5 s per clone; the 3rd of 3 parallel clones failed), so they share the same slots at 5 each: 2 full + 2 linked
 *   at most (one full waits for one allocation, 4 s for 8 GiB, plus 0.6 s), never 2 full + 7 linked (LockSlots);
 * - user.cfg writes (users, pools, ACLs, roles) serialise on one cluster lock: one queue;
 * - `PUT /nodes/{n}/network` applies every pending edit of the node: one apply per node at a time.
 */
import { randomBytes } from 'node:crypto';
import PQueue from 'p-queue';
import { ProxmoxApiError, TaskFailedError, isLockError, isNoWorker } from '../proxmox/errors.js';
import { EtaEstimator } from './eta.js';
import type { EngineEvent, EngineEventHandler } from './types.js';

export interface ExecLimits {
  /** Requests in work at once against one node (pvedaemon has 3 workers). */
  perNode: number;
  /** Full clones running at once per storage lock (they may copy under it). */
  fullClonesPerStorage: number;
  /** Clone slots per storage lock: linked clones at once (the lock is held ~15% of the clone); a full clone takes several. */
  linkedClonesPerStorage: number;
  /** Attempts of a clone whose task failed on a transient cause (storage lock timeout, allocation error). */
  cloneAttempts: number;
}

export const DEFAULT_EXEC_LIMITS: ExecLimits = {
  perNode: 3,
  fullClonesPerStorage: 2,
  linkedClonesPerStorage: 12,
  cloneAttempts: 4,
};

/**
 * Clone slots on one storage lock, shared by full and linked clones: `capacity` units, a linked clone takes 1 and a
 * full clone more (Lanes.fullCloneUnits), so the lock time queued ahead of any clone stays bounded whatever the mix.
 * The highest priority goes first (template replicas: on the critical path of every stand of their node), FIFO
 * otherwise; nobody overtakes the first waiter.
 */
export class LockSlots {
  private used = 0;
  private seq = 0;
  private readonly waiting: { units: number; priority: number; seq: number; go: () => void }[] = [];

  constructor(readonly capacity: number) {}

  async run<T>(units: number, priority: number, fn: () => Promise<T>): Promise<T> {
    const need = Math.min(Math.max(1, units), this.capacity);
    if (this.waiting.length || this.used + need > this.capacity) {
      await new Promise<void>((go) => {
        this.waiting.push({ units: need, priority, seq: this.seq++, go });
        this.waiting.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      });
    } else this.used += need;
    try {
      return await fn();
    } finally {
      this.used -= need;
      // the first waiter is never overtaken (a full clone is not starved by a stream of linked ones)
      while (this.waiting.length && this.used + this.waiting[0]!.units <= this.capacity) {
        const w = this.waiting.shift()!;
        this.used += w.units;
        w.go();
      }
    }
  }
}

/**
 * What a full clone takes of a storage lock's slots: `fullClonesPerStorage` of them fit with 2 linked ones beside,
 * whatever the linked capacity (12 slots, 2 full: 5 each, so 2 full + 2 linked at most; never 2 full + 7 linked
 * queued at once).
 */
export function fullCloneUnits(limits: Pick<ExecLimits, 'linkedClonesPerStorage' | 'fullClonesPerStorage'>): number {
  const { linkedClonesPerStorage: l } = limits;
  const f = Math.max(1, limits.fullClonesPerStorage);
  // and never so few that one full clone more than allowed would fit (small slot counts)
  return Math.min(l, Math.max(1, Math.floor((l - 2) / f), Math.floor(l / (f + 1)) + 1));
}

export class Lanes {
  private readonly nodes = new Map<string, PQueue>();
  private readonly storages = new Map<string, LockSlots>();
  private readonly applies = new Map<string, PQueue>();
  /** user.cfg writes: users, pools, ACLs, roles. */
  readonly access = new PQueue({ concurrency: 1 });
  /** `PUT /cluster/sdn` reloads every node: one at a time cluster-wide. */
  readonly sdn = new PQueue({ concurrency: 1 });

  constructor(readonly limits: ExecLimits = DEFAULT_EXEC_LIMITS) {}

  /**
   * Run one request against `node` within the node's worker budget. Only requests pvedaemon serves (writes:
   * `protected` in the API schema) need it; reads are answered by pveproxy. `priority`: higher goes first (a clone
   * request ahead of config writes: a storage lock is waiting for it).
   */
  node<T>(node: string, fn: () => Promise<T>, priority = 0): Promise<T> {
    let q = this.nodes.get(node);
    if (!q) this.nodes.set(node, (q = new PQueue({ concurrency: this.limits.perNode })));
    return q.add(fn, { throwOnTimeout: true, priority }) as Promise<T>;
  }

  /**
   * Hold a clone slot on the storage lock `storageKey` for the whole clone task; a higher `priority` gets the next
   * free slot first.
   */
  storage<T>(storageKey: string, full: boolean, fn: () => Promise<T>, priority = 0): Promise<T> {
    let q = this.storages.get(storageKey);
    if (!q) this.storages.set(storageKey, (q = new LockSlots(this.limits.linkedClonesPerStorage)));
    return q.run(full ? this.fullCloneUnits() : 1, priority, fn);
  }

  fullCloneUnits(): number {
    return fullCloneUnits(this.limits);
  }

  /** `priority`: higher runs first (pools before users before ACLs: clones wait only for the pool). */
  accessWrite<T>(fn: () => Promise<T>, priority = 0): Promise<T> {
    return this.access.add(fn, { throwOnTimeout: true, priority }) as Promise<T>;
  }

  networkApply<T>(node: string, fn: () => Promise<T>): Promise<T> {
    let q = this.applies.get(node);
    if (!q) this.applies.set(node, (q = new PQueue({ concurrency: 1 })));
    return q.add(fn, { throwOnTimeout: true }) as Promise<T>;
  }
}

/** The job was cancelled (signal): what is in flight on the server finishes there, nothing new starts. */
export class JobAbortedError extends Error {
  override readonly name = 'JobAbortedError';
  constructor(message = 'the job was cancelled') {
    super(message);
  }
}

/** Rejects as soon as the job is cancelled; what is in flight finishes on the server, its result is ignored. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new JobAbortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new JobAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new JobAbortedError();
}

export function isAbort(err: unknown): boolean {
  return err instanceof JobAbortedError;
}

/** A clone task that failed for a reason a later attempt can avoid (storage/flock contention, allocation hiccup). */
export function isTransientTaskFailure(err: unknown): boolean {
  if (err instanceof TaskFailedError) {
    const text = [err.exitstatus, ...err.logTail].join('\n');
    return isLockError(text) || isNoWorker(text) || /clone failed|allocat|got timeout|timed out/i.test(text);
  }
  if (err instanceof ProxmoxApiError) {
    return err.status === 0 || err.status >= 500 ? isLockError(err.fullText) || isNoWorker(err.fullText) : false;
  }
  return false;
}

/** A short, sortable job id: `deploy-20261125T231500-ab12`. */
export function newJobId(kind: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${kind}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** A one-line reason for a failure, safe to show (PVE's text, the task's exit status). */
export function reasonOf(err: unknown): string {
  if (err instanceof TaskFailedError) {
    const last = err.logTail.filter((l) => !/^TASK (ERROR|OK)/.test(l)).slice(-1)[0];
    return last && !err.exitstatus.includes(last) ? `${err.exitstatus} (${last})` : err.exitstatus;
  }
  if (err instanceof ProxmoxApiError) return err.message;
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

/**
 * Counts steps and estimates the time left (eta.ts: each step weighted by its kind, measured in this run or a
 * default before, done at the rate the work so far was done).
 */
export class Progress {
  private done = 0;
  private total = 0;
  private readonly eta: EtaEstimator;
  private lastEmit = 0;

  constructor(
    private readonly job: string,
    private readonly emit: (e: EngineEvent) => void,
    private readonly minIntervalMs = 250,
    private readonly now: () => number = Date.now,
  ) {
    this.eta = new EtaEstimator(this.now());
  }

  plan(kind: string, n = 1): void {
    this.total += n;
    this.eta.plan(kind, n);
  }

  /** A planned step started (it counts as partly done while it works). */
  start(kind: string): void {
    this.eta.start(kind, this.now());
  }

  /** A planned step finished (or turned out to be done already: `ms` 0). */
  finish(kind: string, ms: number, force = false): void {
    this.done++;
    this.eta.finish(kind, ms);
    this.tick(force);
  }

  /** Steps that will not run (their stand failed). */
  drop(kind: string, n = 1): void {
    this.total -= n;
    this.eta.drop(kind, n);
    this.tick();
  }

  get counts(): { done: number; total: number } {
    return { done: this.done, total: this.total };
  }

  etaMs(): number | undefined {
    return this.eta.etaMs(this.now());
  }

  tick(force = false): void {
    const now = this.now();
    if (!force && now - this.lastEmit < this.minIntervalMs && this.done < this.total) return;
    this.lastEmit = now;
    const eta = this.etaMs();
    this.emit({
      type: 'progress',
      job: this.job,
      done: this.done,
      total: this.total,
      ...(eta === undefined ? {} : { etaMs: eta }),
    });
  }
}

/** Calls the user's handler; a throwing handler must not break the job. */
export function safeEmitter(handler: EngineEventHandler | undefined, onError?: (e: unknown) => void): (e: EngineEvent) => void {
  return (e) => {
    if (!handler) return;
    try {
      handler(e);
    } catch (err) {
      onError?.(err);
    }
  };
}
