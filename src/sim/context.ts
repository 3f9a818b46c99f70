/** The simulator's services, shared by all handlers: state, clock, timing, locks, workers, tasks, faults. */
import type { Auth } from './auth.js';
import type { SimClock } from './clock.js';
import { configNotFound, fail, PveError } from './errors.js';
import type { FaultRule, Faults } from './faults.js';
import { configLockName, configLockTimeoutMessage, LockTable, LockTimeout, Workers } from './locks.js';
import { checkExpr, type Principal, requirePriv } from './privileges.js';
import type { Rng } from './rng.js';
import type { SimState, SimTask, SimVm } from './state.js';
import type { TaskContext, TaskManager } from './tasks.js';
import type { TimingModel } from './timing.js';

export interface SimStats {
  requests: number;
  byRoute: Record<string, number>;
  taskStatusPolls: number;
  reset(): void;
}

export interface Sim {
  state: SimState;
  clock: SimClock;
  rng: Rng;
  timing: TimingModel;
  locks: LockTable;
  workers: Map<string, Workers>;
  tasks: TaskManager;
  auth: Auth;
  faults: Faults;
  stats: SimStats;
  /** the certificate's sha256 fingerprint (nodes report it as ssl_fingerprint) */
  fingerprint: string;
  /** real ms by which 401 replies are delayed */
  authFailDelayMs: number;
}

/** One API request as handlers see it. */
export interface Req {
  sim: Sim;
  method: string;
  /** API path without /api2/json */
  path: string;
  /** route key, e.g. 'POST /nodes/{node}/qemu/{vmid}/clone' */
  route: string;
  params: Record<string, unknown>;
  who: Principal & { via: 'ticket' | 'token' };
}

/** `data` already serialized (big listings are assembled from cached JSON fragments). */
export class RawJson {
  constructor(readonly json: string) {}
}

/** A reply with extra envelope keys (`changes` of GET network, `total`). */
export class Envelope {
  constructor(readonly data: unknown, readonly extra: Record<string, unknown>) {}
}

export const str = (r: Req, k: string): string | undefined => (r.params[k] === undefined ? undefined : String(r.params[k]));
export const int = (r: Req, k: string): number | undefined => (r.params[k] === undefined ? undefined : Number(r.params[k]));
export const bool = (r: Req, k: string): boolean | undefined => (r.params[k] === undefined ? undefined : Boolean(r.params[k]));

export const taskUser = (r: Req): string => r.who.tokenid ?? r.who.userid;

export function perm(r: Req, path: string, privs: string[], any = false): void {
  requirePriv(r.sim.state, r.who, path, privs, any);
}
export function permCheck(r: Req, expr: unknown): void {
  checkExpr(r.sim.state, r.who, expr, r.params);
}

/** The VM whose config lives on `node` (pmxcfs path nodes/<node>/qemu-server/<vmid>.conf). */
export function vmOn(r: Req, node: string, vmid: number): SimVm {
  const vm = r.sim.state.vms.get(vmid);
  if (!vm || vm.node !== node) throw configNotFound(node, vmid);
  return vm;
}

/** PVE::AbstractConfig check_lock. */
export function checkLock(vm: SimVm): void {
  if (vm.config.lock) throw fail(`VM is locked (${vm.config.lock})`);
}

export function uniform(sim: Sim, min: number, max: number): number {
  return min + sim.rng.next() * (max - min);
}

/** Run `fn` holding the VM's config flock (10 s timeout). */
export async function withConfigLock<T>(sim: Sim, vmid: number, fn: () => Promise<T>, timeoutMs = sim.timing.configLockTimeoutMs, exclusive = true): Promise<T> {
  let release: () => void;
  try {
    release = await sim.locks.acquire(configLockName(vmid), exclusive, timeoutMs, configLockTimeoutMessage(vmid));
  } catch (e) {
    if (e instanceof LockTimeout) throw fail(e.message);
    throw e;
  }
  try {
    return await fn();
  } finally {
    release();
  }
}

/** fork_worker, with the task-start-failure fault: 500 "got no worker upid - start worker failed". */
export function forkTask(r: Req, node: string, type: string, id: string, fn: (ctx: TaskContext) => Promise<void>): SimTask {
  const f = r.sim.faults.empty ? [] : r.sim.faults.draw(['task-start-failure'], r.method, r.path);
  if (f.length) throw new PveError(500, f[0]!.message ?? 'got no worker upid - start worker failed');
  return r.sim.tasks.fork(node, type, id, taskUser(r), fn);
}

export function cloneFault(r: Req): FaultRule | undefined {
  return r.sim.faults.empty ? undefined : r.sim.faults.draw(['clone-failure'], r.method, r.path)[0];
}

/** All user.cfg writes (users, pools, ACL, roles) serialize on one cluster lock: cfs-lock 'file-user_cfg'. */
export async function userCfgWrite<T>(sim: Sim, fn: () => T): Promise<T> {
  let release: () => void;
  try {
    release = await sim.locks.acquire('cfs:file-user_cfg', true, 10_000, "cfs-lock 'file-user_cfg' error: got lock request timeout");
  } catch (e) {
    throw e instanceof LockTimeout ? fail(e.message) : e;
  }
  try {
    await sim.clock.sleep(sim.timing.clusterWriteMs);
    return fn();
  } finally {
    release();
  }
}

export const listOf = (v: unknown): string[] =>
  v === undefined ? [] : (Array.isArray(v) ? v.map(String) : String(v).split(/[,;\s]+/)).filter(Boolean);
