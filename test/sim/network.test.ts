import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

const iface = async (node: string, name: string) =>
  (await t.api('GET', `/nodes/${node}/network`)).body.data.find((i: { iface: string }) => i.iface === name);

describe('node network', () => {
  it('writes new bridges as pending changes, shown with a diff in the envelope', async () => {
    const r = await t.api('POST', '/nodes/pve1/network', { iface: 'vmbr1001', type: 'bridge', autostart: 1, bridge_vlan_aware: 1, comments: 'stand st01' });
    expect(r.body).toEqual({ data: null });
    const list = await t.api('GET', '/nodes/pve1/network');
    expect(list.body.changes).toContain('+auto vmbr1001');
    expect(list.body.changes).toContain('+iface vmbr1001 inet manual');
    expect(list.body.changes).toContain('+\tbridge-vlan-aware yes');
    expect(await iface('pve1', 'vmbr1001')).toMatchObject({ type: 'bridge', autostart: 1, bridge_vlan_aware: 1, comments: 'stand st01\n' });
    expect((await iface('pve1', 'vmbr1001')).active).toBeUndefined();
    const dup = await t.api('POST', '/nodes/pve1/network', { iface: 'vmbr1001', type: 'bridge' });
    expect([dup.status, dup.body.errors]).toEqual([400, { iface: 'interface already exists' }]);
  });

  it('reverts pending changes with DELETE', async () => {
    expect((await t.api('DELETE', '/nodes/pve1/network')).status).toBe(200);
    expect(await iface('pve1', 'vmbr1001')).toBeUndefined();
    expect((await t.api('GET', '/nodes/pve1/network')).body.changes).toBeUndefined();
  });

  it('applies ALL pending edits of the node (someone else\'s too); only autostart bridges come up', async () => {
    await t.api('POST', '/nodes/pve3/network', { iface: 'vmbr1002', type: 'bridge', autostart: 1 });
    await t.api('POST', '/nodes/pve3/network', { iface: 'vmbr1003', type: 'bridge' });
    const r = await t.api('PUT', '/nodes/pve3/network');
    expect(r.body.data).toMatch(/^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:srvreload:networking:root@pam!stands:$/);
    expect((await t.waitTask(r.body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/nodes/pve3/network')).body.changes).toBeUndefined();
    expect(await iface('pve3', 'vmbr1002')).toMatchObject({ active: 1 });
    expect((await iface('pve3', 'vmbr1003')).active).toBeUndefined();
    expect(await iface('pve3', 'vmbr99')).toMatchObject({ active: 1, comments: 'lab uplink (alice)\n' });
  });

  it('lets a VM start on an applied bridge, updates and deletes bridges (pending again)', async () => {
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { net1: 'virtio,bridge=vmbr1002' });
    expect((await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/start')).body.data)).exitstatus).toBe('OK');
    await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/stop')).body.data);
    expect((await t.api('PUT', '/nodes/pve3/network/vmbr1003', { type: 'bridge', autostart: 1, comments: 'now auto' })).status).toBe(200);
    expect((await t.api('DELETE', '/nodes/pve3/network/vmbr1002')).status).toBe(200);
    const changes = (await t.api('GET', '/nodes/pve3/network')).body.changes as string;
    expect(changes).toContain('-iface vmbr1002 inet manual');
    expect(changes).toContain('+#now auto');
    const missing = await t.api('DELETE', '/nodes/pve3/network/vmbr4242');
    expect(missing.body.errors).toEqual({ iface: 'interface does not exist' });
    await t.waitTask((await t.api('PUT', '/nodes/pve3/network')).body.data);
    expect(await iface('pve3', 'vmbr1003')).toMatchObject({ active: 1 });
    const gone = await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/start')).body.data);
    expect(gone.exitstatus).toBe('start failed: QEMU exited with code 1');
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { delete: 'net1' });
  });
});

describe('SDN', () => {
  it('creates zones and vnets as pending, enforces unique tags within a VLAN zone', async () => {
    expect((await t.api('POST', '/cluster/sdn/zones', { zone: 'lab', type: 'vlan', bridge: 'vmbr0' })).status).toBe(200);
    const dupZone = await t.api('POST', '/cluster/sdn/zones', { zone: 'lab', type: 'simple' });
    expect(dupZone.reason).toBe("sdn zone object ID 'lab' already defined");
    const longName = await t.api('POST', '/cluster/sdn/zones', { zone: 'toolongname', type: 'simple' });
    expect(longName.body.errors).toEqual({ zone: "invalid format - zone ID 'toolongname' can't be more length than 8 characters" });
    expect((await t.api('POST', '/cluster/sdn/vnets', { vnet: 'st01', zone: 'lab', tag: 101 })).status).toBe(200);
    const same = await t.api('POST', '/cluster/sdn/vnets', { vnet: 'st02', zone: 'lab', tag: 101 });
    expect([same.status, same.reason]).toEqual([500, 'tag 101 already exist in vnet st01']);
    const noTag = await t.api('POST', '/cluster/sdn/vnets', { vnet: 'st02', zone: 'lab' });
    expect(noTag.reason).toBe('missing vlan tag');
    expect((await t.api('GET', '/cluster/sdn/vnets')).body.data).toEqual([]);
    expect((await t.api('GET', '/cluster/sdn/vnets', { pending: 1 })).body.data).toEqual([
      { vnet: 'st01', zone: 'lab', type: 'vnet', tag: 101, state: 'new' },
    ]);
  });

  it('applies SDN on every node, which applies each node\'s pending network edits too (§2.10)', async () => {
    await t.api('POST', '/nodes/pve2/network', { iface: 'vmbr2001', type: 'bridge', autostart: 1 });
    const r = await t.api('PUT', '/cluster/sdn');
    expect(r.body.data).toMatch(/:reloadnetworkall::root@pam!stands:$/);
    expect((await t.waitTask(r.body.data)).exitstatus).toBe('OK');
    // the per-node reloads are separate srvreload tasks that may end after the returned one
    for (const node of ['pve1', 'pve2', 'pve3']) {
      const tasks = (await t.api('GET', `/nodes/${node}/tasks`, { source: 'all', typefilter: 'srvreload' })).body.data;
      for (const task of tasks) await t.waitTask(task.upid);
    }
    expect(await iface('pve2', 'vmbr2001')).toMatchObject({ active: 1 });
    expect((await t.api('GET', '/cluster/sdn/vnets')).body.data).toEqual([{ vnet: 'st01', zone: 'lab', type: 'vnet', tag: 101 }]);
    const sdn = (await t.api('GET', '/cluster/resources', { type: 'sdn' })).body.data;
    expect(sdn).toContainEqual(expect.objectContaining({ id: 'sdn/pve1/lab', status: 'ok' }));
    // a VM can now use the vnet as its bridge
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { net1: 'virtio,bridge=st01' });
    expect((await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/start')).body.data)).exitstatus).toBe('OK');
  });

  it('ends the SDN apply with WARNINGS when a node is offline', async () => {
    t.sim.state.nodes.get('pve2')!.online = false;
    try {
      const st = await t.waitTask((await t.api('PUT', '/cluster/sdn')).body.data);
      expect(st.exitstatus).toBe('WARNINGS: 1');
      expect(st.log).toContain('WARN: node pve2 is offline');
      expect(st.log.at(-1)).toBe('TASK WARNINGS: 1');
    } finally {
      t.sim.state.nodes.get('pve2')!.online = true;
    }
  });

  it('deletes vnets (pending until applied) and refuses to delete a zone in use', async () => {
    const z = await t.api('DELETE', '/cluster/sdn/zones/lab');
    expect(z.reason).toBe("Can't delete zone lab, vnet st01 is using it");
    expect((await t.api('DELETE', '/cluster/sdn/vnets/st01')).status).toBe(200);
    expect((await t.api('GET', '/cluster/sdn/vnets', { pending: 1 })).body.data).toEqual([
      { vnet: 'st01', zone: 'lab', type: 'vnet', tag: 101, state: 'deleted' },
    ]);
  });

  it('a node whose reload leg fails (fault rule) is warned about, the task ends WARNINGS, and the VNet is no bridge there', async () => {
    expect((await t.api('POST', '/cluster/sdn/vnets', { vnet: 'st03', zone: 'lab', tag: 103 })).status).toBe(200);
    t.sim.faults.add({ kind: 'sdn-reload-failure', method: 'PUT', path: '/nodes/pve2/network', times: 1 });
    try {
      const st = await t.waitTask((await t.api('PUT', '/cluster/sdn')).body.data);
      expect(st.exitstatus).toBe('WARNINGS: 1');
      expect(st.log).toEqual([
        'pve1: reloading network config',
        'pve2: reloading network config',
        'you need ifupdown2 to reload network configuration',
        "WARN: command 'pvesh set /nodes/pve2/network --regenerate-frr 0' failed: exit code 255",
        'pve3: reloading network config',
        'TASK WARNINGS: 1',
      ]);
      for (const node of ['pve1', 'pve3']) {
        const tasks = (await t.api('GET', `/nodes/${node}/tasks`, { source: 'all', typefilter: 'srvreload' })).body.data;
        for (const task of tasks) await t.waitTask(task.upid);
      }
      expect(['pve1', 'pve2', 'pve3'].map((n) => t.sim.state.bridgeUp(n, 'st03'))).toEqual([true, false, true]);
    } finally {
      t.sim.faults.clear();
    }
  });
});

describe('pending network changes are a `diff -u` with 3-line hunks (pve-common INotify.pm ccache_compute_diff)', () => {
  it('an mtu edit on one bridge is not attributed to another bridge edited in an earlier hunk', async () => {
    const { parsePendingIfaces, foreignPending, nodeNetwork } = await import('../../src/core/networks.js').then(async (n) => ({
      ...n,
      ...(await import('../../src/core/inventory.js')),
    }));
    const s = await startTestSim();
    try {
      for (const b of ['vmbr5', 'vmbr6', 'vmbr7', 'vmbr9']) await s.api('POST', '/nodes/pve2/network', { iface: b, type: 'bridge', autostart: 1 });
      await s.waitTask((await s.api('PUT', '/nodes/pve2/network')).body.data);
      // ours: vmbr5 being removed (journaled); someone else's: an mtu edit on vmbr9
      await s.api('DELETE', '/nodes/pve2/network/vmbr5');
      await s.api('PUT', '/nodes/pve2/network/vmbr9', { type: 'bridge', autostart: 1, mtu: 9000 });
      const list = (await s.api('GET', '/nodes/pve2/network')).body;
      const changes = list.changes as string;
      const hunks = changes.split('\n').filter((l) => l.startsWith('@@'));
      expect(hunks.length).toBe(2);
      // 3 lines of context around each change, as GNU diff -u
      const second = changes.slice(changes.indexOf(hunks[1]!)).split('\n').slice(1).filter(Boolean);
      expect(second.filter((l) => l.startsWith(' ')).length).toBeGreaterThanOrEqual(3);
      expect(second).toContain('+\tmtu 9000');
      const parsed = parsePendingIfaces(changes);
      expect([...parsed.ifaces]).toEqual(['vmbr5']);
      expect(parsed.unattributed).toBe(true);
      const net = nodeNetwork('pve2', list.data, changes);
      // neither vmbr5 nor vmbr6 is blamed for the mtu edit: it stays an unattributed (foreign) change
      expect(foreignPending(net, new Set())).toEqual(['(unattributed change)', 'vmbr5']);
    } finally {
      await s.stop();
    }
  });
});
