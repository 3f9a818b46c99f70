/**
 * Templates: resolve a profile's template references, decide per node where a VM can be cloned from, and plan
 * per-node replicas. PVE only clones across nodes (`target=`) when every volume of the source (disks, cloud-init
 * drives, ISOs) is on shared storage, and a linked clone lives on its base's storage; so for a template on
 * node-local storage, each other node needs its own copy, made as the seed did: full clone → convert to template →
 * migrate (with local disks; a local cloud-init drive moves too, a local ISO does not, see `unmovableMedia`). Replicas are
 * recorded in the store, reused by later deploys and groups, and kept by cleanup (`stands templates --prune`
 * removes unused ones).
 */
import type { ReplicaRecord, StandRecord } from '../store/schemas.js';
import type { Inventory, InventoryVm, TemplateInfo } from './inventory.js';
import { replicaName, sharedReplicaName } from './naming.js';
import { recordedShared, replicaFormat } from './shared-replica.js';
import { refusalRow, type RefusalRow, type ReplicaPlan } from './types.js';
import type { VmidAllocator } from './vmids.js';
import { msg, type Msg } from '../i18n/index.js';

export interface TemplateRefSpec {
  machine: string;
  template: number | string;
  templateNode?: string;
}

export interface ResolvedTemplate {
  vmid: number;
  node: string;
  name?: string;
  isTemplate: boolean;
}

/** Resolves a VMID or a template name. Problems come back as refusal rows naming the profile file and machine. */
export function resolveTemplateRef(
  inv: Pick<Inventory, 'vms' | 'vmById' | 'cluster'>,
  spec: TemplateRefSpec,
  profileFile: string,
  o: { full: boolean },
): { ok: true; template: ResolvedTemplate; warnings: Msg[] } | { ok: false; row: RefusalRow } {
  const subjectMsg = msg('row.machine', { file: profileFile, machine: spec.machine });
  const warnings: Msg[] = [];
  let vm: InventoryVm | undefined;
  if (typeof spec.template === 'number') {
    vm = inv.vmById.get(spec.template);
    if (!vm) return { ok: false, row: refusalRow(subjectMsg, msg('row.templateMissing', { template: spec.template, cluster: inv.cluster })) };
  } else {
    const name = spec.template;
    const matches = inv.vms.filter((v) => v.name === name && v.template);
    // a replica carries the source's name only in its own `tpl-…` form, so name matches are the originals
    if (matches.length === 0) {
      const nonTemplate = inv.vms.find((v) => v.name === name);
      const problem = nonTemplate
        ? msg('row.templateNameIsVm', { name, cluster: inv.cluster, vmid: nonTemplate.vmid })
        : msg('row.templateNameMissing', { name, cluster: inv.cluster });
      return { ok: false, row: refusalRow(subjectMsg, problem) };
    }
    if (matches.length > 1) {
      const ids = matches.map((m) => `${m.vmid} on ${m.node}`).join(', ');
      return { ok: false, row: refusalRow(subjectMsg, msg('row.templateAmbiguous', { name, ids })) };
    }
    vm = matches[0] as InventoryVm;
  }
  if (!vm.template && !o.full) {
    return {
      ok: false,
      row: refusalRow(subjectMsg, msg('row.notATemplate', { vm: `${vm.vmid}${vm.name ? ` (${vm.name})` : ''}` })),
    };
  }
  if (spec.templateNode && spec.templateNode !== vm.node) {
    warnings.push(msg('warn.templateNode', { file: profileFile, machine: spec.machine, vmid: vm.vmid, node: vm.node, wanted: spec.templateNode }));
  }
  return { ok: true, template: { vmid: vm.vmid, node: vm.node, name: vm.name, isTemplate: vm.template }, warnings };
}

/** How a VM of this template gets onto `node`. */
export type CloneSource =
  | { kind: 'direct'; vmid: number; node: string }
  | { kind: 'replica'; vmid: number; node: string; planned: boolean }
  | { kind: 'unavailable'; reason: string };

export interface ReplicaPlanner {
  /** Where to clone `info`'s template from for a VM on `node` (plans a replica when needed and allowed). */
  sourceFor(info: TemplateInfo, node: string): CloneSource;
  /** Why `node` cannot get VMs of this template, or undefined when it can (plans nothing). */
  check(info: TemplateInfo, node: string): string | undefined;
  /** What `sourceFor` would answer, without planning anything (`planned`: a replica would have to be made). */
  peek(info: TemplateInfo, node: string): CloneSource;
  /** Replicas this plan needs (new ones and reused ones). */
  replicas(): ReplicaPlan[];
  /** The shared storage of the one replica serving this template, when it is served that way. */
  sharedStorageOf(sourceVmid: number): string | undefined;
}

export interface ReplicaPlannerOptions {
  inventory: Pick<Inventory, 'cluster' | 'storages' | 'vmById'>;
  /** Replica records of this cluster from the store. */
  recorded: readonly ReplicaRecord[];
  replicate: boolean;
  /** Allocates replica VMIDs (the configured replica range, minus everything taken). */
  vmids: VmidAllocator;
  /**
   * Templates served by ONE replica on shared storage instead of per-node replicas: source VMID → that storage
   * (shared-replica.ts chooses them). A recorded shared replica of the template, present, is reused whatever
   * storage it is on.
   */
  sharedReplicas?: ReadonlyMap<number, string>;
}

export function sharedImageStorages(inv: Pick<Inventory, 'storages'>): Set<string> {
  return new Set(inv.storages.filter((s) => s.shared && s.images).map((s) => s.storage));
}

export function createReplicaPlanner(o: ReplicaPlannerOptions): ReplicaPlanner {
  const shared = sharedImageStorages(o.inventory);
  // ISOs live on storages without `images` content: any shared storage will do for them
  const sharedAny = new Set(o.inventory.storages.filter((s) => s.shared).map((s) => s.storage));
  const planned = new Map<string, ReplicaPlan>();
  const recorded = new Map(o.recorded.map((r) => [`${r.sourceVmid}/${r.node}`, r]));
  const hasStorage = (node: string, storage: string): boolean =>
    o.inventory.storages.some((s) => s.node === node && s.storage === storage && s.images && s.active);
  const localWhat = (info: TemplateInfo, local: readonly string[]): string =>
    `template ${info.vmid}${info.name ? ` (${info.name})` : ''} is on node-local storage ${local.join(', ')} of ${info.node}`;
  /** A new replica's VMID: a recorded replica that vanished from the cluster keeps its id if still free (recover stays simple). */
  const replicaVmid = (old: ReplicaRecord | undefined): number | undefined => {
    if (old && !o.vmids.isTaken(old.vmid)) {
      o.vmids.reserve(old.vmid);
      return old.vmid;
    }
    return o.vmids.next();
  };

  const decide = (info: TemplateInfo, node: string, commit: boolean): CloneSource => {
      if (info.node === node) return { kind: 'direct', vmid: info.vmid, node: info.node };
      // a node-local ISO (or the host's drive) blocks both ways to another node: clone with target= and the
      // migration of a replica
      const stuck = unmovableMedia(info, sharedAny);
      if (stuck) return { kind: 'unavailable', reason: stuck };
      // every volume a clone copies counts, cloud-init drives included (clone_vm refuses target= otherwise)
      const cloned = volumeStorages(info);
      const local = [...info.storages.filter((s) => !shared.has(s)), ...cloned.filter((s) => !shared.has(s) && !info.storages.includes(s))];
      if (local.length === 0) {
        const missing = cloned.find((s) => !hasStorage(node, s));
        if (missing) return { kind: 'unavailable', reason: `storage ${missing} of template ${info.vmid} is not available on ${node}` };
        return { kind: 'direct', vmid: info.vmid, node: info.node };
      }
      const sharedOn = o.sharedReplicas?.get(info.vmid);
      if (sharedOn !== undefined) return decideShared(info, node, sharedOn, local, commit);
      const key = `${info.vmid}/${node}`;
      const have = planned.get(key);
      if (have) return { kind: 'replica', vmid: have.vmid, node, planned: !have.exists };
      const rec = recorded.get(key);
      const onCluster = rec ? o.inventory.vmById.get(rec.vmid) : undefined;
      if (rec && onCluster && onCluster.template && onCluster.node === node) {
        if (!commit) return { kind: 'replica', vmid: rec.vmid, node, planned: false };
        planned.set(key, {
          sourceVmid: info.vmid,
          sourceNode: info.node,
          targetNode: node,
          vmid: rec.vmid,
          name: rec.name,
          storage: rec.storage ?? local[0] ?? '',
          exists: true,
        });
        return { kind: 'replica', vmid: rec.vmid, node, planned: false };
      }
      const what = localWhat(info, local);
      if (!o.replicate) return { kind: 'unavailable', reason: `${what}; replication is off` };
      const missing = cloned.find((s) => !hasStorage(node, s));
      if (missing) return { kind: 'unavailable', reason: `${what}, and ${node} has no storage ${missing} for a replica` };
      if (!commit) return { kind: 'replica', vmid: rec?.vmid ?? 0, node, planned: true };
      const vmid = replicaVmid(rec);
      if (vmid === undefined) return { kind: 'unavailable', reason: `no free VMID left in the replica range for ${what}` };
      planned.set(key, {
        sourceVmid: info.vmid,
        sourceNode: info.node,
        targetNode: node,
        vmid,
        name: replicaName(info.vmid, node),
        storage: local[0] ?? '',
        exists: false,
      });
      return { kind: 'replica', vmid, node, planned: true };
  };
  /** One replica on `storage` (shared, linked clones), made on the template's node, cloned from with `target=`. */
  const decideShared = (info: TemplateInfo, node: string, storage: string, local: readonly string[], commit: boolean): CloneSource => {
    const key = `${info.vmid}/shared`;
    const have = planned.get(key);
    const what = localWhat(info, local);
    if (have) {
      if (!hasStorage(node, have.storage)) return { kind: 'unavailable', reason: `${what}, and its shared replica's storage ${have.storage} is not available on ${node}` };
      return { kind: 'replica', vmid: have.vmid, node: have.targetNode, planned: !have.exists };
    }
    const rec = recordedShared(o, info.vmid);
    if (rec) {
      const st = rec.storage ?? storage;
      if (!hasStorage(node, st)) return { kind: 'unavailable', reason: `${what}, and its shared replica's storage ${st} is not available on ${node}` };
      if (commit) {
        planned.set(key, { sourceVmid: info.vmid, sourceNode: info.node, targetNode: rec.node, vmid: rec.vmid, name: rec.name, storage: st, exists: true, shared: true });
      }
      return { kind: 'replica', vmid: rec.vmid, node: rec.node, planned: false };
    }
    if (!o.replicate) return { kind: 'unavailable', reason: `${what}; replication is off` };
    for (const n of [node, info.node]) {
      if (!hasStorage(n, storage)) return { kind: 'unavailable', reason: `${what}, and ${n} has no shared storage ${storage} for its replica` };
    }
    const old = o.recorded.find((r) => r.shared && r.sourceVmid === info.vmid);
    if (!commit) return { kind: 'replica', vmid: old?.vmid ?? 0, node: info.node, planned: true };
    const vmid = replicaVmid(old);
    if (vmid === undefined) return { kind: 'unavailable', reason: `no free VMID left in the replica range for ${what}` };
    planned.set(key, {
      sourceVmid: info.vmid,
      sourceNode: info.node,
      targetNode: info.node,
      vmid,
      name: sharedReplicaName(info.vmid, storage),
      storage,
      exists: false,
      shared: true,
      ...(replicaFormat(o.inventory, storage) ? { format: replicaFormat(o.inventory, storage) } : {}),
    });
    return { kind: 'replica', vmid, node: info.node, planned: true };
  };
  return {
    sourceFor: (info, node) => decide(info, node, true),
    check: (info, node) => {
      const r = decide(info, node, false);
      return r.kind === 'unavailable' ? r.reason : undefined;
    },
    peek: (info, node) => decide(info, node, false),
    replicas: () => [...planned.values()],
    sharedStorageOf: (sourceVmid) => {
      const want = o.sharedReplicas?.get(sourceVmid);
      if (want === undefined) return undefined;
      return planned.get(`${sourceVmid}/shared`)?.storage ?? recordedShared(o, sourceVmid)?.storage ?? want;
    },
  };
}

/** Storages of the volumes a clone copies or regenerates: disks and cloud-init drives (not ISOs). */
export function volumeStorages(info: TemplateInfo): string[] {
  const out = new Set(info.storages);
  for (const v of info.volumes) if (v.kind === 'cloudinit' && v.storage) out.add(v.storage);
  return [...out].sort();
}

/**
 * Why this template's VMs cannot reach another node at all: an ISO on node-local storage (or the host's CD drive).
 * PVE refuses `target=` for a VM with any local volume (qemu-server PVE/API2/Qemu.pm clone_vm, "VM uses local
 * storage") and refuses to migrate a local ISO (PVE/QemuMigrate.pm scan_local_volumes, "local cdrom image"), so no
 * replica can be made either. The admin ejects the medium or moves it to shared storage.
 */
export function unmovableMedia(info: TemplateInfo, shared: ReadonlySet<string>): string | undefined {
  const stuck = info.volumes.filter((v) => (v.kind === 'iso' && v.storage && !shared.has(v.storage)) || v.kind === 'host-cdrom');
  if (stuck.length === 0) return undefined;
  const what = `template ${info.vmid}${info.name ? ` (${info.name})` : ''}`;
  const list = stuck.map((v) => (v.kind === 'host-cdrom' ? `the host's CD drive (${v.key})` : `ISO ${v.volid} (${v.key}) on node-local storage ${v.storage}`)).join(', ');
  const eject = stuck.map((v) => `qm set ${info.vmid} --${v.key} none,media=cdrom`).join('; ');
  return `${what} has ${list}: Proxmox can neither clone it to another node nor migrate a copy there; eject it (${eject}) or move the ISO to shared storage`;
}

export interface TemplateListEntry {
  sourceVmid: number;
  sourceNode: string;
  node: string;
  vmid: number;
  name: string;
  /** Present on the cluster as a template on its node. */
  present: boolean;
  /** One replica on shared storage serving every node (`storage`). */
  shared?: boolean;
  storage?: string;
  /** Stands in the store (not removed) with a VM cloned from this replica. */
  usedBy: string[];
}

/** `stands templates`: the recorded replicas, whether they are there, and who uses them. */
export function listReplicaUsage(
  replicas: readonly ReplicaRecord[],
  stands: readonly StandRecord[],
  inv?: Pick<Inventory, 'vmById'>,
): TemplateListEntry[] {
  const users = new Map<number, string[]>();
  for (const s of stands) {
    if (s.status === 'removed') continue;
    for (const vm of s.vms) {
      if (vm.template === undefined || vm.status === 'removed') continue;
      const list = users.get(vm.template) ?? [];
      const key = `${s.group}/${s.userid}`;
      if (!list.includes(key)) list.push(key);
      users.set(vm.template, list);
    }
  }
  return replicas
    .map((r) => {
      const vm = inv?.vmById.get(r.vmid);
      return {
        sourceVmid: r.sourceVmid,
        sourceNode: r.sourceNode,
        node: r.node,
        vmid: r.vmid,
        name: r.name,
        present: inv ? vm !== undefined && vm.template && vm.node === r.node : true,
        ...(r.shared ? { shared: true, ...(r.storage ? { storage: r.storage } : {}) } : {}),
        usedBy: users.get(r.vmid) ?? [],
      };
    })
    .sort((a, b) => a.sourceVmid - b.sourceVmid || a.node.localeCompare(b.node));
}

/** Replicas `--prune` may remove: unused by any stand we know of. PVE still refuses while linked clones exist. */
export function replicasToPrune(entries: readonly TemplateListEntry[]): TemplateListEntry[] {
  return entries.filter((e) => e.usedBy.length === 0);
}
