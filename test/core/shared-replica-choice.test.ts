/** The per-template choice between per-node replicas and one shared replica (shared-replica.ts), as a pure function. */
import { describe, expect, it } from 'vitest';
import { chooseSharedReplicas, committedKinds, sharedReplicaCandidates, sharedReplicaStorage } from '../../src/core/shared-replica.js';
import type { InventoryStorage, TemplateInfo } from '../../src/core/inventory.js';

const candidates = new Map([[9000, 'ceph'], [9001, 'ceph']]);
/** makespan = the longest chain: 10 s per-node, `sharedMs` shared, per template */
const makespan = (sharedMs: Record<number, number>) => (s: ReadonlyMap<number, string>) => ({
  ms: Math.max(...[...candidates.keys()].map((v) => (s.has(v) ? sharedMs[v]! : 10_000))),
  make: 2,
});

describe('chooseSharedReplicas', () => {
  it('auto takes the shared replica of every template when only all of them shorten the makespan', () => {
    const r = chooseSharedReplicas({ mode: 'auto', candidates, committed: new Map(), evaluate: makespan({ 9000: 6000, 9001: 7000 }) });
    expect([...r.shared.keys()].sort()).toEqual([9000, 9001]);
  });

  it('auto keeps per-node on a tie, and per template where shared is no faster', () => {
    expect([...chooseSharedReplicas({ mode: 'auto', candidates, committed: new Map(), evaluate: makespan({ 9000: 10_000, 9001: 10_000 }) }).shared.keys()]).toEqual([]);
    // costs that add up: 9000 shared saves 6 s, 9001 shared costs 2 s more: only 9000 goes shared
    const sum = (s: ReadonlyMap<number, string>) => ({ ms: (s.has(9000) ? 4000 : 10_000) + (s.has(9001) ? 12_000 : 10_000), make: 2 });
    expect([...chooseSharedReplicas({ mode: 'auto', candidates, committed: new Map(), evaluate: sum }).shared.keys()]).toEqual([9000]);
  });

  it('on equal estimates the variant making fewer replicas wins (a recorded shared replica is not copied per node)', () => {
    const reuse = (s: ReadonlyMap<number, string>) => ({ ms: 5000, make: (s.has(9000) ? 0 : 3) + (s.has(9001) ? 1 : 1) });
    expect([...chooseSharedReplicas({ mode: 'auto', candidates, committed: new Map(), evaluate: reuse }).shared.keys()]).toEqual([9000]);
  });

  it('never and always decide without estimating; a group keeps what its recorded VMs use', () => {
    const evaluate = () => {
      throw new Error('not estimated');
    };
    expect(chooseSharedReplicas({ mode: 'never', candidates, committed: new Map(), evaluate }).shared.size).toBe(0);
    expect([...chooseSharedReplicas({ mode: 'always', candidates, committed: new Map(), evaluate }).shared.keys()]).toEqual([9000, 9001]);
    const committed = new Map<number, 'shared' | 'per-node'>([[9000, 'shared'], [9001, 'per-node']]);
    expect([...chooseSharedReplicas({ mode: 'never', candidates, committed, evaluate }).shared.keys()]).toEqual([9000]);
    expect([...chooseSharedReplicas({ mode: 'always', candidates, committed, evaluate }).shared.keys()]).toEqual([9000]);
  });

  it('reads the kind a group committed to from its stands and the replica records', () => {
    const k = committedKinds(
      [{ vms: [{ template: 100001 }, { template: 100002 }, { template: 9002 }] } as never],
      [
        { cluster: 'c', sourceVmid: 9000, sourceNode: 'pve1', node: 'pve1', vmid: 100001, name: 'tpl-9000-shared-ceph', shared: true, createdAt: 'x' },
        { cluster: 'c', sourceVmid: 9001, sourceNode: 'pve1', node: 'pve2', vmid: 100002, name: 'tpl-9001-pve2', createdAt: 'x' },
      ],
    );
    expect([...k]).toEqual([[9000, 'shared'], [9001, 'per-node']]);
  });
});

describe('sharedReplicaStorage', () => {
  const st = (storage: string, node: string, type: string, o: Partial<InventoryStorage> = {}): InventoryStorage => ({
    storage, node, type, shared: true, images: true, active: true, totalGiB: 1000, freeGiB: 500, ...o,
  });
  const info = { vmid: 9000, node: 'pve1', storages: ['local-lvm'], volumes: [], diskGiB: 8 } as unknown as TemplateInfo;

  it('takes a linked-clone shared storage on the template node: rbd or file storage, not thick LVM or CephFS', () => {
    const nodes = ['pve1', 'pve2'];
    expect(sharedReplicaStorage({ storages: nodes.flatMap((n) => [st('san', n, 'lvm'), st('fs', n, 'cephfs')]) }, info, nodes)).toBeUndefined();
    expect(sharedReplicaStorage({ storages: nodes.flatMap((n) => [st('san', n, 'lvm'), st('nas', n, 'nfs')]) }, info, nodes)).toBe('nas');
    // the one on more nodes first, then the one with more room
    const storages = [st('ceph', 'pve1', 'rbd', { freeGiB: 100 }), st('ceph', 'pve2', 'rbd', { freeGiB: 100 }), st('nas', 'pve1', 'nfs', { freeGiB: 900 })];
    expect(sharedReplicaStorage({ storages }, info, nodes)).toBe('ceph');
    expect(sharedReplicaStorage({ storages: [st('ceph', 'pve1', 'rbd', { freeGiB: 4 })] }, info, nodes)).toBeUndefined();
    expect(sharedReplicaStorage({ storages: [st('ceph', 'pve1', 'rbd', { active: false })] }, info, nodes)).toBeUndefined();
  });
});

describe('sharedReplicaCandidates', () => {
  const storages = ['pve1', 'pve2'].flatMap((node): InventoryStorage[] => [
    { storage: 'local-lvm', node, type: 'lvmthin', shared: false, images: true, active: true, totalGiB: 1000, freeGiB: 900 },
    { storage: 'ceph', node, type: 'rbd', shared: true, images: true, active: true, totalGiB: 1000, freeGiB: 900 },
  ]);
  const tpl = (vmid: number, storage: string) => ({ vmid, node: 'pve1', storages: [storage], volumes: [], diskGiB: 8 }) as unknown as TemplateInfo;
  const inv = { storages, vmById: new Map() };

  it('templates on node-local storage that are linked-cloned only; not those on shared storage or full-cloned', () => {
    const c = sharedReplicaCandidates(inv, [
      { info: tpl(9000, 'local-lvm'), full: false },
      { info: tpl(9001, 'local-lvm'), full: false },
      { info: tpl(9001, 'local-lvm'), full: true },
      { info: tpl(9002, 'ceph'), full: false },
    ], ['pve1', 'pve2'], [], [], 'auto');
    expect([...c.candidates]).toEqual([[9000, 'ceph']]);
  });
});
