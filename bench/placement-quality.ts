/**
 * Benchmark 6: placement quality on unequal nodes. Calls the pure `placeStands` (balanced) and compares the
 * highest node memory utilisation after the class is placed with the best achievable:
 *  - exact, by exhaustive search, for classes of up to 8 stands;
 *  - for large classes, the fractional bound: "total over total" (all allocated memory over all memory), and
 *    the tighter water-filling level (no node can drop below its own pre-existing load), both true lower bounds.
 * Goal: within 5% of it, or within one stand's share (the stand's memory over the memory of the node that ends
 * highest), whichever is larger.
 */
import { pathToFileURL } from 'node:url';
import { DEFAULT_LIMITS, placeStands, type Demand, type PlacementLimits, type PlacementNode } from '../src/core/placement.js';
import { verdict, type ResultRow } from './lib/results.js';

const GiB = 1024;

interface Scenario {
  name: string;
  nodes: PlacementNode[];
  demands: Demand[];
}

/** The default seed's three unequal nodes with their pre-existing VMs (web-prod, db-prod, backup). */
export const DEFAULT_NODES: PlacementNode[] = [
  { name: 'pve1', maxMemMiB: 64 * GiB, maxCpu: 16, baseMemMiB: 4096, baseCores: 2 },
  { name: 'pve2', maxMemMiB: 48 * GiB, maxCpu: 12, baseMemMiB: 8192, baseCores: 4 },
  { name: 'pve3', maxMemMiB: 32 * GiB, maxCpu: 8, baseMemMiB: 2048, baseCores: 2 },
];

const FIVE_NODES: PlacementNode[] = [
  { name: 'a', maxMemMiB: 256 * GiB, maxCpu: 64, baseMemMiB: 60 * GiB, baseCores: 40 },
  { name: 'b', maxMemMiB: 192 * GiB, maxCpu: 48, baseMemMiB: 16 * GiB, baseCores: 8 },
  { name: 'c', maxMemMiB: 128 * GiB, maxCpu: 32, baseMemMiB: 40 * GiB, baseCores: 10 },
  { name: 'd', maxMemMiB: 96 * GiB, maxCpu: 24, baseMemMiB: 0, baseCores: 0 },
  { name: 'e', maxMemMiB: 64 * GiB, maxCpu: 16, baseMemMiB: 10 * GiB, baseCores: 4 },
];

/** Like the simulator's bigSeed: sizes 256/192/128 GiB cycling, every node with some VMs already. */
function bigNodes(n: number): PlacementNode[] {
  const sizes = [
    { maxMemMiB: 256 * GiB, maxCpu: 32 },
    { maxMemMiB: 192 * GiB, maxCpu: 24 },
    { maxMemMiB: 128 * GiB, maxCpu: 16 },
  ];
  return Array.from({ length: n }, (_, i) => ({
    name: `pve${i + 1}`,
    ...sizes[i % 3]!,
    baseMemMiB: ((i * 7) % 11) * 4 * GiB,
    baseCores: (i * 5) % 13,
  }));
}

const stand = (key: string, memMiB: number, cores: number): Demand => ({ key, memMiB, cores });
/** 4-VM stand of the linked-clone benchmark: 2 × 1 GiB + 2 × 2 GiB, 6 cores. */
const class4 = (n: number): Demand[] => Array.from({ length: n }, (_, i) => stand(`s${i}`, 6 * GiB, 6));
/**
 * 3-VM stand, 1 core and 2–4 GiB each (8 GiB, 3 cores): memory binds before the 4× CPU overcommit on these
 * nodes, so the memory metric is the one `balanced` is actually minimising (it minimises max(mem, cpu)).
 */
const class3 = (n: number): Demand[] => Array.from({ length: n }, (_, i) => stand(`s${i}`, 8 * GiB, 3));
/** Mixed class (two profiles in one placement, e.g. a re-run adding a second group): exhaustive still exact. */
const mixed = (n: number): Demand[] =>
  Array.from({ length: n }, (_, i) => (i % 2 ? stand(`big${i}`, 12 * GiB, 8) : stand(`small${i}`, 3 * GiB, 2)));

const memUtilOf = (n: PlacementNode, mem: number): number => mem / n.maxMemMiB;

/** Exhaustive optimum of the highest memory utilisation under the same limits (branch and bound). */
export function exactOptimum(nodes: readonly PlacementNode[], demands: readonly Demand[], limits: PlacementLimits): number {
  const mem = nodes.map((n) => n.baseMemMiB);
  const cores = nodes.map((n) => n.baseCores);
  let best = Infinity;
  const order = [...demands].sort((a, b) => b.memMiB - a.memMiB);
  const rec = (i: number, curMax: number, lastNodeForSame: number): void => {
    if (curMax >= best) return;
    if (i === order.length) {
      best = curMax;
      return;
    }
    const d = order[i]!;
    const same = i > 0 && order[i - 1]!.memMiB === d.memMiB && order[i - 1]!.cores === d.cores;
    // identical stands are interchangeable: assign them to non-decreasing node indexes only
    for (let k = same ? lastNodeForSame : 0; k < nodes.length; k++) {
      const n = nodes[k]!;
      const m = mem[k]! + d.memMiB;
      const c = cores[k]! + d.cores;
      if (m / n.maxMemMiB > limits.memory + 1e-9 || c / (n.maxCpu * limits.cpuOvercommit) > 1 + 1e-9) continue;
      mem[k] = m;
      cores[k] = c;
      rec(i + 1, Math.max(curMax, memUtilOf(n, m)), k);
      mem[k] = m - d.memMiB;
      cores[k] = c - d.cores;
    }
  };
  const base = Math.max(...nodes.map((n) => memUtilOf(n, n.baseMemMiB)));
  rec(0, base, 0);
  return best;
}

/** Total over total, and the water-filling level (a node already above the level keeps its own load). */
export function fractionalBounds(nodes: readonly PlacementNode[], demands: readonly Demand[]): { totalOverTotal: number; waterFill: number } {
  const add = demands.reduce((a, d) => a + d.memMiB, 0);
  const cap = nodes.reduce((a, n) => a + n.maxMemMiB, 0);
  const base = nodes.reduce((a, n) => a + n.baseMemMiB, 0);
  const totalOverTotal = (base + add) / cap;
  // find L with sum over nodes of max(0, L*max - base) = add (bisection; monotone in L)
  let lo = 0;
  let hi = 10;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    const room = nodes.reduce((a, n) => a + Math.max(0, mid * n.maxMemMiB - n.baseMemMiB), 0);
    if (room >= add) hi = mid;
    else lo = mid;
  }
  return { totalOverTotal, waterFill: Math.max(hi, ...nodes.map((n) => n.baseMemMiB / n.maxMemMiB)) };
}

export interface PlacementQualityCase {
  scenario: string;
  stands: number;
  method: 'exact' | 'fractional';
  achieved: number;
  best: number;
  totalOverTotal?: number;
  ratio: number;
  allowance: number;
  ok: boolean;
  ms: number;
}

export function evaluate(s: Scenario, limits: PlacementLimits = DEFAULT_LIMITS): PlacementQualityCase {
  const t0 = performance.now();
  const r = placeStands(s.nodes, s.demands, 'balanced', limits);
  const ms = performance.now() - t0;
  if (r.unplaced.length) throw new Error(`${s.name}: ${r.unplaced.length} stands unplaced (${r.unplaced[0]!.reason})`);
  const achieved = r.maxMemUtil;
  const exact = s.demands.length <= 8;
  const frac = fractionalBounds(s.nodes, s.demands);
  const best = exact ? exactOptimum(s.nodes, s.demands, limits) : frac.waterFill;
  const top = r.nodes.reduce((a, b) => (a.memUtil >= b.memUtil ? a : b));
  const biggest = Math.max(...s.demands.map((d) => d.memMiB));
  const share = biggest / top.maxMemMiB;
  const allowance = Math.max(best * 0.05, share);
  return {
    scenario: s.name,
    stands: s.demands.length,
    method: exact ? 'exact' : 'fractional',
    achieved,
    best,
    ...(exact ? {} : { totalOverTotal: frac.totalOverTotal }),
    ratio: achieved / best,
    allowance,
    ok: achieved <= best + allowance + 1e-9,
    ms,
  };
}

export function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) out.push({ name: 'default 3 nodes, 4-VM stands', nodes: DEFAULT_NODES, demands: class4(n) });
  for (const n of [3, 5, 8]) out.push({ name: '5 unequal nodes, 4-VM stands', nodes: FIVE_NODES, demands: class4(n) });
  for (const n of [4, 7, 8]) out.push({ name: '5 unequal nodes, mixed stands', nodes: FIVE_NODES, demands: mixed(n) });
  out.push({ name: 'default 3 nodes, 4-VM stands', nodes: DEFAULT_NODES, demands: class4(12) });
  out.push({ name: '5 unequal nodes, 4-VM stands', nodes: FIVE_NODES, demands: class4(60) });
  out.push({ name: '32 nodes, 3-VM stands', nodes: bigNodes(32), demands: class3(500) });
  out.push({ name: '32 nodes, 3-VM stands', nodes: bigNodes(32), demands: class3(300) });
  return out;
}

export function runPlacementQuality(): { rows: ResultRow[]; cases: PlacementQualityCase[] } {
  const cases = scenarios().map((s) => evaluate(s));
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const rows: ResultRow[] = cases.map((c) => ({
    bench: '6',
    metric: `placement ${c.scenario}, ${c.stands} stands (${c.method})`,
    value: `max mem ${pct(c.achieved)} vs ${c.method === 'exact' ? 'optimum' : 'bound'} ${pct(c.best)} (×${c.ratio.toFixed(3)})`,
    goal: `≤ +${pct(c.allowance)}`,
    verdict: verdict(c.ok),
    note: `${c.ms.toFixed(1)} ms${c.totalOverTotal !== undefined ? `; total/total ${pct(c.totalOverTotal)}` : ''}`,
  }));
  const worst = cases.reduce((a, b) => (a.ratio >= b.ratio ? a : b));
  rows.push({
    bench: '6',
    metric: 'placement: worst ratio over all cases',
    value: `×${worst.ratio.toFixed(3)} (${worst.scenario}, ${worst.stands})`,
    goal: 'every case met',
    verdict: verdict(cases.every((c) => c.ok)),
  });
  return { rows, cases };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { rows } = runPlacementQuality();
  for (const r of rows) console.log(`${r.verdict.padEnd(7)} ${r.metric}: ${r.value} (goal ${r.goal}) ${r.note ?? ''}`);
}
