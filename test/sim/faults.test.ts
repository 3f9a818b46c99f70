import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadFaultsFile } from '../../src/sim/index.js';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

describe('fault injection', () => {
  it('fails task start with "got no worker upid - start worker failed" (once)', async () => {
    t.sim.faults.add({ kind: 'task-start-failure', method: 'POST', path: '/nodes/*/qemu/*/clone', times: 1 });
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 800 });
    expect([r.status, r.reason]).toEqual([500, 'got no worker upid - start worker failed']);
    expect((await t.api('GET', '/cluster/nextid', { vmid: 800 })).status).toBe(200);
    const ok = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 800 });
    expect(ok.status).toBe(200);
    await t.waitTask(ok.body.data);
    t.sim.faults.clear();
  });

  it('answers 596 before performing a write (nothing changed) or after it (change done)', async () => {
    t.sim.faults.add({ kind: 'timeout', when: 'before', method: 'PUT', path: '/nodes/pve1/qemu/800/config', times: 1, latencyMs: 100 });
    const before = await t.api('PUT', '/nodes/pve1/qemu/800/config', { cores: 3 });
    expect([before.status, before.reason]).toEqual([596, 'Connection timed out']);
    expect((await t.api('GET', '/nodes/pve1/qemu/800/config')).body.data.cores).toBe(1);
    t.sim.faults.add({ kind: 'timeout', when: 'after', method: 'PUT', path: '/nodes/pve1/qemu/800/config', times: 1, latencyMs: 100 });
    const after = await t.api('PUT', '/nodes/pve1/qemu/800/config', { cores: 3 });
    expect(after.status).toBe(596);
    expect((await t.api('GET', '/nodes/pve1/qemu/800/config')).body.data.cores).toBe(3);
    t.sim.faults.clear();
  });

  it('fails clone tasks and cleans up the half-made VM', async () => {
    t.sim.faults.add({ kind: 'clone-failure', path: '/nodes/pve1/qemu/9000/clone', times: 1 });
    const st = await t.waitTask((await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 801 })).body.data);
    expect(st.exitstatus).toMatch(/^clone failed: lvcreate 'pve\/vm-801-disk-0' error: /);
    expect((await t.api('GET', '/nodes/pve1/qemu/801/config')).status).toBe(500);
    t.sim.faults.clear();
  });

  it('injects arbitrary errors and extra latency per route', async () => {
    t.sim.faults.add({ kind: 'error', method: 'GET', path: '/cluster/resources', status: 500, message: "cfs-lock 'file-user_cfg' error: got lock request timeout", times: 1 });
    t.sim.faults.add({ kind: 'latency', path: '/version', latencyMs: 500 });
    const e = await t.api('GET', '/cluster/resources');
    expect([e.status, e.reason]).toEqual([500, "cfs-lock 'file-user_cfg' error: got lock request timeout"]);
    expect((await t.api('GET', '/cluster/resources')).status).toBe(200);
    expect((await t.api('GET', '/version')).status).toBe(200);
    expect(t.sim.faults.list().map((f) => f.kind)).toEqual(['error', 'latency']);
    t.sim.faults.clear();
  });

  it('draws probabilistic faults from the seeded RNG: the same rngSeed gives the same outcomes', async () => {
    const outcomes = async (): Promise<number[]> => {
      const s = await startTestSim({ rngSeed: 42, faults: [{ kind: 'error', path: '/version', probability: 0.5, status: 500, message: 'boom' }] });
      try {
        const res = [];
        for (let i = 0; i < 12; i++) res.push((await s.api('GET', '/version')).status);
        return res;
      } finally {
        await s.stop();
      }
    };
    const a = await outcomes();
    expect(a).toContain(500);
    expect(a).toContain(200);
    expect(await outcomes()).toEqual(a);
  });

  it('takes a node offline: its API answers 595, resources show it offline and its VMs unknown', async () => {
    t.sim.faults.add({ kind: 'node-offline', node: 'pve3' });
    const r = await t.api('GET', '/nodes/pve3/qemu/102/status/current');
    expect([r.status, r.reason]).toEqual([595, 'No route to host']);
    const res = (await t.api('GET', '/cluster/resources')).body.data;
    expect(res.find((e: { id: string }) => e.id === 'node/pve3')).toEqual({ id: 'node/pve3', type: 'node', node: 'pve3', status: 'offline' });
    expect(res.find((e: { id: string }) => e.id === 'qemu/102').status).toBe('unknown');
    expect((await t.api('GET', '/nodes')).body.data.find((n: { node: string }) => n.node === 'pve3').status).toBe('offline');
    t.sim.state.nodes.get('pve3')!.online = true;
    t.sim.faults.clear();
  });
});

describe('faults file', () => {
  it('loads rules from YAML and reports bad rules with the file name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-faults-'));
    const good = join(dir, 'faults.yml');
    await writeFile(good, 'faults:\n  - kind: task-start-failure\n    path: /nodes/*/qemu/*/clone\n    probability: 0.1\n');
    expect(await loadFaultsFile(good)).toEqual([
      expect.objectContaining({ kind: 'task-start-failure', path: '/nodes/*/qemu/*/clone', probability: 0.1, method: '*' }),
    ]);
    const s = await startTestSim({ faults: good });
    expect(s.sim.faults.list()).toHaveLength(1);
    await s.stop();
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, '- kind: meteor\n');
    const err = await loadFaultsFile(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(new RegExp(`^${bad}: \\[0\\]\\.kind: Invalid option`));
  });
});
