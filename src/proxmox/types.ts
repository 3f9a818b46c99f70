import { z } from 'zod';

/** What a client is built from: one cluster of connections.yml (type only: the client never loads config files). */
export type { ClusterConfig } from '../config/connections.js';

// Perl has no types on output: numbers and booleans may arrive as numbers, numeric strings or 0/1.
export const pveNum = z.union([
  z.number(),
  z
    .string()
    .regex(/^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/)
    .transform(Number),
]);
export const pveInt = pveNum.pipe(z.number().int());
export const pveBool = z.union([
  z.boolean(),
  z.number().transform((n) => n !== 0),
  z.enum(['0', '1', 'true', 'false']).transform((s) => s === '1' || s === 'true'),
]);
/** Fields PVE leaves out (or sends as null) for recent gaps. */
const optNum = pveNum.nullish().transform((v) => v ?? undefined);
const optInt = pveInt.nullish().transform((v) => v ?? undefined);
const optBool = pveBool.nullish().transform((v) => v ?? undefined);
const optStr = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : String(v)));

export const PveVersion = z.looseObject({
  version: z.string(),
  release: z.string().optional(),
  repoid: z.string().optional(),
  console: z.string().optional(),
});
export type PveVersion = z.infer<typeof PveVersion>;

export const TicketResponse = z.looseObject({
  username: z.string(),
  ticket: z.string(),
  CSRFPreventionToken: z.string(),
  clustername: z.string().optional(),
});
export type TicketResponse = z.infer<typeof TicketResponse>;

export const NodeListEntry = z.looseObject({
  node: z.string(),
  status: z.string(),
  cpu: optNum,
  maxcpu: optInt,
  mem: optNum,
  maxmem: optNum,
  disk: optNum,
  maxdisk: optNum,
  uptime: optNum,
  ssl_fingerprint: z.string().optional(),
});
export type NodeListEntry = z.infer<typeof NodeListEntry>;

const MemBlock = z.looseObject({ total: optNum, used: optNum, free: optNum, available: optNum });
export const NodeStatus = z.looseObject({
  cpu: optNum,
  wait: optNum,
  uptime: optNum,
  loadavg: z.array(z.union([z.string(), z.number()])).optional(),
  memory: MemBlock.optional(),
  swap: MemBlock.optional(),
  rootfs: z.looseObject({ total: optNum, used: optNum, free: optNum, avail: optNum }).optional(),
  cpuinfo: z.looseObject({ cpus: optInt, cores: optInt, sockets: optInt, model: z.string().optional() }).optional(),
  pveversion: z.string().optional(),
  kversion: z.string().optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

export const RrdPoint = z.looseObject({
  time: pveInt,
  cpu: optNum,
  maxcpu: optNum,
  memtotal: optNum,
  memused: optNum,
  memavailable: optNum,
  loadavg: optNum,
  iowait: optNum,
  netin: optNum,
  netout: optNum,
});
export type RrdPoint = z.infer<typeof RrdPoint>;

export const ClusterResource = z.looseObject({
  id: z.string(),
  type: z.string(),
  node: z.string().optional(),
  status: z.string().optional(),
  vmid: optInt,
  name: z.string().optional(),
  template: optBool,
  pool: z.string().optional(),
  lock: z.string().optional(),
  tags: z.string().optional(),
  cpu: optNum,
  maxcpu: optNum,
  mem: optNum,
  maxmem: optNum,
  disk: optNum,
  maxdisk: optNum,
  uptime: optNum,
  storage: z.string().optional(),
  plugintype: z.string().optional(),
  shared: optBool,
  content: z.string().optional(),
  sdn: z.string().optional(),
});
export type ClusterResource = z.infer<typeof ClusterResource>;
export type ClusterResourceType = 'vm' | 'storage' | 'node' | 'sdn';

export const VmListEntry = z.looseObject({
  vmid: pveInt,
  name: z.string().optional(),
  status: z.string(),
  template: optBool,
  lock: z.string().optional(),
  cpus: optNum,
  maxmem: optNum,
  mem: optNum,
  maxdisk: optNum,
  uptime: optNum,
  tags: z.string().optional(),
});
export type VmListEntry = z.infer<typeof VmListEntry>;

/** VM config: the keys we read are typed; everything else (net0, scsi0, …) stays as PVE sent it. */
export const VmConfig = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  cores: optInt,
  sockets: optInt,
  memory: optStr,
  template: optBool,
  lock: z.string().optional(),
  tags: z.string().optional(),
  digest: z.string().optional(),
  onboot: optBool,
});
export type VmConfig = z.infer<typeof VmConfig> & Record<string, unknown>;

export const VmStatus = z.looseObject({
  vmid: optInt,
  status: z.string(),
  qmpstatus: z.string().optional(),
  name: z.string().optional(),
  lock: z.string().optional(),
  template: optBool,
  cpus: optNum,
  cpu: optNum,
  maxmem: optNum,
  mem: optNum,
  maxdisk: optNum,
  uptime: optNum,
});
export type VmStatus = z.infer<typeof VmStatus>;

export const Snapshot = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  snaptime: optInt,
  parent: z.string().optional(),
  vmstate: optBool,
  running: optBool,
});
export type Snapshot = z.infer<typeof Snapshot>;

export const TaskStatus = z.looseObject({
  upid: z.string().optional(),
  node: z.string().optional(),
  type: z.string().optional(),
  id: optStr,
  user: z.string().optional(),
  status: z.string(),
  exitstatus: z.string().optional(),
  starttime: optInt,
});
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TaskLogLine = z.looseObject({ n: pveInt, t: z.string() });
export type TaskLogLine = z.infer<typeof TaskLogLine>;

export const TaskListEntry = z.looseObject({
  upid: z.string(),
  node: z.string().optional(),
  type: z.string().optional(),
  id: optStr,
  user: z.string().optional(),
  status: z.string().optional(),
  starttime: optInt,
  endtime: optInt,
});
export type TaskListEntry = z.infer<typeof TaskListEntry>;

export const PoolMember = z.looseObject({
  id: z.string(),
  type: z.string(),
  node: z.string().optional(),
  vmid: optInt,
  storage: z.string().optional(),
  name: z.string().optional(),
});
export type PoolMember = z.infer<typeof PoolMember>;

export const Pool = z.looseObject({
  poolid: z.string(),
  comment: z.string().optional(),
  members: z.array(PoolMember).optional(),
});
export type Pool = z.infer<typeof Pool>;

export const PveUser = z.looseObject({
  userid: z.string(),
  comment: z.string().optional(),
  email: z.string().optional(),
  firstname: z.string().optional(),
  lastname: z.string().optional(),
  enable: optBool,
  expire: optInt,
  groups: z.union([z.string(), z.array(z.string())]).optional(),
});
export type PveUser = z.infer<typeof PveUser>;

/** GET /access/domains: an authentication realm and its type (pve, pam, ldap, ad, openid). */
export const Realm = z.looseObject({
  realm: z.string(),
  type: z.string(),
  comment: z.string().optional(),
});
export type Realm = z.infer<typeof Realm>;

/** Realm types whose plugin stores a password (pve-access-control Auth/PVE.pm, Auth/PAM.pm `store_password`). */
export function realmTakesPassword(type: string | undefined): boolean {
  return type === 'pve' || type === 'pam';
}

export const AclEntry = z.looseObject({
  path: z.string(),
  roleid: z.string(),
  type: z.string(),
  ugid: z.string(),
  propagate: optBool,
});
export type AclEntry = z.infer<typeof AclEntry>;

export const Role = z.looseObject({
  roleid: z.string(),
  privs: z.string().optional(),
  special: optBool,
});
export type Role = z.infer<typeof Role>;

export const NetworkIface = z.looseObject({
  iface: z.string(),
  type: z.string(),
  active: optBool,
  autostart: optBool,
  bridge_ports: z.string().optional(),
  bridge_vlan_aware: optBool,
  bridge_vids: z.string().optional(),
  cidr: z.string().optional(),
  address: z.string().optional(),
  netmask: z.string().optional(),
  gateway: z.string().optional(),
  method: z.string().optional(),
  // PVE returns comments as written in /etc/network/interfaces, with a trailing newline.
  comments: z
    .string()
    .optional()
    .transform((v) => v?.replace(/\n+$/, '')),
  pending: z.unknown().optional(),
  exists: optBool,
});
export type NetworkIface = z.infer<typeof NetworkIface>;
export interface NetworkList {
  ifaces: NetworkIface[];
  /** Diff of /etc/network/interfaces vs interfaces.new; present when there are pending (unapplied) changes. */
  changes?: string;
}

export const SdnZone = z.looseObject({
  zone: z.string(),
  type: z.string(),
  bridge: z.string().optional(),
  state: z.string().optional(),
  pending: z.unknown().optional(),
});
export type SdnZone = z.infer<typeof SdnZone>;

export const SdnVnet = z.looseObject({
  vnet: z.string(),
  zone: z.string().optional(),
  tag: optInt,
  alias: z.string().optional(),
  state: z.string().optional(),
  vlanaware: optBool,
});
export type SdnVnet = z.infer<typeof SdnVnet>;

/** GET /access/permissions: { "/path": { "Priv.Name": 0|1 } } */
export const Permissions = z.record(z.string(), z.record(z.string(), pveBool));
export type Permissions = z.infer<typeof Permissions>;

/** A started task. `upid` is null when the client adopted a task it could not identify (see waitTask). */
export interface TaskRef {
  node: string;
  upid: string;
  type: string;
  id: string;
  /** Set when the task was found by re-reading state after an ambiguous write (not from the write's reply). */
  adopted?: boolean;
  /** When an ambiguous clone could not be tied to one UPID: wait for this VM's lock to clear instead. */
  watchVmid?: number;
  /** An adopted clone: the pool the new VM joins at the task's very end (after its unlock and its move). */
  pool?: string;
}

export interface TaskResult {
  ok: boolean;
  exitstatus: string;
  logTail: string[];
  upid: string;
}

export interface CloneOptions {
  newid: number;
  name?: string;
  pool?: string;
  full?: boolean;
  target?: string;
  storage?: string;
  /** Full clones only: the new disks' format (qcow2 on file storage, so linked clones can be made from it). */
  format?: 'raw' | 'qcow2' | 'vmdk';
  description?: string;
  snapname?: string;
}

export interface CreateUserOptions {
  userid: string;
  password?: string;
  comment?: string;
  email?: string;
  firstname?: string;
  lastname?: string;
  groups?: string[];
  enable?: boolean;
  expire?: number;
}

export interface UpdateAclOptions {
  path: string;
  roles: string[];
  users?: string[];
  groups?: string[];
  tokens?: string[];
  propagate?: boolean;
  delete?: boolean;
}

export interface BridgeOptions {
  iface: string;
  bridge_ports?: string;
  bridge_vlan_aware?: boolean;
  bridge_vids?: string;
  autostart?: boolean;
  comments?: string;
  cidr?: string;
  gateway?: string;
  mtu?: number;
}

export interface NetworkUpdate {
  type?: string;
  bridge_ports?: string;
  bridge_vlan_aware?: boolean;
  bridge_vids?: string;
  autostart?: boolean;
  comments?: string;
  cidr?: string;
  gateway?: string;
  mtu?: number;
  delete?: string[];
}

export interface ZoneOptions {
  zone: string;
  type: 'simple' | 'vlan' | 'qinq' | 'vxlan' | 'evpn';
  bridge?: string;
  tag?: number;
  mtu?: number;
  nodes?: string[];
  peers?: string[];
  ipam?: string;
}

export interface VnetOptions {
  vnet: string;
  zone: string;
  tag?: number;
  alias?: string;
  vlanaware?: boolean;
}

/** Value types accepted in a request: booleans become 1/0, arrays become repeated keys. */
export type ParamValue = string | number | boolean | undefined | null | readonly (string | number)[];
export type Params = Record<string, ParamValue>;
