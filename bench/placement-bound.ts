/**
 * The best lower bound over placements: the smallest `computeLowerBound` over every placement of the class that
 * the capacity rules allow (memory limit, CPU overcommit, the nodes the plan left out stay out), with the template
 * replicas each placement needs. A plan can be judged against this instead of the bound of the plan it happened to
 * choose. Argument in bench/README.md ("Best bound over placements").
 *
 * Exact by enumeration for classes of identical stands: the bound depends on a placement only through how many
 * stands each node gets (stands are interchangeable, and a replica is needed on a node exactly when it gets at
 * least one stand using a template on another node's local storage), so enumerating the count vectors (at most
 * C(stands + nodes − 1, nodes − 1)) covers every placement. Where the planner may serve a template with one
 * replica on shared linked-clone storage, each placement is bounded with each choice (per template) as well.
 */
import type { DeployPlan, ReplicaPlan, StandPlan } from '../src/core/types.js';
import { computeLowerBound, type LowerBound, type LowerBoundInput } from './lower-bound.js';

export interface PlacementBound {
  /** the smallest bound over allowed placements */
  best: LowerBound;
  /** stands per node of the placement reaching it */
  counts: Record<string, number>;
  /** templates served by one shared replica in it */
  shared: number[];
  /** placements (count vectors) enumerated, and how many the capacity rules allowed */
  enumerated: number;
  allowed: number;
}

/** Count vectors above this are not enumerated (the bench classes have at most a few hundred). */
export const MAX_PLACEMENTS = 200_000;

export function bestBoundOverPlacements(
  input: Omit<LowerBoundInput, 'plan'> & {
    plan: Pick<DeployPlan, 'stands' | 'replicas' | 'start' | 'applyNodes' | 'mode' | 'nodes' | 'limits'>;
    /** replicas already on the cluster (warm): by `${sourceVmid}/${node}`, a shared one by `${sourceVmid}/shared` */
    existingReplicas?: ReadonlySet<string>;
    /**
     * Templates the planner may serve with ONE replica on shared linked-clone storage (source VMID → that
     * storage, `placement.shared_replica` not `never`): each placement is bounded with and without it, per template.
     */
    sharedReplicas?: ReadonlyMap<number, string>;
  },
): PlacementBound {
  const { plan } = input;
  const shape = plan.stands[0];
  if (!shape) throw new Error('placement bound: empty plan');
  for (const s of plan.stands) {
    const same = s.vms.length === shape.vms.length && s.vms.every((v, i) => v.sourceTemplateVmid === shape.vms[i]?.sourceTemplateVmid && v.full === shape.vms[i]?.full);
    if (!same || s.memoryMiB !== shape.memoryMiB || s.cores !== shape.cores || s.recorded) {
      throw new Error('placement bound: only for a fresh class of identical stands');
    }
  }
  const nodes = plan.nodes.filter((n) => n.online && !n.excluded);
  const fits = (n: (typeof nodes)[number], k: number): boolean =>
    (n.baseMemMiB + k * shape.memoryMiB) / n.maxMemMiB <= plan.limits.memory + 1e-9 &&
    (n.baseCores + k * shape.cores) / (n.maxCpu * plan.limits.cpuOvercommit) <= 1 + 1e-9;
  const cap = nodes.map((n) => {
    let k = 0;
    while (k < plan.stands.length && fits(n, k + 1)) k++;
    return k;
  });

  const total = plan.stands.length;
  let enumerated = 0;
  let allowed = 0;
  let best: PlacementBound | undefined;
  const counts = new Array<number>(nodes.length).fill(0);
  // every subset of the templates that may go shared (a profile has a handful of templates)
  const candidates = [...(input.sharedReplicas?.keys() ?? [])];
  const variants: Set<number>[] = [];
  for (let m = 0; m < 2 ** candidates.length; m++) variants.push(new Set(candidates.filter((_, i) => m & (2 ** i))));
  const evaluate = (): void => {
    allowed++;
    for (const shared of variants) {
      const lb = computeLowerBound({ ...input, plan: synthesize(counts, shared) });
      if (!best || lb.ms < best.best.ms) {
        best = { best: lb, counts: Object.fromEntries(nodes.map((n, i) => [n.node, counts[i] as number])), shared: [...shared], enumerated: 0, allowed: 0 };
      }
    }
  };
  const walk = (i: number, left: number): void => {
    if (enumerated > MAX_PLACEMENTS) throw new Error(`placement bound: more than ${MAX_PLACEMENTS} placements to enumerate`);
    if (i === nodes.length - 1) {
      enumerated++;
      if (left <= (cap[i] as number)) {
        counts[i] = left;
        evaluate();
      }
      return;
    }
    for (let k = 0; k <= Math.min(left, cap[i] as number); k++) {
      counts[i] = k;
      walk(i + 1, left - k);
    }
    counts[i] = 0;
  };
  walk(0, total);
  if (!best) throw new Error('placement bound: no placement fits the capacity rules');
  const out: PlacementBound = best;
  return { ...out, enumerated, allowed };

  function synthesize(c: number[], shared: ReadonlySet<number>): LowerBoundInput['plan'] {
    const replicas = new Map<string, ReplicaPlan>();
    const stands: StandPlan[] = [];
    let si = 0;
    nodes.forEach((n, ni) => {
      for (let k = 0; k < (c[ni] as number); k++) {
        const src = plan.stands[si++] as StandPlan;
        const vms = src.vms.map((vm) => {
          const t = input.templates.get(vm.sourceTemplateVmid);
          if (!t?.node) throw new Error(`placement bound: no node for template ${vm.sourceTemplateVmid}`);
          if (vm.full || t.shared || t.node === n.node) return { ...vm, node: n.node, templateVmid: vm.sourceTemplateVmid, templateNode: t.node };
          // one replica on shared storage, on the template's node, for every node (no migration)
          const one = shared.has(vm.sourceTemplateVmid);
          const key = one ? `${vm.sourceTemplateVmid}/shared` : `${vm.sourceTemplateVmid}/${n.node}`;
          let r = replicas.get(key);
          if (!r) {
            r = {
              sourceVmid: vm.sourceTemplateVmid,
              sourceNode: t.node,
              targetNode: one ? t.node : n.node,
              vmid: 900_000 + replicas.size,
              name: one ? `tpl-${vm.sourceTemplateVmid}-shared` : `tpl-${vm.sourceTemplateVmid}-${n.node}`,
              storage: one ? (input.sharedReplicas?.get(vm.sourceTemplateVmid) ?? t.storage) : t.storage,
              exists: input.existingReplicas?.has(key) ?? false,
              ...(one ? { shared: true } : {}),
            };
            replicas.set(key, r);
          }
          return { ...vm, node: n.node, templateVmid: r.vmid, templateNode: r.targetNode };
        });
        stands.push({ ...src, node: n.node, vms, segments: src.segments.map((g) => (g.kind === 'bridge' ? { ...g, node: n.node } : g)) });
      }
    });
    return {
      stands,
      replicas: [...replicas.values()],
      start: plan.start,
      mode: plan.mode,
      applyNodes: [...new Set(stands.map((s) => s.node))],
    };
  }
}
