/**
 * Locks left by our own operations that are still running (an interrupted reset's rollback, a snapshot, a
 * migration): the engine waits while the VM has an active task, instead of failing with a `qm unlock` hint; a
 * lock with no task behind it still fails, with the hint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { resetStands } from '../../src/core/power.js';
import { leftovers, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

/** Poll a state of the simulator (no wall-clock assumption beyond a wide cap). */
async function until(what: string, cond: () => boolean, capMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > capMs) throw new Error(`timed out after ${capMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('locks of our own running operations', () => {
  let env: RunEnv;
  let vmid: number;
  let node: string;
  beforeAll(async () => {
    env = await startRunEnv();
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(1), group: 'lk' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.status).toBe('succeeded');
    ({ vmid, node } = plan.stands[0]!.vms[0]!);
  });
  afterAll(async () => env?.close());

  /** A snapshot task that is still running when the engine looks (as one of an interrupted run would be). */
  async function snapshotRunning(name: string): Promise<void> {
    const t = env.sim.timing;
    const saved = [t.snapshotMinMs, t.snapshotMaxMs] as const;
    // long in simulated time (60 s); the lock is set in the task's first config write
    t.snapshotMinMs = t.snapshotMaxMs = 60_000;
    try {
      await env.ctx.client().createSnapshot(node, vmid, name);
      await until(`the ${name} snapshot task to lock VM ${vmid}`, () => env.sim.state.vms.get(vmid)!.config.lock === 'snapshot');
    } finally {
      [t.snapshotMinMs, t.snapshotMaxMs] = saved;
    }
  }

  it('reset waits for a running snapshot task of the VM, then rolls back', async () => {
    await snapshotRunning('extra1');
    const r = await resetStands(env.ctx, { group: 'lk' });
    expect(r.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(['student01@pve:ok:']);
    const vm = env.sim.state.vms.get(vmid)!;
    // the snapshot task was let finish, and the rollback came after it
    expect(vm.snapshots.map((s) => s.name)).toEqual(['start', 'extra1']);
    expect(vm.config.lock).toBeUndefined();
    const tasks = env.sim.state.tasksByNode.get(node)!.filter((t) => t.id === String(vmid) && ['qmsnapshot', 'qmrollback'].includes(t.type));
    const snap = tasks.filter((t) => t.type === 'qmsnapshot').at(-1)!;
    const rollback = tasks.filter((t) => t.type === 'qmrollback').at(-1)!;
    expect([snap.exitstatus, rollback.exitstatus]).toEqual(['OK', 'OK']);
    expect(rollback.forkedAtMs).toBeGreaterThanOrEqual(snap.forkedAtMs);
    expect(rollback.starttime).toBeGreaterThanOrEqual(snap.endtime!);
  });

  it('a re-run of the deploy waits for a running snapshot task instead of failing the stand', async () => {
    await snapshotRunning('extra2');
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(1), group: 'lk' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(['student01@pve:ready:']);
    expect(env.sim.state.vms.get(vmid)!.snapshots.map((s) => s.name)).toEqual(['start', 'extra1', 'extra2']);
  });

  it('a lock with no task behind it still fails, with the qm unlock hint', async () => {
    env.sim.state.vms.get(vmid)!.config.lock = 'rollback';
    try {
      const hint = `VM ${vmid} on ${node} is locked (rollback) and no task of it is running: an operation crashed and left the lock; check the VM, then clear it with 'qm unlock ${vmid}'`;
      const reset = await resetStands(env.ctx, { group: 'lk' });
      expect(reset.stands[0]!.vms.find((v) => v.vmid === vmid)).toMatchObject({ outcome: 'failed', message: hint });
      const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(1), group: 'lk' });
      const r = await runDeploy(env.ctx, plan);
      expect(r.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual([`student01@pve:failed:${hint}`]);
    } finally {
      delete env.sim.state.vms.get(vmid)!.config.lock;
    }
    await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'lk' }));
    expect(leftovers(env)).toEqual([]);
  });
});
