import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { rrdCacheFor } from '../../src/core/rrd-cache.js';
import { getStatus, listGroups } from '../../src/core/status.js';
import type { DeployPlan } from '../../src/core/types.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('getStatus / listGroups', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  beforeAll(async () => {
    env = await startRunEnv();
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(3), group: 'st1', start: true });
    expect((await runDeploy(env.ctx, plan)).status).toBe('succeeded');
  });
  afterAll(async () => env?.close());

  it('costs at most 2 API requests, rrddata coming from the background cache', async () => {
    await rrdCacheFor(env.ctx).refresh();
    env.sim.stats.reset();
    const r = await getStatus(env.ctx, { maxAgeMs: 0 });
    expect(env.sim.stats.requests).toBeLessThanOrEqual(2);
    expect(Object.keys(env.sim.stats.byRoute)).toEqual(['GET /cluster/resources']);
    const pve1 = r.nodes.find((n) => n.node === 'pve1')!;
    expect(pve1.rrd?.cpuAvg).toBeTypeOf('number');
    expect(pve1.rrd!.cpuPeak!).toBeGreaterThanOrEqual(pve1.rrd!.cpuAvg!);
    expect(pve1.rrd!.samples.length).toBeGreaterThan(10);
  });

  it('reports memory used, allocated (configured memory of non-template VMs) and total per node', async () => {
    const r = await getStatus(env.ctx);
    expect(r.nodes.map((n) => n.node)).toEqual(['pve1', 'pve2', 'pve3']);
    const st = env.sim.state;
    for (const n of r.nodes) {
      const expected = [...st.vms.values()]
        .filter((v) => v.node === n.node && !v.config.template)
        .reduce((a, v) => a + Number(/\d+/.exec(String(v.config.memory))?.[0] ?? 0) * 1024 * 1024, 0);
      expect(n.memAllocated, n.node).toBe(expected);
      expect(n.memTotal).toBe(st.nodes.get(n.node)!.memoryBytes);
      expect(n.storage.map((x) => x.storage)).toEqual(['ceph', 'local-lvm']);
    }
  });

  it('lists the group\'s stands with VM states and console links', async () => {
    const r = await getStatus(env.ctx, { group: 'st1' });
    expect(r.groups).toEqual([expect.objectContaining({ name: 'st1', profile: 'netlab', stands: 3, ready: 3, failed: 0, vms: 9 })]);
    expect(r.stands.map((s) => s.userid)).toEqual(plan.stands.map((s) => s.userid));
    const s0 = r.stands[0]!;
    expect(s0.vms.map((v) => v.vmid)).toEqual(plan.stands[0]!.vms.map((v) => v.vmid));
    expect(s0.vms[0]!.consoleUrl).toBe(`${env.sim.url}/#v1:0:=qemu%2F${s0.vms[0]!.vmid}:4:::::::`);
    expect(s0.consoleUrl).toBe(s0.vms[0]!.consoleUrl);
    expect(r.jobs).toEqual([]);
  });

  it('a student view (nodesOnly) shows node load and no stands', async () => {
    const r = await getStatus(env.ctx, { nodesOnly: true, node: 'pve2' });
    expect(r.nodes.map((n) => n.node)).toEqual(['pve2']);
    expect(r.stands).toEqual([]);
    expect(r.groups).toEqual([]);
  });

  it('listGroups answers from the store alone', async () => {
    env.sim.stats.reset();
    const g = await listGroups(env.ctx);
    expect(g).toEqual([expect.objectContaining({ name: 'st1', cluster: 'sim', profile: 'netlab', stands: 3, ready: 3, failed: 0 })]);
    expect(env.sim.stats.requests).toBe(0);
  });
});
