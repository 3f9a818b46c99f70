/** The benchmark's lower bound: each term computed as bench/README.md argues, on a plan small enough to check by hand. */
import { describe, expect, it } from 'vitest';
import { computeLowerBound, sequentialFloor } from '../../bench/lower-bound.js';
import type { DeployPlan, StandPlan, VmPlan } from '../../src/core/types.js';
import { DEFAULT_TIMING } from '../../src/sim/index.js';

const vm = (vmid: number, node: string, templateVmid = 9000): VmPlan => ({
  machine: `m${vmid}`, vmid, name: `u-m${vmid}`, node, templateVmid, templateNode: node, sourceTemplateVmid: 9000,
  full: false, effectiveCores: 1, effectiveMemoryMiB: 512, device: 'linux', nets: [], deleteNets: [], tags: [],
  description: '', recorded: false,
});
const stand = (key: string, node: string, vms: VmPlan[]): StandPlan => ({
  key, group: 'g', userid: `${key}@pve`, slug: key, pool: `g-${key}`, node, vms, segments: [], vlans: [],
  userExists: false, memoryMiB: 512, cores: 1, recorded: false, warnings: [],
});
const plan = (stands: StandPlan[], replicas: DeployPlan['replicas'] = []) => ({ stands, replicas, start: true, applyNodes: [], mode: 'bridges' as const });
const templates = new Map([[9000, { diskGiB: 8, storage: 'local-lvm', shared: false }]]);

describe('computeLowerBound', () => {
  it('one VM: the critical path clone → min config → min snapshot → start', () => {
    const lb = computeLowerBound({ plan: plan([stand('a', 'pve1', [vm(100, 'pve1')])]), timing: DEFAULT_TIMING, templates });
    expect(lb.ms).toBe(2000 + 200 + 200 + 3000);
    expect(lb.terms.find((t) => t.name.startsWith('critical path'))!.ms).toBe(5400);
  });

  it('ten linked clones on one node-local storage: the lock holds add up, plus the last one’s tail', () => {
    const vms = Array.from({ length: 10 }, (_, i) => vm(100 + i, 'pve1'));
    const lb = computeLowerBound({ plan: plan([stand('a', 'pve1', vms)]), timing: DEFAULT_TIMING, templates });
    // 10 × 300 ms under the lock, then 1700 ms rest of the clone + 200 + 200 + 3000
    expect(lb.binding).toBe('storage local-lvm@pve1 lock: 10 holds');
    expect(lb.ms).toBe(3000 + 1700 + 200 + 200 + 3000);
  });

  it('a replica to build first lengthens the critical path by full clone + template + migrate', () => {
    const replica = { sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve2', vmid: 100000, name: 'r', storage: 'local-lvm', exists: false };
    const lb = computeLowerBound({ plan: plan([stand('a', 'pve2', [vm(100, 'pve2', 100000)])], [replica]), timing: DEFAULT_TIMING, templates });
    expect(lb.ms).toBe(8 * 1000 + 1000 + 8 * 1000 + 5400);
  });

  it('clones of a replica queue on their own node\'s lock only after the replica chain: chain + Σ holds + tail', () => {
    const replica = { sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve2', vmid: 100000, name: 'r', storage: 'local-lvm', exists: false };
    const vms = Array.from({ length: 20 }, (_, i) => vm(100 + i, 'pve2', 100000));
    const lb = computeLowerBound({ plan: plan([stand('a', 'pve2', vms)], [replica]), timing: DEFAULT_TIMING, templates });
    // replica chain 8 s + 1 s + 8 s, then 20 × 300 ms on local-lvm@pve2, then 1.7 s + 0.2 + 0.2 + 3 s
    expect(lb.binding).toBe('storage local-lvm@pve2 lock: 20 holds');
    expect(lb.ms).toBe(17_000 + 6000 + 5100);
  });

  it('a replica\'s full clone on the source lock keeps its own tail (rest of the copy, template, migrate, a clone of it)', () => {
    const replica = { sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve2', vmid: 100000, name: 'r', storage: 'local-lvm', exists: false };
    const vms = Array.from({ length: 60 }, (_, i) => vm(100 + i, 'pve1'));
    const lb = computeLowerBound({
      plan: plan([stand('a', 'pve1', vms), stand('b', 'pve2', [vm(200, 'pve2', 100000)])], [replica]),
      timing: DEFAULT_TIMING,
      templates,
    });
    const term = lb.terms.find((t) => t.name.startsWith('storage local-lvm@pve1'))!;
    // S = all 61 holds: 4 s + 60 × 0.3 s, then the smallest tail (a linked clone's 5.1 s); more than the replica
    // hold alone (4 s + its tail: 4 s rest of the copy + 1 s template + 8 s migrate + 2 s clone + 3.4 s = 22.4 s)
    expect(term.ms).toBe(4000 + 18_000 + 5100);
    const few = computeLowerBound({
      plan: plan([stand('a', 'pve1', vms.slice(0, 30)), stand('b', 'pve2', [vm(200, 'pve2', 100000)])], [replica]),
      timing: DEFAULT_TIMING,
      templates,
    });
    expect(few.terms.find((t) => t.name.startsWith('storage local-lvm@pve1'))!.ms).toBe(4000 + 18_400);
  });

  it('a shared replica: its chain is full clone + template (no migrate), its copy and every clone of it on the one shared lock', () => {
    const replica = { sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve1', vmid: 100000, name: 'r', storage: 'ceph', exists: false, shared: true };
    const on = (vmid: number, node: string): VmPlan => ({ ...vm(vmid, node, 100000), templateNode: 'pve1' });
    const storages = new Map([['local-lvm', false], ['ceph', true]]);
    const one = computeLowerBound({ plan: plan([stand('a', 'pve2', [on(100, 'pve2')])], [replica]), timing: DEFAULT_TIMING, templates, storages });
    // 8 s copy + 1 s template, then clone + config + snapshot + start
    expect(one.ms).toBe(8000 + 1000 + 5400);
    // 30 clones on three nodes all queue on `storage ceph`, behind the replica's 4 s copy: 4 s + 30 × 0.3 s + tail
    const vms = (node: string, base: number) => Array.from({ length: 10 }, (_, i) => on(base + i, node));
    const many = computeLowerBound({
      plan: plan([stand('a', 'pve2', vms('pve2', 100)), stand('b', 'pve3', vms('pve3', 200)), stand('c', 'pve4', vms('pve4', 300))], [replica]),
      timing: DEFAULT_TIMING,
      templates,
      storages,
    });
    const term = many.terms.find((t) => t.name.startsWith('storage ceph lock'))!;
    expect(term.name).toBe('storage ceph lock: 31 holds');
    // the clones cannot start before the chain (9 s): 9 s + 30 × 0.3 s + 5.1 s tail beats 4 s + 9 s + 5.1 s
    expect(term.ms).toBe(9000 + 9000 + 5100);
    expect(many.terms.some((t) => t.name.includes('local-lvm'))).toBe(false);
    expect(sequentialFloor({ plan: plan([stand('a', 'pve2', [on(100, 'pve2')])], [replica]), timing: DEFAULT_TIMING, templates, storages }, 'min')).toBe(9000 + 5400);
  });

  it('the idealised sequential time is the plain sum of every step', () => {
    const p = plan([stand('a', 'pve1', [vm(100, 'pve1'), vm(101, 'pve1')])]);
    expect(sequentialFloor({ plan: p, timing: DEFAULT_TIMING, templates }, 'min')).toBe(2 * 5400);
    expect(sequentialFloor({ plan: p, timing: DEFAULT_TIMING, templates }, 'mean')).toBe(2 * (2000 + 600 + 600 + 3000));
  });
});
