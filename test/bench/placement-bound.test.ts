/** The best bound over placements (bench/placement-bound.ts), with the shared-replica option the planner has. */
import { describe, expect, it } from 'vitest';
import { bestBoundOverPlacements } from '../../bench/placement-bound.js';
import type { NodeProjection, StandPlan, VmPlan } from '../../src/core/types.js';
import { DEFAULT_TIMING } from '../../src/sim/index.js';

const vm = (vmid: number): VmPlan => ({
  machine: 'vm', vmid, name: `u-${vmid}`, node: 'pve1', templateVmid: 9000, templateNode: 'pve1', sourceTemplateVmid: 9000,
  full: false, effectiveCores: 1, effectiveMemoryMiB: 1024, device: 'linux', nets: [], deleteNets: [], tags: [],
  description: '', recorded: false,
});
const stand = (i: number): StandPlan => ({
  key: `s${i}`, group: 'g', userid: `s${i}@pve`, slug: `s${i}`, pool: `g-s${i}`, node: 'pve1', vms: [vm(100 + i)], segments: [], vlans: [],
  userExists: false, memoryMiB: 1024, cores: 1, recorded: false, warnings: [],
});
/** three nodes that take two stands each (2 GiB of RAM, limit 1.0): the class must spread */
const node = (name: string): NodeProjection => ({
  node: name, online: true, maxCpu: 8, maxMemMiB: 2048, baseMemMiB: 0, baseCores: 0, addedMemMiB: 0, addedCores: 0, memUtil: 0, cpuUtil: 0, stands: 0,
});
const plan = {
  stands: Array.from({ length: 6 }, (_, i) => stand(i)),
  replicas: [],
  start: true,
  applyNodes: [],
  mode: 'bridges' as const,
  nodes: ['pve1', 'pve2', 'pve3'].map(node),
  limits: { memory: 1, cpuOvercommit: 4 },
};
const input = {
  plan,
  timing: DEFAULT_TIMING,
  templates: new Map([[9000, { diskGiB: 8, storage: 'local-lvm', shared: false, node: 'pve1' }]]),
  storages: new Map([['local-lvm', false], ['ceph', true]]),
};

describe('bestBoundOverPlacements', () => {
  it('per node only: two replicas (copies queue on pve1 local-lvm, each migrated)', () => {
    const b = bestBoundOverPlacements(input);
    expect(b.counts).toEqual({ pve1: 2, pve2: 2, pve3: 2 });
    expect(b.shared).toEqual([]);
    // second copy waits for the first's 4 s on local-lvm@pve1: 4 + 8 s copy + 1 s template + 8 s migrate + a clone's 5.4 s
    expect(b.best.ms).toBe(4000 + 8000 + 1000 + 8000 + 5400);
  });

  it('where the planner may take one shared replica, the bound considers it and is lower (no migrate, one copy)', () => {
    const b = bestBoundOverPlacements({ ...input, sharedReplicas: new Map([[9000, 'ceph']]) });
    expect(b.shared).toEqual([9000]);
    // 8 s copy + 1 s template, then the four clones on pve2 and pve3 queue on the one ceph lock (4 × 0.3 s), the
    // last one's tail (1.7 s rest of the clone + 0.2 + 0.2 + 3 s start)
    expect(b.best.ms).toBe(9000 + 4 * 300 + 5100);
    // warm: the shared replica exists
    const warm = bestBoundOverPlacements({ ...input, sharedReplicas: new Map([[9000, 'ceph']]), existingReplicas: new Set(['9000/shared']) });
    expect(warm.best.ms).toBe(4 * 300 + 5100);
  });
});
