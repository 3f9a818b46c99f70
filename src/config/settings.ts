/**
 * stands.yml: engine settings shared by the CLI and the bot. The file is optional and every key has a default
 * (documented in docs/configuration.md); YAML is snake_case, the `Settings` type camelCase.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { parseCidr } from './cidr.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { REALM_RE, realmProblem } from './userid.js';
import { expandEnv, issueAt, loadYamlFile, strictObject, throwIfIssues, validate, type YamlSource } from './yaml-source.js';

export const SETTINGS_FILE = 'stands.yml';

export type PlacementStrategy = 'balanced' | 'round-robin' | 'pack' | `node:${string}`;
export type NetworkMode = 'bridges' | 'sdn';
export type SharedReplicaMode = 'auto' | 'never' | 'always';
export type LeaseAction = 'shutdown' | 'stop' | 'destroy';
export type Range = readonly [number, number];

export interface Settings {
  /** Realm of users written without one, and of users we create. */
  realm: string;
  /** Realms a user list may use (`pam` additionally needs `allowPam`). */
  allowedRealms: string[];
  allowPam: boolean;
  /**
   * timeAware: balanced placement also moves stands where the estimated deploy time drops (issue 14);
   * sharedReplica: a template on node-local storage gets one replica on linked-clone-capable shared storage instead
   * of one per node — `auto` when the plan's estimate is lower, `always` when such a storage exists, `never`
   */
  placement: { strategy: PlacementStrategy; memoryLimit: number; cpuOvercommit: number; timeAware: boolean; sharedReplica: SharedReplicaMode };
  network: {
    mode: NetworkMode;
    /** Numbers N of the private bridges `vmbrN` we create. */
    bridgeRange: Range;
    sdn: { zone: string; zoneType: 'vlan' | 'vxlan'; bridge?: string; tagRange: Range };
  };
  vmids: { range: Range };
  acl: { role: string; customRole?: { name: string; privs: string[] } };
  templates: { replicate: boolean; replicaVmidRange: Range };
  leases: {
    /** undefined = stands have no lease unless the profile or the command sets one. */
    default?: string;
    defaultMs?: number;
    /** `shutdown`: ACPI shutdown, stopped after `shutdownTimeout`; `stop`: at once; `destroy`: removed. */
    action: LeaseAction;
    warnBefore: string;
    warnBeforeMs: number;
    /** How long a guest gets to power off after the ACPI button before it is stopped. */
    shutdownTimeout: string;
    shutdownTimeoutMs: number;
  };
  /** Console link base per cluster name (falls back to the cluster's console_url, then its url). */
  consoleUrl: Record<string, string>;
  concurrency: { perNode: number; fullClonesPerStorage: number; linkedClonesPerStorage: number };
  passwords: { length: number };
  /**
   * Stand isolation (profiles with `isolation: stand`): CIDRs no stand VM may reach, and CIDRs that may open
   * connections to stand VMs on shared bridges. Normalised as Proxmox IPSets store them (src/config/cidr.ts).
   */
  isolation: { deny: string[]; allowIn: string[] };
  /** The file read, or undefined when stands.yml is absent (all defaults). */
  file?: string;
}

/** VLAN tags and VXLAN ids: VXLAN allows 24 bits, VLAN 12. */
const VXLAN_MAX = 16_777_215;

const rangeOf = (min: number, max: number) =>
  z
    .tuple([z.number().int().min(min).max(max), z.number().int().min(min).max(max)], {
      error: (iss) => (iss.code === 'invalid_type' ? `expected [first, last], e.g. [${min}, ${max}]` : undefined),
    })
    .refine(([a, b]) => a <= b, 'the first number must not be greater than the last');

const duration = z.string().refine((s) => parseDuration(s) !== undefined, { error: (iss) => `${DURATION_HINT}; got "${String(iss.input)}"` });
const realm = z.string().max(32).regex(REALM_RE, 'expected a realm name (a letter, then letters, digits, ".", "-" or "_")');
const strategy = z.string().regex(/^(balanced|round-robin|pack|node:[A-Za-z0-9][A-Za-z0-9-]*)$/, 'expected balanced, round-robin, pack or node:<name>');
const cidr = z.string().transform((text, ctx) => {
  const r = parseCidr(text);
  if (r.ok) return r.cidr;
  ctx.issues.push({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
});
const roleId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a PVE role name');

export const SettingsFile = strictObject({
  realm: realm.optional(),
  allowed_realms: z.array(realm).min(1).optional(),
  allow_pam: z.boolean().optional(),
  placement: strictObject({
    strategy: strategy.optional(),
    memory_limit: z.number().gt(0).max(1).optional(),
    cpu_overcommit: z.number().gt(0).max(64).optional(),
    time_aware: z.boolean().optional(),
    shared_replica: z.enum(['auto', 'never', 'always']).optional(),
  }).optional(),
  network: strictObject({
    mode: z.enum(['bridges', 'sdn']).optional(),
    bridge_range: rangeOf(0, 9999).optional(),
    sdn: strictObject({
      zone: z.string().regex(/^[a-z][a-z0-9]{0,7}$/, 'SDN zone ids are 1–8 lowercase letters and digits, starting with a letter').optional(),
      zone_type: z.enum(['vlan', 'vxlan']).optional(),
      bridge: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/, 'expected a bridge name such as vmbr0').optional(),
      tag_range: rangeOf(1, VXLAN_MAX).optional(),
    }).optional(),
  }).optional(),
  vmids: strictObject({ range: rangeOf(100, 999_999_999).optional() }).optional(),
  acl: strictObject({
    role: roleId.optional(),
    custom_role: strictObject({ name: roleId, privs: z.array(z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)+$/, 'expected a privilege such as VM.PowerMgmt')).min(1) }).optional(),
  }).optional(),
  templates: strictObject({ replicate: z.boolean().optional(), replica_vmid_range: rangeOf(100, 999_999_999).optional() }).optional(),
  leases: strictObject({
    default: z.union([z.literal('none'), duration]).optional(),
    action: z.enum(['shutdown', 'stop', 'destroy']).optional(),
    warn_before: duration.optional(),
    shutdown_timeout: duration.optional(),
  }).optional(),
  console_url: z.record(z.string(), z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })).optional(),
  concurrency: strictObject({
    per_node: z.number().int().min(1).max(64).optional(),
    full_clones_per_storage: z.number().int().min(1).max(16).optional(),
    linked_clones_per_storage: z.number().int().min(1).max(64).optional(),
  }).optional(),
  passwords: strictObject({ length: z.number().int().min(12).max(128).optional() }).optional(),
  isolation: strictObject({ deny: z.array(cidr).optional(), allow_in: z.array(cidr).optional() }).optional(),
});
export type SettingsFile = z.infer<typeof SettingsFile>;

/** Every default, in one place (docs/configuration.md lists the same). */
export function defaultSettings(): Settings {
  return {
    realm: 'pve',
    allowedRealms: ['pve'],
    allowPam: false,
    placement: { strategy: 'balanced', memoryLimit: 0.9, cpuOvercommit: 4, timeAware: true, sharedReplica: 'auto' },
    network: {
      mode: 'bridges',
      bridgeRange: [1000, 4094],
      sdn: { zone: 'stands', zoneType: 'vlan', bridge: 'vmbr0', tagRange: [2000, 3999] },
    },
    vmids: { range: [10000, 99999] },
    acl: { role: 'PVEVMUser' },
    templates: { replicate: true, replicaVmidRange: [100000, 100999] },
    leases: { action: 'shutdown', warnBefore: '1h', warnBeforeMs: 3_600_000, shutdownTimeout: '1m', shutdownTimeoutMs: 60_000 },
    consoleUrl: {},
    // pvedaemon has 3 workers per node; the storage lock times out after 10 s (why 2 and 8: src/core/executor.ts)
    // the same as the executor's DEFAULT_EXEC_LIMITS (src/core/executor.ts explains the numbers)
    concurrency: { perNode: 3, fullClonesPerStorage: 2, linkedClonesPerStorage: 12 },
    passwords: { length: 16 },
    isolation: { deny: [], allowIn: [] },
  };
}

function overlaps(a: Range, b: Range): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

export function settingsFromFile(d: SettingsFile, source: YamlSource | undefined): { settings: Settings; issues: InputIssue[] } {
  const s = defaultSettings();
  const issues: InputIssue[] = [];
  if (d.realm !== undefined) s.realm = d.realm;
  s.allowedRealms = d.allowed_realms ?? [s.realm];
  if (d.allow_pam !== undefined) s.allowPam = d.allow_pam;
  if (d.placement) {
    if (d.placement.strategy !== undefined) s.placement.strategy = d.placement.strategy as PlacementStrategy;
    if (d.placement.memory_limit !== undefined) s.placement.memoryLimit = d.placement.memory_limit;
    if (d.placement.cpu_overcommit !== undefined) s.placement.cpuOvercommit = d.placement.cpu_overcommit;
    if (d.placement.time_aware !== undefined) s.placement.timeAware = d.placement.time_aware;
    if (d.placement.shared_replica !== undefined) s.placement.sharedReplica = d.placement.shared_replica;
  }
  if (d.network) {
    if (d.network.mode !== undefined) s.network.mode = d.network.mode;
    if (d.network.bridge_range !== undefined) s.network.bridgeRange = d.network.bridge_range;
    const sdn = d.network.sdn;
    if (sdn) {
      if (sdn.zone !== undefined) s.network.sdn.zone = sdn.zone;
      if (sdn.zone_type !== undefined) s.network.sdn.zoneType = sdn.zone_type;
      if (sdn.bridge !== undefined) s.network.sdn.bridge = sdn.bridge;
      if (sdn.tag_range !== undefined) s.network.sdn.tagRange = sdn.tag_range;
    }
    // A VXLAN zone has no bridge; a VLAN zone needs one, and its tags are 12-bit.
    if (s.network.sdn.zoneType === 'vxlan' && sdn?.bridge === undefined) delete s.network.sdn.bridge;
    if (s.network.sdn.zoneType === 'vlan' && s.network.sdn.tagRange[1] > 4094 && source) {
      issues.push(issueAt(source, ['network', 'sdn', 'tag_range'], 'VLAN tags end at 4094 (use zone_type: vxlan for more)'));
    }
  }
  if (d.vmids?.range !== undefined) s.vmids.range = d.vmids.range;
  if (d.acl?.role !== undefined) s.acl.role = d.acl.role;
  if (d.acl?.custom_role !== undefined) s.acl.customRole = { name: d.acl.custom_role.name, privs: d.acl.custom_role.privs };
  if (d.templates?.replicate !== undefined) s.templates.replicate = d.templates.replicate;
  if (d.templates?.replica_vmid_range !== undefined) s.templates.replicaVmidRange = d.templates.replica_vmid_range;
  if (overlaps(s.vmids.range, s.templates.replicaVmidRange) && source) {
    issues.push(
      issueAt(
        source,
        d.templates?.replica_vmid_range !== undefined ? ['templates', 'replica_vmid_range'] : ['vmids', 'range'],
        `template replicas [${s.templates.replicaVmidRange.join(', ')}] and stand VMs [${s.vmids.range.join(', ')}] must use separate VMID ranges`,
      ),
    );
  }
  if (d.leases) {
    if (d.leases.default !== undefined && d.leases.default !== 'none') {
      s.leases.default = d.leases.default;
      s.leases.defaultMs = parseDuration(d.leases.default);
    }
    if (d.leases.action !== undefined) s.leases.action = d.leases.action;
    if (d.leases.warn_before !== undefined) {
      s.leases.warnBefore = d.leases.warn_before;
      s.leases.warnBeforeMs = parseDuration(d.leases.warn_before)!;
    }
    if (d.leases.shutdown_timeout !== undefined) {
      s.leases.shutdownTimeout = d.leases.shutdown_timeout;
      s.leases.shutdownTimeoutMs = parseDuration(d.leases.shutdown_timeout)!;
    }
  }
  if (d.console_url) for (const [k, v] of Object.entries(d.console_url)) s.consoleUrl[k] = v.replace(/\/+$/, '');
  if (d.concurrency) {
    if (d.concurrency.per_node !== undefined) s.concurrency.perNode = d.concurrency.per_node;
    if (d.concurrency.full_clones_per_storage !== undefined) s.concurrency.fullClonesPerStorage = d.concurrency.full_clones_per_storage;
    if (d.concurrency.linked_clones_per_storage !== undefined) s.concurrency.linkedClonesPerStorage = d.concurrency.linked_clones_per_storage;
  }
  if (d.passwords?.length !== undefined) s.passwords.length = d.passwords.length;
  if (d.isolation?.deny !== undefined) s.isolation.deny = [...new Set(d.isolation.deny)];
  if (d.isolation?.allow_in !== undefined) s.isolation.allowIn = [...new Set(d.isolation.allow_in)];
  if (!s.allowedRealms.includes(s.realm) && source) {
    issues.push(issueAt(source, ['allowed_realms'], `must include the default realm "${s.realm}"`));
  }
  // the realm policy of every user id (src/config/userid.ts): pam only with allow_pam
  if (source && d.realm === 'pam') {
    const problem = realmProblem(s.realm, { allowedRealms: [s.realm], allowPam: s.allowPam });
    if (problem) issues.push(issueAt(source, ['realm'], problem));
  }
  (d.allowed_realms ?? []).forEach((r, i) => {
    const problem = r === 'pam' ? realmProblem(r, { allowedRealms: s.allowedRealms, allowPam: s.allowPam }) : undefined;
    if (problem && source) issues.push(issueAt(source, ['allowed_realms', i], problem));
  });
  return { settings: s, issues };
}

export interface LoadSettingsOptions {
  env?: NodeJS.ProcessEnv;
  /** Read this file instead of `<configDir>/stands.yml` (it must then exist). */
  file?: string;
}

/** stands.yml from the config directory; all defaults when the file does not exist. */
export async function loadSettings(configDir: string, options: LoadSettingsOptions = {}): Promise<Settings> {
  const file = options.file ?? join(configDir, SETTINGS_FILE);
  if (options.file === undefined) {
    try {
      await access(file);
    } catch {
      return defaultSettings();
    }
  }
  const { source, value } = await loadYamlFile(file);
  if (value === null || value === undefined) return { ...defaultSettings(), file };
  const expanded = expandEnv(value, source, options.env ?? process.env);
  if (expanded.issues.length > 0) throw new ConfigError(expanded.issues);
  const res = validate(SettingsFile, expanded.value, source);
  if (!res.ok) throw new ConfigError(res.issues);
  const { settings, issues } = settingsFromFile(res.data, source);
  throwIfIssues(issues);
  settings.file = file;
  return settings;
}

/** The base URL for console links of a cluster: stands.yml, then connections.yml's console_url, then its url. */
export function consoleBaseUrl(settings: Settings, cluster: { name: string; url: string; consoleUrl?: string }): string {
  return settings.consoleUrl[cluster.name] ?? cluster.consoleUrl ?? cluster.url;
}

/** User-list rules from the settings (`parseUserList(bytes, name, userListRules(settings))`). */
export function userListRules(settings: Settings): { defaultRealm: string; allowedRealms: string[]; allowPam: boolean } {
  return { defaultRealm: settings.realm, allowedRealms: settings.allowedRealms, allowPam: settings.allowPam };
}
