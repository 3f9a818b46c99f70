/**
 * Time-aware placement (bridges mode, where a stand is one unit): starting from the strategy's placement, move
 * stands between nodes while the estimated makespan (estimate.ts) drops, within the capacity limits. It weighs
 * what the strategy cannot see: a node that holds a template (or a replica of it) clones at once, a node that
 * needs a replica first waits for a full clone → template → migrate chain, and every clone from one storage
 * queues on that storage's lock.
 *
 * Moves: k stands (k = 1, 2, 4, …, all of them) from one node to another, the best of all such moves per round,
 * accepted only when it saves at least MIN_GAIN of the current estimate (ties keep the strategy's placement).
 * A bounded number of estimates (EVAL_BUDGET), so the planner stays fast; classes too big for that keep the
 * strategy's placement.
 */
import { estimateDeploy, type Estimate, type TemplateDisk } from './estimate.js';
import type { ExecLimits } from './executor.js';
import type { PlacementLimits, PlacementNode } from './placement.js';
import type { TimingModel } from './timing-model.js';
import type { DeployPlan, ReplicaPlan, StandPlan, VmPlan } from './types.js';

export interface StandShape {
  key: string;
  /** the profile's machines: source template, full clone or not, full-clone target storage */
  vms: { sourceVmid: number; full: boolean; storage?: string }[];
  /** bridges the stand needs created (0 when recorded) */
  bridges: number;
  memMiB: number;
  cores: number;
  userExists: boolean;
  /** pinned stands (recorded on a node) never move */
  pinned: boolean;
}

/** How a VM of template `sourceVmid` gets onto `node` (the replica planner's answer, without committing). */
export type SourceKind = 'direct' | 'replica-exists' | 'replica-needed' | 'unavailable';

export interface TimePlacementInput {
  shapes: readonly StandShape[];
  nodes: readonly PlacementNode[];
  limits: PlacementLimits;
  sourceOf(sourceVmid: number, node: string): SourceKind;
  /** Templates served by one replica on shared storage: source VMID → that storage (shared-replica.ts). */
  sharedReplicas?: ReadonlyMap<number, string>;
  templates: ReadonlyMap<number, TemplateDisk>;
  sharedStorages: ReadonlySet<string>;
  model: TimingModel;
  start: boolean;
  execLimits?: Partial<ExecLimits>;
  poll?: { startMs: number; maxMs: number };
}

export const MIN_GAIN = 0.02;
export const EVAL_BUDGET = 80;
/** Above this many VMs in a class, one estimate costs too much for a search: the strategy's placement stays. */
export const MAX_SEARCH_VMS = 600;

/** A stand-level plan (what estimate.ts reads) for an assignment of the shapes to nodes. */
export function synthesizePlan(
  input: Pick<TimePlacementInput, 'shapes' | 'sourceOf' | 'templates' | 'start' | 'sharedReplicas'>,
  assignment: readonly string[],
): Pick<DeployPlan, 'stands' | 'replicas' | 'start' | 'mode' | 'applyNodes'> {
  const replicas = new Map<string, ReplicaPlan>();
  const stands: StandPlan[] = [];
  input.shapes.forEach((shape, i) => {
    const node = assignment[i] as string;
    const vms = shape.vms.map((v, vi): VmPlan => {
      const t = input.templates.get(v.sourceVmid);
      const kind = input.sourceOf(v.sourceVmid, node);
      let templateVmid = v.sourceVmid;
      let templateNode = t?.node ?? node;
      if (!v.full && (kind === 'replica-needed' || kind === 'replica-exists')) {
        // one replica on shared storage lives on the template's node and serves every node (no migration)
        const sharedOn = input.sharedReplicas?.get(v.sourceVmid);
        const home = sharedOn !== undefined ? (t?.node ?? node) : node;
        const key = sharedOn !== undefined ? `${v.sourceVmid}/shared` : `${v.sourceVmid}/${node}`;
        let r = replicas.get(key);
        if (!r) {
          r = {
            sourceVmid: v.sourceVmid,
            sourceNode: t?.node ?? node,
            targetNode: home,
            vmid: -1 - replicas.size,
            name: key,
            storage: sharedOn ?? t?.storage ?? '',
            exists: kind === 'replica-exists',
            ...(sharedOn !== undefined ? { shared: true } : {}),
          };
          replicas.set(key, r);
        }
        templateVmid = r.vmid;
        templateNode = home;
      }
      return {
        machine: `m${vi}`,
        vmid: 0,
        name: '',
        node,
        templateVmid,
        templateNode,
        sourceTemplateVmid: v.sourceVmid,
        full: v.full,
        ...(v.storage ? { storage: v.storage } : {}),
        effectiveCores: 0,
        effectiveMemoryMiB: 0,
        device: 'linux',
        nets: [],
        deleteNets: [],
        tags: [],
        description: '',
        recorded: false,
      };
    });
    stands.push({
      key: shape.key,
      group: '',
      userid: shape.key,
      slug: '',
      pool: '',
      node,
      vms,
      segments: Array.from({ length: shape.bridges }, (_, k) => ({
        alias: `s${k}`,
        kind: 'bridge' as const,
        iface: `b${k}`,
        node,
        vlanAware: false,
        comment: '',
        recorded: false,
      })),
      vlans: [],
      userExists: shape.userExists,
      memoryMiB: shape.memMiB,
      cores: shape.cores,
      recorded: false,
      warnings: [],
    });
  });
  return { stands, replicas: [...replicas.values()], start: input.start, mode: 'bridges', applyNodes: [...new Set(assignment)] };
}

export interface TimePlacementResult {
  assignment: string[];
  estimate: Estimate;
  /** the strategy's placement's estimate, for the record */
  before: Estimate;
  evaluations: number;
  moved: number;
}

export function improveForTime(input: TimePlacementInput, initial: readonly string[]): TimePlacementResult {
  const est = (a: readonly string[]): Estimate =>
    estimateDeploy({
      plan: synthesizePlan(input, a),
      model: input.model,
      templates: input.templates,
      sharedStorages: input.sharedStorages,
      ...(input.execLimits ? { limits: input.execLimits } : {}),
      ...(input.poll ? { poll: input.poll } : {}),
    });
  const before = est(initial);
  let evaluations = 1;
  let current = [...initial];
  let best = before;
  const vms = input.shapes.reduce((n, s) => n + s.vms.length, 0);
  if (vms > MAX_SEARCH_VMS || input.nodes.length < 2) return { assignment: current, estimate: before, before, evaluations, moved: 0 };

  const byName = new Map(input.nodes.map((n) => [n.name, n]));
  const load = (a: readonly string[]): Map<string, { mem: number; cores: number }> => {
    const m = new Map(input.nodes.map((n) => [n.name, { mem: n.baseMemMiB, cores: n.baseCores }]));
    input.shapes.forEach((s, i) => {
      const l = m.get(a[i] as string);
      if (l) {
        l.mem += s.memMiB;
        l.cores += s.cores;
      }
    });
    return m;
  };
  const fits = (node: PlacementNode, mem: number, cores: number): boolean =>
    mem / node.maxMemMiB <= input.limits.memory + 1e-9 && cores / (node.maxCpu * input.limits.cpuOvercommit) <= 1 + 1e-9;
  const usable = (shape: StandShape, node: string): boolean => shape.vms.every((v) => input.sourceOf(v.sourceVmid, node) !== 'unavailable');

  while (evaluations < EVAL_BUDGET) {
    const l = load(current);
    let roundBest: { a: string[]; e: Estimate } | undefined;
    for (const from of input.nodes) {
      const movable = input.shapes.map((s, i) => i).filter((i) => current[i] === from.name && !(input.shapes[i] as StandShape).pinned);
      if (!movable.length) continue;
      for (const to of input.nodes) {
        if (to === from) continue;
        const steps: number[] = [];
        for (let k = 1; k < movable.length; k *= 2) steps.push(k);
        steps.push(movable.length);
        for (const k of steps) {
          if (evaluations >= EVAL_BUDGET) break;
          // the last k stands of `from` (plan order is kept within a node)
          const moving = movable.slice(movable.length - k);
          const mem = moving.reduce((a, i) => a + (input.shapes[i] as StandShape).memMiB, 0);
          const cores = moving.reduce((a, i) => a + (input.shapes[i] as StandShape).cores, 0);
          const tl = l.get(to.name)!;
          if (!fits(byName.get(to.name)!, tl.mem + mem, tl.cores + cores)) break;
          if (!moving.every((i) => usable(input.shapes[i] as StandShape, to.name))) break;
          const a = [...current];
          for (const i of moving) a[i] = to.name;
          const e = est(a);
          evaluations++;
          if (!roundBest || e.ms < roundBest.e.ms) roundBest = { a, e };
        }
      }
    }
    if (!roundBest || roundBest.e.ms > best.ms * (1 - MIN_GAIN)) break;
    current = roundBest.a;
    best = roundBest.e;
  }
  const moved = current.filter((n, i) => n !== initial[i]).length;
  return { assignment: current, estimate: best, before, evaluations, moved };
}
