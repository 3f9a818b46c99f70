/**
 * The planner's timing model of a cluster: how long each kind of task takes (PVE-time milliseconds), and how much
 * a storage lock and pvedaemon's workers serialise. The defaults are the simulator's constants (src/sim/timing.ts,
 * which model a real PVE node); `learnTimingModel` replaces them with the cluster's own recent task durations read
 * from the cluster's task list (`GET /cluster/tasks`: every node's recent tasks, starttime/endtime per task type,
 * in one request; `GET /nodes/{node}/tasks` holds the same per node, further back). The list keeps every task a
 * node ran, ours included, so durations of our earlier deploys on this cluster are learned the same way.
 *
 * Used by estimate.ts (makespan of a plan), placement tie-breaking (plan.ts) and the task waiter's poll schedule
 * (expected end of a task).
 */
import { z } from 'zod';
import { TaskListEntry } from '../proxmox/types.js';
import { DEFAULT_TIMING } from '../sim/timing.js';

export interface TimingModel {
  linkedCloneMs: number;
  /** part of a linked clone under the storage's allocation lock (taken at the start of the copy) */
  linkedCloneLockMs: number;
  fullCloneMsPerGiB: number;
  fullCloneLockMsPerGiB: number;
  templateMs: number;
  migrateMsPerGiB: number;
  migrateSharedMs: number;
  /** a config write (`POST …/config`, a qmconfig task; mean) */
  configWriteMs: number;
  snapshotMs: number;
  startMs: number;
  /** one bridge write (holds the node's network lock) and the network apply task */
  networkWriteMs: number;
  networkApplyMs: number;
  /** one request's round trip, beyond the work it starts (loopback: a few ms; a WAN link: tens) */
  requestMs: number;
  workersPerNode: number;
  /** where each figure came from: 'default' or 'cluster (n tasks)' */
  sources: Partial<Record<keyof Omit<TimingModel, 'sources'>, string>>;
}

/** The simulator's constants (means where the simulator draws uniformly). */
export function defaultTimingModel(): TimingModel {
  const t = DEFAULT_TIMING;
  return {
    linkedCloneMs: t.linkedCloneMs,
    linkedCloneLockMs: t.linkedCloneLockMs,
    fullCloneMsPerGiB: t.fullCloneMsPerGiB,
    fullCloneLockMsPerGiB: t.fullCloneLockMsPerGiB,
    templateMs: t.templateMs,
    migrateMsPerGiB: t.migrateMsPerGiB,
    migrateSharedMs: t.migrateSharedMs,
    configWriteMs: (t.configWriteMinMs + t.configWriteMaxMs) / 2,
    snapshotMs: (t.snapshotMinMs + t.snapshotMaxMs) / 2,
    startMs: t.startMs,
    networkWriteMs: t.clusterWriteMs,
    networkApplyMs: t.networkReloadMs,
    requestMs: 5,
    workersPerNode: t.workersPerNode,
    sources: {},
  };
}

/** A finished task as a node's task list shows it. */
export interface TaskSample {
  type: string;
  /** the task's id field: the VMID it worked on (for qmclone: the source) */
  id: string;
  ms: number;
  ok: boolean;
}

/** What the model needs to know about a VM to interpret a task on it. */
export interface VmFacts {
  template: boolean;
  diskGiB: number;
  /** every disk on shared storage */
  shared: boolean;
}

/** Finished tasks from a node's task list (PVE reports starttime/endtime in whole seconds). */
export function samplesFromTaskList(entries: readonly TaskListEntry[]): TaskSample[] {
  const out: TaskSample[] = [];
  for (const e of entries) {
    if (e.starttime === undefined || e.endtime === undefined || e.endtime < e.starttime || !e.type) continue;
    out.push({ type: e.type, id: e.id ?? '', ms: (e.endtime - e.starttime) * 1000, ok: e.status === 'OK' || /^WARNINGS/.test(e.status ?? '') });
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Fewer samples than this of a kind keep the default: a single odd task should not move the plan. */
export const MIN_SAMPLES = 3;

/**
 * The model with every figure the samples support replaced by the cluster's own. Task lists time tasks in whole
 * seconds, so a 2 s clone shows as 1–3 s: medians over several tasks, never a single sample.
 *
 * - qmstart, qmtemplate: the median duration.
 * - qmsnapshot, qmconfig (our config writes are tasks): the median (the model's figures are means).
 * - qmclone of a template: a linked or a full clone, which the list does not say; a clone that took less than
 *   half of what a full copy of that template would take (default rate) counts as linked, the rest as full
 *   (their duration per GiB of the source). The lock parts scale with the totals.
 * - qmigrate: per GiB of the VM's local disks (VMs on shared storage: the fixed part).
 */
export function fitTimingModel(samples: readonly TaskSample[], vms: ReadonlyMap<number, VmFacts>, base = defaultTimingModel()): TimingModel {
  const m: TimingModel = { ...base, sources: { ...base.sources } };
  const ok = samples.filter((s) => s.ok);
  const by = (type: string): TaskSample[] => ok.filter((s) => s.type === type);
  const set = (key: keyof Omit<TimingModel, 'sources'>, values: number[]): boolean => {
    if (values.length < MIN_SAMPLES) return false;
    // whole-second timestamps: a sub-second task shows as 0 s; keep at least a tenth of a second
    m[key] = Math.max(100, median(values));
    m.sources[key] = `cluster (${values.length} tasks)`;
    return true;
  };
  set('startMs', by('qmstart').map((s) => s.ms));
  set('templateMs', by('qmtemplate').map((s) => s.ms));
  set('snapshotMs', by('qmsnapshot').map((s) => s.ms));
  set('configWriteMs', by('qmconfig').map((s) => s.ms));

  const linked: number[] = [];
  const fullPerGiB: number[] = [];
  for (const s of by('qmclone')) {
    const src = vms.get(Number(s.id));
    if (!src || src.diskGiB <= 0) continue;
    const fullMs = src.diskGiB * base.fullCloneMsPerGiB;
    if (src.template && s.ms < fullMs / 2) linked.push(s.ms);
    else fullPerGiB.push(s.ms / src.diskGiB);
  }
  const lockShare = base.linkedCloneLockMs / base.linkedCloneMs;
  if (set('linkedCloneMs', linked)) {
    m.linkedCloneLockMs = m.linkedCloneMs * lockShare;
    m.sources.linkedCloneLockMs = m.sources.linkedCloneMs;
  }
  const fullShare = base.fullCloneLockMsPerGiB / base.fullCloneMsPerGiB;
  if (set('fullCloneMsPerGiB', fullPerGiB)) {
    m.fullCloneLockMsPerGiB = m.fullCloneMsPerGiB * fullShare;
    m.sources.fullCloneLockMsPerGiB = m.sources.fullCloneMsPerGiB;
  }

  const migLocal: number[] = [];
  const migShared: number[] = [];
  for (const s of by('qmigrate')) {
    const vm = vms.get(Number(s.id));
    if (!vm) continue;
    if (vm.shared || vm.diskGiB <= 0) migShared.push(s.ms);
    else migLocal.push(s.ms / vm.diskGiB);
  }
  set('migrateMsPerGiB', migLocal);
  set('migrateSharedMs', migShared);
  return m;
}

/** Reads the cluster's recent tasks. */
export interface TaskHistory {
  recentTasks(): Promise<TaskListEntry[]>;
}

/** A TaskHistory over the client's generic GET: `/cluster/tasks`, every node's recent tasks in one request. */
export function taskHistoryOf(client: { get<S extends z.ZodType>(path: string, schema: S, query?: Record<string, unknown>): Promise<z.infer<S>> }): TaskHistory {
  return { recentTasks: () => client.get('/cluster/tasks', z.array(TaskListEntry)) as Promise<TaskListEntry[]> };
}

/**
 * The timing model of a cluster: the defaults, replaced by what its recent tasks show. An unreadable list (no
 * Sys.Audit on the nodes): the defaults.
 */
export async function learnTimingModel(history: TaskHistory, vms: ReadonlyMap<number, VmFacts>): Promise<TimingModel> {
  const list = await history.recentTasks().catch(() => [] as TaskListEntry[]);
  return fitTimingModel(samplesFromTaskList(list), vms);
}

/** How long a task of this kind is expected to take (PVE-time ms), for the waiter's poll schedule. */
export function expectedTaskMs(
  m: TimingModel,
  what:
    | { kind: 'clone'; full: boolean; diskGiB: number }
    | { kind: 'template' }
    | { kind: 'migrate'; localGiB: number }
    | { kind: 'snapshot' }
    | { kind: 'config' }
    | { kind: 'start' }
    | { kind: 'apply' },
): number {
  switch (what.kind) {
    case 'clone':
      return what.full ? what.diskGiB * m.fullCloneMsPerGiB : m.linkedCloneMs;
    case 'template':
      return m.templateMs;
    case 'migrate':
      return what.localGiB > 0 ? what.localGiB * m.migrateMsPerGiB : m.migrateSharedMs;
    case 'snapshot':
      return m.snapshotMs;
    case 'config':
      return m.configWriteMs;
    case 'start':
      return m.startMs;
    case 'apply':
      return m.networkApplyMs;
  }
}
