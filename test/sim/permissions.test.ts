/**
 * Least privilege as PVE enforces it (pve-access-control): check_perm_modify lets Pool.Allocate holders set ACLs
 * on /pool/<p>; update_acl without Permissions.Modify hands out only privileges the caller holds (propagated when
 * the grant propagates); /access/permissions returns each privilege's propagate flag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
const DEPLOYER = { header: 'PVEAPIToken=deployer@pve!dep=d-secret' };
const VMADMIN = { header: 'PVEAPIToken=vmadmin@pve!vma=v-secret' };
const POOL_GRANTER = ['Pool.Allocate', 'Pool.Audit', 'VM.Audit', 'VM.Console', 'VM.PowerMgmt', 'VM.Backup', 'VM.Config.CDROM',
  'VM.Config.Cloudinit', 'VM.GuestAgent.Audit', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.FileWrite', 'VM.GuestAgent.FileSystemMgmt'];

beforeAll(async () => {
  t = await startTestSim({
    seed: {
      nodes: [{ name: 'pve1', cores: 8, memoryGiB: 32 }],
      storages: [{ id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: 100 }],
      vms: [{ vmid: 100, name: 'a', node: 'pve1', storage: 'local-lvm', pool: 'lab' }],
      pools: [{ poolid: 'lab' }, { poolid: 'flat' }],
      users: [{ userid: 'deployer@pve' }, { userid: 'vmadmin@pve' }, { userid: 'student@pve' }],
      tokens: [
        { id: 'deployer@pve!dep', secret: 'd-secret', privsep: false },
        { id: 'vmadmin@pve!vma', secret: 'v-secret', privsep: false },
      ],
      roles: [{ roleid: 'PoolGranter', privs: POOL_GRANTER }],
      acl: [
        { path: '/pool', roles: ['PoolGranter'], users: ['deployer@pve'] },
        { path: '/pool/flat', roles: ['PoolGranter'], users: ['deployer@pve'], propagate: false },
        { path: '/', roles: ['PVEVMAdmin'], users: ['vmadmin@pve'] },
      ],
    },
  });
});
afterAll(() => t.stop());

describe('PUT /access/acl without Permissions.Modify (API2/ACL.pm update_acl)', () => {
  it('hands out a role whose privileges the caller holds propagated on the path', async () => {
    const r = await t.api('PUT', '/access/acl', { path: '/pool/lab', roles: 'PVEVMUser', users: 'student@pve' }, DEPLOYER);
    expect(r.status, r.text).toBe(200);
    const perms = await t.api('GET', '/access/permissions', { userid: 'student@pve', path: '/vms/100' });
    expect(perms.body.data['/vms/100']).toMatchObject({ 'VM.PowerMgmt': 0, 'VM.Console': 0 });
  });

  it('refuses a role with a privilege the caller lacks there', async () => {
    const r = await t.api('PUT', '/access/acl', { path: '/pool/lab', roles: 'PVEVMAdmin', users: 'student@pve' }, DEPLOYER);
    expect([r.status, r.body.errors]).toEqual([
      400,
      { role: "Cannot add role 'PVEVMAdmin' - requires 'Permissions.Modify' or superset of privileges." },
    ]);
  });

  it('refuses a propagated grant of privileges the caller holds without propagation; allows it unpropagated', async () => {
    const r = await t.api('PUT', '/access/acl', { path: '/pool/flat', roles: 'PVEVMUser', users: 'student@pve' }, DEPLOYER);
    expect([r.status, r.body.errors]).toEqual([
      400,
      { role: "Cannot add role 'PVEVMUser' with propagation - requires 'Permissions.Modify' or propagated superset of privileges." },
    ]);
    const flat = await t.api('PUT', '/access/acl', { path: '/pool/flat', roles: 'PVEVMUser', users: 'student@pve', propagate: 0 }, DEPLOYER);
    expect(flat.status, flat.text).toBe(200);
  });

  it('refuses NoAccess', async () => {
    const r = await t.api('PUT', '/access/acl', { path: '/pool/lab', roles: 'NoAccess', users: 'student@pve' }, DEPLOYER);
    expect(r.body.errors).toEqual({ role: "Cannot add role 'NoAccess' - requires 'Permissions.Modify'" });
  });

  it('on /pool/<p> it takes Pool.Allocate, not VM.Allocate (RPCEnvironment.pm check_perm_modify)', async () => {
    const r = await t.api('PUT', '/access/acl', { path: '/pool/lab', roles: 'PVEVMUser', users: 'student@pve' }, VMADMIN);
    expect([r.status, r.reason]).toEqual([403, 'Permission check failed (/pool/lab, Permissions.Modify|Pool.Allocate)']);
    const vm = await t.api('PUT', '/access/acl', { path: '/vms/100', roles: 'PVEVMUser', users: 'student@pve' }, VMADMIN);
    expect(vm.status, vm.text).toBe(200);
  });
});

describe('GET /access/permissions returns the propagate flags', () => {
  it('1 for a propagated grant and what it passes down, 0 for a grant that does not propagate', async () => {
    const r = await t.api('GET', '/access/permissions', undefined, DEPLOYER);
    expect(r.body.data['/pool']).toMatchObject({ 'Pool.Allocate': 1, 'VM.Console': 1 });
    expect(r.body.data['/pool/lab']).toMatchObject({ 'Pool.Allocate': 1 });
    expect(r.body.data['/pool/flat']).toMatchObject({ 'Pool.Allocate': 0, 'VM.Console': 0 });
    expect(r.body.data['/']).toBeUndefined();
    const one = await t.api('GET', '/access/permissions', { path: '/storage' }, DEPLOYER);
    expect(one.body.data).toEqual({ '/storage': {} });
  });
});
