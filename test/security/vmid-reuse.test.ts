import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy } from '../../src/core/deploy.js';
import { hasGroupTag, parseVmDescription } from '../../src/core/ownership.js';
import { planDeploy } from '../../src/core/plan.js';
import { resetStands, startStands, stopStands } from '../../src/core/power.js';
import type { DeployPlan, VmPlan } from '../../src/core/types.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from '../core/run-harness.js';

// Issue 10 §4: a recorded VMID that now holds another VM carrying our group tag (a clone of a stand VM copies its
// tags and description) is not ours. The admin's `teacher-grading-copy` made under a freed VMID — even inside the
// stand's pool, on the same node, and a second copy that even kept the recorded name — survives cleanup, reset,
// start and stop; each is reported and left alone.
describe('ownership after a VMID is reused', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  const copies: { vmid: number; name: string }[] = [];

  beforeAll(async () => {
    env = await startRunEnv();
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(2), group: 'reuse' });
    expect((await runDeploy(env.ctx, plan)).status).toBe('succeeded');
    const client = env.ctx.client();
    const vm = (i: number, machine: string): VmPlan => plan.stands[i]!.vms.find((v) => v.machine === machine)!;
    // pc1 of each stand is deleted by hand; the admin copies that stand's pc2 under the freed VMID, into its pool
    for (const [i, name] of [
      [0, 'teacher-grading-copy'],
      [1, vm(1, 'pc1').name], // the worst case: the copy even has the name we recorded
    ] as const) {
      const victim = vm(i, 'pc1');
      const src = vm(i, 'pc2');
      await client.waitTask(await client.destroyVm(victim.node, victim.vmid, { purge: true }));
      await client.waitTask(await client.cloneVm(src.node, src.vmid, { newid: victim.vmid, name, full: true, pool: plan.stands[i]!.pool }));
      copies.push({ vmid: victim.vmid, name });
    }
    for (const c of copies) {
      const cfg = env.sim.state.vms.get(c.vmid)!.config;
      // what a tag-only check would have trusted: the group tag and our description are there
      expect(hasGroupTag(String(cfg.tags), 'reuse')).toBe(true);
      expect(parseVmDescription(String(cfg.description))?.group).toBe('reuse');
    }
  });
  afterAll(async () => env?.close());

  const status = (vmid: number) => env.sim.state.vms.get(vmid)?.status;

  it('start, reset and stop leave the copies alone and say why', async () => {
    for (const fn of [startStands, resetStands, stopStands]) {
      const r = await fn(env.ctx, { group: 'reuse' });
      const skipped = r.stands.flatMap((s) => s.vms).filter((v) => v.outcome === 'skipped');
      expect(skipped.map((v) => v.vmid).sort()).toEqual(copies.map((c) => c.vmid).sort());
      for (const v of skipped) expect(v.message).toMatch(/left alone: its creation marker is not the one recorded for VMID \d+/);
      for (const c of copies) expect(status(c.vmid)).toBe('stopped');
    }
  });

  it('cleanup removes the stands and keeps both copies, reported', async () => {
    const cplan = await planCleanup(env.ctx, { group: 'reuse' });
    for (const c of copies) {
      expect(cplan.kept).toContainEqual(expect.objectContaining({
        what: `VM ${c.vmid} (${c.name}) on ${env.sim.state.vms.get(c.vmid)!.node}`,
        reason: `recorded, but not the VM we created: its creation marker is not the one recorded for VMID ${c.vmid} (another VM took the VMID, or a copy of ours)`,
      }));
    }
    const r = await runCleanup(env.ctx, cplan);
    for (const c of copies) {
      expect(env.sim.state.vms.get(c.vmid)?.config.name).toBe(c.name);
    }
    const ours = plan.stands.flatMap((s) => s.vms.map((v) => v.vmid)).filter((id) => !copies.some((c) => c.vmid === id));
    for (const id of ours) expect(env.sim.state.vms.has(id)).toBe(false);
    expect(r.kept.map((k) => k.what)).toEqual(expect.arrayContaining(copies.map((c) => expect.stringContaining(`VM ${c.vmid} (${c.name})`))));
  });
});
