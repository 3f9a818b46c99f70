/**
 * The students' role: which privileges it holds and who creates it. A built-in role (PVEVMUser by default) needs
 * nothing. A custom role is created by the admin once (`studentRoleCommand`), or by the product only when its
 * token holds Sys.Modify on /access (pve-access-control PVE/API2/Role.pm create_role checks exactly that).
 *
 * Handing the role out on /pool/<pool> needs no Permissions.Modify: with Pool.Allocate there, PVE lets a caller
 * grant any role whose privileges it holds itself on that path, propagated (PVE/API2/ACL.pm update_acl,
 * RPCEnvironment.pm check_perm_modify). So the deployer holds the role's privileges on /pool.
 */
import type { ProxmoxClient } from './client.js';

/** PVE's own roles (AccessControl.pm): never created or changed by anyone. */
export const isBuiltinRole = (role: string): boolean => /^(PVE\w+|Administrator|NoAccess)$/.test(role);

/** What a student role adds to PVEVMUser when the product defines it (settings acl.custom_role may replace it). */
export const ROLLBACK_ROLE_EXTRA_PRIVS = ['VM.Snapshot.Rollback'];

export type StudentRoleDecision =
  | { action: 'use' }
  | { action: 'create'; privs: string[] }
  | { action: 'refuse'; message: string; role: string; command: string };

export function studentRoleCommand(role: string, privs: readonly string[]): string {
  return `pveum role add ${role} --privs "${[...privs].sort().join(',')}"`;
}

/** Pure: use it when it exists (or is built in), create it only with Sys.Modify on /access, else tell the admin. */
export function decideStudentRole(o: { role: string; exists: boolean; canCreate: boolean; privs: readonly string[] }): StudentRoleDecision {
  if (isBuiltinRole(o.role) || o.exists) return { action: 'use' };
  if (o.canCreate) return { action: 'create', privs: [...o.privs] };
  return {
    action: 'refuse',
    role: o.role,
    command: studentRoleCommand(o.role, o.privs),
    message:
      `role ${o.role} does not exist and the API token may not create roles (that takes Sys.Modify on /access): ` +
      `create it once with: ${studentRoleCommand(o.role, o.privs)}`,
  };
}

/** Reads what `decideStudentRole` needs from the cluster. `privs`: the custom role's privileges when it must be made. */
export async function studentRoleDecision(client: ProxmoxClient, role: string, privs: readonly string[]): Promise<StudentRoleDecision> {
  if (isBuiltinRole(role)) return { action: 'use' };
  const [roles, perms] = await Promise.all([client.listRoles(), client.permissions({ path: '/access' })]);
  const exists = roles.some((r) => r.roleid === role);
  return decideStudentRole({ role, exists, canCreate: 'Sys.Modify' in (perms['/access'] ?? {}), privs });
}
