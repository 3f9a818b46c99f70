import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy, type DeployResult } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { DeployPlan, EngineEvent } from '../../src/core/types.js';
import { foreignSnapshot, leftovers, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('deploy under injected PVE faults (task-start failures, 596 after the write, clone failures)', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let result: DeployResult;
  let foreignBefore: unknown;
  const events: EngineEvent[] = [];

  beforeAll(async () => {
    env = await startRunEnv({ rngSeed: 11 });
    foreignBefore = foreignSnapshot(env.sim);
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(6), group: 'flaky' });
    env.sim.faults.add({ kind: 'task-start-failure', method: 'POST', path: '/nodes/*/qemu/**', probability: 0.15 });
    env.sim.faults.add({ kind: 'timeout', method: '*', path: '**', when: 'after', probability: 0.06 });
    env.sim.faults.add({ kind: 'timeout', method: 'POST', path: '**', when: 'before', probability: 0.04 });
    env.sim.faults.add({ kind: 'clone-failure', probability: 0.05 });
    // and, whatever the dice say, two clone tasks in the middle of the run fail. They run 5 minutes (simulated)
    // first: far longer than the 30 s a 596 takes to come back, so a 596 on their POST does not hide them (the
    // client adopts the running clone and sees it fail, instead of finding nothing and cloning again quietly)
    env.sim.faults.add({ kind: 'clone-failure', probability: 1, skip: 4, times: 2, latencyMs: 300_000 });
    result = await runDeploy(env.ctx, plan, { onEvent: (e) => events.push(e) });
    env.sim.faults.clear();
  });
  afterAll(async () => env?.close());

  it('every stand ends complete', () => {
    expect(result.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(
      plan.stands.map((s) => `${s.userid}:ready:`),
    );
  });

  it('with no duplicate VM, pool, user or bridge', () => {
    const st = env.sim.state;
    const ours = [...st.vms.values()].filter((v) => v.vmid >= 10000 && v.vmid < 100000).map((v) => v.vmid).sort();
    expect(ours).toEqual(plan.stands.flatMap((s) => s.vms.map((v) => v.vmid)).sort());
    const names = [...st.vms.values()].map((v) => String(v.config.name));
    expect(names.length).toBe(new Set(names).size);
    for (const s of plan.stands) {
      expect(st.pools.get(s.pool)?.vmids.size).toBe(s.vms.length);
      for (const vm of s.vms) expect(st.vms.get(vm.vmid)!.snapshots.map((x) => x.name)).toEqual(['start']);
    }
    const bridges = [...st.network.values()].flatMap((n) => [...n.current.values()].filter((i) => /^stands:/.test(i.comments ?? '')));
    expect(bridges.length).toBe(plan.stands.reduce((a, s) => a + s.segments.length, 0));
  });

  it('clone failures were retried (and said so)', () => {
    // the two guaranteed failures, each reported by the engine as a retry of its VM or replica
    const failed = [...env.sim.state.tasks.values()].filter((t) => t.type === 'qmclone' && /^clone failed: /.test(t.exitstatus ?? ''));
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'retry' && (e.step === 'clone' || e.step === 'replica')).length).toBeGreaterThanOrEqual(2);
  });

  it('cleans up to nothing, foreign objects untouched', async () => {
    const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'flaky' }));
    expect(res.status).toBe('succeeded');
    expect(leftovers(env)).toEqual([]);
    expect(foreignSnapshot(env.sim)).toEqual(foreignBefore);
  });
});
