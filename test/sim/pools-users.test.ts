import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

describe('pools', () => {
  it('creates a pool and reads it in both API forms (array vs object)', async () => {
    expect((await t.api('POST', '/pools', { poolid: 'stand-01', comment: 'class A' })).status).toBe(200);
    const dup = await t.api('POST', '/pools', { poolid: 'stand-01' });
    expect([dup.status, dup.reason]).toEqual([500, "pool 'stand-01' already exists"]);
    const arr = await t.api('GET', '/pools', { poolid: 'stand-01' });
    expect(arr.body.data).toEqual([{ poolid: 'stand-01', comment: 'class A', members: [] }]);
    const obj = await t.api('GET', '/pools/stand-01');
    expect(obj.body.data).toEqual({ comment: 'class A', members: [] });
    const all = await t.api('GET', '/pools');
    expect(all.body.data).toEqual([{ poolid: 'prod', comment: 'production (ops team)' }, { poolid: 'stand-01', comment: 'class A' }]);
    const missing = await t.api('GET', '/pools/nope');
    expect([missing.status, missing.reason]).toEqual([500, "pool 'nope' does not exist"]);
  });

  it('adds members, refuses double membership, moves only with allow-move', async () => {
    const c = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 700 });
    await t.waitTask(c.body.data);
    expect((await t.api('PUT', '/pools', { poolid: 'stand-01', vms: '700' })).status).toBe(200);
    const again = await t.api('PUT', '/pools/stand-01', { vms: '700' });
    expect(again.reason).toBe('VM 700 is already a pool member');
    const move = await t.api('PUT', '/pools', { poolid: 'prod', vms: '700' });
    expect(move.reason).toBe("VM 700 belongs already to pool 'stand-01' and 'allow-move' is not set");
    const members = (await t.api('GET', '/pools/stand-01')).body.data.members;
    expect(members).toEqual([{ id: 'qemu/700', vmid: 700, node: 'pve1', type: 'qemu', status: 'stopped', name: 'Copy-of-VM-debian-12-tpl', template: 0 }]);
  });

  it('refuses to delete a non-empty pool, deletes an empty one (both forms)', async () => {
    const r = await t.api('DELETE', '/pools', { poolid: 'stand-01' });
    expect([r.status, r.reason]).toEqual([500, "pool 'stand-01' is not empty (contains VM 700)"]);
    await t.waitTask((await t.api('DELETE', '/nodes/pve1/qemu/700', { purge: 1 })).body.data);
    expect((await t.api('DELETE', '/pools', { poolid: 'stand-01' })).status).toBe(200);
    expect((await t.api('POST', '/pools', { poolid: 'stand-02' })).status).toBe(200);
    expect((await t.api('DELETE', '/pools/stand-02')).status).toBe(200);
    expect((await t.api('GET', '/pools')).body.data.map((p: { poolid: string }) => p.poolid)).toEqual(['prod']);
  });
});

describe('users', () => {
  it('creates a user with a password who can then log in; refuses to create it twice', async () => {
    const r = await t.api('POST', '/access/users', { userid: 'stud01@pve', password: 'initial-pass', comment: 'Student One', email: 's1@example.org' });
    expect(r.status).toBe(200);
    const dup = await t.api('POST', '/access/users', { userid: 'stud01@pve', password: 'initial-pass' });
    expect([dup.status, dup.reason]).toEqual([500, "user 'stud01@pve' already exists"]);
    expect((await t.api('POST', '/access/ticket', { username: 'stud01@pve', password: 'initial-pass' }, 'none')).status).toBe(200);
    const u = await t.api('GET', '/access/users/stud01@pve');
    expect(u.body.data).toMatchObject({ comment: 'Student One', email: 's1@example.org', enable: 1 });
    const short = await t.api('POST', '/access/users', { userid: 'stud02@pve', password: 'short' });
    expect(short.body.errors).toEqual({ password: 'value must be at least 8 characters long' });
    const bad = await t.api('POST', '/access/users', { userid: 'no-realm' });
    expect(bad.status).toBe(400);
  });

  it('realms have types; a password is refused for a user of an LDAP/AD realm, as pve-access-control does', async () => {
    t.sim.state.realms.set('school', { type: 'ldap' });
    t.sim.state.realms.set('corp', { type: 'ad' });
    const domains = await t.api('GET', '/access/domains');
    expect(Object.fromEntries((domains.body.data as { realm: string; type: string }[]).map((d) => [d.realm, d.type]))).toEqual({
      pam: 'pam', pve: 'pve', school: 'ldap', corp: 'ad',
    });
    for (const [userid, type] of [['teacher@school', 'ldap'], ['boss@corp', 'ad']] as const) {
      const r = await t.api('POST', '/access/users', { userid, password: 'initial-pass' });
      expect([r.status, r.reason]).toEqual([500, `create user failed: can't set password on auth type '${type}'`]);
      expect(t.sim.state.users.has(userid)).toBe(false);
      expect((await t.api('POST', '/access/users', { userid, comment: 'from the directory' })).status).toBe(200);
      expect((await t.api('GET', `/access/users/${userid}`)).body.data['realm-type']).toBe(type);
    }
    const unknown = await t.api('POST', '/access/users', { userid: 'x@nowhere' });
    expect([unknown.status, unknown.reason]).toEqual([500, "domain 'nowhere' does not exist"]);
  });

  it('lists users and deletes one together with its ACL entries', async () => {
    await t.api('PUT', '/access/acl', { path: '/pool/prod', roles: 'PVEVMUser', users: 'stud01@pve' });
    const list = (await t.api('GET', '/access/users')).body.data.map((u: { userid: string }) => u.userid);
    expect(list).toEqual(expect.arrayContaining(['root@pam', 'alice@pve', 'stud01@pve']));
    expect((await t.api('DELETE', '/access/users/stud01@pve')).status).toBe(200);
    const acl = (await t.api('GET', '/access/acl')).body.data;
    expect(acl.some((e: { ugid: string }) => e.ugid === 'stud01@pve')).toBe(false);
    const gone = await t.api('DELETE', '/access/users/stud01@pve');
    expect(gone.reason).toBe("user 'stud01@pve' does not exist");
    const read = await t.api('GET', '/access/users/stud01@pve');
    expect([read.status, read.reason]).toEqual([500, "no such user ('stud01@pve')"]);
    const pool = await t.api('DELETE', '/pools/nope');
    expect(pool.reason).toBe("pool 'nope' does not exist");
  });
});

describe('ACL', () => {
  it('adds and removes entries, validates roles and subjects', async () => {
    expect((await t.api('PUT', '/access/acl', { path: '/pool/prod', roles: 'PVEAuditor', users: 'alice@pve', propagate: 0 })).status).toBe(200);
    let acl = (await t.api('GET', '/access/acl')).body.data;
    expect(acl).toContainEqual({ path: '/pool/prod', type: 'user', ugid: 'alice@pve', roleid: 'PVEAuditor', propagate: 0 });
    expect((await t.api('PUT', '/access/acl', { path: '/pool/prod', roles: 'PVEAuditor', users: 'alice@pve', delete: 1 })).status).toBe(200);
    acl = (await t.api('GET', '/access/acl')).body.data;
    expect(acl).not.toContainEqual(expect.objectContaining({ ugid: 'alice@pve', roleid: 'PVEAuditor' }));
    const role = await t.api('PUT', '/access/acl', { path: '/', roles: 'Wizard', users: 'alice@pve' });
    expect(role.reason).toBe("role 'Wizard' does not exist");
    const user = await t.api('PUT', '/access/acl', { path: '/', roles: 'PVEAuditor', users: 'ghost@pve' });
    expect(user.reason).toBe("user 'ghost@pve' does not exist");
    const noPerm = await t.api('PUT', '/access/acl', { path: '/', roles: 'Administrator', users: 'alice@pve' }, await t.login('alice@pve', 'alice-secret'));
    expect([noPerm.status, noPerm.reason]).toEqual([403, 'Permission check failed (/, Permissions.Modify)']);
  });
});
