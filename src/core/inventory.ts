/**
 * A typed snapshot of the cluster, read once per plan: nodes, storages, VMs, pools, users, node networks (with
 * pending edits) and SDN. `/cluster/resources` (one request) gives nodes, VMs, storages and pools; each online
 * node's network is one more request; users and SDN one each. Template configs are read on demand.
 */
import type { Logger } from '../log.js';
import type { ProxmoxClient } from '../proxmox/client.js';
import type { ClusterResource, NetworkIface, SdnVnet, SdnZone, VmConfig } from '../proxmox/types.js';
import { parseSegmentMarker } from './naming.js';
import { parsePendingIfaces } from './networks.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface InventoryNode {
  name: string;
  online: boolean;
  status: string;
  maxCpu: number;
  maxMemMiB: number;
}

export interface InventoryStorage {
  node: string;
  storage: string;
  shared: boolean;
  /** `content` includes `images` (VM disks). */
  images: boolean;
  active: boolean;
  totalGiB: number;
  freeGiB: number;
  type?: string;
}

export interface InventoryVm {
  vmid: number;
  node: string;
  name?: string;
  template: boolean;
  status: string;
  memMiB: number;
  cores: number;
  pool?: string;
  tags: string[];
  lock?: string;
}

export interface InventoryIface {
  iface: string;
  type: string;
  active: boolean;
  comments?: string;
  /** Created or changed by an edit not yet applied. */
  pending: boolean;
}

export interface NodeNetwork {
  node: string;
  ifaces: Map<string, InventoryIface>;
  /** Interfaces touched by pending (unapplied) edits. */
  pending: Set<string>;
  /** A pending change we could not attribute to an interface (treated as someone else's). */
  unattributedPending: boolean;
  changes?: string;
  /** The network could not be read (the node is then left out). */
  error?: string;
}

export interface TemplateInfo {
  vmid: number;
  node: string;
  name?: string;
  cores: number;
  memMiB: number;
  /** Storages holding the template's disks. */
  storages: string[];
  diskGiB: number;
  /** `netK` indices the template has. */
  nets: number[];
}

export interface Inventory {
  cluster: string;
  fetchedAt: string;
  nodes: InventoryNode[];
  storages: InventoryStorage[];
  vms: InventoryVm[];
  vmById: Map<number, InventoryVm>;
  pools: Set<string>;
  /** Lowercased userids. */
  users: Set<string>;
  networks: Map<string, NodeNetwork>;
  sdn?: { zones: SdnZone[]; vnets: SdnVnet[] };
  /** Reads (once) and parses a template's config. */
  templateInfo(vmid: number): Promise<TemplateInfo>;
}

export interface LoadInventoryOptions {
  cluster: string;
  /** Read SDN zones and VNets (sdn mode). */
  sdn?: boolean;
  /** Read node networks (default true). */
  networks?: boolean;
  logger?: Logger;
}

export async function loadInventory(client: ProxmoxClient, o: LoadInventoryOptions): Promise<Inventory> {
  const [resources, users, sdn] = await Promise.all([
    client.clusterResources(undefined, { maxAgeMs: 0 }),
    client.listUsers(),
    o.sdn ? Promise.all([client.listZones({ pending: true }), client.listVnets({ pending: true })]) : undefined,
  ]);
  const base = fromResources(o.cluster, resources);
  const networks = new Map<string, NodeNetwork>();
  if (o.networks !== false) {
    await Promise.all(
      base.nodes
        .filter((n) => n.online)
        .map(async (n) => {
          try {
            const list = await client.listNetwork(n.name);
            networks.set(n.name, nodeNetwork(n.name, list.ifaces, list.changes));
          } catch (err) {
            // one unreachable node must not block the class: the plan leaves it out with this reason
            const message = err instanceof Error ? err.message : String(err);
            o.logger?.warn({ node: n.name, err: message }, 'node network unreadable');
            networks.set(n.name, { node: n.name, ifaces: new Map(), pending: new Set(), unattributedPending: false, error: message });
          }
        }),
    );
  }
  const templateCache = new Map<number, Promise<TemplateInfo>>();
  const inv: Inventory = {
    ...base,
    users: new Set(users.map((u) => u.userid.toLowerCase())),
    networks,
    ...(sdn ? { sdn: { zones: sdn[0], vnets: sdn[1] } } : {}),
    templateInfo: (vmid) => {
      let p = templateCache.get(vmid);
      if (!p) {
        const vm = base.vmById.get(vmid);
        if (!vm) return Promise.reject(new Error(`VM ${vmid} does not exist`));
        p = client.vmConfig(vm.node, vmid).then((cfg) => templateInfoFromConfig(vm, cfg, base.storages));
        templateCache.set(vmid, p);
      }
      return p;
    },
  };
  o.logger?.debug(
    { nodes: inv.nodes.length, vms: inv.vms.length, storages: inv.storages.length },
    'inventory loaded',
  );
  return inv;
}

/** The part of the inventory `/cluster/resources` gives (pure, for tests and the bench). */
export function fromResources(
  cluster: string,
  resources: readonly ClusterResource[],
): Pick<Inventory, 'cluster' | 'fetchedAt' | 'nodes' | 'storages' | 'vms' | 'vmById' | 'pools'> {
  const nodes: InventoryNode[] = [];
  const storages: InventoryStorage[] = [];
  const vms: InventoryVm[] = [];
  const pools = new Set<string>();
  for (const r of resources) {
    if (r.type === 'node') {
      const name = r.node ?? r.id.replace(/^node\//, '');
      nodes.push({
        name,
        online: r.status === 'online',
        status: r.status ?? 'unknown',
        maxCpu: r.maxcpu ?? 0,
        maxMemMiB: Math.floor((r.maxmem ?? 0) / MiB),
      });
    } else if (r.type === 'qemu') {
      if (r.vmid === undefined || !r.node) continue;
      vms.push({
        vmid: r.vmid,
        node: r.node,
        name: r.name,
        // parsed resources carry booleans; raw ones (bench fixtures) may still say 1
        template: truthy(r.template),
        status: r.status ?? 'unknown',
        memMiB: Math.round((r.maxmem ?? 0) / MiB),
        cores: r.maxcpu ?? 0,
        pool: r.pool,
        tags: (r.tags ?? '').split(/[;,\s]+/).filter(Boolean),
        lock: r.lock,
      });
    } else if (r.type === 'storage') {
      const node = r.node ?? '';
      const storage = r.storage ?? r.id.split('/').pop() ?? '';
      const content = (r.content ?? '').split(',');
      storages.push({
        node,
        storage,
        shared: truthy(r.shared),
        images: content.includes('images'),
        active: r.status !== 'unknown' && r.status !== 'unavailable',
        totalGiB: (r.maxdisk ?? 0) / GiB,
        freeGiB: ((r.maxdisk ?? 0) - (r.disk ?? 0)) / GiB,
        type: r.plugintype,
      });
    } else if (r.type === 'pool') {
      pools.add(r.id.replace(/^\/pool\//, ''));
    }
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return {
    cluster,
    fetchedAt: new Date().toISOString(),
    nodes,
    storages,
    vms,
    vmById: new Map(vms.map((v) => [v.vmid, v])),
    pools,
  };
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === '1';
}

export function nodeNetwork(node: string, ifaces: readonly NetworkIface[], changes?: string): NodeNetwork {
  const parsed = parsePendingIfaces(changes);
  const map = new Map<string, InventoryIface>();
  const pending = new Set(parsed.ifaces);
  for (const i of ifaces) {
    const isPending = i.pending !== undefined && i.pending !== null && i.pending !== false && i.pending !== 0;
    if (isPending) pending.add(i.iface);
    map.set(i.iface, {
      iface: i.iface,
      type: i.type,
      active: i.active === true,
      comments: i.comments?.trim() || undefined,
      pending: isPending || parsed.ifaces.has(i.iface),
    });
  }
  // an interface deleted by a pending edit is gone from the list; keep it (its number is not free until applied)
  for (const name of parsed.ifaces) {
    if (map.has(name)) continue;
    map.set(name, { iface: name, type: 'unknown', active: false, comments: parsed.comments.get(name)?.trim() || undefined, pending: true });
  }
  return {
    node,
    ifaces: map,
    pending,
    unattributedPending: parsed.unattributed,
    ...(changes ? { changes } : {}),
  };
}

/**
 * Pending edits on a node that are not ours. Ours = a bridge whose comment carries our marker AND that the store
 * journal records (`<node>/<iface>`): a comment alone can be copied by anyone.
 */
export function foreignPending(net: NodeNetwork, ownBridges: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const name of net.pending) {
    const iface = net.ifaces.get(name);
    const marked = parseSegmentMarker(iface?.comments) !== undefined;
    if (!(marked && ownBridges.has(`${net.node}/${name}`))) out.push(name);
  }
  if (net.unattributedPending) out.push('(unattributed change)');
  return out.sort();
}

const DISK_KEY = /^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/;

export function templateInfoFromConfig(
  vm: InventoryVm,
  cfg: VmConfig,
  storages: readonly InventoryStorage[] = [],
): TemplateInfo {
  const disks = new Set<string>();
  let diskGiB = 0;
  const nets: number[] = [];
  for (const [key, raw] of Object.entries(cfg)) {
    const netm = /^net(\d+)$/.exec(key);
    if (netm) nets.push(Number(netm[1]));
    if (!DISK_KEY.test(key) || typeof raw !== 'string') continue;
    if (/media=cdrom/.test(raw) || raw.startsWith('none')) continue;
    const m = /^([A-Za-z][A-Za-z0-9\-_.]*):/.exec(raw);
    if (m?.[1]) disks.add(m[1]);
    const size = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(raw);
    if (size) {
      const n = Number(size[1]);
      const unit = size[2] ?? '';
      diskGiB += unit === 'T' ? n * 1024 : unit === 'G' ? n : unit === 'M' ? n / 1024 : unit === 'K' ? n / 1024 / 1024 : n / GiB;
    }
  }
  void storages;
  const memory = typeof cfg.memory === 'string' ? Number(/(\d+)/.exec(cfg.memory)?.[1] ?? vm.memMiB) : vm.memMiB;
  return {
    vmid: vm.vmid,
    node: vm.node,
    name: cfg.name ?? vm.name,
    cores: (cfg.cores ?? vm.cores ?? 1) * (cfg.sockets ?? 1),
    memMiB: memory || vm.memMiB,
    storages: [...disks].sort(),
    diskGiB,
    nets: nets.sort((a, b) => a - b),
  };
}
