/** pve-access-control: tickets, password, users, ACL, roles (API2/AccessControl.pm, User.pm, ACL.pm, Role.pm). */
import { bool, listOf, perm, type Req, str, userCfgWrite } from '../context.js';
import { fail, paramError, PveError } from '../errors.js';
import { ALL_PRIVS, BUILTIN_ROLES, effectivePermissions, hasPriv, isRoot, permModifyAlternatives, rolePrivs } from '../privileges.js';
import type { Router } from '../router.js';
import type { AclEntry, SimUser } from '../state.js';

function userEntry(u: SimUser, full: boolean, realmType?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { userid: u.userid, enable: u.enable ? 1 : 0, expire: u.expire, 'realm-type': realmType ?? u.userid.split('@')[1] };
  for (const k of ['comment', 'email', 'firstname', 'lastname'] as const) if (u[k] !== undefined) out[k] = u[k];
  if (u.groups.length) out.groups = u.groups.join(',');
  if (full) out.tokens = [...u.tokens.values()].map((t) => ({ tokenid: t.name, privsep: t.privsep ? 1 : 0, expire: 0, ...(t.comment ? { comment: t.comment } : {}) }));
  return out;
}

export function registerAccess(router: Router): void {
  router.add('GET', '/access/ticket', () => null);

  router.add('POST', '/access/ticket', async (r: Req) => {
    const { sim } = r;
    const userid = sim.auth.login(str(r, 'username')!, str(r, 'password')!, str(r, 'realm'));
    // the server delays every 401 (outside the pvedaemon worker, as pveproxy does)
    if (!userid) throw new PveError(401, 'authentication failure');
    const { ticket, csrf } = sim.auth.createTicket(userid);
    return {
      username: userid,
      ticket,
      CSRFPreventionToken: csrf,
      clustername: sim.state.clusterName,
      cap: {},
    };
  });

  router.add('PUT', '/access/password', async (r: Req) => {
    const { sim } = r;
    const userid = str(r, 'userid')!;
    const target = sim.state.users.get(userid);
    if (!target) throw fail(`user '${userid}' does not exist`);
    if (r.who.userid !== 'root@pam') {
      // PVE ≥ 8.2: the caller re-authenticates with their own password (reauth_user_for_user_modification)
      const confirm = str(r, 'confirmation-password');
      if (!confirm) throw paramError({ 'confirmation-password': 'password is required to modify user' });
      if (!sim.auth.login(r.who.userid, confirm)) throw new PveError(401, 'authentication failure');
      if (userid === 'root@pam') throw fail("user 'root@pam' is not allowed to be changed");
    }
    await userCfgWrite(sim, () => {
      target.password = str(r, 'password');
    });
    return null;
  });

  // pve-access-control API2/Domains.pm index: open to anyone (the login box lists the realms)
  router.add('GET', '/access/domains', (r: Req) =>
    [...r.sim.state.realms].map(([realm, d]) => ({ realm, type: d.type, ...(d.comment ? { comment: d.comment } : {}) })),
  );

  router.add('GET', '/access/users', (r: Req) => {
    const { state } = r.sim;
    const full = bool(r, 'full') ?? false;
    const enabled = bool(r, 'enabled');
    const canAll = hasPriv(state, r.who, '/access/groups', ['User.Modify', 'Sys.Audit'], true);
    return [...state.users.values()]
      .filter((u) => canAll || u.userid === r.who.userid)
      .filter((u) => enabled === undefined || u.enable === enabled)
      .map((u) => userEntry(u, full, state.realms.get(u.userid.split('@')[1]!)?.type));
  });

  router.add('GET', '/access/users/{userid}', (r: Req) => {
    const u = r.sim.state.users.get(str(r, 'userid')!);
    if (!u) throw fail(`no such user ('${str(r, 'userid')}')`);
    const { userid: _u, ...rest } = userEntry(u, true, r.sim.state.realms.get(u.userid.split('@')[1]!)?.type);
    return rest;
  });

  router.add('POST', '/access/users', async (r: Req) => {
    const { state } = r.sim;
    const userid = str(r, 'userid')!;
    const realm = userid.split('@')[1]!;
    const domain = state.realms.get(realm);
    if (!domain) throw fail(`domain '${realm}' does not exist`);
    for (const g of listOf(r.params.groups)) if (!state.groups.has(g)) throw fail(`no such group '${g}'`);
    await userCfgWrite(r.sim, () => {
      if (state.users.has(userid)) throw fail(`user '${userid}' already exists`);
      // pve-access-control API2/User.pm create_user → AccessControl.pm domain_set_password → the realm plugin's
      // store_password: only Auth/PVE.pm and Auth/PAM.pm implement it; Auth/Plugin.pm's default (LDAP, AD,
      // OpenID) dies, inside lock_user_config(…, "create user failed"), so nothing is written.
      if (r.params.password !== undefined && domain.type !== 'pve' && domain.type !== 'pam')
        throw fail(`create user failed: can't set password on auth type '${domain.type}'`);
      state.addUser({
        userid,
        enable: bool(r, 'enable') ?? true,
        expire: Number(r.params.expire ?? 0),
        groups: listOf(r.params.groups),
        ...(r.params.password !== undefined ? { password: str(r, 'password') } : {}),
        ...(r.params.comment !== undefined ? { comment: str(r, 'comment') } : {}),
        ...(r.params.email !== undefined ? { email: str(r, 'email') } : {}),
        ...(r.params.firstname !== undefined ? { firstname: str(r, 'firstname') } : {}),
        ...(r.params.lastname !== undefined ? { lastname: str(r, 'lastname') } : {}),
      });
    });
    return null;
  });

  router.add('PUT', '/access/users/{userid}', async (r: Req) => {
    const u = r.sim.state.users.get(str(r, 'userid')!);
    if (!u) throw fail(`no such user ('${str(r, 'userid')}')`);
    await userCfgWrite(r.sim, () => {
      for (const k of ['comment', 'email', 'firstname', 'lastname'] as const) if (r.params[k] !== undefined) u[k] = str(r, k);
      if (r.params.enable !== undefined) u.enable = Boolean(r.params.enable);
      if (r.params.expire !== undefined) u.expire = Number(r.params.expire);
    });
    return null;
  });

  router.add('DELETE', '/access/users/{userid}', async (r: Req) => {
    const { state } = r.sim;
    const userid = str(r, 'userid')!;
    await userCfgWrite(r.sim, () => {
      if (!state.users.has(userid)) throw fail(`user '${userid}' does not exist`);
      if (userid === 'root@pam') throw fail("can't remove user 'root@pam'");
      state.deleteUser(userid);
    });
    return null;
  });

  router.add('GET', '/access/permissions', (r: Req) => {
    const { state } = r.sim;
    const self = r.who.tokenid ?? r.who.userid;
    const target = str(r, 'userid') ?? self;
    const own = target === self || target === r.who.userid || target.startsWith(`${r.who.userid}!`);
    if (!own) perm(r, '/access', ['Sys.Audit']);
    const token = target.includes('!') ? state.tokens.get(target) : undefined;
    if (target.includes('!') && !token) throw fail(`no such token '${target.split('!')[1]}' for user '${target.split('!')[0]}'`);
    if (!target.includes('!') && !state.users.has(target)) throw fail(`no such user ('${target}')`);
    const who = token ? { userid: token.userid, tokenid: token.id, privsep: token.privsep } : { userid: target, privsep: false };
    // API2/AccessControl.pm permissions: `{path: {priv: propagate}}` for one path (even when empty), or for the
    // default paths, the ACL paths and the pool members' /vms paths, leaving out paths without privileges
    // (RPCEnvironment.pm get_effective_permissions)
    const flags = (p: string): Record<string, number> =>
      Object.fromEntries([...effectivePermissions(state, who, p)].sort(([a], [b]) => a.localeCompare(b)).map(([x, f]) => [x, f ? 1 : 0]));
    const path = str(r, 'path');
    if (path !== undefined && path !== '') return { [path]: flags(path) };
    const paths = new Set(['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms']);
    for (const e of state.acl) paths.add(e.path);
    for (const p of state.pools.values()) for (const vmid of p.vmids) paths.add(`/vms/${vmid}`);
    const out: Record<string, Record<string, number>> = {};
    for (const p of paths) {
      const f = flags(p);
      if (Object.keys(f).length) out[p] = f;
    }
    return out;
  });

  router.add('GET', '/access/acl', (r: Req) => {
    const { state } = r.sim;
    // API2/ACL.pm read_acl: everything with Sys.Audit on /access, else the paths the caller may modify
    // (check_perm_modify: Permissions.Modify, or Pool.Allocate on /pool/<p>, VM.Allocate on /vms/<id>, …)
    const audit = isRoot(r.who) || hasPriv(state, r.who, '/access', ['Sys.Audit']);
    return state.acl
      .filter((e) => audit || hasPriv(state, r.who, e.path, ['Permissions.Modify', ...permModifyAlternatives(e.path)], true))
      .map((e) => ({ path: e.path, type: e.type, ugid: e.ugid, roleid: e.roleid, propagate: e.propagate ? 1 : 0 }));
  });

  router.add('PUT', '/access/acl', async (r: Req) => {
    const { state } = r.sim;
    const path = normalizeAclPath(str(r, 'path')!);
    const roles = listOf(r.params.roles);
    const users = listOf(r.params.users);
    const tokens = listOf(r.params.tokens);
    const groups = listOf(r.params.groups);
    const del = bool(r, 'delete') ?? false;
    const propagate = bool(r, 'propagate') ?? true;
    if (!users.length && !tokens.length && !groups.length) throw paramError({ users: 'either groups, users or tokens is required' });
    for (const role of roles) if (!rolePrivs(state, role)) throw fail(`role '${role}' does not exist`);
    await userCfgWrite(r.sim, () => {
      // API2/ACL.pm update_acl: without Permissions.Modify on the path (perm-modify let the caller in through
      // VM.Allocate / Pool.Allocate / Datastore.Allocate), only roles whose every privilege the caller holds there
      // may be handed out, and with propagation only privileges the caller holds propagated
      const mine = effectivePermissions(state, r.who, path);
      if (!mine.has('Permissions.Modify')) {
        const verb = del ? 'remove' : 'add';
        for (const role of roles) {
          for (const priv of rolePrivs(state, role) ?? []) {
            if (!mine.has(priv)) throw paramError({ role: `Cannot ${verb} role '${role}' - requires 'Permissions.Modify' or superset of privileges.` });
            if (propagate && !mine.get(priv) && !del)
              throw paramError({ role: `Cannot ${verb} role '${role}' with propagation - requires 'Permissions.Modify' or propagated superset of privileges.` });
          }
          if (role === 'NoAccess') throw paramError({ role: `Cannot ${verb} role '${role}' - requires 'Permissions.Modify'` });
        }
      }
      for (const u of users) if (!state.users.has(u)) throw fail(`user '${u}' does not exist`);
      for (const t of tokens) if (!state.tokens.has(t)) throw fail(`no such token '${t.split('!')[1]}' for user '${t.split('!')[0]}'`);
      for (const g of groups) if (!state.groups.has(g)) throw fail(`group '${g}' does not exist`);
      let acl = state.acl.slice();
      const subjects: [AclEntry['type'], string][] = [
        ...users.map((u) => ['user', u] as [AclEntry['type'], string]),
        ...tokens.map((t) => ['token', t] as [AclEntry['type'], string]),
        ...groups.map((g) => ['group', g] as [AclEntry['type'], string]),
      ];
      for (const [type, ugid] of subjects)
        for (const roleid of roles) {
          acl = acl.filter((e) => !(e.path === path && e.type === type && e.ugid === ugid && e.roleid === roleid));
          if (!del) acl.push({ path, type, ugid, roleid, propagate });
        }
      // a new array: privileges.ts caches its index per array
      state.acl = acl;
    });
    return null;
  });

  router.add('GET', '/access/roles', (r: Req) => {
    const out = [];
    for (const [roleid, privs] of BUILTIN_ROLES) out.push({ roleid, privs: [...privs].sort().join(','), special: 1 });
    for (const [roleid, privs] of r.sim.state.roles) out.push({ roleid, privs: [...privs].sort().join(','), special: 0 });
    return out;
  });

  router.add('GET', '/access/roles/{roleid}', (r: Req) => {
    const privs = rolePrivs(r.sim.state, str(r, 'roleid')!);
    if (!privs) throw fail(`role '${str(r, 'roleid')}' does not exist`);
    return Object.fromEntries([...privs].sort().map((p) => [p, 1]));
  });

  router.add('POST', '/access/roles', async (r: Req) => {
    const { state } = r.sim;
    const roleid = str(r, 'roleid')!;
    const privs = listOf(r.params.privs);
    for (const p of privs) if (!ALL_PRIVS.has(p)) throw paramError({ privs: `invalid format - invalid privilege '${p}'` });
    await userCfgWrite(r.sim, () => {
      if (BUILTIN_ROLES.has(roleid) || state.roles.has(roleid)) throw fail(`role '${roleid}' already exists`);
      state.roles.set(roleid, new Set(privs));
    });
    return null;
  });

  router.add('DELETE', '/access/roles/{roleid}', async (r: Req) => {
    const { state } = r.sim;
    const roleid = str(r, 'roleid')!;
    if (BUILTIN_ROLES.has(roleid)) throw fail(`cannot delete role '${roleid}' - a built-in role`);
    await userCfgWrite(r.sim, () => {
      if (!state.roles.delete(roleid)) throw fail(`role '${roleid}' does not exist`);
      state.acl = state.acl.filter((e) => e.roleid !== roleid);
    });
    return null;
  });
}

/** ACL paths: '/', '/vms/100', '/pool/x', … (PVE normalizes away duplicate and trailing slashes). */
function normalizeAclPath(p: string): string {
  const path = '/' + p.split('/').filter(Boolean).join('/');
  if (!/^\/(?:$|vms(?:\/\d+)?$|pool(?:\/[A-Za-z0-9.\-_]+){0,3}$|storage(?:\/[^/]+)?$|nodes(?:\/[^/]+)?$|sdn(?:\/.*)?$|access(?:\/.*)?$|mapping(?:\/.*)?$)/.test(path))
    throw paramError({ path: `invalid ACL path '${p}'` });
  return path;
}
