import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/sim/index.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';
import type { ProxmoxClient } from '../../src/proxmox/client.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';
import { startResetProxy, type ProxyAction, type ResetProxy } from './reset-proxy.js';

let sim: RunningSimulator;
const clients: ProxmoxClient[] = [];

function client(o: Parameters<typeof clientFor>[2] = {}): ProxmoxClient {
  const c = clientFor(sim, clusterFor(sim, 'token'), o);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  sim = await startSim();
});
afterEach(async () => {
  sim.faults.clear();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await sim?.stop();
});

describe('reads are retried with backoff', () => {
  it.each([500, 502, 595, 596, 599])('on %i', async (status) => {
    const c = client();
    sim.faults.add({ kind: 'error', method: 'GET', path: '/nodes', status, message: 'hiccup', times: 2 });
    expect((await c.nodes()).length).toBe(3);
    expect(c.stats.byMethod.GET).toBe(3);
    expect(c.stats.retries).toBe(2);
  });

  it('but not forever: after maxAttempts the last error is thrown', async () => {
    const c = client({ maxAttempts: 3 });
    sim.faults.add({ kind: 'error', method: 'GET', path: '/nodes', status: 500, message: 'still broken' });
    const err = (await c.nodes().catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.message).toBe('lab: GET /nodes failed: 500 still broken');
    expect(c.stats.byMethod.GET).toBe(3);
  });

  it('not on a "does not exist" answer or a 4xx', async () => {
    const c = client();
    await expect(c.vmConfig('pve1', 4999)).rejects.toThrow(/does not exist/);
    expect(c.stats.byMethod.GET).toBe(1);
  });
});

describe('writes are never blindly repeated', () => {
  it('596 after the user was created → re-read finds it → done, no second POST', async () => {
    const c = client();
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/access/users', when: 'after', times: 1, latencyMs: 1 });
    await c.createUser({ userid: 'amb01@pve', password: 'Amb-Passw0rd' });
    expect(c.stats.byMethod.POST).toBe(1);
    expect((await c.listUsers()).filter((u) => u.userid === 'amb01@pve')).toHaveLength(1);
  });

  it('596 before anything happened → re-read finds nothing → repeated once → exists once', async () => {
    const c = client();
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/pools', when: 'before', times: 1, latencyMs: 1 });
    await c.createPool('amb-pool');
    expect(c.stats.byMethod.POST).toBe(2);
    expect((await c.listPools()).filter((p) => p.poolid === 'amb-pool')).toHaveLength(1);
  });

  it('596 after a clone was accepted, clone already finished → watches the new VM instead of cloning again', async () => {
    const c = client();
    // the 596 comes after pveproxy's 30 s: the 2 s linked clone has finished by then
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve1/qemu/9000/clone', when: 'after', times: 1 });
    const t = await c.cloneVm('pve1', 9000, { newid: 7001, name: 'amb-clone' });
    expect(t).toMatchObject({ adopted: true, watchVmid: 7001 });
    expect((await c.waitTask(t)).ok).toBe(true);
    expect(c.stats.byMethod.POST).toBe(1);
    const named = (await c.clusterResources('vm')).filter((r) => r.name === 'amb-clone');
    expect(named.map((r) => r.vmid)).toEqual([7001]);
    expect((await c.vmStatus('pve1', 7001)).lock).toBeUndefined();
  });

  it('596 after a bridge was added → found in the list → not added again', async () => {
    const c = client();
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve2/network', when: 'after', times: 1, latencyMs: 1 });
    await c.createBridge('pve2', { iface: 'vmbr1002' });
    expect(c.stats.byMethod.POST).toBe(1);
    expect((await c.listNetwork('pve2')).ifaces.filter((i) => i.iface === 'vmbr1002')).toHaveLength(1);
  });

  it('596 after a start was accepted → adopts the running start task, does not start twice', async () => {
    const c = client();
    await c.waitTask(await c.cloneVm('pve1', 9000, { newid: 7007, name: 'amb-start' }));
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve1/qemu/7007/status/start', when: 'after', times: 1, latencyMs: 1 });
    const posts = c.stats.byMethod.POST ?? 0;
    const t = await c.startVm('pve1', 7007);
    expect(t.adopted).toBe(true);
    expect((await c.waitTask(t)).ok).toBe(true);
    expect(c.stats.byMethod.POST).toBe(posts + 1);
    expect((await c.vmStatus('pve1', 7007)).status).toBe('running');
  });

  it('an ambiguous write with no way to check is reported, not repeated', async () => {
    const c = client();
    await c.waitTask(await c.cloneVm('pve1', 9000, { newid: 7002, name: 'amb-snap' }));
    await c.waitTask(await c.createSnapshot('pve1', 7002, 'base'));
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve1/qemu/7002/snapshot/base/rollback', when: 'after', times: 1, latencyMs: 1 });
    const posts = c.stats.byMethod.POST ?? 0;
    const err = (await c.rollbackSnapshot('pve1', 7002, 'base').catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.status).toBe(596);
    expect(err.ambiguous).toBe(true);
    expect(err.retrySafe).toBe(false);
    expect(c.stats.byMethod.POST).toBe(posts + 1);
  });

  it('an idempotent write (ACL) is simply repeated after 596', async () => {
    const c = client();
    sim.faults.add({ kind: 'timeout', method: 'PUT', path: '/access/acl', when: 'before', times: 1, latencyMs: 1 });
    await c.updateAcl({ path: '/vms/7001', roles: ['PVEVMUser'], users: ['alice@pve'] });
    expect(c.stats.byMethod.PUT).toBe(2);
    expect((await c.listAcl()).filter((a) => a.path === '/vms/7001')).toHaveLength(1);
  });

  it('"got no worker upid" is repeated: nothing was started', async () => {
    const c = client();
    sim.faults.add({ kind: 'task-start-failure', method: 'POST', path: '/nodes/pve1/qemu/9000/clone', times: 2 });
    const t = await c.cloneVm('pve1', 9000, { newid: 7003, name: 'no-worker' });
    expect((await c.waitTask(t)).ok).toBe(true);
    expect(c.stats.byMethod.POST).toBe(3);
  });

  it('595 (pveproxy could not reach pvedaemon) is repeated', async () => {
    const c = client();
    sim.faults.add({ kind: 'error', method: 'POST', path: '/pools', status: 595, message: 'Connection refused', times: 1 });
    await c.createPool('p595');
    expect(c.stats.byMethod.POST).toBe(2);
  });

  it('lock refusals are retried with backoff until the lock clears', async () => {
    const c = client();
    sim.faults.add({ kind: 'error', method: 'POST', path: '/access/users', status: 500, message: "cfs-lock 'file-user_cfg' error: got lock request timeout", times: 3 });
    await c.createUser({ userid: 'locked01@pve' });
    expect(c.stats.byMethod.POST).toBe(4);
    expect(c.stats.retries).toBe(3);
  });

  it('a parameter error is not retried and carries the per-parameter messages', async () => {
    const c = client();
    const err = (await c.createPool('bad pool!').catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.status).toBe(400);
    expect(err.paramErrors.poolid).toBeDefined();
    expect(c.stats.byMethod.POST).toBe(1);
  });

  it('a plain refusal (500, not a lock) is not retried', async () => {
    const c = client();
    const err = (await c.createPool('1-starts-with-digit').catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.status).toBe(500);
    expect(err.pveMessage).toBe('pool name must start with a letter');
    expect(c.stats.byMethod.POST).toBe(1);
  });
});

describe('ambiguous clones while the clone is still running', () => {
  // Full clones that take 10 s per GiB: the clone is certainly still running when the client looks.
  let slow: RunningSimulator;
  beforeAll(async () => {
    slow = await startSim({ timing: { fullCloneMsPerGiB: 10_000 } });
  });
  afterAll(async () => {
    await slow?.stop();
  });
  const slowClient = (): ProxmoxClient => {
    const c = clientFor(slow, clusterFor(slow, 'token'));
    clients.push(c);
    return c;
  };

  it('596 after a clone was accepted, clone still running → adopts its UPID', async () => {
    const c = slowClient();
    // latencyMs: the 596 comes back at once, while the full clone is still copying
    slow.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve1/qemu/9000/clone', when: 'after', times: 1, latencyMs: 1 });
    const t = await c.cloneVm('pve1', 9000, { newid: 7004, name: 'amb-running', full: true });
    expect(t.adopted).toBe(true);
    expect(t.upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmclone:9000:root@pam!stands:$/);
    expect(t.watchVmid).toBeUndefined();
    expect((await c.waitTask(t)).ok).toBe(true);
    expect(c.stats.byMethod.POST).toBe(1);
  });

  it('two ambiguous clones of one template running at once → each watches its own new VM', async () => {
    const c = slowClient();
    slow.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve1/qemu/9000/clone', when: 'after', times: 2, latencyMs: 1 });
    const [a, b] = await Promise.all([
      c.cloneVm('pve1', 9000, { newid: 7005, name: 'amb-par-a', full: true }),
      c.cloneVm('pve1', 9000, { newid: 7006, name: 'amb-par-b', full: true }),
    ]);
    expect([a.watchVmid, b.watchVmid]).toEqual([7005, 7006]);
    await Promise.all([c.waitTask(a), c.waitTask(b)]);
    expect(c.stats.byMethod.POST).toBe(2);
    expect((await c.vmStatus('pve1', 7005)).lock).toBeUndefined();
    expect((await c.vmStatus('pve1', 7006)).lock).toBeUndefined();
  });

  it('two ambiguous clones to another node → each is followed from the source node to the target and its pool', async () => {
    const c = slowClient();
    // 9002 (16 GiB on shared ceph, pve2) full-cloned to pve3: the config sits on pve2 until the very end
    slow.faults.add({ kind: 'timeout', method: 'POST', path: '/nodes/pve2/qemu/9002/clone', when: 'after', times: 2, latencyMs: 1 });
    const [a, b] = await Promise.all([
      c.cloneVm('pve2', 9002, { newid: 7007, name: 'amb-move-a', full: true, target: 'pve3', pool: 'prod' }),
      c.cloneVm('pve2', 9002, { newid: 7008, name: 'amb-move-b', full: true, target: 'pve3', pool: 'prod' }),
    ]);
    expect([a.watchVmid, b.watchVmid, a.node, b.node]).toEqual([7007, 7008, 'pve3', 'pve3']);
    await Promise.all([c.waitTask(a), c.waitTask(b)]);
    for (const vmid of [7007, 7008]) {
      expect((await c.vmStatus('pve3', vmid)).lock).toBeUndefined();
      expect(slow.state.vms.get(vmid)).toMatchObject({ node: 'pve3', pool: 'prod' });
    }
    expect(c.stats.byMethod.POST).toBe(2);
  });
});

describe('connection resets (through a loopback proxy)', () => {
  let proxy: ResetProxy;
  const plan = new Map<string, ProxyAction[]>();
  beforeAll(async () => {
    proxy = await startResetProxy(sim.url, (method, path) => plan.get(`${method} ${path}`)?.shift() ?? 'pass');
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  const viaProxy = (): ProxmoxClient =>
    (() => {
      const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: proxy.fingerprint }, { url: proxy.url }));
      clients.push(c);
      return c;
    })();

  it('a read whose connection is reset is retried', async () => {
    const c = viaProxy();
    plan.set('GET /nodes', ['reset-before', 'reset-after']);
    expect((await c.nodes()).length).toBe(3);
    expect(c.stats.byMethod.GET).toBe(3);
  });

  it('a write reset after PVE did it → re-read → no duplicate', async () => {
    const c = viaProxy();
    plan.set('POST /access/users', ['reset-after']);
    await c.createUser({ userid: 'reset01@pve' });
    expect(c.stats.byMethod.POST).toBe(1);
    expect((await c.getUser('reset01@pve'))?.userid).toBe('reset01@pve');
  });

  it('a write reset before it reached PVE → re-read → repeated once', async () => {
    const c = viaProxy();
    plan.set('POST /pools', ['reset-before']);
    await c.createPool('reset-pool');
    expect(c.stats.byMethod.POST).toBe(2);
    expect(await c.getPool('reset-pool')).toBeDefined();
  });
});

describe('in-flight cap', () => {
  it('never has more than maxInFlight requests open; the rest queue', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token', {}, { maxInFlight: 2 }));
    clients.push(c);
    sim.faults.add({ kind: 'latency', method: 'GET', path: '/nodes', latencyMs: 2_000 });
    let maxInFlight = 0;
    let maxQueued = 0;
    const all = Promise.all(Array.from({ length: 8 }, () => c.nodes()));
    const sampler = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, c.load.inFlight);
      maxQueued = Math.max(maxQueued, c.load.queued);
    }, 1);
    await all;
    clearInterval(sampler);
    expect(maxInFlight).toBe(2);
    expect(maxQueued).toBeGreaterThan(0);
  });
});
