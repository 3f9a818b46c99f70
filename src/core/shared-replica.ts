/**
 * Issue 14: one template replica on shared linked-clone storage instead of one per node.
 *
 * A template on node-local storage reaches another node only through a copy there (templates.ts). Where the
 * cluster has a shared storage that supports linked clones, ONE copy on it serves every node: full clone of the
 * template with `storage=<shared>` on the template's node → template; no migration. PVE clones a VM to another
 * node (`target=`) only when every volume of the source is on shared storage (qemu-server API2/Qemu.pm clone_vm),
 * which that copy is, and a linked clone lives on its base's storage. The price: every clone from it takes the
 * shared storage's one cluster-wide lock (PVE keys the lock per node for local storage, once for shared), where
 * per-node replicas lock per node. So the planner weighs the two by the plan's estimated makespan (`auto`).
 */
import type { SharedReplicaMode } from '../config/settings.js';
import type { ReplicaRecord, StandRecord } from '../store/schemas.js';
import type { Inventory, InventoryStorage, TemplateInfo } from './inventory.js';

/**
 * Shared storage types PVE can make linked clones on (PVE::Storage plugins' `volume_has_feature` `clone` on a
 * base volume): RBD, ZFS over iSCSI, and the file-based types in qcow2 (the plugin's `clone_image` writes a qcow2
 * overlay on the base). Not `lvm` (thick LVM, e.g. on iSCSI: no clone feature), not `iscsi`/`iscsidirect`, not
 * `cephfs` (PVE's CephFS storage holds no VM images).
 */
export const LINKED_CLONE_SHARED_TYPES: ReadonlySet<string> = new Set(['rbd', 'zfs', 'nfs', 'cifs', 'glusterfs', 'dir']);
/** File-based types: the replica's full clone is written in qcow2 (`format=qcow2`). */
export const FILE_STORAGE_TYPES: ReadonlySet<string> = new Set(['nfs', 'cifs', 'glusterfs', 'dir']);

const linkedCloneCapable = (s: InventoryStorage): boolean =>
  s.shared && s.images && s.active && s.type !== undefined && LINKED_CLONE_SHARED_TYPES.has(s.type);

/**
 * The shared storage one replica of `info` would go on: linked-clone capable, active on the template's node, with
 * room for the copy; of those, the one on most of `nodes`, then the most free space, then by name. Undefined when
 * none (or the template is on shared storage already and needs no replica).
 */
export function sharedReplicaStorage(
  inv: Pick<Inventory, 'storages'>,
  info: TemplateInfo,
  nodes: readonly string[],
): string | undefined {
  const onSource = inv.storages.filter((s) => s.node === info.node && linkedCloneCapable(s) && s.freeGiB >= info.diskGiB);
  const reach = (id: string): number => nodes.filter((n) => inv.storages.some((s) => s.node === n && s.storage === id && linkedCloneCapable(s))).length;
  const best = onSource.sort((a, b) => reach(b.storage) - reach(a.storage) || b.freeGiB - a.freeGiB || a.storage.localeCompare(b.storage))[0];
  return best?.storage;
}

/** Whether the replica's full clone should ask for qcow2 (file-based storage). */
export function replicaFormat(inv: Pick<Inventory, 'storages'>, storage: string): 'qcow2' | undefined {
  const type = inv.storages.find((s) => s.storage === storage)?.type;
  return type !== undefined && FILE_STORAGE_TYPES.has(type) ? 'qcow2' : undefined;
}

/**
 * Which kind a group's recorded VMs already use for each template: their stands keep it (a re-run must not
 * plan, or make, the other kind for VMs that exist). `shared` / `per-node` by source template VMID.
 */
export function committedKinds(
  groupStands: readonly StandRecord[],
  recorded: readonly ReplicaRecord[],
): Map<number, 'shared' | 'per-node'> {
  const byVmid = new Map(recorded.map((r) => [r.vmid, r]));
  const out = new Map<number, 'shared' | 'per-node'>();
  for (const s of groupStands) {
    for (const vm of s.vms) {
      const r = vm.template !== undefined ? byVmid.get(vm.template) : undefined;
      if (r && !out.has(r.sourceVmid)) out.set(r.sourceVmid, r.shared ? 'shared' : 'per-node');
    }
  }
  return out;
}

export interface SharedReplicaChoice {
  /** source VMID → shared storage, for the replica planner */
  shared: Map<number, string>;
  /** how many variants were estimated */
  evaluated: number;
}

/**
 * Per template, per-node replicas or one shared replica. `never` / `always` decide alone; `auto` compares all
 * undecided templates per-node with all of them shared (the chains run side by side, so the makespan often
 * drops only when every one of them gets shorter), then flips one template at a time from the better of the two
 * while that lowers the estimate (`evaluate`: ms, and replicas to make; undefined = that variant cannot be
 * placed). On equal estimates the variant making fewer replicas wins (a recorded shared replica is not copied
 * again per node for nothing), then per-node. Templates the group's recorded VMs already use one way keep it.
 */
export function chooseSharedReplicas(o: {
  mode: SharedReplicaMode;
  /** source VMID → its candidate shared storage (templates that need replicas and have one) */
  candidates: ReadonlyMap<number, string>;
  committed: ReadonlyMap<number, 'shared' | 'per-node'>;
  evaluate: (shared: ReadonlyMap<number, string>) => { ms: number; make: number } | undefined;
}): SharedReplicaChoice {
  const fixed = new Map<number, string>();
  const open: number[] = [];
  for (const [vmid, storage] of o.candidates) {
    const c = o.committed.get(vmid);
    if (c === 'shared') fixed.set(vmid, storage);
    else if (c === undefined && o.mode === 'always') fixed.set(vmid, storage);
    else if (c === undefined && o.mode === 'auto') open.push(vmid);
  }
  let evaluated = 0;
  if (open.length === 0) return { shared: fixed, evaluated };
  type Score = { ms: number; make: number; size: number };
  const score = (set: ReadonlySet<number>): Score => {
    const m = new Map(fixed);
    for (const v of set) m.set(v, o.candidates.get(v)!);
    const e = o.evaluate(m) ?? { ms: Infinity, make: Infinity };
    evaluated++;
    return { ...e, size: set.size };
  };
  // lower estimate; on a tie fewer replicas to make; then fewer shared (per-node)
  const better = (a: Score, b: Score): boolean =>
    a.ms < b.ms || (a.ms === b.ms && (a.make < b.make || (a.make === b.make && a.size < b.size)));
  let set = new Set<number>();
  let best = score(set);
  const all = new Set(open);
  const allScore = score(all);
  if (better(allScore, best)) [set, best] = [all, allScore];
  for (let improved = true; improved; ) {
    improved = false;
    for (const vmid of open) {
      const next = new Set(set);
      if (next.has(vmid)) next.delete(vmid);
      else next.add(vmid);
      const sc = score(next);
      if (better(sc, best)) {
        [set, best] = [next, sc];
        improved = true;
      }
    }
  }
  const shared = new Map(fixed);
  if (best.ms < Infinity) for (const v of set) shared.set(v, o.candidates.get(v)!);
  return { shared, evaluated };
}

/** The recorded shared replica of a template that is present on the cluster as a template on its node. */
export function recordedShared(
  o: { recorded: readonly ReplicaRecord[]; inventory: Pick<Inventory, 'vmById'> },
  sourceVmid: number,
): ReplicaRecord | undefined {
  return o.recorded.find((r) => {
    if (!r.shared || r.sourceVmid !== sourceVmid) return false;
    const vm = o.inventory.vmById.get(r.vmid);
    return vm !== undefined && vm.template && vm.node === r.node;
  });
}

/**
 * What `chooseSharedReplicas` needs of a plan: the templates that need replicas (some volume on node-local
 * storage), are linked-cloned only, and have a linked-clone shared storage on their node (a recorded shared replica's own storage first),
 * and what the group's recorded VMs already use.
 */
export function sharedReplicaCandidates(
  inv: Pick<Inventory, 'storages' | 'vmById'>,
  machines: readonly { info: TemplateInfo; full: boolean }[],
  nodes: readonly string[],
  recorded: readonly ReplicaRecord[],
  groupStands: readonly StandRecord[],
  mode: SharedReplicaMode,
): { mode: SharedReplicaMode; candidates: Map<number, string>; committed: Map<number, 'shared' | 'per-node'> } {
  const shared = new Set(inv.storages.filter((s) => s.shared && s.images).map((s) => s.storage));
  const candidates = new Map<number, string>();
  // a full clone from a shared replica on another node would put its disks on the shared storage (PVE clones
  // with target= only onto shared storage): templates any machine full-clones stay per node
  const fullCloned = new Set(machines.filter((m) => m.full).map((m) => m.info.vmid));
  for (const { info } of machines) {
    if (candidates.has(info.vmid) || fullCloned.has(info.vmid)) continue;
    const needs = info.storages.some((s) => !shared.has(s)) || info.volumes.some((v) => v.kind === 'cloudinit' && v.storage !== undefined && !shared.has(v.storage));
    if (!needs) continue;
    const rec = recordedShared({ recorded, inventory: inv }, info.vmid);
    const st = rec?.storage ?? sharedReplicaStorage(inv, info, nodes);
    if (st !== undefined) candidates.set(info.vmid, st);
  }
  return { mode, candidates, committed: committedKinds(groupStands, recorded) };
}
