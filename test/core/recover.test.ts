import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { setPassword } from '../../src/core/credentials.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { recover } from '../../src/core/recover.js';
import { listTemplates } from '../../src/core/replicas.js';
import type { DeployPlan } from '../../src/core/types.js';
import { foreignSnapshot, leftovers, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('recover: the state file is lost', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let foreignBefore: unknown;
  beforeAll(async () => {
    env = await startRunEnv();
    foreignBefore = foreignSnapshot(env.sim);
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(4), group: 'lost' });
    expect((await runDeploy(env.ctx, plan)).status).toBe('succeeded');
    await env.ctx.close();
    await rm(env.statePath, { force: true });
    await rm(`${env.statePath}-wal`, { force: true });
    await rm(`${env.statePath}-shm`, { force: true });
  });
  afterAll(async () => env?.close());

  it('rebuilds groups, stands, VMs, bridges, users and replicas from tags and comments', async () => {
    const ctx = await env.reopen();
    expect(await ctx.store.stands.list()).toEqual([]);
    const r = await recover(ctx);
    expect(r).toMatchObject({ groups: ['lost'], stands: 4, vms: 12, bridges: 8, users: 4, known: 0, warnings: [] });
    expect(r.replicas).toBe(plan.replicas.length);
    const recs = await ctx.store.stands.listByGroup('lost');
    expect(recs.map((s) => s.userid)).toEqual(plan.stands.map((s) => s.userid));
    for (const s of plan.stands) {
      const rec = recs.find((x) => x.userid === s.userid)!;
      expect(rec.pool).toBe(s.pool);
      expect(rec.node).toBe(s.node);
      expect(rec.createdUser).toBe(true);
      expect(rec.vms.map((v) => [v.vmid, v.name, v.machine])).toEqual(s.vms.map((v) => [v.vmid, v.name, v.machine]));
      expect(rec.segments.map((g) => g.iface).sort()).toEqual(s.segments.map((g) => g.iface).sort());
    }
    expect((await ctx.store.groups.get('lost'))?.profile.name).toBe('netlab');
    expect((await listTemplates(ctx)).map((t) => t.vmid).sort()).toEqual(plan.replicas.map((x) => x.vmid).sort());
    // each comes back as the kind it is (per node, or one on shared storage: test/core/shared-replica.test.ts)
    const byVmid = (a: { vmid: number }, b: { vmid: number }) => a.vmid - b.vmid;
    expect((await ctx.store.replicas.list('sim')).sort(byVmid).map((x) => [x.vmid, x.node, x.shared === true, x.shared ? x.storage : undefined])).toEqual(
      [...plan.replicas].sort(byVmid).map((x) => [x.vmid, x.targetNode, x.shared === true, x.shared ? x.storage : undefined]),
    );
    // running it again finds everything known
    expect(await recover(ctx)).toMatchObject({ stands: 0, known: 4 });
  });

  it('a deploy after recovery re-plans the same objects and creates nothing', async () => {
    const ctx = await env.reopen();
    env.sim.stats.reset();
    const plan2 = await planDeploy(ctx, { profile: await netlabProfile(), users: users(4), group: 'lost' });
    expect(plan2.stands.flatMap((s) => s.vms.map((v) => v.vmid))).toEqual(plan.stands.flatMap((s) => s.vms.map((v) => v.vmid)));
    const r = await runDeploy(ctx, plan2);
    expect(r.status).toBe('succeeded');
    expect(r.created).toMatchObject({ users: 0, pools: 0, vms: 0, bridges: 0, replicas: 0 });
    expect(Object.keys(env.sim.stats.byRoute).filter((k) => !k.startsWith('GET'))).toEqual([]);
  });

  it('password reset: only for users we created', async () => {
    const ctx = await env.reopen();
    const u = plan.stands[0]!.userid;
    const before = env.sim.state.users.get(u)!.password;
    const r = await setPassword(ctx, u);
    expect(r.password).toMatch(/^[A-Za-z].{15}$/);
    expect(env.sim.state.users.get(u)!.password).not.toBe(before);
    await expect(setPassword(ctx, 'alice@pve')).rejects.toThrow('refusing to change the password of alice@pve: it was not created by pve-stands');
    await expect(setPassword(ctx, 'root@pam')).rejects.toThrow('refusing to change the password of root@pam');
  });

  it('cleanup after recovery removes everything of ours and nothing else', async () => {
    const ctx = await env.reopen();
    const res = await runCleanup(ctx, await planCleanup(ctx, { group: 'lost' }));
    expect(res.status).toBe('succeeded');
    expect(leftovers(env)).toEqual([]);
    expect(foreignSnapshot(env.sim)).toEqual(foreignBefore);
  });
});
