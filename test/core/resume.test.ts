import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { resume, runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { DeployPlan } from '../../src/core/types.js';
import { foreignSnapshot, leftovers, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

/**
 * "Killing the process" is simulated with the job's AbortSignal, fired from the event handler at the N-th step
 * start: every await of the job rejects at once, so the code after it (journal confirm, store updates) never runs,
 * while what was already sent keeps going on the server (a clone in flight finishes or fails there) — the state
 * a killed process leaves. The re-run uses a fresh context on the same state file, as a new process would.
 */
const KILL_POINTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

function expectConverged(env: RunEnv, plans: DeployPlan[]): void {
  const plan = { stands: plans.flatMap((p) => p.stands) };
  const st = env.sim.state;
  const ours = [...st.vms.values()].filter((v) => v.vmid >= 10000 && v.vmid < 100000).map((v) => v.vmid).sort();
  expect(ours).toEqual(plan.stands.flatMap((s) => s.vms.map((v) => v.vmid)).sort());
  for (const s of plan.stands) {
    expect(st.users.has(s.userid)).toBe(true);
    expect(st.pools.get(s.pool)?.vmids.size).toBe(s.vms.length);
    for (const vm of s.vms) {
      const live = st.vms.get(vm.vmid)!;
      expect(live.config.lock).toBeUndefined();
      expect(String(live.config.tags)).toBe(`stands;stands-${s.group}`);
      expect(live.snapshots.map((x) => x.name)).toEqual(['start']);
    }
    for (const g of s.segments) expect(st.network.get(g.node!)!.current.get(g.iface)?.comments).toBe(g.comment);
  }
  const replicas = [...st.vms.values()].filter((v) => v.vmid >= 100000);
  expect(replicas.length).toBe(new Set(replicas.map((v) => v.config.name)).size);
  for (const n of ['pve1', 'pve2']) expect(st.network.get(n)!.pending).toBeNull();
}

describe('a deploy killed at 10 different moments converges when run again', () => {
  let env: RunEnv;
  let foreignBefore: unknown;
  const plans: DeployPlan[] = [];
  beforeAll(async () => {
    env = await startRunEnv();
    foreignBefore = foreignSnapshot(env.sim);
  });
  afterAll(async () => env?.close());

  for (const [i, point] of KILL_POINTS.entries()) {
    it(`killed at step ${point}, then resumed`, async () => {
      const group = `kill${i}`;
      const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(1, `k${i}u`), group });
      plans.push(plan);
      const ac = new AbortController();
      let starts = 0;
      const first = await runDeploy(env.ctx, plan, {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'step-started' && ++starts === point) ac.abort();
        },
      });
      expect(first.status).toBe('cancelled');
      expect((await env.ctx.store.jobs.get(first.job))?.status).toBe('cancelled');

      const ctx2 = await env.reopen();
      const second = await resume(ctx2, group);
      expect(second.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(
        plan.stands.map((s) => `${s.userid}:ready:`),
      );
      expectConverged(env, plans);
    });
  }

  it('every class can then be removed completely: nothing leaked', async () => {
    for (const p of plans) {
      const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: p.group }));
      expect(res.status).toBe('succeeded');
    }
    expect(leftovers(env)).toEqual([]);
  });

  it('left every pre-existing object exactly as it was', () => {
    expect(foreignSnapshot(env.sim)).toEqual(foreignBefore);
  });
});
