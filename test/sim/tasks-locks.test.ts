import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPID_RE } from '../../src/sim/tasks.js';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

describe('tasks', () => {
  it('uses the exact UPID format and reports running, then stopped with exitstatus', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 3001 });
    const upid: string = r.body.data;
    expect(upid).toMatch(UPID_RE);
    const [, node, pid, pstart, start, type, id, user] = upid.split(':');
    expect([node, type, id, user]).toEqual(['pve1', 'qmclone', '9000', 'root@pam!stands']);
    expect(pid).toMatch(/^[0-9A-F]{8}$/);
    expect(pstart).toMatch(/^[0-9A-F]{8,9}$/);
    expect(Math.abs(parseInt(start!, 16) - t.sim.clock.now() / 1000)).toBeLessThan(300);
    const final = await t.waitTask(upid);
    expect(final.exitstatus).toBe('OK');
    const st = await t.api('GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
    expect(st.body.data).toMatchObject({
      upid, node: 'pve1', type: 'qmclone', id: '9000', user: 'root@pam', tokenid: 'stands', status: 'stopped', exitstatus: 'OK',
      pid: parseInt(pid!, 16), starttime: parseInt(start!, 16),
    });
  });

  it('answers 400 "no such task" right after the fork (brief window) and for unknown UPIDs', async () => {
    const slow = await startTestSim({ timing: { noSuchTaskWindowMs: 60_000 } });
    try {
      const r = await slow.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 3002 });
      const st = await slow.api('GET', `/nodes/pve1/tasks/${encodeURIComponent(r.body.data)}/status`);
      expect([st.status, st.reason]).toEqual([400, 'Parameter verification failed.']);
      expect(st.body.errors).toEqual({ upid: 'no such task' });
    } finally {
      await slow.stop();
    }
    const bad = await t.api('GET', '/nodes/pve1/tasks/UPID:nope/status');
    expect(bad.body.errors).toEqual({ upid: 'unable to parse worker upid' });
  });

  it('lists finished tasks by default, running ones with source=active, and serves the log', async () => {
    const slow = await startTestSim({ timing: { startMs: 10_000_000 } });
    try {
      const long = await slow.api('POST', '/nodes/pve3/qemu/102/status/start');
      const active = await slow.api('GET', '/nodes/pve3/tasks', { source: 'active' });
      expect(active.body.data.map((x: { upid: string }) => x.upid)).toEqual([long.body.data]);
      expect(active.body.data[0].status).toBeUndefined();
      expect((await slow.api('GET', '/nodes/pve3/tasks')).body.data).toEqual([]);
      const st = await slow.api('GET', `/nodes/pve3/tasks/${encodeURIComponent(long.body.data)}/status`);
      expect(st.body.data.status).toBe('running');
      expect(st.body.data.exitstatus).toBeUndefined();
    } finally {
      await slow.stop();
    }
    const r = await t.api('POST', '/nodes/pve3/qemu/102/status/start');
    await t.waitTask(r.body.data);
    const archive = await t.api('GET', '/nodes/pve3/tasks', { vmid: 102, typefilter: 'qmstart' });
    expect(archive.body.data[0]).toMatchObject({ upid: r.body.data, status: 'OK', type: 'qmstart', id: '102', endtime: expect.any(Number) });
    expect(archive.body.total).toBe(1);
    const log = await t.api('GET', `/nodes/pve3/tasks/${encodeURIComponent(r.body.data)}/log`);
    expect(log.body.data.at(-1)).toEqual({ n: log.body.data.length, t: 'TASK OK' });
    await t.waitTask((await t.api('POST', '/nodes/pve3/qemu/102/status/stop')).body.data);
  });

  it('lets only the owner or Sys.Audit on the node read a task', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 3003 });
    await t.waitTask(r.body.data);
    const alice = await t.login('alice@pve', 'alice-secret');
    const st = await t.api('GET', `/nodes/pve1/tasks/${encodeURIComponent(r.body.data)}/status`, undefined, alice);
    expect([st.status, st.reason]).toEqual([403, 'Permission check failed (/nodes/pve1, Sys.Audit)']);
  });
});

describe('storage allocation lock', () => {
  it('fails parallel full clones beyond what 10 s of lock waiting allows, with PVE\'s local-storage message', async () => {
    // a 60 GiB full clone holds the storage lock for 30 s, so both waiters exceed the 10 s timeout; time scale
    // 0.05 keeps HTTP round trips and timer lag small against those margins
    const sim = await startTestSim({
      timeScale: 0.05,
      seed: {
        nodes: [{ name: 'pve1', cores: 8, memoryGiB: 32 }],
        storages: [
          { id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: 1000 },
          { id: 'ceph', type: 'rbd', shared: true, capacityGiB: 1000 },
        ],
        vms: [
          { vmid: 9000, name: 'big', node: 'pve1', template: true, storage: 'local-lvm', diskGiB: 60 },
          { vmid: 9001, name: 'bigc', node: 'pve1', template: true, storage: 'ceph', diskGiB: 60 },
        ],
      },
    });
    try {
      await sim.api('GET', '/version'); // warm the TLS connection
      const post = (vmid: number, newid: number) => sim.api('POST', `/nodes/pve1/qemu/${vmid}/clone`, { newid, full: 1 });
      const ups = (await Promise.all([400, 401, 402].map((n) => post(9000, n)))).map((r) => r.body.data);
      const results = await Promise.all(ups.map((u) => sim.waitTask(u)));
      const local = "clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout";
      expect(results.map((r) => r.exitstatus).sort()).toEqual(['OK', local, local]);
      expect(results.find((r) => r.exitstatus !== 'OK')!.log.at(-1)).toBe(`TASK ERROR: ${local}`);
      // the failed clones leave nothing behind
      const vms = (await sim.api('GET', '/nodes/pve1/qemu')).body.data.map((v: { vmid: number }) => v.vmid);
      expect(vms.filter((v: number) => v >= 400 && v < 403)).toHaveLength(1);

      const cups = (await Promise.all([410, 411, 412].map((n) => post(9001, n)))).map((r) => r.body.data);
      const cres = (await Promise.all(cups.map((u) => sim.waitTask(u)))).map((r) => r.exitstatus).sort();
      const shared = "clone failed: cfs-lock 'storage-ceph' error: got lock request timeout";
      expect(cres).toEqual(['OK', shared, shared]);
    } finally {
      await sim.stop();
    }
  });

  it('lets many linked clones through (0.3 s each under the lock)', async () => {
    const ups = (await Promise.all(Array.from({ length: 12 }, (_, i) => t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 3100 + i })))).map((r) => r.body.data);
    const res = await Promise.all(ups.map((u) => t.waitTask(u)));
    expect(res.map((r) => r.exitstatus)).toEqual(Array(12).fill('OK'));
  });
});

describe('pvedaemon workers', () => {
  it('keeps at most 3 requests per node in work and queues the rest', async () => {
    const sim = await startTestSim({ timing: { configWriteMinMs: 20_000, configWriteMaxMs: 20_000 } });
    try {
      const vmids = [3200, 3201, 3202, 3203, 3204];
      for (const v of vmids) await sim.waitTask((await sim.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: v })).body.data);
      const puts = vmids.map((v) => sim.api('PUT', `/nodes/pve1/qemu/${v}/config`, { cores: 2 }));
      let maxInWork = 0;
      let sawQueue = false;
      const poll = setInterval(() => {
        const w = sim.sim.load('pve1');
        maxInWork = Math.max(maxInWork, w.inWork);
        if (w.queued > 0) sawQueue = true;
      }, 2);
      const replies = await Promise.all(puts);
      clearInterval(poll);
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(maxInWork).toBe(3);
      expect(sawQueue).toBe(true);
      // reads are served by pveproxy, not queued behind them
      expect(sim.sim.load('pve1')).toEqual({ inWork: 0, queued: 0 });
    } finally {
      await sim.stop();
    }
  });
});
