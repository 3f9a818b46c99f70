import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

const MAC = /^BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$/;
const macOf = (net: string): string => /=([0-9A-F:]{17})/.exec(net)![1]!;

async function clone(node: string, vmid: number, params: Record<string, string | number>) {
  const r = await t.api('POST', `/nodes/${node}/qemu/${vmid}/clone`, params);
  expect(r.status, r.reason).toBe(200);
  return t.waitTask(r.body.data);
}

describe('clone', () => {
  it('makes a linked clone of a template, in the pool, with regenerated BC:24:11 MACs', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 1001, name: 'st01-pc', pool: 'prod' });
    expect(r.body.data).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmclone:9000:root@pam!stands:$/);
    const st = await t.waitTask(r.body.data);
    expect(st.exitstatus).toBe('OK');
    expect(st.log.at(-1)).toBe('TASK OK');
    const cfg = (await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data;
    expect(cfg.name).toBe('st01-pc');
    expect(cfg.lock).toBeUndefined();
    expect(cfg.template).toBeUndefined();
    expect(cfg.scsi0).toMatch(/^local-lvm:base-9000-disk-0\/vm-1001-disk-0,/);
    expect(macOf(cfg.net0)).toMatch(MAC);
    const tpl = (await t.api('GET', '/nodes/pve1/qemu/9000/config')).body.data;
    expect(macOf(cfg.net0)).not.toBe(macOf(tpl.net0));
    const pool = await t.api('GET', '/pools', { poolid: 'prod' });
    expect(pool.body.data[0].members.map((m: { vmid: number }) => m.vmid)).toContain(1001);
  });

  it('makes a full clone of a template on another storage, names it Copy-of-VM-… by default', async () => {
    expect((await clone('pve1', 9001, { newid: 1002, full: 1, storage: 'ceph' })).exitstatus).toBe('OK');
    const cfg = (await t.api('GET', '/nodes/pve1/qemu/1002/config')).body.data;
    expect(cfg.scsi0).toMatch(/^ceph:vm-1002-disk-0,/);
    expect(cfg.name).toBe('Copy-of-VM-ecorouter-tpl');
  });

  it('clones a template on shared storage to another node (target)', async () => {
    expect((await clone('pve2', 9002, { newid: 1003, target: 'pve3' })).exitstatus).toBe('OK');
    const cfg = await t.api('GET', '/nodes/pve3/qemu/1003/config');
    expect(cfg.body.data.scsi0).toMatch(/^ceph:base-9002-disk-0\/vm-1003-disk-0,/);
  });

  it('refuses PVE\'s early-check cases synchronously with PVE\'s messages', async () => {
    const cases: [string, Record<string, string | number>, number, string][] = [
      ['/nodes/pve1/qemu/9000/clone', { newid: 1010, storage: 'ceph' }, 500, "parameter 'storage' not allowed for linked clones"],
      ['/nodes/pve1/qemu/9000/clone', { newid: 1010, target: 'pve2' }, 500, "can't clone VM to node 'pve2' (VM uses local storage)"],
      ['/nodes/pve1/qemu/9000/clone', { newid: 1010, full: 1, target: 'pve2', storage: 'local-lvm' }, 500, "can't clone to non-shared storage 'local-lvm'"],
      ['/nodes/pve1/qemu/9000/clone', { newid: 1010, pool: 'nope' }, 403, "Permission check failed (pool 'nope' does not exist)"],
      ['/nodes/pve1/qemu/9000/clone', { newid: 100 }, 500, 'unable to create VM 100: config file already exists'],
      ['/nodes/pve1/qemu/100/clone', { newid: 1010, full: 0 }, 500, "Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)"],
      ['/nodes/pve1/qemu/9000/clone', { newid: 1010, target: 'pve9' }, 500, "no such cluster node 'pve9'"],
      ['/nodes/pve1/qemu/9000/clone', { newid: 1010, snapname: 'nope' }, 500, "snapshot 'nope' does not exist"],
    ];
    for (const [path, params, status, reason] of cases) {
      const r = await t.api('POST', path, params);
      expect([r.status, r.reason]).toEqual([status, reason]);
    }
    expect((await t.api('GET', '/cluster/nextid', { vmid: 1010 })).status).toBe(200);
  });

  it('a clone with target keeps the config on the source node until its end, then moves it, then joins the pool', async () => {
    // long phases (simulated) keep each window open on a loaded machine; each is detected by polling the state
    const slow = await startTestSim({ timing: { linkedCloneMs: 400_000, cloneMoveMs: 400_000 } });
    const until = async (what: string, cond: () => boolean): Promise<void> => {
      const start = Date.now();
      while (!cond()) {
        if (Date.now() - start > 60_000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      const r = await slow.api('POST', '/nodes/pve2/qemu/9002/clone', { newid: 2101, name: 'moving', target: 'pve3', pool: 'prod' });
      expect(r.status, r.reason).toBe(200);
      await until('the clone config', () => slow.sim.state.vms.has(2101));
      // while cloning: on the source node (pve2), lock: clone, not in the pool
      expect((await slow.api('GET', '/nodes/pve2/qemu/2101/config')).body.data).toMatchObject({ lock: 'clone' });
      const onTarget = await slow.api('GET', '/nodes/pve3/qemu/2101/config');
      expect([onTarget.status, onTarget.reason]).toEqual([500, "Configuration file 'nodes/pve3/qemu-server/2101.conf' does not exist"]);
      const res = async () => (await slow.api('GET', '/cluster/resources', { type: 'vm' })).body.data.find((x: { vmid: number }) => x.vmid === 2101);
      expect(await res()).toMatchObject({ node: 'pve2', lock: 'clone' });
      expect((await res()).pool).toBeUndefined();
      // unlocked, still on the source node, still outside the pool (deactivate volumes, then the rename)
      await until('the clone lock to go', () => slow.sim.state.vms.get(2101)?.config.lock === undefined);
      expect(await res()).toMatchObject({ node: 'pve2' });
      expect((await res()).pool).toBeUndefined();
      expect((await slow.waitTask(r.body.data)).exitstatus).toBe('OK');
      // at its end: on the target node, in the pool
      expect(await res()).toMatchObject({ node: 'pve3', pool: 'prod' });
      expect((await slow.api('GET', '/nodes/pve2/qemu/2101/config')).status).toBe(500);
      expect((await slow.api('GET', '/nodes/pve3/qemu/2101/config')).body.data.name).toBe('moving');
    } finally {
      await slow.stop();
    }
  });

  it('fails inside the task when the newid was taken on another node meanwhile (nextid race)', async () => {
    const st = await clone('pve1', 9000, { newid: 1003 });
    expect(st.exitstatus).toBe('unable to create VM 1003: config file already exists');
    expect(st.log.at(-1)).toBe('TASK ERROR: unable to create VM 1003: config file already exists');
  });

  it('shows the new VM as lock: clone while the task runs, and refuses or times out what needs it', async () => {
    // a very long clone (1000 s simulated = 10 s real) keeps the window open on a loaded machine; the sim is
    // stopped before it ends
    const slow = await startTestSim({ timing: { linkedCloneMs: 1_000_000 } });
    try {
      const r = await slow.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 2001, name: 'slow' });
      expect((await slow.api('GET', '/nodes/pve1/qemu/2001/config')).body.data).toMatchObject({ lock: 'clone' });
      expect((await slow.api('GET', '/nodes/pve1/qemu/2001/status/current')).body.data).toMatchObject({ lock: 'clone' });
      const put = await slow.api('PUT', '/nodes/pve1/qemu/2001/config', { cores: 2 });
      expect([put.status, put.reason]).toEqual([500, 'VM is locked (clone)']);
      const post = await slow.api('POST', '/nodes/pve1/qemu/2001/config', { cores: 2 });
      expect([post.status, post.reason]).toEqual([500, 'VM is locked (clone)']);
      const again = await slow.api('POST', '/nodes/pve1/qemu/2001/clone', { newid: 2002 });
      expect(again.reason).toBe('VM is locked (clone)');
      const del = await slow.api('DELETE', '/nodes/pve1/qemu/2001');
      expect((await slow.waitTask(del.body.data)).exitstatus).toBe("can't lock file '/var/lock/qemu-server/lock-2001.conf' - got timeout");
      // start waits for the clone's flock (10 s) and gives up, as qemu-server does
      const start = await slow.api('POST', '/nodes/pve1/qemu/2001/status/start');
      expect((await slow.waitTask(start.body.data)).exitstatus).toBe("can't lock file '/var/lock/qemu-server/lock-2001.conf' - got timeout");
      // a second clone to the same newid cannot get its flock (1 s)
      const race = await slow.api('POST', '/nodes/pve2/qemu/9002/clone', { newid: 2001 });
      expect((await slow.waitTask(race.body.data)).exitstatus).toBe("can't lock file '/var/lock/qemu-server/lock-2001.conf' - got timeout");
      const st = await slow.api('GET', `/nodes/pve1/tasks/${encodeURIComponent(r.body.data)}/status`);
      expect(st.body.data.status).toBe('running');
    } finally {
      await slow.stop();
    }
  });
});

describe('config', () => {
  it('PUT is sync; netK without a MAC gets a new one, with a MAC keeps it', async () => {
    const r = await t.api('PUT', '/nodes/pve1/qemu/1001/config', {
      net1: 'virtio,bridge=vmbr0,tag=100',
      net2: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0',
      cores: 2,
      memory: 2048,
      tags: 'stand,st01',
      description: 'student 1',
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: null });
    const cfg = (await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data;
    expect(cfg.net1).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,tag=100$/);
    expect(cfg.net2).toBe('virtio=BC:24:11:AA:BB:CC,bridge=vmbr0');
    expect(cfg).toMatchObject({ cores: 2, memory: '2048', tags: 'st01;stand', description: 'student 1' });
    const again = await t.api('PUT', '/nodes/pve1/qemu/1001/config', { net1: 'virtio,bridge=vmbr0,tag=100' });
    expect(again.status).toBe(200);
    const cfg2 = (await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data;
    expect(cfg2.net1).not.toBe(cfg.net1);
    await t.api('PUT', '/nodes/pve1/qemu/1001/config', { delete: 'net2,description' });
    const cfg3 = (await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data;
    expect(cfg3.net2).toBeUndefined();
    expect(cfg3.description).toBeUndefined();
  });

  it('tags are read back as PVE stores them: lowercased, sorted, deduplicated (GuestHelpers get_unique_tags)', async () => {
    expect((await t.api('PUT', '/nodes/pve1/qemu/1001/config', { tags: 'Zeta,alpha;Beta alpha' })).status).toBe(200);
    expect((await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data.tags).toBe('alpha;beta;zeta');
    const res = (await t.api('GET', '/cluster/resources', { type: 'vm' })).body.data.find((v: { vmid: number }) => v.vmid === 1001);
    expect(res.tags).toBe('alpha;beta;zeta');
    await t.api('PUT', '/nodes/pve1/qemu/1001/config', { tags: 'stand,st01' });
  });

  it('POST is async: returns a qmconfig UPID', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/1001/config', { name: 'st01-renamed' });
    expect(r.body.data).toMatch(/:qmconfig:1001:root@pam!stands:$/);
    expect((await t.waitTask(r.body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data.name).toBe('st01-renamed');
  });

  it('refuses a stale digest', async () => {
    const r = await t.api('PUT', '/nodes/pve1/qemu/1001/config', { cores: 1, digest: '0'.repeat(40) });
    expect(r.reason).toBe('detected modified configuration - file changed by other user? Try again.');
  });
});

describe('power', () => {
  it('fails the start task when a NIC\'s bridge does not exist, with qemu\'s log and PVE\'s exitstatus', async () => {
    await t.api('PUT', '/nodes/pve1/qemu/1001/config', { net1: 'virtio,bridge=vmbr1234' });
    const r = await t.api('POST', '/nodes/pve1/qemu/1001/status/start');
    expect(r.status).toBe(200);
    const st = await t.waitTask(r.body.data);
    expect(st.exitstatus).toBe('start failed: QEMU exited with code 1');
    expect(st.log).toContain("bridge 'vmbr1234' does not exist");
    expect(st.log.at(-1)).toBe('TASK ERROR: start failed: QEMU exited with code 1');
  });

  it('fails the start when the bridge exists but is pending (not active)', async () => {
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { net1: 'virtio,bridge=vmbr99' });
    const st = await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/start')).body.data);
    expect(st.exitstatus).toBe('start failed: QEMU exited with code 1');
    expect(st.log).toContain("bridge 'vmbr99' does not exist");
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { delete: 'net1' });
  });

  it('starts, refuses a second start in the task, stops, and refuses to start a template', async () => {
    await t.api('PUT', '/nodes/pve1/qemu/1001/config', { net1: 'virtio,bridge=vmbr0' });
    expect((await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1001/status/start')).body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/nodes/pve1/qemu/1001/status/current')).body.data).toMatchObject({ status: 'running', qmpstatus: 'running' });
    expect((await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1001/status/start')).body.data)).exitstatus).toBe('VM 1001 already running');
    const del = await t.api('DELETE', '/nodes/pve1/qemu/1001');
    expect([del.status, del.reason]).toEqual([500, 'VM 1001 is running - destroy failed']);
    expect((await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1001/status/shutdown')).body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/nodes/pve1/qemu/1001/status/current')).body.data.status).toBe('stopped');
    const tpl = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/9000/status/start')).body.data);
    expect(tpl.exitstatus).toBe("you can't start a vm if it's a template");
  });
});

describe('snapshots', () => {
  it('creates, lists and rolls back a snapshot', async () => {
    const s = await t.api('POST', '/nodes/pve1/qemu/1001/snapshot', { snapname: 'start', description: 'initial' });
    expect(s.body.data).toMatch(/:qmsnapshot:1001:/);
    expect((await t.waitTask(s.body.data)).exitstatus).toBe('OK');
    const dup = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1001/snapshot', { snapname: 'start' })).body.data);
    expect(dup.exitstatus).toBe("snapshot name 'start' already used");
    await t.api('PUT', '/nodes/pve1/qemu/1001/config', { cores: 4 });
    const list = (await t.api('GET', '/nodes/pve1/qemu/1001/snapshot')).body.data;
    expect(list).toEqual([
      { name: 'start', description: 'initial', snaptime: expect.any(Number), vmstate: 0 },
      { name: 'current', description: 'You are here!', digest: expect.any(String), running: 0, parent: 'start' },
    ]);
    const rb = await t.api('POST', '/nodes/pve1/qemu/1001/snapshot/start/rollback');
    expect(rb.body.data).toMatch(/:qmrollback:1001:/);
    expect((await t.waitTask(rb.body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/nodes/pve1/qemu/1001/config')).body.data.cores).toBe(2);
    const missing = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1001/snapshot/nope/rollback')).body.data);
    expect(missing.exitstatus).toBe("snapshot 'nope' does not exist");
  });
});

describe('template, migrate, destroy', () => {
  it('converts a VM into a template (disks become base volumes) and migrates offline', async () => {
    expect((await clone('pve1', 9000, { newid: 1030, full: 1 })).exitstatus).toBe('OK');
    const tp = await t.api('POST', '/nodes/pve1/qemu/1030/template');
    expect(tp.body.data).toMatch(/:qmtemplate:1030:/);
    expect((await t.waitTask(tp.body.data)).exitstatus).toBe('OK');
    const cfg = (await t.api('GET', '/nodes/pve1/qemu/1030/config')).body.data;
    expect(cfg).toMatchObject({ template: 1, scsi0: expect.stringMatching(/^local-lvm:base-1030-disk-0,/) });
    const mg = await t.api('POST', '/nodes/pve1/qemu/1030/migrate', { target: 'pve2' });
    expect(mg.body.data).toMatch(/:qmigrate:1030:/);
    expect((await t.waitTask(mg.body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/nodes/pve2/qemu/1030/config')).status).toBe(200);
    expect((await t.api('GET', '/nodes/pve1/qemu/1030/config')).status).toBe(500);
    const self = await t.api('POST', '/nodes/pve2/qemu/1030/migrate', { target: 'pve2' });
    expect(self.body.errors).toEqual({ target: 'target is local node.' });
  });

  it('refuses what PVE refuses on running VMs and templates', async () => {
    const mig = await t.api('POST', '/nodes/pve1/qemu/100/migrate', { target: 'pve2' });
    expect([mig.status, mig.reason]).toEqual([500, "can't migrate running VM without --online"]);
    const tpl = await t.api('POST', '/nodes/pve1/qemu/100/template');
    expect(tpl.reason).toBe("you can't convert a VM to template if VM is running");
    const reboot = await t.api('POST', '/nodes/pve3/qemu/102/status/reboot');
    expect(reboot.reason).toBe('VM 102 not running');
    const snap = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/9000/snapshot', { snapname: 'pre' })).body.data);
    expect(snap.exitstatus).toBe("you can't take a snapshot if it's a template");
    // a shutdown of a VM that is not running is no error: _do_vm_stop returns at once (`return if !$pid`)
    const shut = await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/shutdown')).body.data);
    expect(shut.exitstatus).toBe('OK');
  });

  it('shutdown: ACPI within the timeout, else "got timeout" (VM runs on) or, with forceStop, a SIGTERM warning', async () => {
    // qemu-server QemuServer.pm _do_vm_stop, via API2/Qemu.pm vm_shutdown
    const start = async (vmid: number) => {
      expect((await t.waitTask((await t.api('POST', `/nodes/pve1/qemu/${vmid}/status/start`)).body.data)).exitstatus).toBe('OK');
    };
    const status = async (vmid: number) => (await t.api('GET', `/nodes/pve1/qemu/${vmid}/status/current`)).body.data.status as string;
    expect((await clone('pve1', 9000, { newid: 1040, name: 'acpi' })).exitstatus).toBe('OK');
    await start(1040);
    // a guest that reacts to the power button: off well within the timeout
    const ok = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1040/status/shutdown', { timeout: 30 })).body.data);
    expect([ok.exitstatus, await status(1040)]).toEqual(['OK', 'stopped']);
    // a guest that ignores it: the task fails after the timeout and the VM keeps running
    await start(1040);
    t.sim.state.vms.get(1040)!.ignoresAcpi = true;
    const stuck = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1040/status/shutdown', { timeout: 5 })).body.data);
    expect([stuck.exitstatus, await status(1040)]).toEqual(['VM quit/powerdown failed - got timeout', 'running']);
    // forceStop: after the timeout PVE terminates it, and says so as a warning
    const forced = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1040/status/shutdown', { timeout: 5, forceStop: 1 })).body.data);
    expect([forced.exitstatus, await status(1040)]).toEqual(['WARNINGS: 1', 'stopped']);
    expect(forced.log).toContain('WARN: VM still running - terminating now with SIGTERM');
    // ACPI off in the config: the same as a guest that ignores the button
    t.sim.state.vms.get(1040)!.ignoresAcpi = false;
    await t.api('PUT', '/nodes/pve1/qemu/1040/config', { acpi: 0 });
    await start(1040);
    const noAcpi = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1040/status/shutdown', { timeout: 1 })).body.data);
    expect(noAcpi.exitstatus).toBe('VM quit/powerdown failed - got timeout');
    await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/1040/status/stop')).body.data);
    expect((await t.waitTask((await t.api('DELETE', '/nodes/pve1/qemu/1040')).body.data)).exitstatus).toBe('OK');
  });

  it('refuses to destroy a template that has linked clones, then destroys it once they are gone', async () => {
    expect((await clone('pve2', 1030, { newid: 1031, pool: 'prod' })).exitstatus).toBe('OK');
    const st = await t.waitTask((await t.api('DELETE', '/nodes/pve2/qemu/1030')).body.data);
    expect(st.exitstatus).toBe("base volume 'local-lvm:base-1030-disk-0' is still in use by linked cloned");
    await t.api('PUT', '/access/acl', { path: '/vms/1031', roles: 'PVEVMUser', users: 'alice@pve' });
    const d = await t.api('DELETE', '/nodes/pve2/qemu/1031', { purge: 1 });
    expect(d.body.data).toMatch(/:qmdestroy:1031:/);
    expect((await t.waitTask(d.body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/pools/prod')).body.data.members.map((m: { vmid: number }) => m.vmid)).not.toContain(1031);
    expect((await t.api('GET', '/access/acl')).body.data.some((e: { path: string }) => e.path === '/vms/1031')).toBe(false);
    expect((await t.waitTask((await t.api('DELETE', '/nodes/pve2/qemu/1030')).body.data)).exitstatus).toBe('OK');
    expect((await t.api('GET', '/cluster/nextid', { vmid: 1030 })).status).toBe(200);
  });
});

describe('CD-ROM and cloud-init drives count as volumes (qemu-server clone_vm, QemuMigrate scan_local_volumes)', () => {
  let c: TestSim;
  beforeAll(async () => {
    c = await startTestSim({
      seed: {
        nodes: [{ name: 'pve1', cores: 8, memoryGiB: 32 }, { name: 'pve2', cores: 8, memoryGiB: 32 }],
        storages: [
          { id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: 100 },
          { id: 'local', type: 'dir', shared: false, capacityGiB: 100, content: 'iso,vztmpl,backup' },
          { id: 'ceph', type: 'rbd', shared: true, capacityGiB: 400 },
          { id: 'isos', type: 'cephfs', shared: true, capacityGiB: 400, content: 'iso' },
        ],
        vms: [
          { vmid: 9100, name: 'iso-local', node: 'pve1', template: true, storage: 'ceph', drives: { ide2: 'local:iso/debian.iso,media=cdrom' } },
          { vmid: 9101, name: 'ci-local', node: 'pve1', template: true, storage: 'ceph', drives: { ide0: 'local-lvm:vm-9101-cloudinit,media=cdrom' } },
          {
            vmid: 9102, name: 'all-shared', node: 'pve1', template: true, storage: 'ceph',
            drives: { ide2: 'isos:iso/debian.iso,media=cdrom', ide0: 'ceph:vm-9102-cloudinit,media=cdrom' },
          },
          { vmid: 9103, name: 'disk-local', node: 'pve1', template: true, storage: 'local-lvm', drives: { ide2: 'none,media=cdrom' } },
          { vmid: 200, name: 'with-iso', node: 'pve1', storage: 'local-lvm', drives: { ide2: 'local:iso/debian.iso,media=cdrom' } },
          { vmid: 201, name: 'with-ci', node: 'pve1', storage: 'local-lvm', drives: { ide0: 'local-lvm:vm-201-cloudinit,media=cdrom' } },
        ],
      },
    });
  });
  afterAll(() => c.stop());

  it('refuses target= from a VM with a local ISO or a local cloud-init drive, even with a shared storage=', async () => {
    for (const vmid of [9100, 9101]) {
      const r = await c.api('POST', `/nodes/pve1/qemu/${vmid}/clone`, { newid: vmid + 1000, target: 'pve2' });
      expect([r.status, r.reason]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
      const s = await c.api('POST', `/nodes/pve1/qemu/${vmid}/clone`, { newid: vmid + 1000, target: 'pve2', full: 1, storage: 'ceph' });
      expect([s.status, s.reason]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
    }
    const d = await c.api('POST', '/nodes/pve1/qemu/9103/clone', { newid: 10103, target: 'pve2', full: 1, storage: 'ceph' });
    expect([d.status, d.reason]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
  });

  it('clones across nodes when every volume is shared, keeping the ISO and regenerating the cloud-init drive', async () => {
    const r = await c.api('POST', '/nodes/pve1/qemu/9102/clone', { newid: 10102, target: 'pve2' });
    expect(r.status, r.text).toBe(200);
    expect((await c.waitTask(r.body.data)).exitstatus).toBe('OK');
    const cfg = (await c.api('GET', '/nodes/pve2/qemu/10102/config')).body.data;
    expect(cfg.ide2).toBe('isos:iso/debian.iso,media=cdrom');
    expect(cfg.ide0).toBe('ceph:vm-10102-cloudinit,media=cdrom');
  });

  it('migrate refuses a local ISO (logged per volume) and moves a local cloud-init drive', async () => {
    const r = await c.api('POST', '/nodes/pve1/qemu/200/migrate', { target: 'pve2' });
    const t1 = await c.waitTask(r.body.data);
    expect(t1.exitstatus).toBe('migration aborted');
    expect(t1.log).toContain("can't migrate local disk 'local:iso/debian.iso': local cdrom image");
    const ok = await c.api('POST', '/nodes/pve1/qemu/201/migrate', { target: 'pve2' });
    expect((await c.waitTask(ok.body.data)).exitstatus).toBe('OK');
  });
});
