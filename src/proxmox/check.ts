import { connect as tlsConnect } from 'node:tls';
import type { ProxmoxClient } from './client.js';
import { isSupportedVersion, MIN_PVE_VERSION, unsupportedVersionMessage } from './version.js';
import { ProxmoxApiError } from './errors.js';
import { FirewallApi } from './firewall.js';
import { normalizeFingerprint, TLS_TRUST_CODES } from './http.js';
import { studentRoleDecision } from './roles.js';
import { z } from 'zod';
import { msg, render, type Msg } from '../i18n/index.js';
import type { Who } from '../i18n/check.en.js';

/**
 * What the deployer's token needs, path by path (least privilege: on `/` only Sys.Audit, not propagated, no
 * Permissions.Modify, no User.Modify beyond /access/groups). Each privilege is one the engine uses; the API call and PVE's check are
 * named in `why`. `propagate`: the engine acts below the path on objects it creates later (stand VMs and pools,
 * private bridges), so the grant must propagate.
 */
export interface DeployerGrant {
  path: string;
  /** The README's role for this path (built-in or created by the README's `pveum role add`). */
  roles: readonly string[];
  privs: readonly string[];
  propagate: boolean;
  why: string;
}

export interface CheckScope {
  /** Realms users are created in (settings realm + allowed_realms). */
  realms: readonly string[];
  mode: 'bridges' | 'sdn';
  /** SDN zone (sdn mode). */
  sdnZone?: string;
  /** The role handed to students on their pool, and its privileges when it is a custom one to create. */
  studentRole: string;
  studentRolePrivs?: readonly string[];
}

export const DEFAULT_CHECK_SCOPE: CheckScope = { realms: ['pve'], mode: 'bridges', studentRole: 'PVEVMUser' };

/** Custom roles of the README (the rest are PVE's built-in roles). */
export const DEPLOYER_ROLES: Readonly<Record<string, readonly string[]>> = {
  StandsVMs: ['VM.Allocate', 'VM.Audit', 'VM.Clone', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options', 'VM.Migrate', 'VM.PowerMgmt', 'VM.Snapshot', 'VM.Snapshot.Rollback'],
  StandsNodes: ['Sys.Audit', 'Sys.Modify'],
  StandsUsers: ['Realm.AllocateUser', 'User.Modify'],
  StandsAudit: ['Sys.Audit'],
};

/** Privileges of the built-in roles the README grants (pve-access-control AccessControl.pm, PVE 8.4 and 9.x). */
const BUILTIN: Readonly<Record<string, readonly string[]>> = {
  PVEPoolAdmin: ['Pool.Allocate', 'Pool.Audit'],
  PVEDatastoreUser: ['Datastore.AllocateSpace', 'Datastore.Audit'],
  PVESDNUser: ['SDN.Audit', 'SDN.Use'],
  PVESDNAdmin: ['SDN.Allocate', 'SDN.Audit', 'SDN.Use'],
};

/** The grants for a configuration (scope); `/pool` also needs every privilege of the students' role. */
export function deployerGrants(scope: CheckScope = DEFAULT_CHECK_SCOPE): DeployerGrant[] {
  const grants: DeployerGrant[] = [
    {
      path: '/vms', roles: ['StandsVMs'], privs: DEPLOYER_ROLES.StandsVMs!, propagate: true,
      why: 'clone templates (VM.Clone), create/destroy/convert VMs (VM.Allocate), set NICs, cores, memory, tags, power, snapshot and roll back stands, migrate template replicas',
    },
    {
      path: '/pool', roles: ['PVEPoolAdmin', scope.studentRole], privs: BUILTIN.PVEPoolAdmin!, propagate: true,
      why: "create and delete stand pools; hand students their pool role (PVE lets Pool.Allocate holders grant on /pool/<p> a role whose privileges they hold there, propagated: ACL.pm update_acl)",
    },
    { path: '/storage', roles: ['PVEDatastoreUser'], privs: BUILTIN.PVEDatastoreUser!, propagate: true, why: 'allocate clone disks and read storage capacity' },
    {
      path: '/nodes', roles: ['StandsNodes'], privs: scope.mode === 'bridges' ? DEPLOYER_ROLES.StandsNodes! : ['Sys.Audit'], propagate: true,
      why: scope.mode === 'bridges' ? 'read node load; create, apply and remove private bridges (Sys.Modify on /nodes/<node>)' : 'read node load',
    },
  ];
  if (scope.mode === 'bridges') {
    grants.push({ path: '/sdn/zones/localnetwork', roles: ['PVESDNUser'], privs: BUILTIN.PVESDNUser!, propagate: true, why: 'put VM NICs on bridges (qemu-server check_bridge_access: SDN.Use on /sdn/zones/localnetwork/<bridge>)' });
  } else {
    grants.push({ path: '/sdn', roles: ['PVESDNAdmin'], privs: BUILTIN.PVESDNAdmin!, propagate: true, why: `create the zone${scope.sdnZone ? ` ${scope.sdnZone}` : ''} and its VNets, apply SDN, put VM NICs on VNets` });
  }
  for (const realm of [...new Set(scope.realms)]) {
    grants.push({ path: `/access/realm/${realm}`, roles: ['StandsUsers'], privs: ['Realm.AllocateUser'], propagate: false, why: `create and remove student users in realm ${realm}` });
  }
  grants.push({ path: '/access/groups', roles: ['StandsUsers'], privs: ['User.Modify'], propagate: false, why: 'create and remove users (userid-group check on /access/groups)' });
  // `/` itself only: propagated, Sys.Audit would reach every path below. Isolation writes only VM firewall
  // configs (VM.Config.Network on /vms); cluster IPSets and groups would need Sys.Modify on `/`, never granted.
  grants.push({
    path: '/', roles: ['StandsAudit'], privs: DEPLOYER_ROLES.StandsAudit!, propagate: false,
    why: 'read the datacenter firewall state (GET /cluster/firewall/options) for isolation: stand and stands check',
  });
  return grants;
}

/**
 * The README's set-up lines: a user and token, the custom roles, and one grant per path. The grant on `/` says
 * `--propagate 0` (pveum's default is 1); the other unpropagated grants sit on leaves where the default is harmless.
 */
export function deployerSetupCommands(scope: CheckScope = DEFAULT_CHECK_SCOPE, tokenId = 'stands@pve!bot'): string[] {
  const [user, name] = tokenId.split('!') as [string, string];
  const lines = [`pveum user add ${user} --comment "pve-stands deployer"`, `pveum user token add ${user} ${name} --privsep 0`];
  for (const [role, privs] of Object.entries(DEPLOYER_ROLES)) lines.push(`pveum role add ${role} --privs "${privs.join(',')}"`);
  const byPath = new Map<string, Set<string>>();
  for (const g of deployerGrants(scope)) {
    const set = byPath.get(g.path) ?? new Set<string>();
    for (const r of g.roles) set.add(r);
    byPath.set(g.path, set);
  }
  for (const [path, roles] of byPath) {
    lines.push(`pveum acl modify ${path} --users ${user} --roles ${[...roles].join(',')}${path === '/' ? ' --propagate 0' : ''}`);
  }
  return lines;
}

export type CheckVerdict =
  | 'ok'
  | 'missing-prerequisites'
  | 'unreachable'
  | 'tls-mismatch'
  | 'bad-credentials'
  | 'missing-privileges'
  | 'unsupported-version';

export interface ConnectionCheck {
  cluster: string;
  url: string;
  verdict: CheckVerdict;
  /** One line a user can act on. */
  message: string;
  auth?: 'token' | 'ticket';
  version?: string;
  /** tls-mismatch: the server's sha256 fingerprint and what was expected (a pin, or "trusted by …"). */
  seen?: string;
  expected?: string;
  /** missing-privileges: each missing grant as `Priv on /path` (with why when granted without propagation). */
  missing?: string[];
  /** Every grant the engine needs, as `Priv on /path`. */
  required?: readonly string[];
  /** missing-prerequisites: what else makes deploys fail later (ifupdown2, realm type, the students' role). */
  problems?: string[];
  /** Things not verified (e.g. the server does not implement GET /access/permissions). */
  notes?: string[];
  /** The datacenter firewall (profiles with `isolation: stand` need it on); only when the connection is ok. */
  firewall?: { enabled: boolean; message: string; messageMsg?: Msg };
  /** The same texts as codes, for output in the reader's language (`message` etc. are their English). */
  messageMsg?: Msg;
  missingMsgs?: Msg[];
  problemMsgs?: Msg[];
  noteMsgs?: Msg[];
}

const en = (m: Msg): string => render('en', m);
const MIN_VERSION_TEXT = `${MIN_PVE_VERSION.major}.${MIN_PVE_VERSION.minor}`;

/** The server certificate's sha256 fingerprint, read without trusting it (for "seen … expected …"). */
export function probeFingerprint(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = tlsConnect({
      host: u.hostname,
      port: Number(u.port || 8006),
      rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(u.hostname) ? {} : { servername: u.hostname }),
    });
    const done = (v: string | undefined): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.once('secureConnect', () => {
      const fp = sock.getPeerCertificate()?.fingerprint256;
      done(fp ? normalizeFingerprint(fp) : undefined);
    });
    sock.once('error', () => done(undefined));
  });
}

export async function runConnectionCheck(client: ProxmoxClient, scope: CheckScope = DEFAULT_CHECK_SCOPE): Promise<ConnectionCheck> {
  const c = client.cluster;
  const base = { cluster: c.name, url: c.url, auth: client.authMode } as const;
  const who: Who = client.authMode === 'token' ? { kind: 'token', id: c.tokenId ?? '' } : { kind: 'user', id: c.user ?? '' };
  let version: string;
  let release: string | undefined;
  try {
    const v = await client.version({ attempts: 2 });
    version = v.version;
    release = v.release;
  } catch (err) {
    return failureVerdict(client, err);
  }
  if (!isSupportedVersion(release ?? version)) {
    const m = msg('check.unsupported', { cluster: c.name, version, min: MIN_VERSION_TEXT });
    return { ...base, verdict: 'unsupported-version', version, message: unsupportedVersionMessage(c.name, version), messageMsg: m };
  }
  const notes: Msg[] = [];
  try {
    const privs = await checkGrants(client, scope);
    if ('notImplemented' in privs) {
      notes.push(msg('check.privsNotVerified', { text: privs.notImplemented }));
    } else if (privs.missing.length > 0) {
      const missing = privs.missing.map(en);
      const m = msg('check.lacks', { who, count: missing.length, list: missing.join('; ') });
      return { ...base, verdict: 'missing-privileges', version, missing, missingMsgs: privs.missing, required: privs.required, message: en(m), messageMsg: m };
    }
    const problems = await checkPrerequisites(client, scope, notes);
    if (problems.length > 0) {
      return {
        ...base,
        verdict: 'missing-prerequisites',
        version,
        problems: problems.map(en),
        problemMsgs: problems,
        message: problems.map(en).join('; '),
        ...(notes.length ? { notes: notes.map(en), noteMsgs: notes } : {}),
      };
    }
  } catch (err) {
    return failureVerdict(client, err);
  }
  const m = msg('check.ok', { version, who });
  return {
    ...base,
    verdict: 'ok',
    version,
    message: en(m),
    messageMsg: m,
    ...(notes.length ? { notes: notes.map(en), noteMsgs: notes } : {}),
    firewall: await datacenterFirewallState(client),
  };
}

type Flags = Record<string, boolean>;

/**
 * Tests every path the engine touches with GET /access/permissions?path= (RPCEnvironment.pm permissions: each set
 * privilege with its propagate flag): the grants of `deployerGrants`, each node, each storage for VM images, and
 * on /pool the privileges of the students' role unless the token may modify permissions there. A privilege found
 * set without propagation where the engine works below the path is reported as such, naming the path it was
 * granted on.
 */
async function checkGrants(client: ProxmoxClient, scope: CheckScope): Promise<{ missing: Msg[]; required: string[] } | { notImplemented: string }> {
  const cache = new Map<string, Promise<Flags>>();
  const flags = (path: string): Promise<Flags> => {
    let p = cache.get(path);
    if (!p) {
      p = client.permissions({ path }).then((r) => r[path] ?? {});
      cache.set(path, p);
    }
    return p;
  };
  try {
    await flags('/');
  } catch (err) {
    if (err instanceof ProxmoxApiError && (err.status === 501 || err.status === 404)) return { notImplemented: err.pveMessage };
    throw err;
  }
  const [nodes, storages, studentPrivs] = await Promise.all([
    client.nodes().then((l) => l.map((n) => n.node)),
    client.clusterResources('storage').then((l) => [...new Set(l.filter((r) => (r.content ?? '').split(',').includes('images')).map((r) => r.storage ?? ''))].filter(Boolean)),
    rolePrivileges(client, scope),
  ]);
  const checks: { path: string; privs: readonly string[]; propagate: boolean }[] = [];
  for (const g of deployerGrants(scope)) {
    let privs = g.privs;
    if (g.path === '/pool' && !('Permissions.Modify' in (await flags('/pool')))) privs = [...new Set([...privs, ...studentPrivs])];
    checks.push({ path: g.path, privs, propagate: g.propagate });
    // and the objects that exist now: each node and each storage for images, exactly where the engine acts
    if (g.path === '/nodes') for (const n of nodes) checks.push({ path: `/nodes/${n}`, privs: g.privs, propagate: false });
    if (g.path === '/storage') for (const st of storages) checks.push({ path: `/storage/${st}`, privs: g.privs, propagate: false });
  }
  const missing = new Map<string, Msg>();
  const required: string[] = [];
  const miss = (m: Msg): void => void missing.set(en(m), m);
  for (const ch of checks) {
    const have = await flags(ch.path);
    for (const priv of ch.privs) {
      required.push(`${priv} on ${ch.path}`);
      if (priv in have && (!ch.propagate || have[priv] === true)) continue;
      if (priv in have) {
        miss(msg('check.priv', { priv, path: ch.path, here: true }));
        continue;
      }
      const flat = await unpropagatedAncestor(ch.path, priv, flags);
      miss(msg('check.priv', { priv, path: ch.path, ...(flat ? { flat } : {}) }));
    }
  }
  return { missing: [...missing.values()], required: [...new Set(required)] };
}

/** The nearest ancestor of `path` holding `priv` unpropagated (why it does not reach `path`). */
async function unpropagatedAncestor(path: string, priv: string, flags: (p: string) => Promise<Flags>): Promise<string | undefined> {
  const parts = path.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) {
    const anc = i === 0 ? '/' : `/${parts.slice(0, i).join('/')}`;
    const have = await flags(anc);
    if (priv in have) return have[priv] === false ? anc : undefined;
  }
  return undefined;
}

/** The students' role's privileges: the cluster's definition, or the custom role's from the settings. */
async function rolePrivileges(client: ProxmoxClient, scope: CheckScope): Promise<string[]> {
  const roles = await client.listRoles();
  const role = roles.find((r) => r.roleid === scope.studentRole);
  if (role?.privs) return String(role.privs).split(',').filter(Boolean);
  return [...(scope.studentRolePrivs ?? [])];
}

/**
 * What else makes a deploy fail later: the students' role (exists, or may be created), the realms (exist; only
 * pve and pam take passwords), and in bridges mode ifupdown2 on every online node (pve-manager PVE/API2/Network.pm
 * reload_network_config refuses "you need ifupdown2 to reload network configuration"; PVE/API2/APT.pm versions
 * lists ifupdown2 only when it is installed, readable with Sys.Audit on the node).
 */
async function checkPrerequisites(client: ProxmoxClient, scope: CheckScope, notes: Msg[]): Promise<Msg[]> {
  const problems: Msg[] = [];
  const decision = await studentRoleDecision(client, scope.studentRole, scope.studentRolePrivs ?? []);
  if (decision.action === 'refuse') problems.push(msg('check.roleMissing', { role: decision.role, command: decision.command }));
  const domains = await client.get('/access/domains', z.array(z.looseObject({ realm: z.string(), type: z.string() })));
  for (const realm of new Set(scope.realms)) {
    const d = domains.find((x) => x.realm === realm);
    if (!d) problems.push(msg('check.realmMissing', { realm }));
    else if (d.type !== 'pve' && d.type !== 'pam') {
      problems.push(msg('check.realmType', { realm, type: d.type }));
    }
  }
  if (scope.mode === 'bridges') {
    const nodes = (await client.nodes()).filter((n) => n.status === 'online');
    for (const n of nodes) {
      try {
        const pkgs = await client.get(`/nodes/${encodeURIComponent(n.node)}/apt/versions`, z.array(z.looseObject({ Package: z.string() })));
        if (!pkgs.some((p) => p.Package === 'ifupdown2')) {
          problems.push(msg('check.noIfupdown2', { node: n.node }));
        }
      } catch (err) {
        if (!(err instanceof ProxmoxApiError) || err.status === 401) throw err;
        notes.push(msg('check.ifupdown2Unverified', { node: n.node, status: err.status, text: err.pveMessage }));
      }
    }
  }
  return problems;
}

/**
 * The datacenter firewall's state (GET /cluster/firewall/options): stand isolation needs it on, and pve-stands
 * never turns it on itself. Informational: it does not change the check's verdict.
 */
export async function datacenterFirewallState(client: ProxmoxClient): Promise<{ enabled: boolean; message: string; messageMsg: Msg }> {
  const state = (enabled: boolean, m: Msg) => ({ enabled, message: en(m), messageMsg: m });
  try {
    const o = await new FirewallApi(client).clusterOptions();
    return o.enable === 1 ? state(true, msg('check.fwOn')) : state(false, msg('check.fwOff'));
  } catch (err) {
    if (!(err instanceof ProxmoxApiError)) throw err;
    return state(false, msg('check.fwUnread', { status: err.status, text: err.pveMessage }));
  }
}

async function failureVerdict(client: ProxmoxClient, err: unknown): Promise<ConnectionCheck> {
  const c = client.cluster;
  const base = { cluster: c.name, url: c.url, auth: client.authMode } as const;
  if (!(err instanceof ProxmoxApiError)) throw err;
  if (err.code === 'ERR_TLS_FINGERPRINT_MISMATCH') {
    const seen = (await probeFingerprint(c.url)) ?? 'unknown';
    const expected = normalizeFingerprint(c.tls.fingerprint ?? '');
    const m = msg('check.tlsMismatch', { seen, expected });
    return { ...base, verdict: 'tls-mismatch', seen, expected, message: en(m), messageMsg: m };
  }
  if (err.code && TLS_TRUST_CODES.has(err.code)) {
    const seen = (await probeFingerprint(c.url)) ?? 'unknown';
    const expectedMsg = c.tls.ca || c.tls.caPem ? msg('check.expectedCa') : msg('check.expectedSystem');
    const m = msg('check.tlsUntrusted', { code: err.code, seen, expected: expectedMsg, cluster: c.name });
    return { ...base, verdict: 'tls-mismatch', seen, expected: en(expectedMsg), message: en(m), messageMsg: m };
  }
  if (err.status === 0) {
    const m = msg('check.unreachable', { url: c.url, text: err.pveMessage });
    return { ...base, verdict: 'unreachable', message: en(m), messageMsg: m };
  }
  if (err.status === 401) {
    const who: Who = client.authMode === 'token' ? { kind: 'apiToken', id: c.tokenId ?? '' } : { kind: 'user', id: c.user ?? '' };
    const m = msg('check.refused', { who, url: c.url, text: err.pveMessage });
    return { ...base, verdict: 'bad-credentials', message: en(m), messageMsg: m };
  }
  if (err.status === 403) {
    const m = msg('check.denied', { text: err.pveMessage });
    return { ...base, verdict: 'missing-privileges', missing: [], message: en(m), messageMsg: m };
  }
  if (err.status >= 500) {
    const m = msg('check.answered', { url: c.url, status: err.status, text: err.pveMessage });
    return { ...base, verdict: 'unreachable', message: en(m), messageMsg: m };
  }
  throw err;
}
