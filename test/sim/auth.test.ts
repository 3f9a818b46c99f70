import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim({
    seed: {
      nodes: [{ name: 'pve1', cores: 8, memoryGiB: 32 }],
      storages: [{ id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: 100 }],
      vms: [
        { vmid: 9000, name: 'tpl', node: 'pve1', template: true, storage: 'local-lvm', nets: [{ bridge: 'vmbr0' }] },
        { vmid: 100, name: 'a', node: 'pve1', storage: 'local-lvm', pool: 'lab', nets: [{ bridge: 'vmbr0' }] },
        { vmid: 101, name: 'b', node: 'pve1', storage: 'local-lvm' },
      ],
      pools: [{ poolid: 'lab' }],
      users: [
        { userid: 'bob@pve', password: 'bob-password' },
        { userid: 'carol@pve', password: 'carol-password' },
        { userid: 'dave@pve', password: 'dave-password' },
      ],
      tokens: [
        { id: 'bob@pve!sep', secret: 'sep-secret', privsep: true },
        { id: 'bob@pve!full', secret: 'full-secret', privsep: false },
        { id: 'dave@pve!deploy', secret: 'deploy-secret', privsep: false },
      ],
      roles: [{ roleid: 'Cloner', privs: ['VM.Clone', 'VM.Audit'] }],
      acl: [
        { path: '/pool/lab', roles: ['PVEVMUser'], users: ['bob@pve'] },
        { path: '/vms', roles: ['PVEAuditor'], users: ['carol@pve'] },
        { path: '/vms/101', roles: ['NoAccess'], users: ['carol@pve'] },
        { path: '/vms/9000', roles: ['Cloner'], users: ['carol@pve'], propagate: false },
        { path: '/pool/lab', roles: ['PVEPoolUser'], tokens: ['bob@pve!sep'] },
        { path: '/', roles: ['PVEVMAdmin'], users: ['dave@pve'] },
        { path: '/pool/lab', roles: ['PVEPoolAdmin'], users: ['dave@pve'] },
      ],
      network: [{ node: '*', iface: 'vmbr0', type: 'bridge', autostart: true }],
    },
  });
});
afterAll(() => t.stop());

describe('tickets', () => {
  it('logs in with username and password and returns ticket + CSRF token in PVE shapes', async () => {
    const r = await t.api('POST', '/access/ticket', { username: 'root@pam', password: t.sim.password }, 'none');
    expect(r.status).toBe(200);
    expect(r.body.data.username).toBe('root@pam');
    expect(r.body.data.ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::\S+$/);
    expect(r.body.data.CSRFPreventionToken).toMatch(/^[0-9A-F]{8}:\S+$/);
  });

  it('refuses wrong credentials with 401 "authentication failure"', async () => {
    const r = await t.api('POST', '/access/ticket', { username: 'root@pam', password: 'wrong' }, 'none');
    expect(r.status).toBe(401);
    expect(r.reason).toBe('authentication failure');
  });

  it('answers 401 "No ticket" with an empty body when no credentials are sent (even for /version)', async () => {
    const r = await t.api('GET', '/version', undefined, 'none');
    expect(r.status).toBe(401);
    expect(r.reason).toBe('No ticket');
    expect(r.text).toBe('');
    expect(r.headers.connection).toBe('close');
  });

  it('needs the CSRF token on writes made with a ticket, but not on reads', async () => {
    const { ticket, csrf } = await t.login();
    expect((await t.api('GET', '/version', undefined, { ticket })).status).toBe(200);
    const no = await t.api('PUT', '/nodes/pve1/qemu/101/config', { cores: 2 }, { ticket });
    expect(no.status).toBe(401);
    expect(no.reason).toBe('Permission denied - invalid csrf token');
    const yes = await t.api('PUT', '/nodes/pve1/qemu/101/config', { cores: 2 }, { ticket, csrf });
    expect(yes.status).toBe(200);
  });

  it('renews a ticket posted as the password, and expires tickets after 2 h of simulated time', async () => {
    const { ticket } = await t.login('bob@pve', 'bob-password');
    t.sim.clock.advance(3600_000);
    const renewed = await t.api('POST', '/access/ticket', { username: 'bob@pve', password: ticket }, 'none');
    expect(renewed.status).toBe(200);
    const fresh = renewed.body.data.ticket as string;
    expect(fresh).not.toBe(ticket);
    t.sim.clock.advance(3601_000);
    const old = await t.api('GET', '/version', undefined, { ticket });
    expect(old.status).toBe(401);
    expect(old.reason).toBe('permission denied - invalid PVE ticket');
    expect((await t.api('GET', '/version', undefined, { ticket: fresh })).status).toBe(200);
    const again = await t.api('POST', '/access/ticket', { username: 'bob@pve', password: ticket }, 'none');
    expect(again.status).toBe(401);
  });
});

describe('API tokens', () => {
  it('accepts PVEAPIToken with "=" or a space, without CSRF', async () => {
    const space = await t.api('PUT', '/nodes/pve1/qemu/101/config', { cores: 1 }, { header: `PVEAPIToken ${t.sim.tokenId}=${t.sim.tokenSecret}` });
    expect(space.status).toBe(200);
  });

  it('refuses a wrong secret with 401 "invalid token value!"', async () => {
    const r = await t.api('GET', '/version', undefined, { header: `PVEAPIToken=${t.sim.tokenId}=nope` });
    expect(r.status).toBe(401);
    expect(r.reason).toBe('invalid token value!');
  });

  it('is refused on /access/ticket and /access/password with PVE\'s 403 text', async () => {
    const p = await t.api('PUT', '/access/password', { userid: 'bob@pve', password: 'new-password' });
    expect(p.status).toBe(403);
    expect(p.reason).toBe("Permission check failed (URI '/access/password' not available with API token, need proper ticket.)");
    const tk = await t.api('POST', '/access/ticket', { username: 'root@pam', password: t.sim.password }, 'token');
    expect(tk.status).toBe(403);
    expect(tk.reason).toBe("Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.)");
  });

  it('changes a password with a ticket (root needs no confirmation; others do)', async () => {
    const root = await t.login();
    const r = await t.api('PUT', '/access/password', { userid: 'carol@pve', password: 'carol-new-pass' }, root);
    expect(r.status).toBe(200);
    expect((await t.api('POST', '/access/ticket', { username: 'carol@pve', password: 'carol-new-pass' }, 'none')).status).toBe(200);
    const carol = await t.login('carol@pve', 'carol-new-pass');
    const self = await t.api('PUT', '/access/password', { userid: 'carol@pve', password: 'carol-3rd-pass' }, carol);
    expect(self.status).toBe(400);
    expect(self.body.errors).toEqual({ 'confirmation-password': 'password is required to modify user' });
    const ok = await t.api('PUT', '/access/password', { userid: 'carol@pve', password: 'carol-3rd-pass', 'confirmation-password': 'carol-new-pass' }, carol);
    expect(ok.status).toBe(200);
    const other = await t.api('PUT', '/access/password', { userid: 'bob@pve', password: 'hacked-pass', 'confirmation-password': 'carol-3rd-pass' }, carol);
    expect(other.status).toBe(403);
  });
});

describe('privileges', () => {
  const bobSep = { header: 'PVEAPIToken=bob@pve!sep=sep-secret' };
  const bobFull = { header: 'PVEAPIToken=bob@pve!full=full-secret' };

  it('grants PVEVMUser on a pool to the pool\'s VMs (power yes, config no)', async () => {
    const bob = await t.login('bob@pve', 'bob-password');
    expect((await t.api('GET', '/nodes/pve1/qemu/100/status/current', undefined, bob)).status).toBe(200);
    const cfg = await t.api('PUT', '/nodes/pve1/qemu/100/config', { cores: 4 }, bob);
    expect(cfg.status).toBe(403);
    // PVEVMUser holds VM.Config.CDROM, so the schema's "any" check passes and the per-key check names the key's privilege
    expect(cfg.reason).toBe('Permission check failed (/vms/100, VM.Config.CPU)');
    const audit = await t.api('PUT', '/nodes/pve1/qemu/101/config', { cores: 4 }, bob);
    expect(audit.reason).toBe('Permission check failed (/vms/101, VM.Config.Disk|VM.Config.CDROM|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.HWType|VM.Config.Options|VM.Config.Cloudinit)');
    const net = await t.api('PUT', '/nodes/pve1/qemu/100/config', { net0: 'virtio,bridge=vmbr0' }, bob);
    expect(net.status).toBe(403);
    expect(net.reason).toBe('Permission check failed (/vms/100, VM.Config.Network)');
    const other = await t.api('GET', '/nodes/pve1/qemu/101/status/current', undefined, bob);
    expect(other.status).toBe(403);
    expect(other.reason).toBe('Permission check failed (/vms/101, VM.Audit)');
  });

  it('gives a privsep token only what both the token and its user have', async () => {
    const r = await t.api('GET', '/nodes/pve1/qemu/100/status/current', undefined, bobSep);
    expect(r.status).toBe(403);
    expect(r.reason).toBe('Permission check failed (/vms/100, VM.Audit)');
    expect((await t.api('GET', '/pools/lab', undefined, bobSep)).status).toBe(403);
    expect((await t.api('GET', '/nodes/pve1/qemu/100/status/current', undefined, bobFull)).status).toBe(200);
  });

  it('propagates ACLs down the tree, lets a deeper NoAccess override, and honours propagate=0', async () => {
    const carol = await t.login('carol@pve', 'carol-3rd-pass');
    expect((await t.api('GET', '/nodes/pve1/qemu/100/config', undefined, carol)).status).toBe(200);
    const denied = await t.api('GET', '/nodes/pve1/qemu/101/config', undefined, carol);
    expect(denied.reason).toBe('Permission check failed (/vms/101, VM.Audit)');
    // custom role Cloner on /vms/9000 replaces the propagated PVEAuditor there
    const clone = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 150 }, carol);
    expect(clone.status).toBe(403);
    expect(clone.reason).toBe('Permission check failed');
  });

  it('lists only what the caller may audit', async () => {
    const bob = await t.login('bob@pve', 'bob-password');
    const r = await t.api('GET', '/cluster/resources', { type: 'vm' }, bob);
    expect(r.body.data.map((e: { vmid: number }) => e.vmid)).toEqual([100]);
    const root = await t.api('GET', '/cluster/resources', { type: 'vm' });
    expect(root.body.data.map((e: { vmid: number }) => e.vmid).sort()).toEqual([100, 101, 9000]);
  });

  it('asks a non-root deployer for Datastore.AllocateSpace and SDN.Use on the bridges when cloning', async () => {
    const dave = { header: 'PVEAPIToken=dave@pve!deploy=deploy-secret' };
    const a = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 160, pool: 'lab' }, dave);
    expect([a.status, a.reason]).toEqual([403, 'Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)']);
    await t.api('PUT', '/access/acl', { path: '/storage', roles: 'PVEDatastoreUser', users: 'dave@pve' });
    const b = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 160, pool: 'lab' }, dave);
    expect([b.status, b.reason]).toEqual([403, 'Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)']);
    await t.api('PUT', '/access/acl', { path: '/sdn/zones/localnetwork', roles: 'PVESDNUser', users: 'dave@pve' });
    const c = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 160, pool: 'lab' }, dave);
    expect(c.status).toBe(200);
    expect((await t.waitTask(c.body.data)).exitstatus).toBe('OK');
    const tagged = await t.api('PUT', '/nodes/pve1/qemu/160/config', { net1: 'virtio,bridge=vmbr0,tag=42' }, dave);
    expect(tagged.status).toBe(200);
  });

  it('dumps effective permissions of the caller, or of another principal with Sys.Audit on /access', async () => {
    const own = await t.api('GET', '/access/permissions', undefined, { header: 'PVEAPIToken=bob@pve!sep=sep-secret' });
    // the token's Pool.Audit is not held by bob himself, so the privsep intersection is empty, and paths without
    // privileges are left out (RPCEnvironment.pm get_effective_permissions)
    expect(own.body.data).toEqual({});
    const root = await t.api('GET', '/access/permissions', { path: '/' });
    expect(root.body.data['/']).toMatchObject({ 'Sys.Modify': 1, 'VM.Allocate': 1, 'Permissions.Modify': 1 });
    const other = await t.api('GET', '/access/permissions', { userid: 'bob@pve', path: '/vms/100' });
    expect(other.status, other.text).toBe(200);
    // held through the pool: set, but never propagated (RPCEnvironment.pm $compile_acl_path)
    expect(other.body.data['/vms/100']).toMatchObject({ 'VM.PowerMgmt': 0, 'VM.Audit': 0 });
    expect(other.body.data['/vms/100']['VM.Allocate']).toBeUndefined();
    const bob = await t.login('bob@pve', 'bob-password');
    const denied = await t.api('GET', '/access/permissions', { userid: 'carol@pve' }, bob);
    expect([denied.status, denied.reason]).toEqual([403, 'Permission check failed (/access, Sys.Audit)']);
  });

  it('creates custom roles and grants them with PUT /access/acl', async () => {
    expect((await t.api('POST', '/access/roles', { roleid: 'Starter', privs: 'VM.PowerMgmt,VM.Audit' })).status).toBe(200);
    const dup = await t.api('POST', '/access/roles', { roleid: 'Starter', privs: 'VM.Audit' });
    expect(dup.reason).toBe("role 'Starter' already exists");
    const bad = await t.api('POST', '/access/roles', { roleid: 'Bad', privs: 'VM.Fly' });
    expect(bad.status).toBe(400);
    const roles = await t.api('GET', '/access/roles');
    expect(roles.body.data).toContainEqual({ roleid: 'Starter', privs: 'VM.Audit,VM.PowerMgmt', special: 0 });
    expect(roles.body.data.find((x: { roleid: string }) => x.roleid === 'PVEVMUser').privs).toContain('VM.PowerMgmt');
    expect((await t.api('PUT', '/access/acl', { path: '/vms/101', roles: 'Starter', tokens: 'bob@pve!full' })).status).toBe(200);
    const acl = await t.api('GET', '/access/acl');
    expect(acl.body.data).toContainEqual({ path: '/vms/101', type: 'token', ugid: 'bob@pve!full', roleid: 'Starter', propagate: 1 });
  });
});
