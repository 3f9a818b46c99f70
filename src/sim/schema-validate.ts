/**
 * Parameter verification as pve-common JSONSchema.pm does it, from the committed schema subset. Messages are
 * PVE's own ("property is missing and it is not optional", "type check ('boolean') failed - got 'true'", …).
 */
import { createRequire } from 'node:module';
import { paramError } from './errors.js';
import { ipOrCidrVersion } from './firewall-state.js';

export interface SubsetParam {
  type: string;
  optional?: 1;
  enum?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  /** a named format ('pve-vmid'), or 'property-string' when the schema gives a nested key format */
  format?: string;
  /** for property strings: the allowed keys, with their own type/enum and the default key */
  keys?: Record<string, { type?: string; enum?: string[]; alias?: string; keyAlias?: string; defaultKey?: 1 }>;
  /** for list formats ('pve-vmid-list'): the element format */
  typetext?: string;
}
export interface SubsetEndpoint {
  name: string;
  protected: 0 | 1;
  allowtoken: 0 | 1;
  proxyto?: string;
  permissions: { user?: string; check?: unknown } | null;
  additionalProperties: 0 | 1;
  params: Record<string, SubsetParam>;
}
export interface SchemaSubset {
  provenance: Record<string, string>;
  endpoints: Record<string, SubsetEndpoint>;
}

const require = createRequire(import.meta.url);
export const SCHEMA: SchemaSubset = require('./schema-subset.json') as SchemaSubset;

/** Indexed parameters (`net[n]`) accept net0 … net31 (qemu-server MAX_NETS etc. are all ≤ 32). */
function lookup(ep: SubsetEndpoint, name: string): SubsetParam | undefined {
  const direct = ep.params[name];
  if (direct) return direct;
  const m = /^([a-z][a-z_-]*?)(\d+)$/.exec(name);
  if (m && Number(m[2]) < 32) return ep.params[`${m[1]}[n]`];
  return undefined;
}

const FORMATS: Record<string, (v: string) => string | undefined> = {
  'pve-node': (v) => (/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v) ? undefined : 'value does not look like a valid node name'),
  'pve-vmid': (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? undefined : 'value does not look like a valid VM ID'),
  'pve-poolid': (v) =>
    /^[A-Za-z0-9.\-_]+(\/[A-Za-z0-9.\-_]+){0,2}$/.test(v) ? undefined : `pool name '${v}' contains illegal characters`,
  'pve-storage-id': (v) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? undefined : `storage ID '${v}' contains illegal characters`),
  'pve-userid': (v) =>
    /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) && v.length <= 64 ? undefined : `value '${v}' does not look like a valid user name`,
  'pve-roleid': (v) => (/^[A-Za-z0-9.\-_]+$/.test(v) ? undefined : `role name '${v}' contains illegal characters`),
  'pve-realm': (v) => (/^[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) ? undefined : `realm '${v}' contains illegal characters`),
  'dns-name': (v) =>
    /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)$/.test(v)
      ? undefined
      : `value '${v}' does not look like a valid DNS name`,
  'pve-configid': (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? undefined : `invalid configuration ID '${v}'`),
  'pve-iface': (v) => (/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/.test(v) ? undefined : `invalid network interface name '${v}'`),
  'pve-bridge-id': (v) => (/^[-_.\w\d]+$/.test(v) ? undefined : `invalid bridge ID '${v}'`),
  // pve-network: IDs become interface names, hence at most 8 characters
  'pve-sdn-zone-id': (v) =>
    !/^[a-z][a-z0-9]*[a-z0-9]$/i.test(v)
      ? `zone ID '${v}' contains illegal characters`
      : v.length > 8
        ? `zone ID '${v}' can't be more length than 8 characters`
        : undefined,
  'pve-sdn-vnet-id': (v) =>
    !/^[a-z][a-z0-9]*[a-z0-9]$/i.test(v)
      ? `vnet ID '${v}' contains illegal characters`
      : v.length > 8
        ? `vnet ID '${v}' can't be more length than 8 characters`
        : undefined,
  'mac-addr': (v) => (/^[a-f0-9]{2}(?::[a-f0-9]{2}){5}$/i.test(v) ? undefined : `value '${v}' does not look like a valid MAC address`),
  'pve-tag-list': (v) =>
    v.split(/[;, ]+/).filter(Boolean).every((t) => /^[a-z0-9_][a-z0-9_\-+.]*$/i.test(t)) ? undefined : `invalid tag list '${v}'`,
  CIDRv4: (v) => (/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(v) ? undefined : `value does not look like a valid IPv4 network configuration`),
  'pve-vlan-id-or-range': (v) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(v);
    const ok = m && Number(m[1]) >= 1 && Number(m[2] ?? m[1]) <= 4094 && Number(m[1]) <= Number(m[2] ?? m[1]);
    return ok ? undefined : `invalid vlan-id or range '${v}'`;
  },
  ipv4: (v) => (/^(\d{1,3}\.){3}\d{1,3}$/.test(v) ? undefined : `value does not look like a valid IPv4 address`),
  // pve-firewall (Firewall.pm pve_verify_ip_or_cidr / pve_verify_ip_or_cidr_or_alias)
  IPorCIDR: (v) => (ipOrCidrVersion(v) ? undefined : 'value does not look like a valid IP address or CIDR network'),
  IPorCIDRorAlias: (v) =>
    /^(dc\/|guest\/)?[A-Za-z][A-Za-z0-9\-_]+$/.test(v) || ipOrCidrVersion(v)
      ? undefined
      : 'value does not look like a valid IP address or CIDR network',
};

const patternCache = new Map<string, RegExp>();
/** Schema patterns are Perl regexes, anchored by JSONSchema.pm; `(?^i:…)` is Perl's inline-flag group. */
function compilePattern(p: string): RegExp {
  let re = patternCache.get(p);
  if (!re) {
    let flags = '';
    const src = p.replace(/\(\?\^([a-z]*):/g, (_, f: string) => {
      if (f.includes('i')) flags = 'i';
      return '(?:';
    });
    re = new RegExp(`^(?:${src})$`, flags);
    patternCache.set(p, re);
  }
  return re;
}

function list(v: string): string[] {
  return v.split(/[,;\s]+/).filter(Boolean);
}

function checkFormat(format: string, v: string): string | undefined {
  if (format.endsWith('-list')) {
    const inner = FORMATS[format.slice(0, -5)];
    if (!inner) return undefined;
    for (const item of list(v)) {
      const e = inner(item);
      if (e) return e;
    }
    return undefined;
  }
  return FORMATS[format]?.(v);
}

function checkPropertyString(p: SubsetParam, v: string): string | undefined {
  const keys = p.keys ?? {};
  const defaultKey = Object.entries(keys).find(([, k]) => k.defaultKey)?.[0];
  for (const part of v.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    let k = eq < 0 ? part : part.slice(0, eq);
    const val = eq < 0 ? undefined : part.slice(eq + 1);
    if (eq < 0 && !keys[k]) {
      if (!defaultKey) return `invalid format - format error\n${k}: property is not defined in schema`;
      k = defaultKey;
    }
    const spec = keys[k];
    if (!spec) return `invalid format - format error\n${k}: property is not defined in schema and the schema does not allow additional properties`;
    if (spec.keyAlias) continue;
    const value = eq < 0 ? part : (val ?? '');
    if (spec.type === 'boolean' && !/^(0|1|true|false|yes|no|on|off)$/i.test(value))
      return `invalid format - format error\n${k}: type check ('boolean') failed - got '${value}'`;
    if (spec.type === 'integer' && !/^-?\d+$/.test(value))
      return `invalid format - format error\n${k}: type check ('integer') failed - got '${value}'`;
    if (spec.enum && !spec.enum.includes(value))
      return `invalid format - format error\n${k}: value '${value}' does not have a value in the enumeration '${spec.enum.join(', ')}'`;
  }
  return undefined;
}

/** One value against one parameter schema: the error text, or undefined. Returns the typed value too. */
function checkValue(p: SubsetParam, raw: unknown, json: boolean): { error?: string; value?: unknown } {
  if (Array.isArray(raw)) {
    // repeated urlencoded keys: only list-typed parameters may repeat
    if (p.type !== 'array') return { error: `type check ('${p.type}') failed - got ARRAY` };
    return { value: raw };
  }
  const s = typeof raw === 'string' ? raw : raw === null || raw === undefined ? '' : String(raw);
  switch (p.type) {
    case 'boolean': {
      if (json && typeof raw === 'boolean') return { value: raw };
      if (s === '1' || (json && raw === 1)) return { value: true };
      if (s === '0' || (json && raw === 0)) return { value: false };
      return { error: `type check ('boolean') failed - got '${s}'` };
    }
    case 'integer': {
      if (!/^[+-]?\d+$/.test(s)) return { error: `type check ('integer') failed - got '${s}'` };
      const n = Number(s);
      if (p.minimum !== undefined && n < p.minimum) return { error: `value must have a minimum value of ${p.minimum}` };
      if (p.maximum !== undefined && n > p.maximum) return { error: `value must have a maximum value of ${p.maximum}` };
      if (p.format) {
        const e = checkFormat(p.format, s);
        if (e) return { error: `invalid format - ${e}` };
      }
      return { value: n };
    }
    case 'number': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return { error: `type check ('number') failed - got '${s}'` };
      const n = Number(s);
      if (p.minimum !== undefined && n < p.minimum) return { error: `value must have a minimum value of ${p.minimum}` };
      if (p.maximum !== undefined && n > p.maximum) return { error: `value must have a maximum value of ${p.maximum}` };
      return { value: n };
    }
    default: {
      if (p.maxLength !== undefined && s.length > p.maxLength) return { error: `value may only be ${p.maxLength} characters long` };
      if (p.minLength !== undefined && s.length < p.minLength) return { error: `value must be at least ${p.minLength} characters long` };
      if (p.enum && !p.enum.includes(s)) return { error: `value '${s}' does not have a value in the enumeration '${p.enum.join(', ')}'` };
      if (p.pattern && !compilePattern(p.pattern).test(s)) return { error: 'value does not match the regex pattern' };
      if (p.format === 'property-string') {
        const e = checkPropertyString(p, s);
        if (e) return { error: e };
      } else if (p.format) {
        const e = checkFormat(p.format, s);
        if (e) return { error: `invalid format - ${e}` };
      }
      return { value: s };
    }
  }
}

/**
 * Validate and type the merged parameters (path + query + body). Throws 400 "Parameter verification failed."
 * with every bad parameter. `_dc` (cache buster) is ignored as pve-http-server does.
 */
export function validateParams(ep: SubsetEndpoint, input: Record<string, unknown>, json: boolean): Record<string, unknown> {
  const errors: Record<string, string> = {};
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(input)) {
    if (name === '_dc') continue;
    const p = lookup(ep, name);
    if (!p) {
      if (!ep.additionalProperties)
        errors[name] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const r = checkValue(p, raw, json);
    if (r.error) errors[name] = r.error;
    else out[name] = r.value;
  }
  for (const [name, p] of Object.entries(ep.params)) {
    if (!p.optional && !name.endsWith('[n]') && input[name] === undefined && !errors[name])
      errors[name] = 'property is missing and it is not optional';
  }
  if (Object.keys(errors).length) throw paramError(errors);
  return out;
}
