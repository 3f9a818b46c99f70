/**
 * Network allocation: private bridges (bridges mode) or VNets (sdn mode) per stand and alias, and the exact NIC
 * strings of every VM. Pure: inputs are what the inventory and the store say is taken.
 */
import type { NetworkRef } from '../config/network-alias.js';
import { shortHash } from '../config/slug.js';
import type { NicPlan } from './types.js';
import { msg, type Msg } from '../i18n/index.js';

export interface NumberRange {
  min: number;
  max: number;
}
export const DEFAULT_BRIDGE_RANGE: NumberRange = { min: 1000, max: 4094 };

/** What a machine needs from the network planner (structurally a config `Machine`). */
export interface MachineNetSpec {
  name: string;
  device: 'linux' | 'ecorouter';
  networks: readonly NetworkRef[];
}

/** Segments of a stand in order of first use, VLAN-aware when any NIC on the alias is tagged. */
export function segmentsNeeded(machines: readonly MachineNetSpec[]): { alias: string; vlanAware: boolean; vlans: number[] }[] {
  const out = new Map<string, { alias: string; vlanAware: boolean; vlans: number[] }>();
  for (const m of machines) {
    for (const ref of m.networks) {
      if (ref.kind !== 'segment') continue;
      const seg = out.get(ref.alias) ?? { alias: ref.alias, vlanAware: false, vlans: [] };
      if (ref.vlan !== undefined) {
        seg.vlanAware = true;
        if (!seg.vlans.includes(ref.vlan)) seg.vlans.push(ref.vlan);
      }
      out.set(ref.alias, seg);
    }
  }
  return [...out.values()];
}

/** Existing bridges a profile uses as is (`**vmbr0`), with the machines using them. */
export function sharedBridges(machines: readonly MachineNetSpec[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of machines) {
    for (const ref of m.networks) {
      if (ref.kind !== 'bridge') continue;
      const list = out.get(ref.bridge) ?? [];
      if (!list.includes(m.name)) list.push(m.name);
      out.set(ref.bridge, list);
    }
  }
  return out;
}

const BRIDGE_RE = /^vmbr(\d+)$/;

/**
 * First free `vmbrN` per node, N in the range: free of every interface on the node (applied or pending), of the
 * store's and journal's bridges, and of what this plan already took.
 */
export class BridgeAllocator {
  private readonly used = new Map<string, Set<number>>();
  private readonly cursor = new Map<string, number>();

  constructor(
    readonly range: NumberRange,
    taken: Iterable<{ node: string; iface: string }>,
  ) {
    for (const t of taken) this.take(t.node, t.iface);
  }

  take(node: string, iface: string): void {
    const m = BRIDGE_RE.exec(iface);
    if (!m) return;
    const set = this.used.get(node) ?? new Set<number>();
    set.add(Number(m[1]));
    this.used.set(node, set);
  }

  isTaken(node: string, iface: string): boolean {
    const m = BRIDGE_RE.exec(iface);
    return m ? (this.used.get(node)?.has(Number(m[1])) ?? false) : false;
  }

  /** Free bridges left on a node. */
  free(node: string): number {
    const set = this.used.get(node);
    let n = this.range.max - this.range.min + 1;
    if (set) for (const x of set) if (x >= this.range.min && x <= this.range.max) n--;
    return n;
  }

  allocate(node: string): string | undefined {
    const set = this.used.get(node) ?? new Set<number>();
    this.used.set(node, set);
    let n = this.cursor.get(node) ?? this.range.min;
    while (n <= this.range.max && set.has(n)) n++;
    if (n > this.range.max) return undefined;
    set.add(n);
    this.cursor.set(node, n + 1);
    return `vmbr${n}`;
  }
}

/**
 * SDN VNets: a tag from the range, unique in the zone (PVE refuses a duplicate tag in a VLAN zone), and an id of
 * at most 8 characters (`[a-zA-Z][a-zA-Z0-9]*`) unique in the cluster: `sv` + the tag in base 36.
 */
export class VnetAllocator {
  private readonly tags: Set<number>;
  private readonly ids: Set<string>;
  private cursor: number;

  constructor(
    readonly range: NumberRange,
    taken: { tags: Iterable<number>; ids: Iterable<string> },
  ) {
    this.tags = new Set(taken.tags);
    this.ids = new Set(taken.ids);
    this.cursor = range.min;
  }

  take(id: string, tag?: number): void {
    this.ids.add(id);
    if (tag !== undefined) this.tags.add(tag);
  }

  allocate(): { vnet: string; tag: number } | undefined {
    for (; this.cursor <= this.range.max; this.cursor++) {
      const tag = this.cursor;
      const vnet = vnetId(tag);
      if (this.tags.has(tag) || this.ids.has(vnet)) continue;
      this.tags.add(tag);
      this.ids.add(vnet);
      this.cursor++;
      return { vnet, tag };
    }
    return undefined;
  }
}

export function vnetId(tag: number): string {
  return `sv${tag.toString(36)}`;
}

/** The seed's ecorouter NICs: model vmxnet3 with a MAC from this prefix. */
export const ECOROUTER_MAC_PREFIX = '1C:87:76';

/**
 * A stable MAC for an ecorouter NIC: 20 bits of VMID and 4 bits of NIC index when they fit (unique among our VMs,
 * since VMIDs are), else a hash. Stable, so a re-run writes the same value and nothing changes.
 */
export function ecorouterMac(vmid: number, index: number): string {
  let n: number;
  if (vmid < 1 << 20 && index < 16) n = (vmid << 4) | index;
  else n = Number.parseInt(shortHash(`${vmid}/${index}`, 6), 16);
  const hex = n.toString(16).toUpperCase().padStart(6, '0');
  return `${ECOROUTER_MAC_PREFIX}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

export interface MachineNics {
  nets: NicPlan[];
  deleteNets: number[];
  warnings: Msg[];
}

/**
 * The exact NICs of one VM. `netK` = `networks[K]` for linux machines; ecorouter machines get `net0` as a
 * management port (link down, on the stand's first private segment so it can never reach a shared LAN) and the
 * configured networks from `net1`, all vmxnet3 with the ecorouter MAC prefix. NICs the template has beyond these
 * are listed in `deleteNets`.
 */
export function planMachineNics(
  machine: MachineNetSpec,
  segmentIface: ReadonlyMap<string, string>,
  vmid: number,
  templateNets: readonly number[],
  o: { firewall?: boolean } = {},
): MachineNics {
  const nets: NicPlan[] = [];
  const warnings: Msg[] = [];
  const eco = machine.device === 'ecorouter';
  const offset = eco ? 1 : 0;
  const nic = (index: number, bridge: string | undefined, tag?: number, linkDown = false): string => {
    const model = eco ? `vmxnet3=${ecorouterMac(vmid, index)}` : 'virtio';
    const parts = [model];
    if (bridge) parts.push(`bridge=${bridge}`);
    if (tag !== undefined) parts.push(`tag=${tag}`);
    if (linkDown) parts.push('link_down=1');
    // isolation: the VM's firewall rules apply only to NICs with firewall=1 (pve-firewall)
    if (o.firewall) parts.push('firewall=1');
    return parts.join(',');
  };
  if (eco) {
    const firstSegment = machine.networks.find((r) => r.kind === 'segment');
    const mgmt = firstSegment?.kind === 'segment' ? segmentIface.get(firstSegment.alias) : undefined;
    nets.push({ index: 0, value: nic(0, mgmt, undefined, true) });
  }
  machine.networks.forEach((ref, k) => {
    const index = k + offset;
    if (ref.kind === 'bridge') {
      nets.push({ index, value: nic(index, ref.bridge) });
      if (!o.firewall) warnings.push(msg('warn.sharedLan', { machine: machine.name, nic: `net${index}`, bridge: ref.bridge }));
    } else {
      const iface = segmentIface.get(ref.alias);
      if (!iface) throw new Error(`no segment allocated for alias ${ref.alias}`);
      nets.push({ index, value: nic(index, iface, ref.vlan) });
    }
  });
  const planned = new Set(nets.map((n) => n.index));
  const deleteNets = [...new Set(templateNets)].filter((i) => !planned.has(i)).sort((a, b) => a - b);
  return { nets, deleteNets, warnings };
}

/**
 * Interfaces touched by a node's pending edit, from the `changes` diff of `GET /nodes/{node}/network`
 * (`/etc/network/interfaces` vs `interfaces.new`, `diff -u` with 3-line hunks). A changed line is attributed to the
 * stanza it belongs to within its hunk; a change whose `iface` line lies outside the hunk's context is unattributed
 * (treated as someone else's), never pinned on the stanza of an earlier hunk.
 * Returns the names, and whether some change could not be attributed to any interface.
 */
export function parsePendingIfaces(changes: string | undefined): {
  ifaces: Set<string>;
  unattributed: boolean;
  /** `#…` comment lines of each stanza seen in the diff (a deleted bridge's marker is only visible here). */
  comments: Map<string, string>;
} {
  const ifaces = new Set<string>();
  const comments = new Map<string, string>();
  let unattributed = false;
  if (!changes) return { ifaces, unattributed, comments };
  let current: string | undefined;
  for (const raw of changes.split('\n')) {
    if (raw.startsWith('+++') || raw.startsWith('---')) continue;
    // a new hunk starts somewhere else in the file (`diff -u` keeps 3 lines of context, pve-common INotify.pm
    // ccache_compute_diff): the stanza of the previous hunk no longer applies
    if (raw.startsWith('@@')) {
      current = undefined;
      continue;
    }
    const sign = raw[0];
    const line = sign === '+' || sign === '-' || sign === ' ' ? raw.slice(1) : raw;
    const m = /^\s*(?:iface|auto|allow-hotplug|allow-[a-z]+)\s+(\S+)/.exec(line);
    if (m?.[1] && /^\s*iface\s/.test(line)) current = m[1];
    if (current && line.startsWith('#')) {
      const prev = comments.get(current);
      comments.set(current, prev ? `${prev}\n${line.slice(1)}` : line.slice(1));
    }
    if (sign !== '+' && sign !== '-') continue;
    if (line.trim() === '' || line.trim().startsWith('#') || /^\s*source/.test(line)) continue;
    const name = m?.[1] ?? current;
    if (name) ifaces.add(name);
    else unattributed = true;
  }
  return { ifaces, unattributed, comments };
}
