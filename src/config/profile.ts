/**
 * Stand profiles: the machines every student of a group gets. Our format (`profiles/<name>.yml`) and the seed's
 * `deployment_config.yml` are read into one model.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { parseNetworkAlias, type NetworkRef } from './network-alias.js';
import { decodeText } from './text-input.js';
import {
  issueAt,
  loadYamlFile,
  parseYaml,
  sortIssues,
  strictObject,
  stringOrMapping,
  throwIfIssues,
  validate,
  type YamlSource,
} from './yaml-source.js';

export type { NetworkRef } from './network-alias.js';

export type Device = 'linux' | 'ecorouter';
export type CloneMode = 'linked' | 'full';
/** `stand`: the Proxmox firewall keeps each stand's VMs away from the hosts and other stands (src/core/isolation.ts). */
export type Isolation = 'none' | 'stand';

export interface Machine {
  name: string;
  /** A VMID, or the template's name (resolved by the engine). */
  template: number | string;
  templateNode?: string;
  cores?: number;
  /** MiB */
  memory?: number;
  networks: NetworkRef[];
  device: Device;
  /** Per-machine clone mode; undefined = the profile's `clone`. */
  full?: boolean;
  description?: string;
}

export interface Profile {
  name: string;
  description?: string;
  clone: CloneMode;
  /** Default `none`. */
  isolation: Isolation;
  /** A duration such as `4h`; `leaseMs` is the same in milliseconds. */
  lease?: string;
  leaseMs?: number;
  machines: Machine[];
  file: string;
  format: 'stands' | 'seed';
  /** Things accepted but worth telling (seed keys we do not apply). */
  warnings: InputIssue[];
}

export const PROFILES_DIR = 'profiles';
/** PVE limits a VM to net0..net31. */
export const MAX_NICS = 32;
/** PVE's VMID range. */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;
/** Seed defaults for machines that leave them out (the seed cloned, then set these). */
export const SEED_DEFAULT_MEMORY = 2048;
export const SEED_DEFAULT_CORES = 2;

const PROFILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// VM names must be DNS names; `<user>-<machine>` is built from this, so no "_" and no leading/trailing "-".
const MACHINE_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const TEMPLATE_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const NODE_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

const machineName = z
  .string()
  .max(40)
  .regex(MACHINE_NAME_RE, 'machine names use letters, digits and "-" (a DNS name: not starting or ending with "-")');
const nodeName = z.string().regex(NODE_NAME_RE, 'expected a node name');
const networkEntry = stringOrMapping(
  z.string(),
  strictObject({ bridge: z.string() }),
  'expected a network alias such as "**vmbr0", "hq" or "hq.100"',
)
  .transform((entry, ctx): NetworkRef => {
    const res = parseNetworkAlias(typeof entry === 'string' ? entry : entry.bridge);
    if (res.ok) return res.ref;
    ctx.issues.push({ code: 'custom', message: res.message, input: entry, path: typeof entry === 'string' ? [] : ['bridge'] });
    return z.NEVER;
  });
// A VMID (digits as a string count too) or a template's VM name.
const templateRef = z
  .union([z.number(), z.string()], {
    error: (iss) => (iss.input === undefined ? 'required key is missing' : 'expected a VMID or a template name'),
  })
  .transform((t, ctx): number | string => {
    if (typeof t === 'string' && /^\d+$/.test(t.trim())) t = Number(t.trim());
    if (typeof t === 'number') {
      if (!Number.isInteger(t) || t < VMID_MIN || t > VMID_MAX) {
        ctx.issues.push({ code: 'custom', message: `VMID ${t} is out of range (expected ${VMID_MIN}–${VMID_MAX})`, input: t });
      }
      return t;
    }
    if (!TEMPLATE_NAME_RE.test(t)) {
      ctx.issues.push({ code: 'custom', message: `"${t}" is not a template name (a VM name: letters, digits, "." and "-")`, input: t });
    }
    return t;
  });
const lease = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) ctx.issues.push({ code: 'custom', message: `${DURATION_HINT}; got "${text}"`, input: text });
  return { text, ms: ms ?? 0 };
});
const cores = z.number().int().min(1).max(512);
const memory = z.number().int().min(16).max(4 * 1024 * 1024);

export const ProfileFile = strictObject({
  name: z.string().regex(PROFILE_NAME_RE, 'profile names use letters, digits, "_", "." and "-"').optional(),
  description: z.string().optional(),
  clone: z.enum(['linked', 'full']).optional(),
  isolation: z.enum(['none', 'stand']).optional(),
  lease: lease.optional(),
  machines: z
    .array(
      strictObject({
        name: machineName,
        template: templateRef,
        template_node: nodeName.optional(),
        cores: cores.optional(),
        memory: memory.optional(),
        networks: z.array(networkEntry).max(MAX_NICS),
        device: z.enum(['linux', 'ecorouter']).optional(),
        clone: z.enum(['linked', 'full']).optional(),
        description: z.string().optional(),
      }),
    )
    .min(1),
});
export type ProfileFile = z.infer<typeof ProfileFile>;

export const SeedDeploymentFile = strictObject({
  machines: z
    .array(
      strictObject({
        device_type: z.enum(['linux', 'ecorouter']),
        name: machineName,
        template_node: nodeName,
        template_vmid: templateRef,
        full_clone: z.boolean().optional(),
        networks: z.array(networkEntry).max(MAX_NICS).optional(),
        memory: memory.optional(),
        cpus: cores.optional(),
        disk_size: z.union([z.number(), z.string()]).optional(),
      }),
    )
    .min(1),
});
export type SeedDeploymentFile = z.infer<typeof SeedDeploymentFile>;

const SEED_ONLY_KEYS = ['device_type', 'template_vmid', 'template_node', 'full_clone', 'cpus', 'disk_size'];

function looksLikeSeed(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.some((k) => k !== 'machines')) return false;
  const machines = (value as { machines?: unknown }).machines;
  if (!Array.isArray(machines)) return false;
  return machines.some(
    (m) => m && typeof m === 'object' && (Object.keys(m).some((k) => SEED_ONLY_KEYS.includes(k)) && !('template' in m)),
  );
}

export interface ParseProfileOptions {
  /** The name when the file has no `name:` (default: the file name without extension). */
  defaultName?: string;
}

/** Parse a profile from text; `file` names it in errors. */
export function parseProfile(text: string | Buffer, file: string, options: ParseProfileOptions = {}): Profile {
  const decoded = decodeText(text, file);
  if ('issue' in decoded) throw new ConfigError(decoded.issue);
  const parsed = parseYaml(decoded.text, file);
  throwIfIssues(parsed.issues);
  return profileFromValue(parsed.value, parsed.source, options.defaultName ?? nameFromFile(file));
}

function nameFromFile(file: string): string {
  return basename(file, extname(file));
}

function profileFromValue(value: unknown, source: YamlSource, defaultName: string): Profile {
  const file = source.file;
  if (value === null || value === undefined) {
    throw new ConfigError({ file, message: 'empty profile: expected "machines:" with at least one machine' });
  }
  const warnings: InputIssue[] = [];
  const duplicates = duplicateMachineNames(value, source);
  let profile: Profile;
  if (looksLikeSeed(value)) {
    const res = validate(SeedDeploymentFile, value, source);
    if (!res.ok) throw new ConfigError(sortIssues([...res.issues, ...duplicates]));
    const machines = res.data.machines.map((m, i): Machine => {
      const p = ['machines', i];
      if (m.disk_size !== undefined) {
        warnings.push(issueAt(source, [...p, 'disk_size'], 'not applied: the clone keeps the template\'s disk size'));
      }
      const machine: Machine = {
        name: m.name,
        template: m.template_vmid,
        templateNode: m.template_node,
        cores: m.cpus ?? SEED_DEFAULT_CORES,
        memory: m.memory ?? SEED_DEFAULT_MEMORY,
        networks: m.networks ?? [],
        device: m.device_type,
        full: m.full_clone ?? false,
      };
      return machine;
    });
    profile = { name: defaultName, clone: 'linked', isolation: 'none', machines, file, format: 'seed', warnings };
  } else {
    const res = validate(ProfileFile, value, source);
    if (!res.ok) throw new ConfigError(sortIssues([...res.issues, ...duplicates]));
    const d = res.data;
    const machines = d.machines.map((m, i): Machine => {
      const machine: Machine = {
        name: m.name,
        template: m.template,
        networks: m.networks,
        device: m.device ?? 'linux',
      };
      if (m.template_node !== undefined) machine.templateNode = m.template_node;
      if (m.cores !== undefined) machine.cores = m.cores;
      if (m.memory !== undefined) machine.memory = m.memory;
      if (m.clone !== undefined) machine.full = m.clone === 'full';
      if (m.description !== undefined) machine.description = m.description;
      return machine;
    });
    profile = { name: d.name ?? defaultName, clone: d.clone ?? 'linked', isolation: d.isolation ?? 'none', machines, file, format: 'stands', warnings };
    if (d.description !== undefined) profile.description = d.description;
    if (d.lease !== undefined) {
      profile.lease = d.lease.text;
      profile.leaseMs = d.lease.ms;
    }
  }
  const nicIssues: InputIssue[] = [];
  profile.machines.forEach((m, i) => {
    // ecorouter machines spend net0 on the management port; the listed networks start at net1.
    if (m.device === 'ecorouter' && m.networks.length > MAX_NICS - 1) {
      nicIssues.push(issueAt(source, ['machines', i, 'networks'], `an ecorouter has at most ${MAX_NICS - 1} networks (net0 is its management port)`));
    }
  });
  throwIfIssues([...duplicates, ...nicIssues]);
  return profile;
}

/** Machine names are unique within a profile (case-insensitively: they become DNS names). */
function duplicateMachineNames(value: unknown, source: YamlSource): InputIssue[] {
  const machines = (value as { machines?: unknown } | null)?.machines;
  if (!Array.isArray(machines)) return [];
  const issues: InputIssue[] = [];
  const seen = new Map<string, number>();
  machines.forEach((m: unknown, i) => {
    const name = (m as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name.toLowerCase());
    if (first !== undefined) {
      issues.push(issueAt(source, ['machines', i, 'name'], `duplicate machine name "${name}" (already used by machines[${first}])`));
    } else seen.set(name.toLowerCase(), i);
  });
  return issues;
}

/**
 * `--profile NAME` means `<config>/profiles/NAME.yml` (or `.yaml`); anything that looks like a path (has a
 * slash or a YAML extension) is used as is.
 */
export async function loadProfile(configDir: string, nameOrPath: string): Promise<Profile> {
  const isPath = /[\\/]/.test(nameOrPath) || /\.ya?ml$/i.test(nameOrPath);
  let file: string;
  if (isPath) file = nameOrPath;
  else {
    if (!PROFILE_NAME_RE.test(nameOrPath)) {
      throw new ConfigError({ file: join(configDir, PROFILES_DIR), message: `"${nameOrPath}" is not a profile name` });
    }
    const names = await listProfiles(configDir);
    const dir = join(configDir, PROFILES_DIR);
    const entry = (await readdir(dir).catch(() => [] as string[])).find((f) => f === `${nameOrPath}.yml` || f === `${nameOrPath}.yaml`);
    if (!entry) {
      throw new ConfigError({
        file: join(dir, `${nameOrPath}.yml`),
        message: `no such profile "${nameOrPath}" (available: ${names.length > 0 ? names.join(', ') : 'none'})`,
      });
    }
    file = join(dir, entry);
  }
  const { source, value } = await loadYamlFile(file);
  return profileFromValue(value, source, nameFromFile(file));
}

/** Profile names available in `<config>/profiles` (for autocomplete and error messages), sorted. */
export async function listProfiles(configDir: string): Promise<string[]> {
  const files = await readdir(join(configDir, PROFILES_DIR)).catch(() => [] as string[]);
  return [...new Set(files.filter((f) => /\.ya?ml$/i.test(f)).map((f) => nameFromFile(f)))]
    .filter((n) => PROFILE_NAME_RE.test(n))
    .sort();
}
