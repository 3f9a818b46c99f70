import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

const GiB = 1024 ** 3;
let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

describe('default seed inventory', () => {
  it('lists the three unequal nodes with capacity and load', async () => {
    const r = await t.api('GET', '/nodes');
    const nodes = Object.fromEntries(r.body.data.map((n: { node: string }) => [n.node, n]));
    expect(Object.keys(nodes).sort()).toEqual(['pve1', 'pve2', 'pve3']);
    expect(nodes.pve1).toMatchObject({ status: 'online', maxcpu: 16, maxmem: 64 * GiB, type: 'node', id: 'node/pve1', ssl_fingerprint: t.sim.fingerprint });
    expect(nodes.pve2).toMatchObject({ maxcpu: 12, maxmem: 48 * GiB });
    expect(nodes.pve3).toMatchObject({ maxcpu: 8, maxmem: 32 * GiB });
    expect(nodes.pve1.cpu).toBeGreaterThan(0);
    expect(nodes.pve1.cpu).toBeLessThan(1);
  });

  it('counts a running VM\'s memory against its node', async () => {
    const before = (await t.api('GET', '/nodes/pve3/status')).body.data.memory.used;
    const up = await t.api('POST', '/nodes/pve3/qemu/102/status/start');
    expect((await t.waitTask(up.body.data)).exitstatus).toBe('OK');
    const after = (await t.api('GET', '/nodes/pve3/status')).body.data;
    expect(after.memory.used - before).toBeGreaterThan(1.5 * GiB);
    expect(after).toMatchObject({ cpuinfo: { cpus: 8 }, pveversion: expect.stringMatching(/^pve-manager\/9\.1\.2\//) });
    expect(after.loadavg).toHaveLength(3);
    await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/stop')).body.data);
  });

  it('serves an hour of rrd points at 60 s', async () => {
    const r = await t.api('GET', '/nodes/pve1/rrddata', { timeframe: 'hour' });
    expect(r.body.data).toHaveLength(60);
    const [a, b] = r.body.data;
    expect(b.time - a.time).toBe(60);
    expect(a).toMatchObject({ maxcpu: 16, memtotal: 64 * GiB });
    expect(typeof a.cpu).toBe('number');
  });

  it('has local-lvm on every node and shared ceph, with capacities', async () => {
    const s3 = await t.api('GET', '/nodes/pve3/storage');
    const byId = Object.fromEntries(s3.body.data.map((s: { storage: string }) => [s.storage, s]));
    expect(byId['local-lvm']).toMatchObject({ type: 'lvmthin', shared: 0, total: 500 * GiB, active: 1 });
    expect(byId.ceph).toMatchObject({ type: 'rbd', shared: 1, total: 4000 * GiB });
    const st = await t.api('GET', '/nodes/pve1/storage/local-lvm/status');
    expect(st.body.data.total).toBe(1000 * GiB);
    expect(st.body.data.used).toBeGreaterThan(0);
  });

  it('lists someone else\'s VMs, the templates, the pool and storages in /cluster/resources', async () => {
    const r = await t.api('GET', '/cluster/resources');
    const ids = r.body.data.map((e: { id: string }) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['node/pve1', 'qemu/100', 'qemu/101', 'qemu/102', 'qemu/9000', 'qemu/9001', 'qemu/9002', '/pool/prod', 'storage/pve1/local-lvm', 'storage/pve2/ceph']));
    const web = r.body.data.find((e: { id: string }) => e.id === 'qemu/100');
    expect(web).toMatchObject({ vmid: 100, name: 'web-prod', node: 'pve1', status: 'running', pool: 'prod', template: 0, maxmem: 4096 * 1024 * 1024 });
    const tpl = r.body.data.find((e: { id: string }) => e.id === 'qemu/9002');
    expect(tpl).toMatchObject({ name: 'alt-server-tpl', node: 'pve2', template: 1, status: 'stopped' });
    const vmOnly = await t.api('GET', '/cluster/resources', { type: 'vm' });
    expect(vmOnly.body.data.every((e: { type: string }) => e.type === 'qemu')).toBe(true);
  });

  it('shows a freshly cloned VM as status "unknown" until the next pvestatd update', async () => {
    // a long pvestatd interval keeps this deterministic at a small time scale; the clock jump plays the update
    const lag = await startTestSim({ timing: { pvestatdIntervalMs: 3_600_000 } });
    try {
      const c = await lag.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 500, name: 'fresh' });
      expect((await lag.waitTask(c.body.data)).exitstatus).toBe('OK');
      const r = await lag.api('GET', '/cluster/resources', { type: 'vm' });
      const fresh = r.body.data.find((e: { vmid: number }) => e.vmid === 500);
      expect(fresh).toEqual({ id: 'qemu/500', vmid: 500, node: 'pve1', type: 'qemu', status: 'unknown' });
      // status/current is real time
      expect((await lag.api('GET', '/nodes/pve1/qemu/500/status/current')).body.data).toMatchObject({ status: 'stopped', name: 'fresh' });
      lag.sim.clock.advance(3_600_000);
      const later = await lag.api('GET', '/cluster/resources', { type: 'vm' });
      expect(later.body.data.find((e: { vmid: number }) => e.vmid === 500)).toMatchObject({ status: 'stopped', name: 'fresh' });
    } finally {
      await lag.stop();
    }
  });

  it('gives /cluster/nextid as a JSON string, without reservation, and checks ?vmid=', async () => {
    const a = await t.api('GET', '/cluster/nextid');
    const b = await t.api('GET', '/cluster/nextid');
    expect(a.text).toBe('{"data":"103"}');
    expect(b.body.data).toBe('103');
    expect((await t.api('GET', '/cluster/nextid', { vmid: 4242 })).body.data).toBe('4242');
    const taken = await t.api('GET', '/cluster/nextid', { vmid: 101 });
    expect(taken.status).toBe(400);
    expect(taken.body.errors).toEqual({ vmid: 'VM 101 already exists' });
  });

  it('has the pending bridge edit of someone else on pve3', async () => {
    const r = await t.api('GET', '/nodes/pve3/network');
    const vmbr99 = r.body.data.find((i: { iface: string }) => i.iface === 'vmbr99');
    expect(vmbr99).toMatchObject({ type: 'bridge', comments: 'lab uplink (alice)\n', autostart: 1 });
    expect(vmbr99.active).toBeUndefined();
    expect(r.body.changes).toContain('+iface vmbr99 inet manual');
    expect((await t.api('GET', '/nodes/pve1/network')).body.changes).toBeUndefined();
  });
});

describe('version profile', () => {
  it('reports the seed\'s version (e.g. an 8.0 cluster a deployer must refuse)', async () => {
    const old = await startTestSim({ seed: { version: '8.0.4', nodes: [{ name: 'pve1', cores: 4, memoryGiB: 8 }] } });
    try {
      const r = await old.api('GET', '/version');
      expect(r.body.data).toMatchObject({ version: '8.0.4', release: '8.0' });
      // pools: only the /pools/{poolid} forms before 8.1
      const put = await old.api('PUT', '/pools', { poolid: 'x', vms: '100' });
      expect([put.status, put.reason]).toEqual([501, "Method 'PUT /pools' not implemented"]);
      const get = await old.api('GET', '/pools', { poolid: 'x' });
      expect(get.body.errors).toEqual({ poolid: 'property is not defined in schema and the schema does not allow additional properties' });
      // before pve-http-server 5.2.0 (PVE 8.3) error bodies carry no "message"
      expect(get.body).toEqual({ data: null, errors: expect.any(Object) });
      const missing = await old.api('GET', '/nodes/pve1/qemu/555/config');
      expect(missing.body).toEqual({ data: null });
      expect(missing.reason).toBe("Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist");
    } finally {
      await old.stop();
    }
  });
});
