/** Stage: the stand's PVE user, pool, ACL and the custom role (serialised per cluster through the lanes). */
import { msg } from '../../i18n/index.js';
import type { PveUser } from '../../proxmox/types.js';
import { generatePassword } from '../credentials.js';
import { throwIfAborted } from '../executor.js';
import { parsePoolComment, poolComment, userComment } from '../ownership.js';
import { type StandState, aclKey } from './context.js';
import { recordChange } from './records.js';
import type { DeployRun } from './run.js';

/** PVEVMUser plus what students need to go back to `start` themselves. */
export const ROLLBACK_ROLE_EXTRA_PRIVS = ['VM.Snapshot.Rollback'];
const PVEVMUSER_FALLBACK_PRIVS = [
  'VM.Audit',
  'VM.Console',
  'VM.PowerMgmt',
  'VM.Backup',
  'VM.Config.CDROM',
  'VM.Config.Cloudinit',
];

export async function access(run: DeployRun, st: StandState): Promise<void> {
  const s = st.plan;
  try {
    await run.step(st, 'access', undefined, async () => {
      let wrote = false;
      // the pool first: every clone of the stand waits for it, nothing waits for the user but its ACL
      wrote = (await ensurePool(run, st)) || wrote;
      st.pool.resolve();
      wrote = (await ensureUser(run, st)) || wrote;
      wrote = (await ensureAcl(run, st)) || wrote;
      return wrote ? undefined : 'skipped';
    });
  } catch (err) {
    st.pool.reject(err);
    throw err;
  }
  void s;
}

export async function ensureUser(run: DeployRun, st: StandState): Promise<boolean> {
  const s = st.plan;
  if (run.users.has(s.userid)) {
    // it exists: ours only if our journal says we created it (in this group or another)
    const j = await run.ctx.store.journal.get('user', s.userid, run.cluster);
    if (j && j.group === s.group) {
      st.createdUser = true;
      if (j.state !== 'confirmed') await run.ctx.store.journal.confirm('user', s.userid, run.cluster);
      // a run killed right after creating the user may not have written its record yet
      if (!st.record?.createdUser) void recordChange(run, st, (r) => ({ ...r, createdUser: true }));
      // Passwords are never stored; the faces record when they show one (markPasswordsShown). Not shown, and
      // created by a job that never ended (killed, or a bot that went down): nobody saw this user's password.
      // (A job that ended before that record existed showed its passwords at its end.)
      const shown = st.record?.passwordShownAt !== undefined;
      const creator = shown || !j.job ? undefined : await run.ctx.store.jobs.get(j.job);
      if (!s.directoryRealm && !shown && (!creator || creator.status === 'queued' || creator.status === 'running')) {
        run.warn(msg('warn.passwordNeverShown', { user: s.userid }));
      }
    }
    return false;
  }
  // A directory realm's user (LDAP, AD, OpenID) signs in with the directory's password: PVE refuses to store one
  // (pve-access-control Auth/Plugin.pm store_password: "can't set password on auth type '…'").
  const password = s.directoryRealm ? undefined : generatePassword(run.ctx.settings?.passwords?.length ?? 16);
  await run.ctx.store.journal.intend('user', s.userid, { cluster: run.cluster, group: s.group, user: s.userid, job: run.job });
  throwIfAborted(run.signal);
  await run.abortable(
    run.lanes.accessWrite(() =>
      run.client.createUser({
        userid: s.userid,
        ...(password ? { password } : {}),
        comment: userComment(s.group),
        ...(s.email ? { email: s.email } : {}),
        ...(s.displayName ? { firstname: s.displayName } : {}),
      }),
      1,
    ),
  );
  await run.ctx.store.journal.confirm('user', s.userid, run.cluster);
  run.users.set(s.userid, { userid: s.userid } as PveUser);
  st.createdUser = true;
  if (password) st.password = password;
  run.counts.users++;
  // a new password: whatever was shown before is not it
  void recordChange(run, st, ({ passwordShownAt: _shown, ...r }) => ({ ...r, createdUser: true }));
  return true;
}

export async function ensurePool(run: DeployRun, st: StandState): Promise<boolean> {
  const s = st.plan;
  const existing = run.pools.get(s.pool);
  if (existing) {
    const marker = parsePoolComment(existing.comment);
    const j = await run.ctx.store.journal.get('pool', s.pool, run.cluster);
    const ours = (marker?.group === s.group && marker.userid === s.userid) || (j?.group === s.group && j.user === s.userid);
    if (!ours) run.fail(st, msg('fail.poolTaken', { pool: s.pool, ...(existing.comment !== undefined ? { comment: existing.comment } : {}) }));
    if (j?.state === 'intended') await run.ctx.store.journal.confirm('pool', s.pool, run.cluster);
    return false;
  }
  await run.ctx.store.journal.intend('pool', s.pool, { cluster: run.cluster, group: s.group, user: s.userid, job: run.job });
  throwIfAborted(run.signal);
  await run.abortable(run.lanes.accessWrite(() => run.client.createPool(s.pool, poolComment(s.group, s.userid, run.plan.profile.name)), 2));
  await run.ctx.store.journal.confirm('pool', s.pool, run.cluster);
  run.pools.set(s.pool, { comment: poolComment(s.group, s.userid, run.plan.profile.name) });
  run.counts.pools++;
  void recordChange(run, st, (r) => ({ ...r, poolCreated: true }));
  return true;
}

export async function ensureAcl(run: DeployRun, st: StandState): Promise<boolean> {
  const s = st.plan;
  const role = run.plan.aclRole;
  const path = `/pool/${s.pool}`;
  const key = aclKey(path, s.userid, role);
  if (run.acl.has(key)) return false;
  await ensureRole(run, role);
  await run.ctx.store.journal.intend('acl', key, { cluster: run.cluster, group: s.group, user: s.userid, job: run.job });
  throwIfAborted(run.signal);
  await run.abortable(
    run.lanes.accessWrite(() => run.client.updateAcl({ path, roles: [role], users: [s.userid], propagate: true })),
  );
  await run.ctx.store.journal.confirm('acl', key, run.cluster);
  run.acl.add(key);
  run.counts.acls++;
  void recordChange(run, st, (r) => ({ ...r, aclCreated: true }));
  return true;
}

/** A custom role (e.g. one that adds snapshot rollback) is created once, from PVEVMUser's privileges. */
export function ensureRole(run: DeployRun, role: string): Promise<void> {
  if (/^(PVE\w+|Administrator|NoAccess)$/.test(role)) return Promise.resolve();
  run.rolePromise ??= (async () => {
    const roles = await run.client.listRoles();
    if (roles.some((r) => r.roleid === role)) return;
    const custom = run.ctx.settings?.acl?.customRole;
    const base = roles.find((r) => r.roleid === 'PVEVMUser')?.privs?.split(',').filter(Boolean) ?? PVEVMUSER_FALLBACK_PRIVS;
    const privs = custom?.name === role ? custom.privs : [...new Set([...base, ...ROLLBACK_ROLE_EXTRA_PRIVS])];
    await run.lanes.accessWrite(() => run.client.createRole(role, privs));
    run.log.info({ role, privs }, 'created role');
  })();
  return run.rolePromise;
}
