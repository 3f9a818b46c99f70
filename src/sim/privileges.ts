/**
 * PVE's privilege model (pve-access-control AccessControl.pm, PVE 9): built-in roles from privilege groups,
 * custom roles, ACLs on paths with propagation (a more specific path overrides, user entries override group
 * entries), pool membership granting /pool/<p> rights on /vms/<id>, and privsep tokens (token ACL ∩ user ACL).
 */
import { permError, PveError } from './errors.js';
import type { SimState } from './state.js';

const VM_ADMIN = ['VM.Config.Disk', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.HWType', 'VM.Config.Network',
  'VM.Config.Options', 'VM.Allocate', 'VM.Clone', 'VM.Migrate', 'VM.Replicate', 'VM.Snapshot', 'VM.Snapshot.Rollback'];
const VM_USER = ['VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.Console', 'VM.Backup', 'VM.PowerMgmt',
  'VM.GuestAgent.Audit', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.FileWrite', 'VM.GuestAgent.FileSystemMgmt'];
const VM_AUDIT = ['VM.Audit'];
const SYS_ROOT = ['Sys.PowerMgmt', 'Sys.Modify'];
const SYS_ADMIN = ['Sys.Console', 'Sys.Syslog', 'Sys.Incoming', 'Sys.AccessNetwork'];
const SYS_AUDIT = ['Sys.Audit'];
const DS_ADMIN = ['Datastore.Allocate', 'Datastore.AllocateTemplate'];
const DS_USER = ['Datastore.AllocateSpace'];
const DS_AUDIT = ['Datastore.Audit'];
const SDN_ADMIN = ['SDN.Allocate'];
const SDN_USER = ['SDN.Use'];
const SDN_AUDIT = ['SDN.Audit'];
const USER_ROOT = ['Realm.Allocate'];
const USER_ADMIN = ['User.Modify', 'Group.Allocate', 'Realm.AllocateUser'];
const POOL_ADMIN = ['Pool.Allocate'];
const POOL_AUDIT = ['Pool.Audit'];
const MAP_ADMIN = ['Mapping.Modify'];
const MAP_USER = ['Mapping.Use'];
const MAP_AUDIT = ['Mapping.Audit'];
const PERM_MODIFY = ['Permissions.Modify'];

export const ALL_PRIVS = new Set([
  ...VM_ADMIN, ...VM_USER, ...VM_AUDIT, ...SYS_ROOT, ...SYS_ADMIN, ...SYS_AUDIT, ...DS_ADMIN, ...DS_USER, ...DS_AUDIT,
  ...SDN_ADMIN, ...SDN_USER, ...SDN_AUDIT, ...USER_ROOT, ...USER_ADMIN, ...POOL_ADMIN, ...POOL_AUDIT, ...MAP_ADMIN,
  ...MAP_USER, ...MAP_AUDIT, ...PERM_MODIFY,
]);

const AUDIT_ALL = [...VM_AUDIT, ...SYS_AUDIT, ...DS_AUDIT, ...SDN_AUDIT, ...POOL_AUDIT, ...MAP_AUDIT];

export const BUILTIN_ROLES: ReadonlyMap<string, ReadonlySet<string>> = new Map<string, ReadonlySet<string>>([
  ['Administrator', ALL_PRIVS],
  ['NoAccess', new Set()],
  ['PVEAdmin', new Set([...ALL_PRIVS].filter((p) => ![...SYS_ROOT, ...USER_ROOT, ...PERM_MODIFY].includes(p)))],
  ['PVEAuditor', new Set(AUDIT_ALL)],
  ['PVEVMAdmin', new Set([...VM_ADMIN, ...VM_USER, ...VM_AUDIT])],
  ['PVEVMUser', new Set([...VM_USER, ...VM_AUDIT])],
  ['PVEUserAdmin', new Set([...USER_ADMIN])],
  ['PVEPoolAdmin', new Set([...POOL_ADMIN, ...POOL_AUDIT])],
  ['PVEPoolUser', new Set(POOL_AUDIT)],
  ['PVEDatastoreAdmin', new Set([...DS_ADMIN, ...DS_USER, ...DS_AUDIT])],
  ['PVEDatastoreUser', new Set([...DS_USER, ...DS_AUDIT])],
  ['PVESysAdmin', new Set([...SYS_ADMIN, ...SYS_AUDIT])],
  ['PVETemplateUser', new Set(['VM.Clone', 'VM.Audit'])],
  ['PVESDNAdmin', new Set([...SDN_ADMIN, ...SDN_USER, ...SDN_AUDIT])],
  ['PVESDNUser', new Set([...SDN_USER, ...SDN_AUDIT])],
  ['PVEMappingAdmin', new Set([...MAP_ADMIN, ...MAP_USER, ...MAP_AUDIT])],
  ['PVEMappingUser', new Set([...MAP_USER, ...MAP_AUDIT])],
]);

/** Who is asking: a user (ticket or password) or an API token. */
export interface Principal {
  userid: string;
  /** user@realm!name when authenticated with a token */
  tokenid?: string;
  privsep: boolean;
}

export const isRoot = (p: Principal): boolean => p.userid === 'root@pam' && (!p.tokenid || !p.privsep);

export function rolePrivs(state: SimState, roleid: string): ReadonlySet<string> | undefined {
  return BUILTIN_ROLES.get(roleid) ?? state.roles.get(roleid);
}

function pathChain(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out = ['/'];
  for (let i = 1; i <= parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}

/** Role name → propagate flag, as pve-access-control AccessControl.pm `roles()` returns it. */
type RoleFlags = Map<string, boolean>;

/**
 * AccessControl.pm `roles($cfg, $user, $path)`: walk from '/' down; at each level the entries that apply
 * (propagating ones above the target, all at the target) replace what came from above, keeping their propagate
 * flag; token entries, then user entries take precedence over group entries at the same level. NoAccess wins.
 */
function rolesFor(state: SimState, path: string, subjects: { type: AclEntry['type']; ugid: string }[]): RoleFlags {
  const chain = pathChain(path);
  let roles: RoleFlags = new Map();
  const byPath = aclIndex(state);
  for (let i = 0; i < chain.length; i++) {
    const entries = byPath.get(chain[i]!);
    if (!entries) continue;
    const final = i === chain.length - 1;
    const found: Record<AclEntry['type'], RoleFlags> = { token: new Map(), user: new Map(), group: new Map() };
    for (const e of entries) {
      if (!final && !e.propagate) continue;
      if (!subjects.some((s) => s.type === e.type && s.ugid === e.ugid)) continue;
      const m = found[e.type];
      m.set(e.roleid, (m.get(e.roleid) ?? false) || e.propagate);
    }
    if (found.token.size) roles = found.token;
    else if (found.user.size) roles = found.user;
    else if (found.group.size) roles = found.group;
  }
  const noAccess = roles.get('NoAccess');
  return noAccess !== undefined ? new Map([['NoAccess', noAccess]]) : roles;
}

/**
 * RPCEnvironment.pm `$compile_acl_path` for one subject set: the roles on the path, plus (for /vms/<id> of a pool
 * member) the roles held on /pool/<pool>, never propagated and never overriding NoAccess; then the privileges,
 * each with the propagate flag of any role that grants it propagated.
 */
function privFlags(state: SimState, path: string, subjects: { type: AclEntry['type']; ugid: string }[]): Map<string, boolean> {
  let roles = rolesFor(state, path, subjects);
  const m = /^\/vms\/(\d+)$/.exec(path);
  const pool = m ? state.vms.get(Number(m[1]))?.pool : undefined;
  if (pool && !roles.has('NoAccess')) {
    const poolRoles = rolesFor(state, `/pool/${pool}`, subjects);
    if (poolRoles.has('NoAccess')) roles = new Map([['NoAccess', false]]);
    else for (const r of poolRoles.keys()) if (!roles.has(r)) roles.set(r, false);
  }
  const privs = new Map<string, boolean>();
  for (const [r, propagate] of roles) for (const p of rolePrivs(state, r) ?? []) privs.set(p, (privs.get(p) ?? false) || propagate);
  return privs;
}

type AclEntry = SimState['acl'][number];
/** ACL entries by path, rebuilt when `state.acl` is replaced or changes length (handlers assign new arrays). */
const indexCache = new WeakMap<AclEntry[], { len: number; idx: Map<string, AclEntry[]> }>();
function aclIndex(state: SimState): Map<string, AclEntry[]> {
  const cached = indexCache.get(state.acl);
  if (cached && cached.len === state.acl.length) return cached.idx;
  const idx = new Map<string, AclEntry[]>();
  for (const e of state.acl) {
    const list = idx.get(e.path) ?? [];
    list.push(e);
    idx.set(e.path, list);
  }
  indexCache.set(state.acl, { len: state.acl.length, idx });
  return idx;
}

/**
 * Effective privileges of a principal on a path with their propagate flags, as RPCEnvironment.pm `permissions()`
 * returns them (`{priv: 0|1}`; GET /access/permissions shows exactly this): root@pam gets everything propagated;
 * a privsep token gets the intersection of its own and its user's privileges, propagated only when both are.
 */
export function effectivePermissions(state: SimState, who: Principal, path: string): Map<string, boolean> {
  if (isRoot(who) || who.userid === 'root@pam') {
    const all = new Map([...ALL_PRIVS].map((p) => [p, true] as [string, boolean]));
    if (isRoot(who) || !who.tokenid) return all;
    const token = privFlags(state, path, [{ type: 'token', ugid: who.tokenid }]);
    return new Map([...token].map(([p, f]) => [p, f] as [string, boolean]));
  }
  const user = state.users.get(who.userid);
  if (!user || !user.enable) return new Map();
  const fromUser = privFlags(state, path, [
    { type: 'user' as const, ugid: who.userid },
    ...user.groups.map((g) => ({ type: 'group' as const, ugid: g })),
  ]);
  if (!(who.tokenid && who.privsep)) return fromUser;
  const fromToken = privFlags(state, path, [{ type: 'token', ugid: who.tokenid }]);
  const out = new Map<string, boolean>();
  for (const [p, f] of fromToken) if (fromUser.has(p)) out.set(p, f && fromUser.get(p)!);
  return out;
}

/** Effective privileges of a principal on a path (the whole set; root gets everything). */
export function effectivePrivs(state: SimState, who: Principal, path: string): Set<string> {
  return new Set(effectivePermissions(state, who, path).keys());
}

export function hasPriv(state: SimState, who: Principal, path: string, privs: string[], any = false): boolean {
  if (isRoot(who)) return true;
  const have = effectivePrivs(state, who, path);
  return any ? privs.some((p) => have.has(p)) : privs.every((p) => have.has(p));
}

/** check_perm: 403 "Permission check failed (/path, Priv)" (any: privs joined with '|'). */
export function requirePriv(state: SimState, who: Principal, path: string, privs: string[], any = false): void {
  if (isRoot(who)) return;
  const have = effectivePrivs(state, who, path);
  if (any) {
    if (!privs.some((p) => have.has(p))) throw permError(`${path}, ${privs.join('|')}`);
    return;
  }
  for (const p of privs) if (!have.has(p)) throw permError(`${path}, ${p}`);
}

const subst = (tpl: string, params: Record<string, unknown>): string =>
  tpl.replace(/\{([^}]+)\}/g, (_, k: string) => String(params[k] ?? ''));

/**
 * Evaluate a schema `permissions.check` expression (RPCEnvironment check_api2_permissions). Throws PVE's 403.
 * Returns false instead of throwing when `noerr`.
 */
export function checkExpr(state: SimState, who: Principal, expr: unknown, params: Record<string, unknown>, noerr = false): boolean {
  if (!Array.isArray(expr)) return true;
  const [op, ...rest] = expr as [string, ...unknown[]];
  const failWith = (what?: string): boolean => {
    if (noerr) return false;
    throw permError(what);
  };
  switch (op) {
    case 'perm': {
      const [tpl, privs, ...opts] = rest as [string, string[], ...unknown[]];
      const any = opts.includes('any');
      const ri = opts.indexOf('require_param');
      if (ri >= 0) {
        const name = opts[ri + 1] as string;
        if (params[name] === undefined || params[name] === '') return failWith();
      }
      const path = subst(tpl, params);
      if (noerr) return hasPriv(state, who, path, privs, any);
      requirePriv(state, who, path, privs, any);
      return true;
    }
    case 'and':
      for (const sub of rest) if (!checkExpr(state, who, sub, params, noerr)) return false;
      return true;
    case 'or':
      for (const sub of rest) if (checkExpr(state, who, sub, params, true)) return true;
      return failWith();
    case 'perm-modify': {
      // RPCEnvironment.pm check_perm_modify: Permissions.Modify, or on a specific storage, VM or pool the
      // privilege that administers it (Datastore.Allocate, VM.Allocate, Pool.Allocate); no path means /access
      const raw = subst(rest[0] as string, params);
      const path = raw ? '/' + raw.split('/').filter(Boolean).join('/') : '/access';
      const test = ['Permissions.Modify', ...permModifyAlternatives(path)];
      if (hasPriv(state, who, path, test, true)) return true;
      return failWith(`${path}, ${test.join('|')}`);
    }
    case 'userid-param': {
      const target = String(params.userid ?? '');
      if (rest[0] === 'self') return target === who.userid && !who.tokenid ? true : failWith();
      const realm = target.split('@')[1] ?? '';
      const path = `/access/realm/${realm}`;
      if (hasPriv(state, who, path, [rest[0] as string])) return true;
      return failWith(`${path}, ${String(rest[0])}`);
    }
    case 'userid-group': {
      const privs = rest[0] as string[];
      const target = state.users.get(String(params.userid ?? ''));
      const paths = ['/access/groups', ...(target?.groups ?? []).map((g) => `/access/groups/${g}`)];
      if (paths.some((p) => hasPriv(state, who, p, privs, true))) return true;
      return failWith(`/access/groups, ${privs.join('|')}`);
    }
    default:
      throw new PveError(500, `unknown permission check '${op}'`);
  }
}

/** The privilege besides Permissions.Modify that lets a caller change ACLs on `path` (check_perm_modify). */
export function permModifyAlternatives(path: string): string[] {
  if (!path) return [];
  if (/^\/storage\/.+$/.test(path)) return ['Datastore.Allocate'];
  if (/^\/vms\/.+$/.test(path)) return ['VM.Allocate'];
  if (/^\/pool\/.+$/.test(path)) return ['Pool.Allocate'];
  return [];
}
