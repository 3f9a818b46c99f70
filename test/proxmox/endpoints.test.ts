import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/sim/index.js';
import type { ProxmoxClient } from '../../src/proxmox/client.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';

let sim: RunningSimulator;
let c: ProxmoxClient;

beforeAll(async () => {
  sim = await startSim();
  c = clientFor(sim, clusterFor(sim, 'token'));
});
afterAll(async () => {
  await c?.close();
  await sim?.stop();
});

describe('version and inventory', () => {
  it('reads the version and accepts it', async () => {
    const v = await c.checkVersion();
    expect(v.version).toMatch(/^(8\.[1-9]|9\.)/);
  });

  it('lists nodes with their load, node status and rrd data', async () => {
    const nodes = await c.nodes();
    expect(nodes.find((n) => n.node === 'pve1')).toMatchObject({ status: 'online', maxcpu: 16 });
    const st = await c.nodeStatus('pve2');
    expect(st.memory?.total).toBe(48 * 1024 ** 3);
    const rrd = await c.nodeRrd('pve1');
    expect(rrd.length).toBeGreaterThan(0);
    expect(typeof rrd[0]!.time).toBe('number');
  });

  it('reads cluster resources; a status read may be served from the cache, our writes clear it', async () => {
    const vms = await c.clusterResources('vm');
    expect(vms.find((r) => r.vmid === 9000)).toMatchObject({ template: true, node: 'pve1' });
    expect(vms.find((r) => r.vmid === 100)).toMatchObject({ name: 'web-prod', pool: 'prod' });
    const before = c.stats.requests;
    await c.clusterResources('vm');
    expect(c.stats.requests).toBe(before + 1);
    await c.clusterResources('vm', { maxAgeMs: 60_000 });
    expect(c.stats.requests).toBe(before + 1);
    expect(c.stats.cacheHits).toBe(1);
    await c.clusterResources('vm'); // no maxAgeMs: always asks PVE
    expect(c.stats.requests).toBe(before + 2);
    await c.createPool('cache-buster');
    await c.clusterResources('vm', { maxAgeMs: 60_000 });
    expect(c.stats.requests).toBe(before + 4);
    expect(c.stats.cacheHits).toBe(1);
    await c.deletePool('cache-buster');
  });

  it('nextid comes as a string and is parsed; isVmidFree asks PVE', async () => {
    const id = await c.nextId();
    expect(id).toBeGreaterThanOrEqual(103);
    expect(await c.isVmidFree(100)).toBe(false);
    expect(await c.isVmidFree(4242)).toBe(true);
  });

  it('lists VMs, reads config and status; a missing VM is a 500 "does not exist"', async () => {
    expect((await c.vmList('pve1')).map((v) => v.vmid)).toEqual(expect.arrayContaining([100, 9000, 9001]));
    const cfg = await c.vmConfig('pve1', 9000);
    expect(cfg.template).toBe(true);
    expect(String(cfg.net0)).toContain('bridge=vmbr0');
    expect((await c.vmStatus('pve1', 100)).status).toBe('running');
    const err = (await c.vmStatus('pve1', 4243).catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err.status).toBe(500);
    expect(err.pveMessage).toMatch(/does not exist/);
  });
});

describe('VM lifecycle', () => {
  it('clone → wait → configure → start → snapshot → shutdown → rollback → destroy', async () => {
    await c.createPool('ep-life');
    const clone = await c.cloneVm('pve1', 9000, { newid: 5001, name: 'ep-life-a', pool: 'ep-life' });
    expect(clone).toMatchObject({ node: 'pve1', type: 'qmclone', id: '9000' });
    expect((await c.waitTask(clone)).ok).toBe(true);
    await c.waitUnlocked('pve1', 5001);
    await c.updateVmConfig('pve1', 5001, { cores: 2, memory: 2048, net0: 'virtio,bridge=vmbr0,tag=42' });
    const cfg = await c.vmConfig('pve1', 5001);
    expect(cfg.cores).toBe(2);
    expect(String(cfg.net0)).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,tag=42$/);
    expect((await c.getPool('ep-life'))?.members?.map((m) => m.vmid)).toEqual([5001]);

    await c.waitTask(await c.startVm('pve1', 5001));
    expect((await c.vmStatus('pve1', 5001)).status).toBe('running');
    await c.waitTask(await c.createSnapshot('pve1', 5001, 'base', 'fresh'));
    expect((await c.listSnapshots('pve1', 5001)).map((s) => s.name)).toContain('base');
    await c.waitTask(await c.shutdownVm('pve1', 5001));
    expect((await c.vmStatus('pve1', 5001)).status).toBe('stopped');
    await c.waitTask(await c.rollbackSnapshot('pve1', 5001, 'base'));
    await c.waitTask(await c.stopVm('pve1', 5001)).catch(() => undefined);
    await c.waitTask(await c.destroyVm('pve1', 5001, { purge: true }));
    expect(await c.isVmidFree(5001)).toBe(true);
    // destroy removes pool membership, so the pool can go
    await c.deletePool('ep-life');
    expect(await c.getPool('ep-life')).toBeUndefined();
  });

  it('converts a clone to a template and migrates a VM on shared storage', async () => {
    await c.waitTask(await c.cloneVm('pve2', 9002, { newid: 5002, name: 'ep-tpl', full: true }));
    await c.waitTask(await c.convertToTemplate('pve2', 5002));
    expect((await c.vmConfig('pve2', 5002)).template).toBe(true);
    await c.waitTask(await c.cloneVm('pve2', 9002, { newid: 5003, name: 'ep-mig', full: true }));
    await c.waitTask(await c.migrateVm('pve2', 5003, 'pve3'));
    expect((await c.vmList('pve3')).map((v) => v.vmid)).toContain(5003);
    await c.waitTask(await c.destroyVm('pve3', 5003));
    await c.waitTask(await c.destroyVm('pve2', 5002));
  });
});

describe('pools, users, ACL, roles', () => {
  it('pools: create, add, read, remove, delete', async () => {
    await c.createPool('ep-pool', 'endpoint test');
    await c.addToPool('ep-pool', [102]);
    expect((await c.getPool('ep-pool'))?.members?.map((m) => m.vmid)).toEqual([102]);
    expect((await c.listPools()).map((p) => p.poolid)).toEqual(expect.arrayContaining(['prod', 'ep-pool']));
    await c.removeFromPool('ep-pool', [102]);
    await c.deletePool('ep-pool');
    expect(await c.getPool('ep-pool')).toBeUndefined();
  });

  it('users: create, read, list, delete; a missing user reads as undefined', async () => {
    await c.createUser({ userid: 'ep01@pve', password: 'Student-Passw0rd', comment: 'stand ep01', firstname: 'Ep' });
    expect(await c.getUser('ep01@pve')).toMatchObject({ userid: 'ep01@pve', comment: 'stand ep01' });
    expect((await c.listUsers()).map((u) => u.userid)).toEqual(expect.arrayContaining(['alice@pve', 'ep01@pve']));
    await c.deleteUser('ep01@pve');
    expect(await c.getUser('ep01@pve')).toBeUndefined();
  });

  it('a bad user id comes back as PVE parameter errors', async () => {
    const err = (await c.createUser({ userid: 'no-realm' }).catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.status).toBe(400);
    expect(Object.keys(err.paramErrors)).toEqual(['userid']);
  });

  it('ACL: grant and revoke a role on a pool; roles list and create', async () => {
    await c.createPool('ep-acl');
    await c.createUser({ userid: 'ep02@pve' });
    await c.updateAcl({ path: '/pool/ep-acl', roles: ['PVEVMUser'], users: ['ep02@pve'] });
    expect(await c.listAcl()).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/pool/ep-acl', roleid: 'PVEVMUser', ugid: 'ep02@pve', type: 'user' })]),
    );
    await c.updateAcl({ path: '/pool/ep-acl', roles: ['PVEVMUser'], users: ['ep02@pve'], delete: true });
    expect((await c.listAcl()).some((a) => a.path === '/pool/ep-acl')).toBe(false);
    expect((await c.listRoles()).map((r) => r.roleid)).toEqual(expect.arrayContaining(['PVEVMUser', 'Administrator']));
    await c.createRole('StandsTest', ['VM.Audit', 'VM.Console']);
    expect((await c.listRoles()).find((r) => r.roleid === 'StandsTest')?.privs).toMatch(/VM\.Audit/);
    await c.deleteUser('ep02@pve');
    await c.deletePool('ep-acl');
  });
});

describe('node network', () => {
  it("shows someone else's pending change on pve3 and none on pve1", async () => {
    const pve3 = await c.listNetwork('pve3');
    expect(pve3.changes).toContain('vmbr99');
    const pve1 = await c.listNetwork('pve1');
    expect(pve1.changes).toBeUndefined();
    expect(pve1.ifaces.find((i) => i.iface === 'vmbr0')).toMatchObject({ type: 'bridge', active: true, autostart: true });
  });

  it('creates a bridge (pending), applies it, updates and deletes it', async () => {
    await c.createBridge('pve1', { iface: 'vmbr1001', comments: 'stands test', bridge_vlan_aware: true });
    let l = await c.listNetwork('pve1');
    expect(l.changes).toContain('vmbr1001');
    expect(await c.bridgeExists('pve1', 'vmbr1001')).toBe(true);
    await c.waitTask(await c.applyNetwork('pve1'));
    l = await c.listNetwork('pve1');
    expect(l.changes).toBeUndefined();
    expect(l.ifaces.find((i) => i.iface === 'vmbr1001')).toMatchObject({ active: true, bridge_vlan_aware: true });
    await c.updateNetwork('pve1', 'vmbr1001', { comments: 'renamed' });
    await c.revertNetwork('pve1');
    expect((await c.listNetwork('pve1')).ifaces.find((i) => i.iface === 'vmbr1001')?.comments).toBe('stands test');
    await c.deleteNetwork('pve1', 'vmbr1001');
    await c.waitTask(await c.applyNetwork('pve1'));
    expect(await c.bridgeExists('pve1', 'vmbr1001')).toBe(false);
  });
});

describe('SDN', () => {
  it('creates a VLAN zone and a VNet, applies, deletes', async () => {
    await c.createZone({ zone: 'stands', type: 'vlan', bridge: 'vmbr0' });
    await c.createVnet({ vnet: 'st001', zone: 'stands', tag: 1001, alias: 'stand 1' });
    expect((await c.listVnets({ pending: true })).find((v) => v.vnet === 'st001')).toMatchObject({ zone: 'stands', tag: 1001 });
    const apply = await c.applySdn();
    expect(apply.type).toBe('reloadnetworkall');
    await c.waitTask(apply);
    expect((await c.listZones()).map((z) => z.zone)).toContain('stands');
    await c.deleteVnet('st001');
    await c.waitTask(await c.applySdn());
    expect((await c.listVnets()).some((v) => v.vnet === 'st001')).toBe(false);
  });
});
