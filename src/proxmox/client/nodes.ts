/** Endpoints: version, nodes, cluster resources, qemu VMs and tasks (waits on tasks and locks). */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { ProxmoxApiError, TaskFailedError, TaskTimeoutError, VmLockedError, isLockError, isNotFound } from '../errors.js';
import { defaultTaskDeadlineMs, isTaskOk, nextPollInterval, pollDelays, taskRefFrom } from '../tasks.js';
import {
  ClusterResource,
  NodeListEntry,
  NodeStatus,
  PveVersion,
  RrdPoint,
  Snapshot,
  TaskListEntry,
  TaskLogLine,
  TaskStatus,
  VmConfig,
  VmListEntry,
  VmStatus,
  pveInt,
  type CloneOptions,
  type ClusterResourceType,
  type Params,
  type TaskRef,
  type TaskResult,
} from '../types.js';
import { isSupportedVersion, unsupportedVersionMessage } from '../version.js';
import { enc } from './base.js';
import { TransportClient } from './transport.js';

export class NodesClient extends TransportClient {
  // ---------------------------------------------------------------------------------------------- version

  /** `attempts` lets the connection test give up on an unreachable host quickly (default: maxAttempts). */
  async version(o: { attempts?: number } = {}): Promise<PveVersion> {
    const res = await this.getRaw('/version', undefined, o.attempts ?? this.maxAttempts);
    const v = this.parse(PveVersion, res.body, 'GET', '/version');
    this.versionCache = v;
    return v;
  }

  /** Refuses servers older than 8.1 (the pools API changed in 8.1). */
  async checkVersion(): Promise<PveVersion> {
    const v = this.versionCache ?? (await this.version());
    if (!isSupportedVersion(v.release ?? v.version)) {
      throw new UserError(unsupportedVersionMessage(this.cluster.name, v.version));
    }
    return v;
  }

  // ----------------------------------------------------------------------------------------------- nodes

  nodes(): Promise<NodeListEntry[]> {
    return this.get('/nodes', z.array(NodeListEntry));
  }

  nodeStatus(node: string): Promise<NodeStatus> {
    return this.get(`/nodes/${enc(node)}/status`, NodeStatus);
  }

  nodeRrd(node: string, timeframe: 'hour' | 'day' | 'week' | 'month' | 'year' = 'hour', cf?: 'AVERAGE' | 'MAX'): Promise<RrdPoint[]> {
    return this.get(`/nodes/${enc(node)}/rrddata`, z.array(RrdPoint), { timeframe, cf });
  }

  /**
   * The cluster inventory. `maxAgeMs` (real ms) allows an answer that old from the cache; our own writes and
   * finished tasks clear the cache. Concurrent callers share one request.
   */
  async clusterResources(type?: ClusterResourceType, o: { maxAgeMs?: number } = {}): Promise<ClusterResource[]> {
    const key = type ?? 'all';
    const maxAge = o.maxAgeMs ?? 0;
    if (maxAge > 0) {
      const hit = this.resourceCache.get(key);
      if (hit && performance.now() - hit.at <= maxAge) {
        this.stats.cacheHits++;
        return hit.data;
      }
      const pending = this.resourceInFlight.get(key);
      if (pending) {
        this.stats.cacheHits++;
        return pending;
      }
    }
    const epoch = this.cacheEpoch;
    const p = this.get('/cluster/resources', z.array(ClusterResource), { type });
    if (maxAge > 0) this.resourceInFlight.set(key, p);
    try {
      const data = await p;
      // Do not cache an answer that a write made stale while it was in flight.
      if (epoch === this.cacheEpoch) this.resourceCache.set(key, { at: performance.now(), data });
      return data;
    } finally {
      if (this.resourceInFlight.get(key) === p) this.resourceInFlight.delete(key);
    }
  }

  async nextId(): Promise<number> {
    return this.get('/cluster/nextid', pveInt);
  }

  /** Asks PVE whether `vmid` is free right now (no reservation: PVE has none). */
  async isVmidFree(vmid: number): Promise<boolean> {
    try {
      await this.get('/cluster/nextid', pveInt, { vmid });
      return true;
    } catch (err) {
      if (err instanceof ProxmoxApiError && err.status === 400 && /already exists/.test(err.fullText)) return false;
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------------- qemu

  vmList(node: string): Promise<VmListEntry[]> {
    return this.get(`/nodes/${enc(node)}/qemu`, z.array(VmListEntry));
  }

  vmConfig(node: string, vmid: number): Promise<VmConfig> {
    return this.get(`/nodes/${enc(node)}/qemu/${vmid}/config`, VmConfig) as Promise<VmConfig>;
  }

  vmStatus(node: string, vmid: number): Promise<VmStatus> {
    return this.get(`/nodes/${enc(node)}/qemu/${vmid}/status/current`, VmStatus);
  }

  /** Sync config update (PUT). Setting the same values twice is harmless, so ambiguous failures are repeated. */
  updateVmConfig(node: string, vmid: number, params: Params): Promise<void> {
    return this.voidWrite('PUT', `/nodes/${enc(node)}/qemu/${vmid}/config`, { body: params, idempotent: true });
  }

  /**
   * The same write as a task (`POST …/config`, qemu-server `update_vm_async`: the change runs in a forked
   * `qmconfig` worker), so the pvedaemon worker that took the request is free at once instead of for the whole
   * write. Repeating it has the same effect as doing it once.
   */
  updateVmConfigTask(node: string, vmid: number, params: Params): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/config`, node, 'qmconfig', { body: params, idempotent: true });
  }

  /**
   * Where VM `vmid` lives right now, if anywhere: existence from the real-time vmlist (nextid?vmid=), the node
   * from the inventory (`node: ''` when pvestatd has not listed it yet).
   */
  async findVm(vmid: number): Promise<{ node: string; lock?: string } | undefined> {
    if (await this.isVmidFree(vmid)) return undefined;
    const all = await this.clusterResources('vm');
    const r = all.find((x) => x.vmid === vmid);
    return r?.node ? { node: r.node, ...(r.lock ? { lock: r.lock } : {}) } : { node: '' };
  }

  /**
   * "Did this clone start?" after an ambiguous clone request. The new VM's config exists from the first moment
   * of the clone task (with `lock: clone`), so: no VM → no clone (safe to repeat). VM present → adopt the running
   * qmclone task if it is the only one for that source on the node, else watch the new VM's lock.
   */
  async cloneState(node: string, source: number, newid: number, target?: string, pool?: string): Promise<TaskRef | undefined> {
    if (await this.isVmidFree(newid)) return undefined;
    const active = await this.activeTasks(node, 'qmclone').catch(() => [] as TaskListEntry[]);
    const mine = active.filter((t) => t.id === String(source));
    if (mine.length === 1) {
      return { ...taskRefFrom(mine[0]!.upid, node, 'qmclone'), adopted: true };
    }
    return {
      node: target ?? node,
      upid: `adopted:qmclone:${newid}`,
      type: 'qmclone',
      id: String(source),
      adopted: true,
      watchVmid: newid,
      ...(pool ? { pool } : {}),
    };
  }

  cloneVm(node: string, vmid: number, o: CloneOptions): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/clone`, node, 'qmclone', {
      body: {
        newid: o.newid,
        name: o.name,
        pool: o.pool,
        full: o.full,
        target: o.target,
        storage: o.storage,
        format: o.format,
        description: o.description,
        snapname: o.snapname,
      },
      alreadyDone: () => this.cloneState(node, vmid, o.newid, o.target, o.pool),
    });
  }

  protected powerWrite(node: string, vmid: number, action: 'start' | 'stop' | 'shutdown', want: 'running' | 'stopped', body?: Params): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/status/${action}`, node, `qm${action}`, {
      ...(body ? { body } : {}),
      alreadyDone: async () => {
        // Tasks first, then the state: a task that ends between the two reads is then seen in the state.
        const active = await this.activeTasks(node, `qm${action}`).catch(() => [] as TaskListEntry[]);
        const mine = active.find((t) => t.id === String(vmid));
        if (mine) return { ...taskRefFrom(mine.upid, node, `qm${action}`), adopted: true };
        const s = await this.vmStatus(node, vmid);
        if (s.status !== want) return undefined;
        return { node, upid: `adopted:qm${action}:${vmid}`, type: `qm${action}`, id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  startVm(node: string, vmid: number): Promise<TaskRef> {
    return this.powerWrite(node, vmid, 'start', 'running');
  }

  stopVm(node: string, vmid: number): Promise<TaskRef> {
    return this.powerWrite(node, vmid, 'stop', 'stopped');
  }

  /**
   * ACPI shutdown: the guest gets `timeoutS` seconds (PVE's default 60) to power off; then, with `forceStop`,
   * PVE stops it (SIGTERM, SIGKILL after 10 s more), without it the task fails "got timeout" and the VM runs on
   * (qemu-server QemuServer.pm `_do_vm_stop`).
   */
  shutdownVm(node: string, vmid: number, o: { timeoutS?: number; forceStop?: boolean } = {}): Promise<TaskRef> {
    return this.powerWrite(node, vmid, 'shutdown', 'stopped', {
      ...(o.timeoutS !== undefined ? { timeout: o.timeoutS } : {}),
      ...(o.forceStop ? { forceStop: 1 } : {}),
    });
  }

  listSnapshots(node: string, vmid: number): Promise<Snapshot[]> {
    return this.get(`/nodes/${enc(node)}/qemu/${vmid}/snapshot`, z.array(Snapshot));
  }

  createSnapshot(node: string, vmid: number, name: string, description?: string): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/snapshot`, node, 'qmsnapshot', {
      body: { snapname: name, description },
      alreadyDone: async () => {
        const snaps = await this.listSnapshots(node, vmid);
        if (!snaps.some((s) => s.name === name)) return undefined;
        return { node, upid: `adopted:qmsnapshot:${vmid}`, type: 'qmsnapshot', id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  rollbackSnapshot(node: string, vmid: number, name: string): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/snapshot/${enc(name)}/rollback`, node, 'qmrollback');
  }

  destroyVm(node: string, vmid: number, o: { purge?: boolean; destroyUnreferencedDisks?: boolean } = {}): Promise<TaskRef> {
    return this.upidWrite('DELETE', `/nodes/${enc(node)}/qemu/${vmid}`, node, 'qmdestroy', {
      query: { purge: o.purge ?? true, 'destroy-unreferenced-disks': o.destroyUnreferencedDisks ?? true },
      alreadyDone: async () => {
        const where = await this.findVm(vmid);
        // Gone, or a `lock: destroyed` zombie that disappears when the disks are freed.
        if (where && where.lock !== 'destroyed') return undefined;
        return { node, upid: `adopted:qmdestroy:${vmid}`, type: 'qmdestroy', id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  convertToTemplate(node: string, vmid: number): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/template`, node, 'qmtemplate', {
      alreadyDone: async () => {
        const c = await this.vmConfig(node, vmid);
        if (!c.template) return undefined;
        return { node, upid: `adopted:qmtemplate:${vmid}`, type: 'qmtemplate', id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  migrateVm(node: string, vmid: number, target: string, o: { online?: boolean; withLocalDisks?: boolean } = {}): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/migrate`, node, 'qmigrate', {
      body: { target, online: o.online, 'with-local-disks': o.withLocalDisks },
    });
  }

  // ------------------------------------------------------------------------------------------------ tasks

  taskStatus(node: string, upid: string): Promise<TaskStatus> {
    return this.get(`/nodes/${enc(node)}/tasks/${enc(upid)}/status`, TaskStatus);
  }

  async taskLog(node: string, upid: string, o: { start?: number; limit?: number } = {}): Promise<{ lines: TaskLogLine[]; total?: number }> {
    const res = await this.getRaw(`/nodes/${enc(node)}/tasks/${enc(upid)}/log`, { start: o.start, limit: o.limit });
    const lines = this.parse(z.array(TaskLogLine), res.body, 'GET', `/nodes/${node}/tasks/…/log`);
    const total = typeof res.envelope.total === 'number' ? res.envelope.total : undefined;
    return { lines, ...(total === undefined ? {} : { total }) };
  }

  /** The last `n` lines of a task's log. */
  async taskLogTail(node: string, upid: string, n = 12): Promise<string[]> {
    const first = await this.taskLog(node, upid, { start: 0, limit: 500 });
    let lines = first.lines;
    if (first.total !== undefined && first.total > 500) {
      lines = (await this.taskLog(node, upid, { start: Math.max(0, first.total - n), limit: n })).lines;
    }
    return lines.slice(-n).map((l) => l.t);
  }

  activeTasks(node: string, typefilter?: string): Promise<TaskListEntry[]> {
    return this.get(`/nodes/${enc(node)}/tasks`, z.array(TaskListEntry), { source: 'active', typefilter });
  }

  /**
   * Wait for a task by polling its status with a growing interval. A brief 400 "no such task" right after the
   * task started counts as pending. Throws TaskFailedError (with the log tail) on an error exit status,
   * TaskTimeoutError at the deadline (PVE-time ms; the task may still finish).
   */
  async waitTask(
    task: TaskRef,
    o: { deadlineMs?: number; onPoll?: (s: TaskStatus) => void; expectedMs?: number } = {},
  ): Promise<TaskResult> {
    const deadlinePve = o.deadlineMs ?? defaultTaskDeadlineMs(task.type);
    if (task.watchVmid !== undefined) return this.waitAdopted(task, deadlinePve);
    const start = performance.now();
    const deadlineReal = this.scaled(deadlinePve);
    const noSuchTaskGrace = this.scaled(this.noSuchTaskGraceMs);
    // `expectedMs` (the planner's timing model): first poll just after the expected end (tasks.ts pollDelays)
    const delays = pollDelays({ ...(o.expectedMs !== undefined ? { expectedMs: o.expectedMs } : {}), startMs: this.pollStartMs, maxMs: this.pollMaxMs });
    for (;;) {
      // Sleep first: a task polled the moment it was forked is always still running (or not yet listed).
      await this.sleep(delays());
      let status: TaskStatus | undefined;
      this.stats.taskPolls++;
      try {
        status = await this.taskStatus(task.node, task.upid);
      } catch (err) {
        const noSuchTask = err instanceof ProxmoxApiError && err.status === 400 && /no such task/.test(err.fullText);
        if (!noSuchTask || performance.now() - start > noSuchTaskGrace) throw err;
      }
      if (status) {
        o.onPoll?.(status);
        if (status.status !== 'running') {
          this.invalidateCache();
          const exitstatus = status.exitstatus ?? 'unexpected status';
          if (isTaskOk(exitstatus)) return { ok: true, exitstatus, logTail: [], upid: task.upid };
          const logTail = await this.taskLogTail(task.node, task.upid).catch(() => [] as string[]);
          const e = new TaskFailedError({ upid: task.upid, node: task.node, type: task.type, exitstatus, logTail });
          this.log.debug({ upid: task.upid, exitstatus }, 'task failed');
          throw e;
        }
      }
      if (performance.now() - start > deadlineReal) {
        throw new TaskTimeoutError(
          `task ${task.type} on ${task.node} still running after ${Math.round(deadlinePve / 1000)} s (it may still finish): ${task.upid}`,
          task.upid,
        );
      }
    }
  }

  /**
   * Start a task and wait for it; when the task itself fails on a lock ("VM is locked (clone)", "can't lock file
   * … got timeout" inside the worker, which happens when start or config races a clone), start it again with
   * backoff for up to `lockWaitMs`. Only for operations that are safe to repeat after they failed.
   */
  async runTask(
    start: () => Promise<TaskRef>,
    o: { deadlineMs?: number; onPoll?: (s: TaskStatus) => void } = {},
  ): Promise<TaskResult> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const task = await start();
      try {
        return await this.waitTask(task, o);
      } catch (err) {
        if (!(err instanceof TaskFailedError) || !isLockError(err.exitstatus) || waited >= this.lockWaitMs) throw err;
        const wait = this.backoffMs(attempt, 1_000, 10_000);
        waited += wait;
        this.stats.retries++;
        this.log.debug({ type: task.type, exitstatus: err.exitstatus, wait }, 'task failed on a lock, starting it again');
        await this.sleep(wait);
      }
    }
  }

  /** A task found by re-reading state, without a UPID: done when the VM's lock clears (or the VM is gone). */
  protected async waitAdopted(task: TaskRef, deadlinePve: number): Promise<TaskResult> {
    const vmid = task.watchVmid!;
    const where = await this.findVm(vmid);
    if (task.type === 'qmdestroy') {
      if (!where) {
        this.invalidateCache();
        return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
      }
      await this.waitGone(vmid, deadlinePve);
      return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
    }
    if (task.type === 'qmclone') return this.waitCloneSettled(task, deadlinePve);
    if (!where) {
      // The clone's config vanished: PVE removes it when the clone fails.
      throw new TaskFailedError({
        upid: task.upid,
        node: task.node,
        type: task.type,
        exitstatus: `VM ${vmid} disappeared while waiting (the ${task.type} task failed; see the task list on ${task.node})`,
        logTail: [],
      });
    }
    await this.waitUnlocked(where.node || task.node, vmid, { deadlineMs: deadlinePve });
    return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
  }

  /**
   * An adopted clone watched through its new VM. qemu-server API2/Qemu.pm `clone_vm` creates the config (with
   * `lock: clone`) on the node the task runs on — the SOURCE node — and, at its end, in this order: removes the
   * lock, renames the config to the `target` node, adds the VM to its pool. So the VM is followed wherever the
   * cluster lists it, and the clone counts as done only once it is unlocked on the expected node (`task.node`)
   * and, when a pool was asked for, in that pool. A VM that disappears was removed by the failing clone.
   */
  /** Wait for a clone to VM `vmid` that we did not start in this process (see waitCloneSettled). */
  waitCloneDone(vmid: number, node: string, o: { pool?: string; deadlineMs?: number } = {}): Promise<TaskResult> {
    const task: TaskRef = { node, upid: `adopted:qmclone:${vmid}`, type: 'qmclone', id: '', adopted: true, watchVmid: vmid, ...(o.pool ? { pool: o.pool } : {}) };
    return this.waitCloneSettled(task, o.deadlineMs ?? defaultTaskDeadlineMs('qmclone'));
  }

  protected async waitCloneSettled(task: TaskRef, deadlinePve: number): Promise<TaskResult> {
    const vmid = task.watchVmid!;
    const start = performance.now();
    let interval = this.pollStartMs;
    for (;;) {
      this.stats.taskPolls++;
      if (await this.isVmidFree(vmid)) {
        throw new TaskFailedError({
          upid: task.upid,
          node: task.node,
          type: task.type,
          exitstatus: `VM ${vmid} disappeared while waiting (the clone failed; see the task list of the source node)`,
          logTail: [],
        });
      }
      const where = (await this.clusterResources('vm')).find((r) => r.vmid === vmid);
      if (where?.node === task.node && !where.lock && (!task.pool || where.pool === task.pool)) {
        // the resources' lock is read live, but confirm on the node itself before configuring the VM
        const s = await this.vmStatus(task.node, vmid).catch((err: unknown) => {
          if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) return undefined;
          throw err;
        });
        if (s && !s.lock) {
          this.invalidateCache();
          return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
        }
      }
      if (performance.now() - start > this.scaled(deadlinePve)) {
        const state = where ? `on ${where.node || 'an unlisted node'}${where.lock ? `, locked (${where.lock})` : ''}` : 'not listed yet';
        throw new TaskTimeoutError(
          `clone to VM ${vmid} not finished after ${Math.round(deadlinePve / 1000)} s (VM ${state}; it may still finish)`,
          undefined,
        );
      }
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
    }
  }

  protected async waitGone(vmid: number, deadlinePve: number): Promise<void> {
    const start = performance.now();
    let interval = this.pollStartMs;
    while (!(await this.isVmidFree(vmid))) {
      this.stats.taskPolls++;
      if (performance.now() - start > this.scaled(deadlinePve)) {
        throw new TaskTimeoutError(`VM ${vmid} still exists after ${Math.round(deadlinePve / 1000)} s`, undefined);
      }
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
    }
    this.invalidateCache();
  }

  /**
   * A VM locked by an operation of its own (`snapshot`, `rollback`, `migrate`, `snapshot-delete`, …; qemu-server
   * sets the lock in the task's first config write and clears it in its last): wait while an active task of that
   * VM runs on its node — e.g. ours, from a run that was interrupted — and answer where the VM is once unlocked
   * (a migration moves its config to the target node when it ends). A lock with no task behind it is stale:
   * VmLockedError with the `qm unlock` hint. Tasks are read before the status, so a task that ends in between is
   * seen as the unlocked status.
   */
  async waitOwnLock(node: string, vmid: number, o: { deadlineMs?: number } = {}): Promise<{ node: string; status: VmStatus }> {
    const deadlinePve = o.deadlineMs ?? 20 * 60_000;
    const start = performance.now();
    let interval = this.pollStartMs;
    let at = node;
    for (;;) {
      this.stats.taskPolls++;
      const tasks = (await this.get(`/nodes/${enc(at)}/tasks`, z.array(TaskListEntry), { source: 'active', vmid })).filter(
        (t) => t.id === String(vmid),
      );
      let s: VmStatus;
      try {
        s = await this.vmStatus(at, vmid);
      } catch (err) {
        // a migration that just ended: the config lives on the target now
        if (!(err instanceof ProxmoxApiError && isNotFound(err.fullText))) throw err;
        const where = await this.findVm(vmid);
        if (!where?.node || where.node === at) throw err;
        at = where.node;
        continue;
      }
      if (!s.lock) return { node: at, status: s };
      if (!tasks.length) {
        throw new VmLockedError(
          `VM ${vmid} on ${at} is locked (${s.lock}) and no task of it is running: an operation crashed and left the ` +
            `lock; check the VM, then clear it with 'qm unlock ${vmid}'`,
          vmid,
          s.lock,
        );
      }
      if (performance.now() - start > this.scaled(deadlinePve)) {
        throw new TaskTimeoutError(
          `VM ${vmid} on ${at} is still locked (${s.lock}) by task ${tasks[0]!.type ?? '?'} after ${Math.round(deadlinePve / 1000)} s`,
          tasks[0]!.upid,
        );
      }
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
    }
  }

  /** After a clone: poll status/current until `lock` is gone (config and start refuse while it is set). */
  async waitUnlocked(node: string, vmid: number, o: { deadlineMs?: number } = {}): Promise<VmStatus> {
    const deadlinePve = o.deadlineMs ?? 10 * 60_000;
    const start = performance.now();
    let interval = this.pollStartMs;
    for (;;) {
      this.stats.taskPolls++;
      const s = await this.vmStatus(node, vmid);
      if (!s.lock) return s;
      if (performance.now() - start > this.scaled(deadlinePve)) {
        throw new TaskTimeoutError(
          `VM ${vmid} on ${node} is still locked (${s.lock}) after ${Math.round(deadlinePve / 1000)} s; ` +
            `if no task is running, an operation crashed and left the lock: clear it with 'qm unlock ${vmid}'`,
          undefined,
        );
      }
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
    }
  }
}
