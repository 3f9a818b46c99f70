/**
 * The cluster state (pmxcfs, user.cfg, interfaces files and runtime, in one place). Indexed by maps so a request
 * costs O(its own objects), not O(cluster).
 */
import { randomUUID } from 'node:crypto';
import type { SimClock } from './clock.js';
import type { Rng } from './rng.js';
import { newMac } from './rng.js';
import { type FirewallState, newFirewallState } from './firewall-state.js';
import { disksOf, formatNet, formatSize, normalizeTags, type VmConfig } from './qemu-config.js';
import type { SimSeed } from './seed.js';

const GiB = 1024 ** 3;

export interface SimNode {
  name: string;
  cores: number;
  memoryBytes: number;
  diskBytes: number;
  online: boolean;
  load: number;
  bootEpochMs: number;
  /** ifupdown2 installed */
  ifupdown2: boolean;
  nextPid: number;
  /** vmids whose config lives on this node */
  vmids: Set<number>;
}

export interface SimStorage {
  id: string;
  type: string;
  shared: boolean;
  nodes: string[];
  /** bytes per node (for shared storage the same pool is seen from every node) */
  capacity: Record<string, number>;
  content: string;
}

export interface VmStats {
  status: 'running' | 'stopped';
  name: string;
  template: number;
  maxcpu: number;
  maxmem: number;
  mem: number;
  cpu: number;
  maxdisk: number;
  uptime: number;
}

export interface SimSnapshot {
  name: string;
  description: string;
  snaptime: number;
  parent?: string;
  config: VmConfig;
}

export interface SimVm {
  vmid: number;
  node: string;
  config: VmConfig;
  status: 'running' | 'stopped';
  startedAtMs?: number;
  /** The guest does not react to the ACPI power button (hung, or no OS): a shutdown runs into its timeout. */
  ignoresAcpi?: boolean;
  pool?: string;
  snapshots: SimSnapshot[];
  /** the last pvestatd broadcast about this VM (cluster/resources lags behind by up to 10 s) */
  stats?: VmStats;
  /** `stats` pre-serialized as JSON members (`"status":…,"name":…`), for /cluster/resources on big clusters */
  statsJson?: string;
}

export interface SimPool {
  poolid: string;
  comment?: string;
  vmids: Set<number>;
}

export interface SimToken {
  /** user@realm!name */
  id: string;
  userid: string;
  name: string;
  secret: string;
  privsep: boolean;
  comment?: string;
}

export interface SimUser {
  userid: string;
  password?: string;
  comment?: string;
  email?: string;
  firstname?: string;
  lastname?: string;
  enable: boolean;
  expire: number;
  groups: string[];
  tokens: Map<string, SimToken>;
}

export interface AclEntry {
  path: string;
  type: 'user' | 'group' | 'token';
  ugid: string;
  roleid: string;
  propagate: boolean;
}

export interface NetIface {
  iface: string;
  type: string;
  autostart: boolean;
  bridge_ports?: string;
  bridge_vlan_aware?: boolean;
  bridge_vids?: string;
  comments?: string;
  cidr?: string;
  gateway?: string;
  mtu?: number;
}

export interface NodeNetwork {
  /** /etc/network/interfaces */
  current: Map<string, NetIface>;
  /** /etc/network/interfaces.new (null = no pending changes) */
  pending: Map<string, NetIface> | null;
  /** interfaces up in the kernel (ifreload brings up autostart ones) */
  active: Set<string>;
}

export interface SdnZone {
  zone: string;
  type: string;
  bridge?: string;
  nodes?: string;
  mtu?: number;
}
export interface SdnVnet {
  vnet: string;
  zone: string;
  tag?: number;
  alias?: string;
  vlanaware?: boolean;
}
export interface SdnConfig {
  zones: Map<string, SdnZone>;
  vnets: Map<string, SdnVnet>;
}

export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  /** user@realm or user@realm!token */
  user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  log: string[];
  /** sim ms at fork: status reads within the "no such task" window answer 400 */
  forkedAtMs: number;
  done: Promise<void>;
}

export class SimState {
  clusterName: string;
  version: string;
  nodes = new Map<string, SimNode>();
  storages = new Map<string, SimStorage>();
  vms = new Map<number, SimVm>();
  pools = new Map<string, SimPool>();
  users = new Map<string, SimUser>();
  /** realms (domains.cfg): realm → type; `pve` and `pam` always exist */
  realms = new Map<string, { type: 'pve' | 'pam' | 'ldap' | 'ad' | 'openid'; comment?: string }>([
    ['pam', { type: 'pam', comment: 'Linux PAM standard authentication' }],
    ['pve', { type: 'pve', comment: 'Proxmox VE authentication server' }],
  ]);
  /** token id (user@realm!name) → token */
  tokens = new Map<string, SimToken>();
  groups = new Map<string, { groupid: string; members: Set<string> }>();
  /** custom roles; built-in ones live in privileges.ts */
  roles = new Map<string, Set<string>>();
  acl: AclEntry[] = [];
  network = new Map<string, NodeNetwork>();
  sdn: SdnConfig = { zones: new Map(), vnets: new Map() };
  /** SDN config written but not applied (null = none) */
  sdnPending: SdnConfig | null = null;
  /** /etc/pve/firewall: cluster.fw and the guests' <vmid>.fw (firewall-state.ts) */
  firewall: FirewallState = newFirewallState();
  tasks = new Map<string, SimTask>();
  tasksByNode = new Map<string, SimTask[]>();
  /** last pvestatd tick (sim ms) */
  lastStatTickMs = 0;
  /** storage usage as of the last pvestatd tick ('storage' or 'storage@node' → bytes) */
  storageUsageSnap = new Map<string, number>();

  constructor(
    seed: SimSeed,
    readonly clock: SimClock,
    readonly rng: Rng,
    creds: { rootPassword: string; tokenSecret: string },
  ) {
    this.clusterName = seed.clusterName;
    this.version = seed.version;
    const now = clock.now();
    const allNodes = seed.nodes.map((n) => n.name);
    for (const n of seed.nodes) {
      this.nodes.set(n.name, {
        name: n.name,
        cores: n.cores,
        memoryBytes: n.memoryGiB * GiB,
        diskBytes: n.diskGiB * GiB,
        online: n.online,
        load: n.load,
        bootEpochMs: now - (3 + rng.int(0, 40)) * 86_400_000,
        ifupdown2: n.ifupdown2,
        nextPid: 0x1000 + rng.int(0, 0x30000),
        vmids: new Set(),
      });
      this.network.set(n.name, { current: new Map(), pending: null, active: new Set() });
      this.tasksByNode.set(n.name, []);
    }
    for (const s of seed.storages) {
      const nodes = s.nodes ?? allNodes;
      const capacity: Record<string, number> = {};
      for (const node of nodes) {
        const c = typeof s.capacityGiB === 'number' ? s.capacityGiB : (s.capacityGiB[node] ?? 0);
        capacity[node] = c * GiB;
      }
      this.storages.set(s.id, { id: s.id, type: s.type, shared: s.shared, nodes, capacity, content: s.content });
    }
    for (const p of seed.pools) this.pools.set(p.poolid, { poolid: p.poolid, comment: p.comment, vmids: new Set() });

    for (const r of seed.realms) this.realms.set(r.realm, { type: r.type, ...(r.comment ? { comment: r.comment } : {}) });
    const root = this.addUser({ userid: 'root@pam', password: creds.rootPassword, comment: 'root', enable: true });
    this.addToken(root, 'stands', creds.tokenSecret, false);
    for (const u of seed.users) this.addUser(u);
    for (const t of seed.tokens) {
      const [userid, name] = t.id.split('!') as [string, string];
      const user = this.users.get(userid) ?? this.addUser({ userid, enable: true });
      this.addToken(user, name, t.secret ?? randomUUID(), t.privsep);
    }
    for (const r of seed.roles) this.roles.set(r.roleid, new Set(r.privs));
    for (const a of seed.acl) {
      for (const [type, list] of [['user', a.users], ['token', a.tokens], ['group', a.groups]] as const)
        for (const ugid of list)
          for (const roleid of a.roles) this.acl.push({ path: a.path, type, ugid, roleid, propagate: a.propagate });
    }

    for (const vm of seed.vms) {
      const storage = vm.storage;
      const disk = vm.template ? `base-${vm.vmid}-disk-0` : `vm-${vm.vmid}-disk-0`;
      const config: VmConfig = {
        name: vm.name,
        cores: vm.cores,
        sockets: vm.sockets,
        memory: String(vm.memory),
        ostype: vm.ostype,
        scsihw: 'virtio-scsi-single',
        scsi0: `${storage}:${disk},iothread=1,size=${formatSize(vm.diskGiB)}`,
        boot: 'order=scsi0;net0',
        smbios1: `uuid=${randomUUID()}`,
        vmgenid: randomUUID(),
      };
      vm.nets.forEach((n, i) => {
        const rest: [string, string][] = [];
        if (n.firewall !== undefined) rest.push(['firewall', n.firewall ? '1' : '0']);
        if (n.link_down !== undefined) rest.push(['link_down', n.link_down ? '1' : '0']);
        config[`net${i}`] = formatNet({
          model: n.model,
          mac: n.mac ?? newMac(rng),
          bridge: n.bridge,
          ...(n.tag !== undefined ? { tag: n.tag } : {}),
          rest,
        });
      });
      for (const [k, v] of Object.entries(vm.drives)) config[k] = v;
      if (vm.tags.length) config.tags = normalizeTags(vm.tags.join(';'));
      if (vm.description) config.description = vm.description;
      if (vm.template) config.template = 1;
      const sim: SimVm = {
        vmid: vm.vmid,
        node: vm.node,
        config,
        status: vm.status,
        ...(vm.status === 'running' ? { startedAtMs: now - rng.int(3600, 30 * 86400) * 1000 } : {}),
        snapshots: [],
      };
      let parent: string | undefined;
      for (const s of vm.snapshots) {
        sim.snapshots.push({ name: s, description: '', snaptime: Math.floor(now / 1000) - 86400, ...(parent ? { parent } : {}), config: { ...config } });
        parent = s;
      }
      if (parent) config.parent = parent;
      this.addVm(sim);
      if (vm.pool) this.setPool(vm.vmid, vm.pool);
    }

    for (const n of seed.network) {
      const targets = n.node === '*' ? allNodes : [n.node];
      for (const node of targets) {
        const net = this.network.get(node)!;
        const iface: NetIface = {
          iface: n.iface,
          type: n.type,
          autostart: n.autostart,
          ...(n.bridge_ports !== undefined ? { bridge_ports: n.bridge_ports } : {}),
          ...(n.bridge_vlan_aware ? { bridge_vlan_aware: true } : {}),
          ...(n.comments !== undefined ? { comments: n.comments } : {}),
          ...(n.cidr !== undefined ? { cidr: n.cidr } : {}),
          ...(n.gateway !== undefined ? { gateway: n.gateway } : {}),
        };
        if (n.pending) {
          net.pending ??= new Map(net.current);
          net.pending.set(n.iface, iface);
        } else {
          net.current.set(n.iface, iface);
          net.pending?.set(n.iface, { ...iface });
          if (n.autostart || n.type === 'eth') net.active.add(n.iface);
        }
      }
    }
    for (const z of seed.sdn.zones) {
      const zone: SdnZone = { zone: z.zone, type: z.type, ...(z.bridge ? { bridge: z.bridge } : {}) };
      if (!z.pending) this.sdn.zones.set(z.zone, zone);
      this.sdnWritable().zones.set(z.zone, { ...zone });
    }
    for (const v of seed.sdn.vnets) {
      const vnet: SdnVnet = { vnet: v.vnet, zone: v.zone, ...(v.tag !== undefined ? { tag: v.tag } : {}), ...(v.alias ? { alias: v.alias } : {}) };
      if (!v.pending) this.sdn.vnets.set(v.vnet, vnet);
      this.sdnWritable().vnets.set(v.vnet, { ...vnet });
    }
    if (this.sdnPending && sameSdn(this.sdnPending, this.sdn)) this.sdnPending = null;
    if (seed.firewall) Object.assign(this.firewall.cluster.options, seed.firewall);
    this.refreshStats(now);
  }

  addUser(u: Omit<SimUser, 'tokens' | 'groups' | 'expire'> & { expire?: number; groups?: string[] }): SimUser {
    const user: SimUser = { expire: 0, groups: [], ...u, tokens: new Map() };
    this.users.set(user.userid, user);
    return user;
  }

  addToken(user: SimUser, name: string, secret: string, privsep: boolean): SimToken {
    const t: SimToken = { id: `${user.userid}!${name}`, userid: user.userid, name, secret, privsep };
    user.tokens.set(name, t);
    this.tokens.set(t.id, t);
    return t;
  }

  deleteUser(userid: string): void {
    const u = this.users.get(userid);
    if (!u) return;
    for (const t of u.tokens.values()) this.tokens.delete(t.id);
    this.users.delete(userid);
    this.acl = this.acl.filter(
      (e) => !((e.type === 'user' && e.ugid === userid) || (e.type === 'token' && e.ugid.startsWith(`${userid}!`))),
    );
    for (const g of this.groups.values()) g.members.delete(userid);
  }

  addVm(vm: SimVm): void {
    this.vms.set(vm.vmid, vm);
    this.nodes.get(vm.node)?.vmids.add(vm.vmid);
  }

  /** Remove a VM with its pool membership and ACLs (PVE::AccessControl::remove_vm_access). */
  removeVm(vmid: number): void {
    const vm = this.vms.get(vmid);
    if (!vm) return;
    if (vm.pool) this.pools.get(vm.pool)?.vmids.delete(vmid);
    this.nodes.get(vm.node)?.vmids.delete(vmid);
    this.vms.delete(vmid);
    const path = `/vms/${vmid}`;
    this.acl = this.acl.filter((e) => e.path !== path);
  }

  moveVm(vm: SimVm, node: string): void {
    this.nodes.get(vm.node)?.vmids.delete(vm.vmid);
    vm.node = node;
    this.nodes.get(node)?.vmids.add(vm.vmid);
  }

  setPool(vmid: number, poolid: string | undefined): void {
    const vm = this.vms.get(vmid);
    if (!vm) return;
    if (vm.pool) this.pools.get(vm.pool)?.vmids.delete(vmid);
    if (poolid) {
      vm.pool = poolid;
      this.pools.get(poolid)?.vmids.add(vmid);
    } else delete vm.pool;
  }

  /** The SDN config being edited (copy-on-write of the applied one). */
  sdnWritable(): SdnConfig {
    if (!this.sdnPending) {
      this.sdnPending = {
        zones: new Map([...this.sdn.zones].map(([k, v]) => [k, { ...v }])),
        vnets: new Map([...this.sdn.vnets].map(([k, v]) => [k, { ...v }])),
      };
    }
    return this.sdnPending;
  }

  /** The interfaces file being edited on a node (copy-on-write of the current one). */
  networkWritable(node: string): Map<string, NetIface> {
    const net = this.network.get(node)!;
    net.pending ??= new Map([...net.current].map(([k, v]) => [k, { ...v }]));
    return net.pending;
  }

  /** ifreload -a: the pending file becomes current; autostart interfaces come up, removed ones go down. */
  applyNetwork(node: string): void {
    const net = this.network.get(node)!;
    if (net.pending) net.current = net.pending;
    net.pending = null;
    const active = new Set<string>();
    for (const i of net.current.values()) if (i.autostart || i.type === 'eth') active.add(i.iface);
    // SDN vnets of applied zones are bridges on every node
    for (const v of this.sdn.vnets.values()) active.add(v.vnet);
    net.active = active;
  }

  /** Is `bridge` a bridge that exists and is up on `node` (what qemu's tap_plug needs)? */
  bridgeUp(node: string, bridge: string): boolean {
    const net = this.network.get(node);
    if (!net) return false;
    if (!net.active.has(bridge)) return false;
    return net.current.has(bridge) || this.sdn.vnets.has(bridge);
  }

  nodeMemUsed(node: SimNode): number {
    let used = 2 * GiB + node.memoryBytes * 0.04;
    for (const vmid of node.vmids) {
      const vm = this.vms.get(vmid);
      if (vm?.status === 'running') used += vmMemBytes(vm) * 0.85;
    }
    return Math.min(used, node.memoryBytes);
  }

  /** pvestatd: every 10 s the stats of every running guest are broadcast; cluster/resources shows those. */
  refreshStats(now: number): void {
    this.lastStatTickMs = now;
    for (const vm of this.vms.values()) {
      const s = currentStats(vm, now, this.rng);
      vm.stats = s;
      vm.statsJson =
        `"status":"${s.status}","name":${JSON.stringify(s.name)},"template":${s.template},"maxcpu":${s.maxcpu},"cpu":${s.cpu},` +
        `"maxmem":${s.maxmem},"mem":${s.mem},"memhost":${s.mem},"maxdisk":${s.maxdisk},"disk":0,"uptime":${s.uptime},` +
        `"netin":0,"netout":0,"diskread":0,"diskwrite":0`;
    }
    this.storageUsageSnap = this.storageUsage();
  }

  /**
   * Bytes used on every storage, in one pass over the VMs: full disks count fully, linked clones (thin, sharing
   * the base) a little. Keyed 'storage' for shared storage and 'storage@node' for local storage.
   */
  storageUsage(): Map<string, number> {
    const used = new Map<string, number>();
    for (const vm of this.vms.values()) {
      for (const d of disksOf(vm.config)) {
        const st = this.storages.get(d.storage);
        if (!st) continue;
        const key = st.shared ? st.id : `${st.id}@${vm.node}`;
        used.set(key, (used.get(key) ?? 0) + (d.volname.includes('/') ? 0.05 : 1) * d.sizeGiB * GiB);
      }
    }
    return used;
  }

  storageUsed(storage: SimStorage, node: string, usage = this.storageUsage()): number {
    const key = storage.shared ? storage.id : `${storage.id}@${node}`;
    return Math.round((usage.get(key) ?? 0) + storage.capacity[node]! * 0.02);
  }
}

function sameSdn(a: SdnConfig, b: SdnConfig): boolean {
  const j = (c: SdnConfig): string => JSON.stringify([[...c.zones.entries()], [...c.vnets.entries()]]);
  return j(a) === j(b);
}

export function vmMemBytes(vm: SimVm): number {
  const m = /(?:^|,|current=)(\d+)/.exec(String(vm.config.memory ?? '512'));
  return Number(m?.[1] ?? 512) * 1024 * 1024;
}

export function vmCpus(vm: SimVm): number {
  return Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1);
}

export function currentStats(vm: SimVm, now: number, rng: Rng): VmStats {
  const running = vm.status === 'running';
  const maxmem = vmMemBytes(vm);
  let maxdisk = 0;
  const m = /size=(\d+)G/.exec(String(vm.config.scsi0 ?? vm.config.virtio0 ?? ''));
  if (m) maxdisk = Number(m[1]) * GiB;
  return {
    status: running ? 'running' : 'stopped',
    name: String(vm.config.name ?? `VM ${vm.vmid}`),
    template: vm.config.template ? 1 : 0,
    maxcpu: vmCpus(vm),
    maxmem,
    mem: running ? Math.round(maxmem * (0.4 + rng.next() * 0.4)) : 0,
    cpu: running ? Math.round(rng.next() * 0.2 * 1e4) / 1e4 : 0,
    maxdisk,
    uptime: running && vm.startedAtMs ? Math.floor((now - vm.startedAtMs) / 1000) : 0,
  };
}
