/**
 * Writes src/sim/schema-subset.json: the parameter schema of only the endpoints the simulator serves, taken from
 * the official PVE API-viewer schema. We commit this subset instead of the whole file because the schema is
 * AGPL-3.0 data (generated from Proxmox code); names, types and limits of ~70 endpoints is the low-risk middle
 * ground that ../shared/pve-api/PROVENANCE.txt recommends.
 *
 * Usage: npx tsx scripts/gen-schema-subset.ts [path/to/pve-9.1-apischema.json]
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SchemaSubset, SubsetEndpoint, SubsetParam } from '../src/sim/schema-validate.js';

/** The endpoints the simulator implements: the subset holds exactly these. */
export const SIMULATED_ENDPOINTS = [
  'GET /version',
  'GET /access/ticket',
  'POST /access/ticket',
  'PUT /access/password',
  'GET /access/domains',
  'GET /access/users',
  'POST /access/users',
  'GET /access/users/{userid}',
  'PUT /access/users/{userid}',
  'DELETE /access/users/{userid}',
  'GET /access/permissions',
  'GET /access/acl',
  'PUT /access/acl',
  'GET /access/roles',
  'POST /access/roles',
  'GET /access/roles/{roleid}',
  'DELETE /access/roles/{roleid}',
  'GET /pools',
  'POST /pools',
  'PUT /pools',
  'DELETE /pools',
  'GET /pools/{poolid}',
  'PUT /pools/{poolid}',
  'DELETE /pools/{poolid}',
  'GET /cluster/resources',
  'GET /cluster/nextid',
  'GET /cluster/status',
  'GET /cluster/tasks',
  'GET /cluster/sdn',
  'PUT /cluster/sdn',
  'GET /cluster/sdn/zones',
  'POST /cluster/sdn/zones',
  'GET /cluster/sdn/zones/{zone}',
  'DELETE /cluster/sdn/zones/{zone}',
  'GET /cluster/sdn/vnets',
  'POST /cluster/sdn/vnets',
  'GET /cluster/sdn/vnets/{vnet}',
  'DELETE /cluster/sdn/vnets/{vnet}',
  'GET /storage',
  'GET /nodes',
  'GET /nodes/{node}/status',
  'GET /nodes/{node}/rrddata',
  'GET /nodes/{node}/storage',
  'GET /nodes/{node}/storage/{storage}/status',
  'GET /nodes/{node}/apt/versions',
  'GET /nodes/{node}/network',
  'POST /nodes/{node}/network',
  'PUT /nodes/{node}/network',
  'DELETE /nodes/{node}/network',
  'GET /nodes/{node}/network/{iface}',
  'PUT /nodes/{node}/network/{iface}',
  'DELETE /nodes/{node}/network/{iface}',
  'GET /nodes/{node}/tasks',
  'GET /nodes/{node}/tasks/{upid}/status',
  'GET /nodes/{node}/tasks/{upid}/log',
  'DELETE /nodes/{node}/tasks/{upid}',
  'GET /nodes/{node}/qemu',
  'DELETE /nodes/{node}/qemu/{vmid}',
  'GET /nodes/{node}/qemu/{vmid}/config',
  'POST /nodes/{node}/qemu/{vmid}/config',
  'PUT /nodes/{node}/qemu/{vmid}/config',
  'POST /nodes/{node}/qemu/{vmid}/clone',
  'POST /nodes/{node}/qemu/{vmid}/template',
  'POST /nodes/{node}/qemu/{vmid}/migrate',
  'GET /nodes/{node}/qemu/{vmid}/status/current',
  'POST /nodes/{node}/qemu/{vmid}/status/start',
  'POST /nodes/{node}/qemu/{vmid}/status/stop',
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown',
  'POST /nodes/{node}/qemu/{vmid}/status/reboot',
  'GET /nodes/{node}/qemu/{vmid}/snapshot',
  'POST /nodes/{node}/qemu/{vmid}/snapshot',
  'DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}',
  'POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback',
  'GET /nodes/{node}/qemu/{vmid}/rrddata',
  // pve-firewall (src/sim/handlers/firewall.ts)
  'GET /cluster/firewall/options',
  'PUT /cluster/firewall/options',
  'GET /cluster/firewall/groups',
  'POST /cluster/firewall/groups',
  'DELETE /cluster/firewall/groups/{group}',
  'GET /cluster/firewall/groups/{group}',
  'POST /cluster/firewall/groups/{group}',
  'GET /cluster/firewall/groups/{group}/{pos}',
  'PUT /cluster/firewall/groups/{group}/{pos}',
  'DELETE /cluster/firewall/groups/{group}/{pos}',
  'GET /cluster/firewall/rules',
  'POST /cluster/firewall/rules',
  'GET /cluster/firewall/rules/{pos}',
  'PUT /cluster/firewall/rules/{pos}',
  'DELETE /cluster/firewall/rules/{pos}',
  'GET /cluster/firewall/ipset',
  'POST /cluster/firewall/ipset',
  'DELETE /cluster/firewall/ipset/{name}',
  'GET /cluster/firewall/ipset/{name}',
  'POST /cluster/firewall/ipset/{name}',
  'GET /cluster/firewall/ipset/{name}/{cidr}',
  'PUT /cluster/firewall/ipset/{name}/{cidr}',
  'DELETE /cluster/firewall/ipset/{name}/{cidr}',
  'GET /cluster/firewall/aliases',
  'POST /cluster/firewall/aliases',
  'GET /cluster/firewall/aliases/{name}',
  'PUT /cluster/firewall/aliases/{name}',
  'DELETE /cluster/firewall/aliases/{name}',
  'GET /nodes/{node}/qemu/{vmid}/firewall/options',
  'PUT /nodes/{node}/qemu/{vmid}/firewall/options',
  'GET /nodes/{node}/qemu/{vmid}/firewall/rules',
  'POST /nodes/{node}/qemu/{vmid}/firewall/rules',
  'GET /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}',
  'PUT /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}',
  'DELETE /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}',
  'GET /nodes/{node}/qemu/{vmid}/firewall/ipset',
  'POST /nodes/{node}/qemu/{vmid}/firewall/ipset',
  'DELETE /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}',
  'GET /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}',
  'POST /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}',
  'GET /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}',
  'PUT /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}',
  'DELETE /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}',
  'GET /nodes/{node}/qemu/{vmid}/firewall/aliases',
  'POST /nodes/{node}/qemu/{vmid}/firewall/aliases',
  'GET /nodes/{node}/qemu/{vmid}/firewall/aliases/{name}',
  'PUT /nodes/{node}/qemu/{vmid}/firewall/aliases/{name}',
  'DELETE /nodes/{node}/qemu/{vmid}/firewall/aliases/{name}',
] as const;

/** The subset's shape is the simulator's: src/sim/schema-validate.ts reads what this script writes. */
export type { SchemaSubset, SubsetEndpoint, SubsetParam } from '../src/sim/schema-validate.js';

interface RawNode {
  path: string;
  info?: Record<string, RawMethod>;
  children?: RawNode[];
}
interface RawMethod {
  name: string;
  protected?: number;
  allowtoken?: number;
  proxyto?: string;
  permissions?: Record<string, unknown>;
  parameters?: { additionalProperties?: number; properties?: Record<string, Record<string, unknown>> };
}

const num = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));

function subsetParam(raw: Record<string, unknown>): SubsetParam {
  const p: SubsetParam = { type: String(raw.type ?? 'string') };
  if (raw.optional) p.optional = 1;
  if (Array.isArray(raw.enum)) p.enum = raw.enum.map(String);
  if (typeof raw.pattern === 'string') p.pattern = raw.pattern;
  const min = num(raw.minimum);
  const max = num(raw.maximum);
  if (min !== undefined) p.minimum = min;
  if (max !== undefined) p.maximum = max;
  if (raw.maxLength !== undefined) p.maxLength = Number(raw.maxLength);
  if (raw.minLength !== undefined) p.minLength = Number(raw.minLength);
  if (typeof raw.format === 'string') p.format = raw.format;
  else if (raw.format && typeof raw.format === 'object') {
    p.format = 'property-string';
    const keys: NonNullable<SubsetParam['keys']> = {};
    for (const [k, v] of Object.entries(raw.format as Record<string, Record<string, unknown>>).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const e: NonNullable<SubsetParam['keys']>[string] = {};
      if (typeof v.type === 'string') e.type = v.type;
      if (Array.isArray(v.enum)) e.enum = v.enum.map(String);
      if (typeof v.alias === 'string') e.alias = v.alias;
      if (typeof v.keyAlias === 'string') e.keyAlias = v.keyAlias;
      if (v.default_key) e.defaultKey = 1;
      keys[k] = e;
    }
    p.keys = keys;
  }
  return p;
}

/** Without the free-text description (it is prose, and the check is what the simulator enforces). */
function subsetPermissions(raw: Record<string, unknown> | undefined): SubsetEndpoint['permissions'] {
  if (!raw) return null;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(raw).sort()) if (k !== 'description') out[k] = raw[k];
  return out as SubsetEndpoint['permissions'];
}

export function buildSubset(schemaText: string, sourceName: string, generated: string): SchemaSubset {
  const schema = JSON.parse(schemaText) as RawNode[];
  const methods = new Map<string, RawMethod>();
  const walk = (n: RawNode): void => {
    for (const [m, info] of Object.entries(n.info ?? {})) methods.set(`${m} ${n.path}`, info);
    for (const c of n.children ?? []) walk(c);
  };
  schema.forEach(walk);
  const endpoints: Record<string, SubsetEndpoint> = {};
  for (const key of SIMULATED_ENDPOINTS) {
    const m = methods.get(key);
    if (!m) throw new Error(`endpoint ${key} is not in ${sourceName}`);
    const params: Record<string, SubsetParam> = {};
    const props = m.parameters?.properties ?? {};
    for (const name of Object.keys(props).sort()) params[name] = subsetParam(props[name]!);
    const ep: SubsetEndpoint = {
      name: m.name,
      protected: m.protected ? 1 : 0,
      allowtoken: m.allowtoken === 0 ? 0 : 1,
      permissions: subsetPermissions(m.permissions),
      additionalProperties: m.parameters?.additionalProperties ? 1 : 0,
      params,
    };
    if (m.proxyto) ep.proxyto = m.proxyto;
    endpoints[key] = ep;
  }
  return {
    provenance: {
      source: sourceName,
      sha256: createHash('sha256').update(schemaText).digest('hex'),
      generated,
      pveVersion: '9.1',
      license:
        'Derived from the Proxmox VE API schema (Proxmox Server Solutions GmbH, AGPL-3.0-or-later); only ' +
        'parameter names, types and limits of the simulated endpoints are kept. See ../shared/pve-api/PROVENANCE.txt.',
    },
    endpoints,
  };
}

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SCHEMA_PATH = resolve(here, '../../shared/pve-api/pve-9.1-apischema.json');
export const SUBSET_PATH = resolve(here, '../src/sim/schema-subset.json');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = process.argv[2] ?? DEFAULT_SCHEMA_PATH;
  const text = readFileSync(src, 'utf8');
  const subset = buildSubset(text, 'pve-9.1-apischema.json', new Date().toISOString().slice(0, 10));
  writeFileSync(SUBSET_PATH, JSON.stringify(subset, null, 1) + '\n');
  process.stdout.write(`wrote ${SUBSET_PATH} (${Object.keys(subset.endpoints).length} endpoints)\n`);
}
