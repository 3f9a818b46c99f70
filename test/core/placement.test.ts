import { describe, expect, it } from 'vitest';
import { optimalMaxUtil, placeStands, type Demand, type PlacementNode } from '../../src/core/placement.js';

const GiB = 1024;
// DEFAULT_SEED's unequal nodes, with the foreign VMs counted (4 GiB on pve1, 8 GiB on pve2, 2 GiB on pve3)
const seedNodes: PlacementNode[] = [
  { name: 'pve1', maxMemMiB: 64 * GiB, maxCpu: 16, baseMemMiB: 4 * GiB, baseCores: 2 },
  { name: 'pve2', maxMemMiB: 48 * GiB, maxCpu: 12, baseMemMiB: 8 * GiB, baseCores: 4 },
  { name: 'pve3', maxMemMiB: 32 * GiB, maxCpu: 8, baseMemMiB: 2 * GiB, baseCores: 2 },
];
const stands = (n: number, memMiB = 3 * GiB, cores = 3): Demand[] =>
  Array.from({ length: n }, (_, i) => ({ key: `s${i}`, memMiB, cores }));
const count = (a: (string | undefined)[]): Record<string, number> =>
  a.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n ?? '-']: (acc[n ?? '-'] ?? 0) + 1 }), {});

describe('balanced', () => {
  it('spreads by capacity on unequal nodes, not by count', () => {
    const r = placeStands(seedNodes, stands(12), 'balanced');
    expect(count(r.assignment)).toEqual({ pve1: 6, pve2: 3, pve3: 3 });
    // (4 + 18) / 64 = 34%, (8 + 9) / 48 = 35%, (2 + 9) / 32 = 34%
    expect(r.unplaced).toEqual([]);
    expect(r.maxMemUtil).toBeCloseTo(17 / 48, 5);
  });

  it('matches the exhaustive optimum on a small mixed class', () => {
    const nodes: PlacementNode[] = [
      { name: 'a', maxMemMiB: 10_000, maxCpu: 100, baseMemMiB: 0, baseCores: 0 },
      { name: 'b', maxMemMiB: 6_000, maxCpu: 100, baseMemMiB: 0, baseCores: 0 },
    ];
    const demands: Demand[] = [3000, 3000, 2000, 2000, 2000, 2000].map((m, i) => ({ key: `d${i}`, memMiB: m, cores: 0 }));
    // greedy LPT alone ends at 9000/10000 (90%) here; the optimum is a = 3000+3000+2000+2000, b = 2000+2000
    let best = Infinity;
    for (let mask = 0; mask < 1 << demands.length; mask++) {
      let ma = 0;
      let mb = 0;
      demands.forEach((d, i) => ((mask >> i) & 1 ? (ma += d.memMiB) : (mb += d.memMiB)));
      best = Math.min(best, Math.max(ma / 10_000, mb / 6_000));
    }
    const r = placeStands(nodes, demands, 'balanced', { memory: 1, cpuOvercommit: 4 });
    expect(r.maxMemUtil).toBeCloseTo(best, 9);
  });

  it('leaves nothing over the memory limit and says which stand does not fit and why', () => {
    const r = placeStands(seedNodes, stands(40, 3 * GiB, 1), 'balanced');
    // room under 90%: pve1 (57.6-4)/3 = 17, pve2 (43.2-8)/3 = 11, pve3 (28.8-2)/3 = 8 → 36 stands
    expect(r.assignment.filter(Boolean).length).toBe(36);
    expect(r.unplaced.length).toBe(4);
    expect(r.unplaced[0]?.reason).toBe('needs 3072 MiB: even pve1 would reach 90.6% memory (limit 90%)');
    for (const n of r.nodes) expect(n.memUtil).toBeLessThanOrEqual(0.9);
  });

  it('respects the CPU overcommit limit', () => {
    const nodes: PlacementNode[] = [{ name: 'n', maxMemMiB: 1_000_000, maxCpu: 2, baseMemMiB: 0, baseCores: 0 }];
    const r = placeStands(nodes, stands(5, 100, 2), 'balanced');
    expect(r.assignment.filter(Boolean).length).toBe(4);
    expect(r.unplaced[0]?.reason).toBe('needs 2 cores: every node would exceed 4× CPU overcommit');
  });

  it('keeps pinned (recorded) stands on their node and honours allowed nodes', () => {
    const demands: Demand[] = [
      { key: 'old', memMiB: GiB, cores: 1, pinned: 'pve3' },
      { key: 'local', memMiB: GiB, cores: 1, allowed: ['pve2'] },
    ];
    const r = placeStands(seedNodes, demands, 'balanced');
    expect(r.assignment).toEqual(['pve3', 'pve2']);
  });
});

describe('other strategies', () => {
  it('round-robin cycles over nodes in order, skipping a full one', () => {
    const nodes: PlacementNode[] = [
      { name: 'a', maxMemMiB: 10 * GiB, maxCpu: 8, baseMemMiB: 0, baseCores: 0 },
      { name: 'b', maxMemMiB: 2 * GiB, maxCpu: 8, baseMemMiB: 0, baseCores: 0 },
      { name: 'c', maxMemMiB: 10 * GiB, maxCpu: 8, baseMemMiB: 0, baseCores: 0 },
    ];
    const r = placeStands(nodes, stands(5, GiB, 1), 'round-robin');
    expect(r.assignment).toEqual(['a', 'b', 'c', 'a', 'c']);
  });

  it('pack fills the first node up to the limit before the next', () => {
    const r = placeStands(seedNodes, stands(20, 3 * GiB, 1), 'pack');
    expect(count(r.assignment)).toEqual({ pve1: 17, pve2: 3 });
  });

  it('node:<name> puts everything on that node or refuses the rest', () => {
    const r = placeStands(seedNodes, stands(10, 3 * GiB, 1), 'node:pve3');
    expect(count(r.assignment)).toEqual({ pve3: 8, '-': 2 });
    const gone = placeStands(seedNodes, stands(1), 'node:pve9');
    expect(gone.unplaced).toMatchObject([{ key: 's0', reason: 'node pve9 is not eligible' }]);
  });
});

describe('scale', () => {
  it('places 2,000 stands on 32 nodes with every stand assigned', () => {
    const nodes: PlacementNode[] = Array.from({ length: 32 }, (_, i) => ({
      name: `n${i}`,
      maxMemMiB: (64 + (i % 4) * 64) * GiB,
      maxCpu: 32 + (i % 4) * 16,
      baseMemMiB: (i % 3) * 8 * GiB,
      baseCores: 4,
    }));
    const r = placeStands(nodes, stands(2000, 2 * GiB, 2), 'balanced');
    expect(r.unplaced).toEqual([]);
    // fractional bound: total allocated over total memory
    const total = nodes.reduce((s, n) => s + n.maxMemMiB, 0);
    const used = nodes.reduce((s, n) => s + n.baseMemMiB, 0) + 2000 * 2 * GiB;
    const share = (2 * GiB) / (64 * GiB);
    expect(r.maxMemUtil).toBeLessThanOrEqual(used / total + share);
  });
});

describe('quality against the exhaustive optimum (benchmark 6)', () => {
  it('stays within 5% (or one stand’s share) of the optimum on 300 random small classes', () => {
    let seed = 42;
    const rnd = (): number => {
      // deterministic LCG: the test is reproducible
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let worstRatio = 1;
    for (let round = 0; round < 300; round++) {
      const nodeCount = 2 + Math.floor(rnd() * 3);
      const nodes: PlacementNode[] = Array.from({ length: nodeCount }, (_, i) => ({
        name: `n${i}`,
        maxMemMiB: [16, 32, 48, 64, 128][Math.floor(rnd() * 5)]! * GiB,
        maxCpu: 64,
        baseMemMiB: Math.floor(rnd() * 8) * GiB,
        baseCores: 0,
      }));
      const demands: Demand[] = Array.from({ length: 1 + Math.floor(rnd() * 8) }, (_, i) => ({
        key: `s${i}`,
        memMiB: [1, 2, 3, 4, 6, 8][Math.floor(rnd() * 6)]! * GiB,
        cores: 0,
      }));
      const limits = { memory: 1, cpuOvercommit: 4 };
      const opt = optimalMaxUtil(nodes, demands, limits, 'memory');
      const r = placeStands(nodes, demands, 'balanced', limits);
      if (opt === Infinity) continue;
      expect(r.unplaced).toEqual([]);
      const share = Math.max(...demands.map((d) => d.memMiB)) / Math.min(...nodes.map((n) => n.maxMemMiB));
      expect(r.maxMemUtil).toBeLessThanOrEqual(Math.max(opt * 1.05, opt + share) + 1e-9);
      worstRatio = Math.max(worstRatio, r.maxMemUtil / opt);
    }
    // the local search makes most small classes exact; this pins down that it keeps doing so
    expect(worstRatio).toBeLessThan(1.2);
  });
});
