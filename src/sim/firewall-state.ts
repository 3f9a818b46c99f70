/**
 * The firewall configuration files of pmxcfs: /etc/pve/firewall/cluster.fw (options, aliases, IPSets, security
 * groups, datacenter rules) and /etc/pve/firewall/<vmid>.fw (a guest's options, aliases, IPSets, rules).
 *
 * Objects are kept as pve-firewall holds them after re-reading the file it just wrote (every API call loads,
 * changes and saves the file): group and IPSet names lower-cased, IPSet entries normalised and sorted, rules with
 * `enable` 0/1 and the `ipversion` verify_rule derives. Sources: proxmox/pve-firewall src/PVE/Firewall.pm
 * (generic_fw_config_parser, parse_fw_rule, parse_alias, parse_ip_or_cidr, clean_cidr, $format_ipsets).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/** A rule as parse_fw_rule returns it (values are strings except enable/ipversion). */
export type FwRule = Record<string, string | number>;

export interface FwAlias {
  /** the name as created (lookups are by lower-cased name) */
  name: string;
  cidr: string;
  ipversion: 4 | 6;
  comment?: string;
}

export interface FwIpsetEntry {
  cidr: string;
  nomatch?: 1;
  comment?: string;
}

export interface FwIpset {
  comment?: string;
  entries: FwIpsetEntry[];
}

/** What one .fw file holds (cluster.fw also has groups; a VM's file has no groups). */
export interface FwConf {
  options: Record<string, string | number>;
  /** key: lower-cased name */
  aliases: Map<string, FwAlias>;
  ipsets: Map<string, FwIpset>;
  rules: FwRule[];
}

export interface ClusterFwConf extends FwConf {
  groups: Map<string, { comment?: string; rules: FwRule[] }>;
}

export interface FirewallState {
  cluster: ClusterFwConf;
  /** <vmid>.fw files; a missing key is a missing file */
  vms: Map<number, FwConf>;
}

export function emptyConf(): FwConf {
  return { options: {}, aliases: new Map(), ipsets: new Map(), rules: [] };
}

/** A fresh PVE: cluster.fw does not exist, so the datacenter firewall is off (enable unset = 0). */
export function newFirewallState(): FirewallState {
  return { cluster: { ...emptyConf(), groups: new Map() }, vms: new Map() };
}

/**
 * cluster.fw [OPTIONS] as parse_clusterfw_option reads them: an `enable` above 1 is the anti-lockout timestamp
 * set_options writes for `enable` > 1, and reads as 0 once it is more than 60 s old.
 */
export function clusterOptions(o: Record<string, string | number>, nowMs: number): Record<string, string | number> {
  const out = { ...o };
  if (typeof out.enable === 'number' && out.enable > 1 && Math.floor(nowMs / 1000) - out.enable > 60) out.enable = 0;
  return out;
}

/** The VM's firewall file, created empty on first write (load_vmfw_conf of a missing file is an empty config). */
export function vmConf(fw: FirewallState, vmid: number, create: boolean): FwConf {
  let c = fw.vms.get(vmid);
  if (!c) {
    c = emptyConf();
    if (create) fw.vms.set(vmid, c);
  }
  return c;
}

/** save_vmfw_conf unlinks the file when nothing is left in it. */
export function saveVmConf(fw: FirewallState, vmid: number, c: FwConf): void {
  const empty = !Object.keys(c.options).length && !c.aliases.size && !c.ipsets.size && !c.rules.length;
  if (empty) fw.vms.delete(vmid);
  else fw.vms.set(vmid, c);
}

function cloneConf(c: FwConf): FwConf {
  return {
    options: { ...c.options },
    aliases: new Map([...c.aliases].map(([k, v]) => [k, { ...v }])),
    ipsets: new Map([...c.ipsets].map(([k, v]) => [k, { ...v, entries: v.entries.map((e) => ({ ...e })) }])),
    rules: c.rules.map((r) => ({ ...r })),
  };
}

/** PVE::Firewall::Helpers::clone_vmfw_conf (called by qemu-server's clone_vm): the clone gets a copy of the file. */
export function cloneVmFirewall(fw: FirewallState, vmid: number, newid: number): void {
  fw.vms.delete(newid);
  const src = fw.vms.get(vmid);
  if (src) fw.vms.set(newid, cloneConf(src));
}

/** PVE::Firewall::Helpers::remove_vmfw_conf (destroy_vm, and a failed clone's cleanup). */
export function removeVmFirewall(fw: FirewallState, vmid: number): void {
  fw.vms.delete(vmid);
}

/** The whole firewall configuration as plain JSON (for tests comparing before/after, e.g. after a cleanup). */
export function snapshotFirewall(fw: FirewallState): unknown {
  const conf = (c: FwConf): unknown => ({
    options: c.options,
    aliases: Object.fromEntries([...c.aliases].sort(([a], [b]) => a.localeCompare(b))),
    ipsets: Object.fromEntries([...c.ipsets].sort(([a], [b]) => a.localeCompare(b))),
    rules: c.rules,
  });
  return structuredClone({
    cluster: { ...(conf(fw.cluster) as object), groups: Object.fromEntries([...fw.cluster.groups].sort(([a], [b]) => a.localeCompare(b))) },
    vms: Object.fromEntries([...fw.vms].sort(([a], [b]) => a - b).map(([vmid, c]) => [vmid, conf(c)])),
  });
}

/** PVE::Firewall::copy_opject_with_digest: sha1 over "key:value\n" of the defined keys, sorted. */
export function objectDigest(o: Record<string, unknown>): string {
  const sha = createHash('sha1');
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    sha.update(`${k}:${String(v)}\n`);
  }
  return sha.digest('hex');
}

/** PVE::Firewall::copy_list_with_digest: each entry copied and given the list's digest. */
export function listWithDigest<T extends object>(list: T[]): { list: (T & { digest: string })[]; digest: string } {
  const sha = createHash('sha1');
  const out: (T & { digest: string })[] = [];
  for (const e of list) {
    const data: Record<string, unknown> = {};
    for (const k of Object.keys(e).sort()) {
      const v = (e as Record<string, unknown>)[k];
      if (v === undefined || v === null) continue;
      data[k] = v;
      if (typeof v !== 'object') sha.update(`${k}:${String(v)}\n`, 'utf8');
    }
    out.push(data as T & { digest: string });
  }
  const digest = sha.digest('hex');
  for (const e of out) e.digest = digest;
  return { list: out, digest };
}

// ---- addresses ------------------------------------------------------------------------------------------------

/** Dotted IPv4 to an unsigned 32-bit number, or undefined. */
export function ip4(s: string): number | undefined {
  if (isIP(s) !== 4) return undefined;
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

const ip4str = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** An IPv4 or IPv6 address with an optional prefix (pve_verify_ip_or_cidr); returns its IP version. */
export function ipOrCidrVersion(s: string): 4 | 6 | undefined {
  const [ip, len, extra] = s.split('/');
  if (extra !== undefined || !ip) return undefined;
  const v = isIP(ip);
  if (v !== 4 && v !== 6) return undefined;
  if (len !== undefined && (!/^\d+$/.test(len) || Number(len) > (v === 4 ? 32 : 128))) return undefined;
  return v;
}

/** clean_cidr (host bits cleared) then parse_ip_or_cidr (a /32 or /128 prefix dropped), for IPv4. */
export function normaliseCidr(s: string): string {
  const [ip, len] = s.split('/');
  if (ipOrCidrVersion(s) === 4 && len !== undefined) {
    const bits = Number(len);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const clean = `${ip4str((ip4(ip!)! & mask) >>> 0)}/${bits}`;
    return bits === 32 ? clean.replace(/\/32$/, '') : clean;
  }
  return s.replace(/\/128$/, '');
}

/** Does the IPv4 address `addr` fall in `spec` (an address, a CIDR or an a-b range)? */
export function ip4In(addr: number, spec: string): boolean {
  const range = /^([\d.]+)-([\d.]+)$/.exec(spec);
  if (range) {
    const lo = ip4(range[1]!);
    const hi = ip4(range[2]!);
    return lo !== undefined && hi !== undefined && addr >= lo && addr <= hi;
  }
  const [ip, len] = spec.split('/');
  const base = ip4(ip ?? '');
  if (base === undefined) return false;
  const bits = len === undefined ? 32 : Number(len);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((addr & mask) >>> 0) === ((base & mask) >>> 0);
}

export const prefixLen = (cidr: string): number => (cidr.includes('/') ? Number(cidr.split('/')[1]) : isIP(cidr) === 6 ? 128 : 32);

/** $format_ipsets writes the entries sorted by cidr (string order) and the parser reads them back that way. */
export function sortIpset(entries: FwIpsetEntry[]): FwIpsetEntry[] {
  return [...entries].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}
