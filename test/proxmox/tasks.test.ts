import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/sim/index.js';
import type { ProxmoxClient } from '../../src/proxmox/client.js';
import { ProxmoxApiError, TaskFailedError, TaskTimeoutError } from '../../src/proxmox/errors.js';
import type { TaskStatus } from '../../src/proxmox/types.js';
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

describe('waiting for tasks', () => {
  it('polls until the task stops, with a growing interval, reporting each poll', async () => {
    const polls: TaskStatus[] = [];
    const before = c.stats.taskPolls;
    const t = await c.cloneVm('pve1', 9000, { newid: 6001, name: 'tk-a', full: true });
    const r = await c.waitTask(t, { onPoll: (s) => polls.push(s) });
    expect(r).toMatchObject({ ok: true, exitstatus: 'OK', upid: t.upid });
    expect(polls.at(-1)?.status).toBe('stopped');
    expect(c.stats.taskPolls - before).toBeGreaterThanOrEqual(polls.length);
  });

  it('a failed task throws TaskFailedError with the tail of its log', async () => {
    await c.waitTask(await c.startVm('pve1', 6001));
    const again = await c.startVm('pve1', 6001);
    const err = (await c.waitTask(again).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.exitstatus).toBe('VM 6001 already running');
    expect(err.logTail.at(-1)).toBe('TASK ERROR: VM 6001 already running');
    expect(err.message).toContain('task qmstart on pve1 failed: VM 6001 already running');
  });

  it('a clone that fails inside the task reports PVE reason from the log', async () => {
    sim.faults.add({ kind: 'clone-failure', path: '/nodes/pve1/qemu/9000/clone', times: 1, message: 'lvcreate failed: out of space' });
    const t = await c.cloneVm('pve1', 9000, { newid: 6002, name: 'tk-fail' });
    const err = (await c.waitTask(t).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.exitstatus).toContain('lvcreate failed: out of space');
    expect(err.logTail.join('\n')).toContain('TASK ERROR');
    expect(await c.isVmidFree(6002)).toBe(true);
    sim.faults.clear();
  });

  it('"no such task" right after the start counts as pending; for good it is an error after a grace period', async () => {
    const fake = { node: 'pve1', upid: 'UPID:pve1:00001234:00005678:6A000000:qmstart:6001:root@pam:', type: 'qmstart', id: '6001' };
    const err = (await c.waitTask(fake).catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.status).toBe(400);
    expect(err.fullText).toContain('no such task');
    expect(c.stats.taskPolls).toBeGreaterThan(1);
  });

  it('"no such task" in the first moments after the fork is waited out', async () => {
    // A server whose task registry lags by 200 s (2 s real: the client's first poll falls inside it even on a
    // loaded machine): the first polls of every task answer 400 "no such task".
    const laggy = await startSim({ timing: { noSuchTaskWindowMs: 200_000 } });
    try {
      const lc = clientFor(laggy, clusterFor(laggy, 'token'), { noSuchTaskGraceMs: 2_000_000 });
      let answered = 0;
      const r = await lc.waitTask(await lc.startVm('pve3', 102), { onPoll: () => answered++ });
      expect(r.ok).toBe(true);
      expect(lc.stats.taskPolls).toBeGreaterThan(answered); // some polls got "no such task" and were not fatal
      await lc.close();
    } finally {
      await laggy.stop();
    }
  });

  it('gives up at the deadline with a TaskTimeoutError that says the task may still finish', async () => {
    // a clone that outlasts the test (hours, simulated) whatever the machine's load; the sim is stopped before it ends
    const slow = await startSim({ timing: { fullCloneMsPerGiB: 10_000_000 } });
    const sc = clientFor(slow, clusterFor(slow, 'token'));
    try {
      const t = await sc.cloneVm('pve2', 9002, { newid: 6003, name: 'tk-slow', full: true });
      const err = (await sc.waitTask(t, { deadlineMs: 1 }).catch((e: unknown) => e)) as TaskTimeoutError;
      expect(err).toBeInstanceOf(TaskTimeoutError);
      expect(err.message).toMatch(/still running after .* \(it may still finish\)/);
      expect((await sc.taskStatus(t.node, t.upid)).status).toBe('running');
    } finally {
      await sc.close();
      await slow.stop();
    }
  });
});

describe('locks', () => {
  it('configuring a VM while its clone runs: "VM is locked (clone)" is waited out, then the change lands', async () => {
    const t = await c.cloneVm('pve2', 9002, { newid: 6004, name: 'tk-lock', full: true });
    const retriesBefore = c.stats.retries;
    await c.updateVmConfig('pve2', 6004, { cores: 3 });
    expect(c.stats.retries).toBeGreaterThan(retriesBefore);
    expect((await c.vmConfig('pve2', 6004)).cores).toBe(3);
    await c.waitTask(t);
  });

  it('runTask starts a VM again when the start task failed on the clone lock', async () => {
    await c.waitTask(await c.cloneVm('pve2', 9002, { newid: 6006, name: 'tk-race', full: true }));
    // The clone's lock, held until the test lets it go (a real clone's length depends on how busy the machine
    // is): the start task fails in its check_lock, as it does while a clone runs.
    const vm = sim.state.vms.get(6006)!;
    vm.config.lock = 'clone';
    const failedStarts = () =>
      sim.state.tasksByNode.get('pve2')!.filter((t) => t.type === 'qmstart' && t.id === '6006' && t.status === 'stopped' && t.exitstatus !== 'OK').length;
    const plain = await c.waitTask(await c.startVm('pve2', 6006)).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(TaskFailedError); // what happens without runTask
    expect((plain as TaskFailedError).exitstatus).toBe('VM is locked (clone)');
    const before = failedStarts();
    const run = c.runTask(() => c.startVm('pve2', 6006));
    // once runTask's first start has failed on the lock, the "clone" ends
    const start = Date.now();
    while (failedStarts() === before) {
      if (Date.now() - start > 60_000) throw new Error('timed out waiting for runTask\'s first start to fail on the lock');
      await new Promise((res) => setTimeout(res, 5));
    }
    delete vm.config.lock;
    const r = await run;
    expect(r.ok).toBe(true);
    expect(failedStarts()).toBe(before + 1);
    expect((await c.vmStatus('pve2', 6006)).status).toBe('running');
  });

  it('waitUnlocked returns once the clone lock is gone', async () => {
    const t = await c.cloneVm('pve1', 9001, { newid: 6005, name: 'tk-unlock', full: true });
    expect((await c.vmStatus('pve1', 6005)).lock).toBe('clone');
    const s = await c.waitUnlocked('pve1', 6005);
    expect(s.lock).toBeUndefined();
    await c.waitTask(t);
  });

  it('a lock that never clears is given up on after the bounded wait, with PVE message', async () => {
    const short = clientFor(sim, clusterFor(sim, 'token'), { lockWaitMs: 5_000 });
    sim.faults.add({ kind: 'error', method: 'PUT', path: '/nodes/pve1/qemu/6005/config', status: 500, message: 'VM is locked (backup)' });
    const err = (await short.updateVmConfig('pve1', 6005, { cores: 2 }).catch((e: unknown) => e)) as ProxmoxApiError;
    sim.faults.clear();
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.pveMessage).toBe('VM is locked (backup)');
    expect(short.stats.retries).toBeGreaterThan(0);
    await short.close();
  });
});
