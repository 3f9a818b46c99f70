/**
 * Placement of stands (bridges mode) or single VMs (sdn mode) on nodes. Pure: the benchmark calls `placeStands`
 * directly and compares `balanced` against an exhaustive optimum.
 *
 * Utilisation of a node = allocated / capacity, where allocated counts the configured memory and cores of every
 * non-template VM on the node, running or not (stands are started later), plus what the plan adds. Memory is
 * limited to `limits.memory` (default 0.9) of the node; cores to `maxCpu × limits.cpuOvercommit` (default 4).
 *
 * `balanced` is greedy in decreasing demand order: each unit goes to the node where the resulting utilisation
 * (max of memory and CPU) is lowest. When a unit is added, some node is at or below the fractional optimum, so the
 * highest utilisation ends within one unit's share of it; a bounded local search (moves and swaps off the most
 * loaded node) then closes most of that gap for small classes. Runs of identical units use a heap of nodes:
 * O(units × log nodes), no scans over VMs.
 */
import { msg, render, type Msg } from '../i18n/index.js';
import type { NodeProjection, PlacementStrategy } from './types.js';

export interface PlacementNode {
  name: string;
  maxMemMiB: number;
  maxCpu: number;
  baseMemMiB: number;
  baseCores: number;
}

export interface Demand {
  key: string;
  memMiB: number;
  cores: number;
  /** Must go to this node (a re-run keeps recorded stands where they are). */
  pinned?: string;
  /** Only these nodes (e.g. where a needed storage exists); undefined = all given nodes. */
  allowed?: readonly string[];
}

export interface PlacementLimits {
  memory: number;
  cpuOvercommit: number;
}
export const DEFAULT_LIMITS: PlacementLimits = { memory: 0.9, cpuOvercommit: 4 };

export interface PlacementResult {
  /** Index-aligned with the demands: the chosen node, or undefined when the demand did not fit anywhere. */
  assignment: (string | undefined)[];
  /** `reasonMsg`: the reason as a code for the faces (`reason` is its English text). */
  unplaced: { key: string; reason: string; reasonMsg?: Msg }[];
  nodes: NodeProjection[];
  /** Highest memory utilisation over the nodes after placement. */
  maxMemUtil: number;
  maxUtil: number;
}

interface Load {
  node: PlacementNode;
  mem: number;
  cores: number;
  units: number;
}

const memUtil = (l: Load, extra = 0): number => (l.node.maxMemMiB > 0 ? (l.mem + extra) / l.node.maxMemMiB : Infinity);
function cpuUtil(l: Load, limits: PlacementLimits, extra = 0): number {
  const cap = l.node.maxCpu * limits.cpuOvercommit;
  return cap > 0 ? (l.cores + extra) / cap : Infinity;
}
const util = (l: Load, limits: PlacementLimits, dm = 0, dc = 0): number =>
  Math.max(memUtil(l, dm), cpuUtil(l, limits, dc));

function fits(l: Load, d: Demand, limits: PlacementLimits): boolean {
  // a tiny epsilon so that "exactly at the limit" counts as fitting despite float division
  return memUtil(l, d.memMiB) <= limits.memory + 1e-9 && cpuUtil(l, limits, d.cores) <= 1 + 1e-9;
}

function why(loads: Load[], d: Demand, limits: PlacementLimits): Msg {
  if (loads.length === 0) return msg('unplaced.noNode');
  const best = loads.reduce((a, b) => (memUtil(a, d.memMiB) <= memUtil(b, d.memMiB) ? a : b));
  const m = memUtil(best, d.memMiB);
  if (m > limits.memory) return msg('unplaced.memory', { mib: d.memMiB, node: best.node.name, util: pct(m), limit: pct(limits.memory) });
  return msg('unplaced.cpu', { cores: d.cores, overcommit: limits.cpuOvercommit });
}

const unplacedAs = (key: string, reason: Msg): PlacementResult['unplaced'][number] => ({ key, reason: render('en', reason), reasonMsg: reason });

export const pct = (x: number): string => `${Number((x * 100).toFixed(1))}%`;

export function placeStands(
  nodes: readonly PlacementNode[],
  demands: readonly Demand[],
  strategy: PlacementStrategy = 'balanced',
  limits: PlacementLimits = DEFAULT_LIMITS,
): PlacementResult {
  const loads = new Map<string, Load>();
  const ordered = [...nodes].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  for (const n of ordered) loads.set(n.name, { node: n, mem: n.baseMemMiB, cores: n.baseCores, units: 0 });
  const assignment: (string | undefined)[] = new Array<string | undefined>(demands.length).fill(undefined);
  const unplaced: PlacementResult['unplaced'] = [];
  const all = [...loads.values()];

  // demands usually share one `allowed` array: filter once per distinct array
  const candidateCache = new Map<readonly string[], Load[]>();
  const candidates = (d: Demand): Load[] => {
    if (d.allowed === undefined) return all;
    let c = candidateCache.get(d.allowed);
    if (!c) {
      const allow = new Set(d.allowed);
      c = all.filter((l) => allow.has(l.node.name));
      candidateCache.set(d.allowed, c);
    }
    return c;
  };
  const put = (i: number, l: Load): void => {
    const d = demands[i] as Demand;
    l.mem += d.memMiB;
    l.cores += d.cores;
    l.units++;
    assignment[i] = l.node.name;
  };

  // recorded units first, where they are, whatever the limits (they exist already)
  const free: number[] = [];
  demands.forEach((d, i) => {
    if (d.pinned !== undefined) {
      const l = loads.get(d.pinned);
      if (l) put(i, l);
      else unplaced.push(unplacedAs(d.key, msg('unplaced.recordedOn', { node: d.pinned })));
    } else free.push(i);
  });

  let pinnedNode: string | undefined;
  if (strategy.startsWith('node:')) pinnedNode = strategy.slice(5);

  if (strategy === 'balanced') {
    // decreasing size (LPT), stable on the original order
    free.sort((a, b) => {
      const da = demands[a] as Demand;
      const db = demands[b] as Demand;
      return db.memMiB - da.memMiB || db.cores - da.cores || a - b;
    });
  }

  const order = new Map(all.map((l, k) => [l, k]));
  const entry = (l: Load, d: Demand): HeapEntry => ({
    load: l,
    u: util(l, limits, d.memMiB, d.cores),
    m: memUtil(l, d.memMiB),
    k: order.get(l) ?? 0,
  });
  let heap: NodeHeap | undefined;
  let heapFor: Demand = { key: '', memMiB: -1, cores: -1 };
  let rr = 0;
  for (const i of free) {
    const d = demands[i] as Demand;
    const cands = candidates(d);
    let chosen: Load | undefined;
    if (pinnedNode !== undefined) {
      const l = cands.find((c) => c.node.name === pinnedNode);
      if (!l) {
        unplaced.push(unplacedAs(d.key, msg('unplaced.notEligible', { node: pinnedNode })));
        continue;
      }
      chosen = fits(l, d, limits) ? l : undefined;
    } else if (strategy === 'round-robin') {
      for (let k = 0; k < all.length && !chosen; k++) {
        const l = all[(rr + k) % all.length] as Load;
        if (cands.includes(l) && fits(l, d, limits)) {
          chosen = l;
          rr = (rr + k + 1) % all.length;
        }
      }
    } else if (strategy === 'pack') {
      chosen = cands.find((l) => fits(l, d, limits));
    } else {
      // Identical demands come in runs (LPT order; a class is usually one profile): keep a heap of the nodes keyed
      // by the utilisation they would reach, so each placement is O(log nodes) instead of a scan.
      if (!heap || heapFor.memMiB !== d.memMiB || heapFor.cores !== d.cores || heapFor.allowed !== d.allowed) {
        heap = new NodeHeap();
        heapFor = d;
        for (const l of cands) if (fits(l, d, limits)) heap.push(entry(l, d));
      }
      chosen = heap.pop()?.load;
    }
    if (chosen) {
      put(i, chosen);
      if (heap && fits(chosen, d, limits)) heap.push(entry(chosen, d));
    } else unplaced.push(unplacedAs(d.key, why(cands, d, limits)));
  }

  if (strategy === 'balanced' && unplaced.length === 0) improve(demands, free, assignment, loads, limits);

  const projections: NodeProjection[] = all.map((l) => ({
    node: l.node.name,
    online: true,
    maxCpu: l.node.maxCpu,
    maxMemMiB: l.node.maxMemMiB,
    baseMemMiB: l.node.baseMemMiB,
    baseCores: l.node.baseCores,
    addedMemMiB: l.mem - l.node.baseMemMiB,
    addedCores: l.cores - l.node.baseCores,
    memUtil: memUtil(l),
    cpuUtil: cpuUtil(l, limits),
    stands: l.units,
  }));
  return {
    assignment,
    unplaced,
    nodes: projections,
    maxMemUtil: Math.max(0, ...projections.map((p) => p.memUtil)),
    maxUtil: Math.max(0, ...projections.map((p) => Math.max(p.memUtil, p.cpuUtil))),
  };
}

interface HeapEntry {
  load: Load;
  /** Utilisation (max of memory and CPU) the node would reach with the demand; ties: memory, then node order. */
  u: number;
  m: number;
  k: number;
}

const before = (a: HeapEntry, b: HeapEntry): boolean =>
  a.u < b.u - 1e-12 || (Math.abs(a.u - b.u) <= 1e-12 && (a.m < b.m - 1e-12 || (Math.abs(a.m - b.m) <= 1e-12 && a.k < b.k)));

/** A binary min-heap of nodes for `balanced`. */
class NodeHeap {
  private readonly a: HeapEntry[] = [];
  push(e: HeapEntry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i] as HeapEntry, a[p] as HeapEntry)) break;
      [a[i], a[p]] = [a[p] as HeapEntry, a[i] as HeapEntry];
      i = p;
    }
  }
  pop(): HeapEntry | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as HeapEntry, a[m] as HeapEntry)) m = l;
        if (r < a.length && before(a[r] as HeapEntry, a[m] as HeapEntry)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as HeapEntry, a[i] as HeapEntry];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Local search for `balanced`: move a unit off the most loaded node, or swap it with a smaller one elsewhere,
 * whenever that lowers the pair's higher utilisation. Bounded, so large classes stay fast (greedy is already
 * within one unit's share there).
 */
function improve(
  demands: readonly Demand[],
  movable: readonly number[],
  assignment: (string | undefined)[],
  loads: Map<string, Load>,
  limits: PlacementLimits,
): void {
  if (movable.length === 0 || loads.size < 2) return;
  const all = [...loads.values()];
  const maxRounds = movable.length <= 64 ? 200 : 20;
  const byNode = (name: string): number[] => movable.filter((i) => assignment[i] === name);
  const allowedOn = (d: Demand, l: Load): boolean => d.allowed === undefined || d.allowed.includes(l.node.name);
  for (let round = 0; round < maxRounds; round++) {
    const top = all.reduce((a, b) => (util(a, limits) >= util(b, limits) ? a : b));
    const topU = util(top, limits);
    let done = false;
    for (const i of byNode(top.node.name)) {
      const d = demands[i] as Demand;
      // move
      for (const l of all) {
        if (l === top || !allowedOn(d, l) || !fits(l, d, limits)) continue;
        if (util(l, limits, d.memMiB, d.cores) < topU - 1e-12) {
          top.mem -= d.memMiB;
          top.cores -= d.cores;
          top.units--;
          l.mem += d.memMiB;
          l.cores += d.cores;
          l.units++;
          assignment[i] = l.node.name;
          done = true;
          break;
        }
      }
      if (done) break;
      if (movable.length > 64) continue;
      // swap with a smaller unit elsewhere (small classes only: this is quadratic)
      for (const j of movable) {
        const other = assignment[j];
        if (other === undefined || other === top.node.name) continue;
        const e = demands[j] as Demand;
        if (e.memMiB >= d.memMiB && e.cores >= d.cores) continue;
        const l = loads.get(other) as Load;
        if (!allowedOn(d, l) || !allowedOn(e, top)) continue;
        const dm = d.memMiB - e.memMiB;
        const dc = d.cores - e.cores;
        const newTop = util(top, limits, -dm, -dc);
        const newL = util(l, limits, dm, dc);
        if (Math.max(newTop, newL) < topU - 1e-12 && memUtil(l, dm) <= limits.memory + 1e-9 && cpuUtil(l, limits, dc) <= 1 + 1e-9) {
          top.mem -= dm;
          top.cores -= dc;
          l.mem += dm;
          l.cores += dc;
          assignment[i] = other;
          assignment[j] = top.node.name;
          done = true;
          break;
        }
      }
      if (done) break;
    }
    if (!done) return;
  }
}

/**
 * The exact optimum by exhaustive search (nodes^units assignments; meant for ≤ 8 units, as in benchmark 6): the
 * lowest achievable highest utilisation (`metric`: memory only, or the max of memory and CPU) within the limits.
 * Infinity when no assignment fits.
 */
export function optimalMaxUtil(
  nodes: readonly PlacementNode[],
  demands: readonly Demand[],
  limits: PlacementLimits = DEFAULT_LIMITS,
  metric: 'memory' | 'max' = 'max',
): number {
  if (demands.length > 10) throw new RangeError('optimalMaxUtil is exhaustive: at most 10 units');
  const mem = nodes.map((n) => n.baseMemMiB);
  const cores = nodes.map((n) => n.baseCores);
  let best = Infinity;
  const score = (): number => {
    let worst = 0;
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k] as PlacementNode;
      const m = (mem[k] as number) / n.maxMemMiB;
      const c = (cores[k] as number) / (n.maxCpu * limits.cpuOvercommit);
      worst = Math.max(worst, metric === 'memory' ? m : Math.max(m, c));
    }
    return worst;
  };
  const walk = (i: number): void => {
    if (i === demands.length) {
      best = Math.min(best, score());
      return;
    }
    const d = demands[i] as Demand;
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k] as PlacementNode;
      if (d.pinned !== undefined && d.pinned !== n.name) continue;
      if (d.allowed !== undefined && !d.allowed.includes(n.name)) continue;
      const m = (mem[k] as number) + d.memMiB;
      const c = (cores[k] as number) + d.cores;
      if (m / n.maxMemMiB > limits.memory + 1e-9 || c / (n.maxCpu * limits.cpuOvercommit) > 1 + 1e-9) continue;
      mem[k] = m;
      cores[k] = c;
      walk(i + 1);
      mem[k] = m - d.memMiB;
      cores[k] = c - d.cores;
    }
  };
  walk(0);
  return best;
}
