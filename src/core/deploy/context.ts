/** The deploy run's shared shapes: options and results, a stand's state in a run, and small helpers. */
import { lockTtlFromEnv } from '../locks.js';
import { aclId } from '../ownership.js';
import type { JobRecord, StandRecord } from '../../store/schemas.js';
import type { AppContext } from '../context.js';
import type { StandCredential } from '../credentials.js';
import type { ExecLimits } from '../executor.js';
import type { EngineEventHandler, StandPlan } from '../types.js';
import { msg as code, render, type Msg } from '../../i18n/index.js';
import { failureOf } from '../failure.js';

/** The group lock lives this long without renewal: a crashed job's lock frees itself after it (STANDS_LOCK_TTL_MS). */
export const GROUP_LOCK_TTL_MS = lockTtlFromEnv();

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
  /** In English (logs, old readers); `errorMsg` is the same as a code the faces render in the reader's language. */
  error?: string;
  errorMsg?: Msg;
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
  /** In English (logs, job records). */
  warnings: string[];
  /** The same warnings, index for index, as codes (plain strings kept as written); see DeployPlan.warningMsgs. */
  warningMsgs?: (Msg | string)[];
  durationMs: number;
}

/** A stand-level failure with a reason that is safe to show, as a code (`message` is its English text). */
export class StandFailure extends Error {
  override readonly name = 'StandFailure';
  readonly msg: Msg;
  constructor(reason: Msg | string) {
    super(typeof reason === 'string' ? reason : render('en', reason));
    this.msg = typeof reason === 'string' ? code('fail.text', { message: reason }) : reason;
  }
}

/** The first reason a stand failed wins: its English text in `error`, its code in `errorMsg`. */
export function standFailed(st: StandState, reason: unknown): void {
  if (st.error !== undefined) return;
  const f = failureOf(reason);
  st.error = f.error;
  st.errorMsg = f.errorMsg;
}

export interface StandState {
  plan: StandPlan;
  /** Set through standFailed (English text and code together). */
  error?: string;
  errorMsg?: Msg;
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

export class Deferred<T> {
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

/** Console link base: stands.yml console_url for the cluster, else the cluster's console_url, else its url. */
export function consoleBaseFor(ctx: AppContext, cluster: string): string {
  const fromSettings = ctx.settings?.consoleUrl?.[cluster];
  if (fromSettings) return fromSettings;
  const cc = ctx.connections.clusters[cluster];
  return cc?.consoleUrl ?? cc?.url ?? ctx.client(cluster).cluster.url;
}

export function aclKey(path: string, userid: string, role: string): string {
  return aclId(path, userid, role);
}

/** `size=8G` of a disk value, in GiB (0 when absent). */
export function diskGiB(value: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])?/.exec(value);
  if (!m) return 0;
  // PVE's disk size: bytes without a suffix
  const unit = m[2] ? ({ K: 1 / 1024 ** 2, M: 1 / 1024, G: 1, T: 1024 }[m[2]] ?? 1) : 1 / 1024 ** 3;
  return Number(m[1]) * unit;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
