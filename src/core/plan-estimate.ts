/**
 * The planner's use of time (issue 14): the cluster's timing model from its recent tasks, time-aware spreading of
 * stands (placement-time.ts) and the estimate every plan carries (estimate.ts). Kept apart from plan.ts so the
 * planner reads as before: plan.ts calls `spreadForTime` after the strategy placed the stands, and `estimatePlan`
 * once the plan is built.
 */
import type { Settings } from '../config/settings.js';
import type { ReplicaRecord } from '../store/schemas.js';
import { estimateDeploy, formatEstimate, type TemplateDisk } from './estimate.js';
import type { Inventory, TemplateInfo } from './inventory.js';
import { placeStands, type Demand, type PlacementLimits, type PlacementNode, type PlacementResult } from './placement.js';
import { improveForTime, MAX_SEARCH_VMS, synthesizePlan, type SourceKind, type StandShape } from './placement-time.js';
import type { ReplicaPlanner } from './templates.js';
import { chooseSharedReplicas } from './shared-replica.js';
import { defaultTimingModel, fitTimingModel, type TaskSample, type TimingModel, type VmFacts } from './timing-model.js';
import type { DeployPlan, PlanEstimate } from './types.js';

export interface PlanTimingContext {
  model: TimingModel;
  templates: Map<number, TemplateDisk>;
  shared: Set<string>;
  execLimits: Settings['concurrency'];
}

/** The timing model for this plan: defaults, refined by the cluster's task samples about these templates. */
export function planTiming(
  inv: Pick<Inventory, 'storages'>,
  infos: readonly TemplateInfo[],
  recorded: readonly ReplicaRecord[],
  samples: readonly TaskSample[],
  settings: Pick<Settings, 'concurrency'>,
): PlanTimingContext {
  const shared = new Set(inv.storages.filter((s) => s.shared && s.images).map((s) => s.storage));
  const templates = new Map<number, TemplateDisk>();
  const facts = new Map<number, VmFacts>();
  for (const i of infos) {
    templates.set(i.vmid, { diskGiB: i.diskGiB, storage: i.storages[0] ?? '', node: i.node });
    facts.set(i.vmid, { template: true, diskGiB: i.diskGiB, shared: i.storages.every((s) => shared.has(s)) });
  }
  for (const r of recorded) {
    const src = facts.get(r.sourceVmid);
    if (src) facts.set(r.vmid, { template: true, diskGiB: src.diskGiB, shared: r.shared === true });
  }
  const model = samples.length ? fitTimingModel(samples, facts) : defaultTimingModel();
  return { model, templates, shared, execLimits: settings.concurrency };
}

function sourceKind(replicas: ReplicaPlanner, info: TemplateInfo, node: string): SourceKind {
  const s = replicas.peek(info, node);
  if (s.kind === 'unavailable') return 'unavailable';
  if (s.kind === 'direct') return 'direct';
  return s.planned ? 'replica-needed' : 'replica-exists';
}

/** What estimating a placement of the plan's demands needs (bridges: a demand is a stand; sdn: one VM). */
export interface PlacementEstimateInput {
  timing: PlanTimingContext;
  demands: readonly Demand[];
  infos: readonly TemplateInfo[];
  machines: readonly { info: TemplateInfo; full: boolean; storage?: string }[];
  /** sdn mode: the machine (index into `machines`) each demand is; bridges mode: every machine */
  machineOf?: (demand: number) => number | undefined;
  replicas: ReplicaPlanner;
  bridgesPerStand: number;
  userExists: (i: number) => boolean;
  start: boolean;
}

function shapesOf(o: PlacementEstimateInput): StandShape[] {
  return o.demands.map((d, i) => {
    const mi = o.machineOf?.(i);
    const ms = mi === undefined ? o.machines : o.machines.slice(mi, mi + 1);
    return {
      key: d.key,
      // a recorded stand's VMs exist (a re-run only checks them)
      vms: d.pinned ? [] : ms.map((m) => ({ sourceVmid: m.info.vmid, full: m.full, ...(m.storage ? { storage: m.storage } : {}) })),
      bridges: d.pinned || mi !== undefined ? 0 : o.bridgesPerStand,
      memMiB: d.memMiB,
      cores: d.cores,
      userExists: o.userExists(i),
      pinned: d.pinned !== undefined,
    };
  });
}

function timeInput(o: PlacementEstimateInput, shapes: StandShape[], nodes: readonly PlacementNode[], limits: PlacementLimits) {
  const byVmid = new Map(o.infos.map((i) => [i.vmid, i]));
  const shared = new Map<number, string>();
  for (const i of o.infos) {
    const st = o.replicas.sharedStorageOf(i.vmid);
    if (st !== undefined) shared.set(i.vmid, st);
  }
  return {
    shapes,
    nodes,
    limits,
    sourceOf: (vmid: number, node: string): SourceKind => {
      const info = byVmid.get(vmid);
      return info ? sourceKind(o.replicas, info, node) : 'unavailable';
    },
    sharedReplicas: shared,
    templates: o.timing.templates,
    sharedStorages: o.timing.shared,
    model: o.timing.model,
    start: o.start,
    execLimits: o.timing.execLimits,
  };
}

/**
 * The estimated makespan (ms) of one assignment of the demands to nodes, with the planner's replica choices, and
 * how many replicas it makes; undefined when a demand sits where its template cannot go.
 */
export function estimateAssignment(o: PlacementEstimateInput, assignment: readonly (string | undefined)[]): { ms: number; make: number } | undefined {
  if (assignment.some((a) => a === undefined)) return undefined;
  const input = timeInput(o, shapesOf(o), [], { memory: 1, cpuOvercommit: 1 });
  const a = assignment as readonly string[];
  if (input.shapes.some((s, i) => s.vms.some((v) => input.sourceOf(v.sourceVmid, a[i]!) === 'unavailable'))) return undefined;
  const plan = synthesizePlan(input, a);
  const e = estimateDeploy({ plan, model: input.model, templates: input.templates, sharedStorages: input.sharedStorages, limits: input.execLimits });
  return { ms: e.ms, make: replicasToMake(o, a) };
}

/**
 * Distinct replicas an assignment needs made, recorded stands' VMs included (the deploy makes every planned
 * replica a VM of the plan clones from, and a re-run plans one for a recorded VM too).
 */
function replicasToMake(o: PlacementEstimateInput, assignment: readonly string[]): number {
  const keys = new Set<string>();
  o.demands.forEach((_, i) => {
    const node = assignment[i]!;
    const mi = o.machineOf?.(i);
    for (const m of mi === undefined ? o.machines : o.machines.slice(mi, mi + 1)) {
      const s = o.replicas.peek(m.info, node);
      if (s.kind === 'replica' && s.planned) keys.add(`${m.info.vmid}/${o.replicas.sharedStorageOf(m.info.vmid) !== undefined ? 'shared' : node}`);
    }
  });
  return keys.size;
}

/**
 * Bridges mode: move stands from the strategy's placement while the estimated makespan drops (placement-time.ts),
 * within the limits. Returns the placement to use (the strategy's when nothing is gained), how many moved, and
 * its estimate (`ms`; 0 when the class is too big to search).
 */
export function spreadForTime(o: PlacementEstimateInput & {
  nodes: readonly PlacementNode[];
  placed: PlacementResult;
  limits: PlacementLimits;
}): { placed: PlacementResult; moved: number; strategyMs: number; ms: number } {
  const shapes = shapesOf(o);
  const initial = o.placed.assignment.map((a) => a as string);
  // a class too big to search keeps the strategy's placement (and costs no estimate here)
  if (shapes.reduce((n, s) => n + s.vms.length, 0) > MAX_SEARCH_VMS) return { placed: o.placed, moved: 0, strategyMs: 0, ms: 0 };
  const nodes = o.nodes.filter((n) => o.demands.some((d) => d.allowed === undefined || d.allowed.includes(n.name)));
  const r = improveForTime(timeInput(o, shapes, nodes, o.limits), initial);
  if (r.moved === 0) return { placed: o.placed, moved: 0, strategyMs: r.before.ms, ms: r.before.ms };
  // the projections of the new placement: every unit pinned where the search put it
  const pinned = o.demands.map((d, i) => ({ ...d, pinned: r.assignment[i] as string }));
  return { placed: placeStands(o.nodes, pinned, 'balanced', o.limits), moved: r.moved, strategyMs: r.before.ms, ms: r.estimate.ms };
}

/** The estimate a built plan carries. */
export function estimatePlan(plan: DeployPlan, timing: PlanTimingContext, extra: { moved: number; strategyMs?: number }): PlanEstimate {
  const e = estimateDeploy({
    plan,
    model: timing.model,
    templates: timing.templates,
    sharedStorages: timing.shared,
    limits: timing.execLimits,
  });
  const fromCluster = Object.keys(timing.model.sources).length > 0;
  return {
    ms: Math.round(e.ms),
    text: formatEstimate(e.ms),
    replicasToMake: plan.replicas.filter((r) => !r.exists).length,
    replicasReused: plan.replicas.filter((r) => r.exists).length,
    ...(extra.moved > 0 && extra.strategyMs !== undefined ? { strategyMs: Math.round(extra.strategyMs) } : {}),
    moved: extra.moved,
    timing: fromCluster ? 'cluster' : 'defaults',
    model: (({ sources: _s, ...rest }) => rest)(timing.model),
  };
}

/**
 * The replica choice (shared-replica.ts) and the time-aware placement together: for each variant of the choice,
 * the strategy's placement, spread for time when `spread` (bridges, balanced), and its estimate; the variant
 * with the lowest estimate wins (ties keep per-node). Returns the planner to commit with and its placement.
 */
export function placeWithReplicaChoice(
  o: Omit<PlacementEstimateInput, 'replicas'> & {
    nodes: readonly PlacementNode[];
    placed: PlacementResult;
    limits: PlacementLimits;
    spread: boolean;
    /** a replica planner for a set of shared replicas (source VMID → storage) */
    plannerFor: (shared: ReadonlyMap<number, string>) => ReplicaPlanner;
    choice: Omit<Parameters<typeof chooseSharedReplicas>[0], 'evaluate'>;
  },
): { replicas: ReplicaPlanner; placed: PlacementResult; moved: number; strategyMs?: number; shared: Map<number, string> } {
  // a class too big to search (as spreadForTime): `auto` keeps per-node replicas and no estimate is spent here
  const vms = o.demands.reduce((n, d, i) => n + (d.pinned ? 0 : o.machineOf?.(i) !== undefined ? 1 : o.machines.length), 0);
  if (vms > MAX_SEARCH_VMS) {
    const c = chooseSharedReplicas({ ...o.choice, mode: o.choice.mode === 'auto' ? 'never' : o.choice.mode, evaluate: () => undefined });
    return { replicas: o.plannerFor(c.shared), placed: o.placed, moved: 0, shared: c.shared };
  }
  type Variant = { replicas: ReplicaPlanner; placed: PlacementResult; moved: number; strategyMs?: number; score?: { ms: number; make: number } };
  const results = new Map<string, Variant>();
  const run = (shared: ReadonlyMap<number, string>): Variant => {
    const key = [...shared.keys()].sort().join(',');
    const had = results.get(key);
    if (had) return had;
    const replicas = o.plannerFor(shared);
    const input = { ...o, replicas };
    let r: Variant;
    const base = estimateAssignment(input, o.placed.assignment);
    if (base === undefined) r = { replicas, placed: o.placed, moved: 0 };
    else if (o.spread) {
      const s = spreadForTime(input);
      const score = s.moved > 0 ? (estimateAssignment(input, s.placed.assignment) ?? base) : base;
      r = { replicas, placed: s.placed, moved: s.moved, strategyMs: s.strategyMs, score };
    } else r = { replicas, placed: o.placed, moved: 0, score: base };
    results.set(key, r);
    return r;
  };
  const choice = chooseSharedReplicas({ ...o.choice, evaluate: (shared) => run(shared).score });
  // nothing to weigh and no spreading: the strategy's placement, no estimate spent here
  if (choice.evaluated === 0 && !o.spread) return { replicas: o.plannerFor(choice.shared), placed: o.placed, moved: 0, shared: choice.shared };
  const { score: _score, ...best } = run(choice.shared);
  return { ...best, shared: choice.shared };
}
