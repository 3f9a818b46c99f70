import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/config/settings.js';
import { runDeploy, type DeployResult } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { DeployPlan, EngineEvent } from '../../src/core/types.js';
import { foreignSnapshot, netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('runDeploy: 10 students of data/profiles/netlab.yml on the 3-node default cluster', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let result: DeployResult;
  let foreignBefore: unknown;
  const events: EngineEvent[] = [];

  beforeAll(async () => {
    // the balanced strategy alone (no time-aware moves): this class is meant to need replicas on pve2
    env = await startRunEnv({ settings: { placement: { ...defaultSettings().placement, timeAware: false } } });
    foreignBefore = foreignSnapshot(env.sim);
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(10), group: 'net1', start: true });
    result = await runDeploy(env.ctx, plan, { onEvent: (e) => events.push(e) });
  });
  afterAll(async () => env?.close());

  it('finishes every stand', () => {
    expect(result.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(
      plan.stands.map((s) => `${s.userid}:ready:`),
    );
    expect(result.status).toBe('succeeded');
  });

  it('creates exactly the users, pools and ACLs of the plan, and shows each new password once', () => {
    const st = env.sim.state;
    for (const s of plan.stands) {
      expect(st.users.get(s.userid)?.comment).toBe('stands: created for net1');
      expect(st.pools.get(s.pool)?.comment).toBe(`stands:net1:${s.userid} profile=netlab`);
      expect(st.acl.filter((a) => a.path === `/pool/${s.pool}`)).toEqual([
        expect.objectContaining({ ugid: s.userid, roleid: 'PVEVMUser', type: 'user' }),
      ]);
    }
    expect(result.credentials.map((c) => c.userid).sort()).toEqual(plan.stands.map((s) => s.userid).sort());
    for (const c of result.credentials) expect(c.password).toMatch(/^[A-Za-z].{15}$/);
    expect(result.created).toMatchObject({ users: 10, pools: 10, acls: 10, vms: 30 });
  });

  it('clones every VM from the right template into the pool, with exactly the profile NICs, tags, resources and a start snapshot', () => {
    const st = env.sim.state;
    for (const s of plan.stands) {
      for (const vm of s.vms) {
        const live = st.vms.get(vm.vmid);
        expect(live, `VM ${vm.vmid}`).toBeDefined();
        expect(live!.node).toBe(vm.node);
        expect(live!.pool).toBe(s.pool);
        expect(live!.config.name).toBe(vm.name);
        expect(String(live!.config.tags)).toBe('stands;stands-net1');
        const nets = Object.keys(live!.config).filter((k) => /^net\d+$/.test(k)).sort();
        expect(nets).toEqual(vm.nets.map((n) => `net${n.index}`).sort());
        for (const n of vm.nets) {
          const bridge = /bridge=([^,]+)/.exec(n.value)?.[1];
          expect(String(live!.config[`net${n.index}`])).toContain(`bridge=${bridge}`);
        }
        if (vm.cores !== undefined) expect(Number(live!.config.cores)).toBe(vm.cores);
        if (vm.memory !== undefined) expect(String(live!.config.memory)).toBe(String(vm.memory));
        expect(live!.snapshots.map((x) => x.name)).toContain('start');
      }
    }
  });

  it('writes each VM\'s config as a qmconfig task (POST), so no pvedaemon worker is held for the write', () => {
    const vms = plan.stands.reduce((n, s) => n + s.vms.length, 0);
    expect(env.sim.stats.byRoute['POST /nodes/{node}/qemu/{vmid}/config']).toBe(vms);
    expect(env.sim.stats.byRoute['PUT /nodes/{node}/qemu/{vmid}/config'] ?? 0).toBe(0);
  });

  it('puts each stand on its own active bridges, none shared between stands, and leaves pve3 (alice\'s pending edit) out', () => {
    const seen = new Map<string, string>();
    for (const s of plan.stands) {
      expect(s.node).not.toBe('pve3');
      for (const g of s.segments) {
        const key = `${g.node}/${g.iface}`;
        expect(seen.has(key), `${key} shared by ${seen.get(key)} and ${s.userid}`).toBe(false);
        seen.set(key, s.userid);
        const net = env.sim.state.network.get(g.node!)!;
        expect(net.current.get(g.iface)?.autostart).toBe(true);
        expect(net.active.has(g.iface)).toBe(true);
        expect(net.pending).toBeNull();
      }
    }
    expect(plan.excluded.map((e) => e.node)).toContain('pve3');
    expect(env.sim.state.network.get('pve3')!.pending?.has('vmbr99')).toBe(true);
  });

  it('balances stands over pve1 and pve2 and replicates templates where needed', () => {
    const per = new Map<string, number>();
    for (const s of plan.stands) per.set(s.node, (per.get(s.node) ?? 0) + 1);
    expect(per.get('pve1')).toBeGreaterThan(0);
    expect(per.get('pve2')).toBeGreaterThan(0);
    for (const r of plan.replicas) {
      const live = env.sim.state.vms.get(r.vmid);
      expect(live?.node).toBe(r.targetNode);
      expect(live?.config.template).toBeTruthy();
    }
  });

  it('starts the stands\' VMs', () => {
    for (const s of plan.stands) {
      expect(s.vms.some((vm) => env.sim.state.vms.get(vm.vmid)?.status === 'running')).toBe(true);
    }
  });

  it('emits the job lifecycle with per-stand results and progress to the total', () => {
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('planned');
    expect(types).toContain('job-started');
    expect(types.at(-1)).toBe('job-finished');
    expect(events.filter((e) => e.type === 'stand-done').length).toBe(10);
    const last = events.filter((e) => e.type === 'progress').at(-1)!;
    expect(last.done).toBe(last.total);
  });

  it('records the stands and job in the store, without passwords', async () => {
    const recs = await env.ctx.store.stands.listByGroup('net1');
    expect(recs.map((r) => r.status)).toEqual(Array(10).fill('ready'));
    expect(recs.every((r) => r.createdUser && r.vms.every((v) => v.status === 'ready'))).toBe(true);
    const job = await env.ctx.store.jobs.get(result.job);
    expect(job?.status).toBe('succeeded');
    expect(JSON.stringify(job)).not.toMatch(/password/i);
  });

  it('a second run creates nothing and writes nothing (MACs stay)', async () => {
    const macsBefore = plan.stands.flatMap((s) => s.vms.map((vm) => String(env.sim.state.vms.get(vm.vmid)!.config.net0)));
    env.sim.stats.reset();
    const plan2 = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(10), group: 'net1', start: true });
    const again = await runDeploy(env.ctx, plan2);
    expect(again.status).toBe('succeeded');
    expect(again.created).toMatchObject({ users: 0, pools: 0, acls: 0, vms: 0, bridges: 0, replicas: 0, networkApplies: 0 });
    const writes = Object.entries(env.sim.stats.byRoute).filter(([route]) => !route.startsWith('GET'));
    expect(writes).toEqual([]);
    const macsAfter = plan2.stands.flatMap((s) => s.vms.map((vm) => String(env.sim.state.vms.get(vm.vmid)!.config.net0)));
    expect(macsAfter).toEqual(macsBefore);
    expect(again.credentials).toEqual([]);
    // the first run ended and showed every password: nothing to warn about
    expect(again.warnings.filter((w) => w.includes('interrupted run'))).toEqual([]);
  });

  it('after a run that never ended (killed: its job still "running"), says which passwords were never shown', async () => {
    await env.ctx.store.jobs.update(result.job, { status: 'running' });
    const plan3 = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(10), group: 'net1', start: true });
    const again = await runDeploy(env.ctx, plan3);
    expect(again.status).toBe('succeeded');
    expect(again.credentials).toEqual([]);
    const lost = again.warnings.filter((w) => w.includes('interrupted run'));
    expect(lost).toHaveLength(10);
    const first = plan3.stands[0]!.userid;
    expect(lost).toContain(
      `${first} was created by an interrupted run, so its password was never shown: set a new one with \`stands password --user ${first}\``,
    );
    expect(again.stands.every((x) => x.createdUser)).toBe(true);
  });

  it('never touched anything that was not ours', () => {
    expect(foreignSnapshot(env.sim)).toEqual(foreignBefore);
  });
});
