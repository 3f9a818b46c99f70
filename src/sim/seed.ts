/**
 * The seed: what a simulated cluster holds when it starts (nodes, storages, templates, someone else's VMs, pools,
 * users, bridges and pending network edits). Parsed with zod; a YAML/JSON file is reported with its line.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';

const Name = z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]*$/, 'must be a node name (letters, digits, -)');

export const SeedNode = z.object({
  name: Name,
  cores: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  /** root filesystem size */
  diskGiB: z.number().positive().default(100),
  online: z.boolean().default(true),
  /** background CPU load as a fraction (0..1) around which the synthetic load wanders */
  load: z.number().min(0).max(1).default(0.08),
  /** ifupdown2 installed (PVE applies network changes only with it: pve-manager API2/Network.pm assert_ifupdown2_installed) */
  ifupdown2: z.boolean().default(true),
});
export type SeedNode = z.infer<typeof SeedNode>;

export const SeedStorage = z.object({
  id: z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i),
  type: z.enum(['lvmthin', 'lvm', 'rbd', 'dir', 'zfspool', 'nfs', 'cephfs']),
  shared: z.boolean(),
  /** nodes that have it (default: all) */
  nodes: z.array(Name).optional(),
  /** capacity in GiB, one number for all nodes or per node */
  capacityGiB: z.union([z.number().positive(), z.record(z.string(), z.number().positive())]),
  content: z.string().default('images,rootdir'),
});
export type SeedStorage = z.infer<typeof SeedStorage>;

export const SeedNic = z.object({
  bridge: z.string(),
  model: z.string().default('virtio'),
  mac: z.string().optional(),
  tag: z.number().int().min(1).max(4094).optional(),
  firewall: z.boolean().optional(),
  link_down: z.boolean().optional(),
});
export type SeedNic = z.infer<typeof SeedNic>;

export const SeedVm = z.object({
  vmid: z.number().int().min(100).max(999_999_999),
  name: z.string(),
  node: Name,
  template: z.boolean().default(false),
  status: z.enum(['running', 'stopped']).default('stopped'),
  cores: z.number().int().positive().default(1),
  sockets: z.number().int().positive().default(1),
  memory: z.number().int().min(16).default(2048),
  storage: z.string(),
  diskGiB: z.number().positive().default(8),
  nets: z.array(SeedNic).default([]),
  pool: z.string().optional(),
  tags: z.array(z.string()).default([]),
  description: z.string().optional(),
  ostype: z.string().default('l26'),
  snapshots: z.array(z.string()).default([]),
  /** more drives as config values, e.g. `{ ide2: 'local:iso/debian.iso,media=cdrom', ide0: 'local-lvm:vm-9000-cloudinit,media=cdrom' }` */
  drives: z.record(z.string().regex(/^(ide|sata|scsi|virtio)\d+$/), z.string()).default({}),
});
export type SeedVm = z.infer<typeof SeedVm>;

export const SeedPool = z.object({ poolid: z.string(), comment: z.string().optional() });
export const SeedUser = z.object({
  userid: z.string().regex(/^[^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+$/, 'must be name@realm'),
  password: z.string().optional(),
  comment: z.string().optional(),
  email: z.string().optional(),
  firstname: z.string().optional(),
  lastname: z.string().optional(),
  enable: z.boolean().default(true),
});
/** An authentication realm (domains.cfg); `pve` and `pam` always exist. */
export const SeedRealm = z.object({
  realm: z.string().regex(/^[A-Za-z][A-Za-z0-9.\-_]+$/, 'must be a realm name'),
  type: z.enum(['pve', 'pam', 'ldap', 'ad', 'openid']),
  comment: z.string().optional(),
});
export const SeedToken = z.object({
  /** user@realm!name */
  id: z.string().regex(/^[^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/),
  secret: z.string().optional(),
  privsep: z.boolean().default(true),
});
export const SeedAcl = z.object({
  path: z.string().startsWith('/'),
  roles: z.array(z.string()).min(1),
  users: z.array(z.string()).default([]),
  tokens: z.array(z.string()).default([]),
  groups: z.array(z.string()).default([]),
  propagate: z.boolean().default(true),
});
export const SeedRole = z.object({ roleid: z.string(), privs: z.array(z.string()) });

export const SeedIface = z.object({
  /** a node name, or '*' for every node */
  node: z.string(),
  iface: z.string().regex(/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/),
  type: z.enum(['bridge', 'eth', 'bond', 'vlan']).default('bridge'),
  bridge_ports: z.string().optional(),
  bridge_vlan_aware: z.boolean().optional(),
  autostart: z.boolean().default(true),
  comments: z.string().optional(),
  cidr: z.string().optional(),
  gateway: z.string().optional(),
  /** true = written to interfaces.new by someone, not applied yet */
  pending: z.boolean().default(false),
});
export type SeedIface = z.infer<typeof SeedIface>;

export const SeedSdnZone = z.object({
  zone: z.string(),
  type: z.enum(['simple', 'vlan', 'qinq', 'vxlan', 'evpn']),
  bridge: z.string().optional(),
  pending: z.boolean().default(false),
});
export const SeedSdnVnet = z.object({
  vnet: z.string(),
  zone: z.string(),
  tag: z.number().int().optional(),
  alias: z.string().optional(),
  vlanaware: z.boolean().optional(),
  pending: z.boolean().default(false),
});

export const SimSeed = z.object({
  clusterName: z.string().default('sim'),
  /** pve-manager version reported by /version (set e.g. '8.0.4' to test a deployer's refusal) */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/).default('9.1.2'),
  nodes: z.array(SeedNode).min(1),
  storages: z.array(SeedStorage).default([]),
  vms: z.array(SeedVm).default([]),
  pools: z.array(SeedPool).default([]),
  users: z.array(SeedUser).default([]),
  /** realms besides the built-in `pve` and `pam` (e.g. an LDAP directory) */
  realms: z.array(SeedRealm).default([]),
  tokens: z.array(SeedToken).default([]),
  roles: z.array(SeedRole).default([]),
  acl: z.array(SeedAcl).default([]),
  network: z.array(SeedIface).default([]),
  sdn: z
    .object({ zones: z.array(SeedSdnZone).default([]), vnets: z.array(SeedSdnVnet).default([]) })
    .default({ zones: [], vnets: [] }),
  /**
   * cluster.fw [OPTIONS] at start. Absent = a fresh PVE: no cluster.fw, the datacenter firewall off. Tests and
   * demos turn it on here (or with PUT /cluster/firewall/options enable=1, as an admin would).
   */
  firewall: z
    .object({
      enable: z.union([z.literal(0), z.literal(1)]).optional(),
      policy_in: z.enum(['ACCEPT', 'DROP', 'REJECT']).optional(),
      policy_out: z.enum(['ACCEPT', 'DROP', 'REJECT']).optional(),
    })
    .strict()
    .optional(),
  /** root@pam's password and the root@pam!stands token secret (random when absent) */
  rootPassword: z.string().optional(),
  tokenSecret: z.string().optional(),
});
/** What a seed file holds (input form: defaults may be omitted). */
export type SimSeedInput = z.input<typeof SimSeed>;
/** A parsed seed (defaults filled in). */
export type SimSeed = z.infer<typeof SimSeed>;

/** Cross-references a schema cannot express: every node, storage, pool and bridge named must exist. */
function crossCheck(seed: SimSeed): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const nodes = new Set(seed.nodes.map((n) => n.name));
  const storages = new Map(seed.storages.map((s) => [s.id, s]));
  const pools = new Set(seed.pools.map((p) => p.poolid));
  const vmids = new Set<number>();
  seed.storages.forEach((s, i) =>
    s.nodes?.forEach((n, j) => {
      if (!nodes.has(n)) issues.push({ path: `storages[${i}].nodes[${j}]`, message: `unknown node '${n}'` });
    }),
  );
  seed.vms.forEach((vm, i) => {
    if (!nodes.has(vm.node)) issues.push({ path: `vms[${i}].node`, message: `unknown node '${vm.node}'` });
    const st = storages.get(vm.storage);
    if (!st) issues.push({ path: `vms[${i}].storage`, message: `unknown storage '${vm.storage}'` });
    else if (st.nodes && !st.nodes.includes(vm.node))
      issues.push({ path: `vms[${i}].storage`, message: `storage '${vm.storage}' is not on node '${vm.node}'` });
    if (vm.pool && !pools.has(vm.pool)) issues.push({ path: `vms[${i}].pool`, message: `unknown pool '${vm.pool}'` });
    if (vmids.has(vm.vmid)) issues.push({ path: `vms[${i}].vmid`, message: `duplicate vmid ${vm.vmid}` });
    vmids.add(vm.vmid);
    if (vm.template && vm.status === 'running')
      issues.push({ path: `vms[${i}].status`, message: 'a template cannot be running' });
  });
  seed.network.forEach((n, i) => {
    if (n.node !== '*' && !nodes.has(n.node)) issues.push({ path: `network[${i}].node`, message: `unknown node '${n.node}'` });
  });
  return issues;
}

export function parseSeed(input: unknown, file = '<seed>', lineOf?: (path: (string | number)[]) => number | undefined): SimSeed {
  const r = SimSeed.safeParse(input);
  const issues: InputIssue[] = [];
  if (!r.success) {
    for (const i of r.error.issues) {
      const path = i.path.map(String);
      const p = i.path.reduce<string>(
        (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
        '',
      );
      const line = lineOf?.(i.path as (string | number)[]);
      issues.push({ file, ...(line ? { line } : {}), ...(path.length ? { path: p } : {}), message: i.message });
    }
    throw new ConfigError(issues);
  }
  const cross = crossCheck(r.data);
  if (cross.length) {
    throw new ConfigError(
      cross.map((c) => {
        const keys = c.path.split(/[.[\]]+/).filter(Boolean).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
        const line = lineOf?.(keys);
        return { file, ...(line ? { line } : {}), path: c.path, message: c.message };
      }),
    );
  }
  return r.data;
}

/** Load a YAML or JSON seed file (JSON is YAML); errors name the file, line and field. */
export async function loadSeedFile(path: string): Promise<SimSeed> {
  const text = await readFile(path, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file: path, line: e.linePos?.[0]?.line, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  const lineOf = (keys: (string | number)[]): number | undefined => {
    let node: unknown = doc.contents;
    let last: YamlNode | undefined = doc.contents ?? undefined;
    for (const k of keys) {
      if (isMap(node) || isSeq(node)) {
        const next = (node as { get(k: unknown, keep: true): unknown }).get(k, true);
        if (next === undefined) break;
        node = next;
        last = next as YamlNode;
      } else break;
    }
    const off = last?.range?.[0];
    return off === undefined ? undefined : lc.linePos(off).line;
  };
  return parseSeed(doc.toJS(), path, lineOf);
}
