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
import { improveForTime, MAX_SEARCH_VMS, type SourceKind, type StandShape } from './placement-time.js';
import type { ReplicaPlanner } from './templates.js';
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
    if (src) facts.set(r.vmid, { template: true, diskGiB: src.diskGiB, shared: false });
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

/**
 * Bridges mode: move stands from the strategy's placement while the estimated makespan drops (placement-time.ts),
 * within the limits. Returns the placement to use (the strategy's when nothing is gained) and how many moved.
 */
export function spreadForTime(o: {
  timing: PlanTimingContext;
  nodes: readonly PlacementNode[];
  demands: readonly Demand[];
  placed: PlacementResult;
  limits: PlacementLimits;
  infos: readonly TemplateInfo[];
  machines: readonly { info: TemplateInfo; full: boolean; storage?: string }[];
  replicas: ReplicaPlanner;
  bridgesPerStand: number;
  userExists: (i: number) => boolean;
  start: boolean;
}): { placed: PlacementResult; moved: number; strategyMs: number } {
  const byVmid = new Map(o.infos.map((i) => [i.vmid, i]));
  const shapes: StandShape[] = o.demands.map((d, i) => ({
    key: d.key,
    // a recorded stand's VMs exist (a re-run only checks them)
    vms: d.pinned ? [] : o.machines.map((m) => ({ sourceVmid: m.info.vmid, full: m.full, ...(m.storage ? { storage: m.storage } : {}) })),
    bridges: d.pinned ? 0 : o.bridgesPerStand,
    memMiB: d.memMiB,
    cores: d.cores,
    userExists: o.userExists(i),
    pinned: d.pinned !== undefined,
  }));
  const initial = o.placed.assignment.map((a) => a as string);
  // a class too big to search keeps the strategy's placement (and costs no estimate here)
  if (shapes.reduce((n, s) => n + s.vms.length, 0) > MAX_SEARCH_VMS) return { placed: o.placed, moved: 0, strategyMs: 0 };
  const r = improveForTime(
    {
      shapes,
      nodes: o.nodes.filter((n) => o.demands.some((d) => d.allowed === undefined || d.allowed.includes(n.name))),
      limits: o.limits,
      sourceOf: (vmid, node) => {
        const info = byVmid.get(vmid);
        return info ? sourceKind(o.replicas, info, node) : 'unavailable';
      },
      templates: o.timing.templates,
      sharedStorages: o.timing.shared,
      model: o.timing.model,
      start: o.start,
      execLimits: o.timing.execLimits,
    },
    initial,
  );
  if (r.moved === 0) return { placed: o.placed, moved: 0, strategyMs: r.before.ms };
  // the projections of the new placement: every unit pinned where the search put it
  const pinned = o.demands.map((d, i) => ({ ...d, pinned: r.assignment[i] as string }));
  return { placed: placeStands(o.nodes, pinned, 'balanced', o.limits), moved: r.moved, strategyMs: r.before.ms };
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
