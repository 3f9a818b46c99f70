import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeploy } from '../../src/core/deploy.js';
import { expireLeases, leasesExpiringWithin, setLease } from '../../src/core/leases.js';
import { planDeploy } from '../../src/core/plan.js';
import { resetStands, shutdownStands, startStands, stopStands } from '../../src/core/power.js';
import type { DeployPlan } from '../../src/core/types.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

describe('power and leases', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  const vmState = (vmid: number): string | undefined => env.sim.state.vms.get(vmid)?.status;

  beforeAll(async () => {
    env = await startRunEnv();
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(3), group: 'pw', lease: '4h' });
    expect((await runDeploy(env.ctx, plan)).status).toBe('succeeded');
  });
  afterAll(async () => env?.close());

  it('start and stop one user\'s stand, then the whole group', async () => {
    const [a, b] = plan.stands;
    const r = await startStands(env.ctx, { group: 'pw', user: a!.userid });
    expect(r.status).toBe('succeeded');
    for (const vm of a!.vms) expect(vmState(vm.vmid)).toBe('running');
    for (const vm of b!.vms) expect(vmState(vm.vmid)).toBe('stopped');
    const all = await startStands(env.ctx, { group: 'pw' });
    expect(all.stands.find((s) => s.userid === a!.userid)!.vms.map((v) => v.outcome)).toEqual(a!.vms.map(() => 'already'));
    for (const s of plan.stands) for (const vm of s.vms) expect(vmState(vm.vmid)).toBe('running');
    const stop = await stopStands(env.ctx, { group: 'pw', user: b!.userid });
    expect(stop.status).toBe('succeeded');
    for (const vm of b!.vms) expect(vmState(vm.vmid)).toBe('stopped');
  });

  it('reset rolls back to the start snapshot and brings running VMs back up', async () => {
    const a = plan.stands[0]!;
    const vm = env.sim.state.vms.get(a.vms[1]!.vmid)!;
    const original = String(vm.config.net0);
    vm.config.net0 = 'virtio=BC:24:11:00:00:99,bridge=vmbr0';
    const r = await resetStands(env.ctx, { group: 'pw', user: a.userid });
    expect(r.status).toBe('succeeded');
    expect(String(env.sim.state.vms.get(a.vms[1]!.vmid)!.config.net0)).toBe(original);
    for (const v of a.vms) expect(vmState(v.vmid)).toBe('running');
  });

  it('refuses an unknown stand with a clear message', async () => {
    await expect(startStands(env.ctx, { group: 'pw', user: 'nobody@pve' })).rejects.toThrow('no stand of nobody@pve in group pw');
  });

  it('leases: warns within the window, stops expired stands once, and leaves the others', async () => {
    const recs = await env.ctx.store.stands.listByGroup('pw');
    expect(recs.every((r) => r.leaseExpiresAt !== undefined)).toBe(true);
    const now = Date.now();
    const [a, b] = plan.stands;
    await setLease(env.ctx, { group: 'pw', user: a!.userid }, new Date(now - 60_000).toISOString(), now);
    await setLease(env.ctx, { group: 'pw', user: b!.userid }, '30m', now);
    expect((await leasesExpiringWithin(env.ctx, 3_600_000, now)).map((s) => s.userid)).toEqual([b!.userid]);
    const r = await expireLeases(env.ctx, { now, action: 'stop' });
    expect(r.stands.map((s) => `${s.userid}:${s.outcome}`)).toEqual([`${a!.userid}:stopped`]);
    for (const vm of a!.vms) expect(vmState(vm.vmid)).toBe('stopped');
    for (const vm of plan.stands[2]!.vms) expect(vmState(vm.vmid)).toBe('running');
    // handled once: the next round does nothing for it
    expect((await expireLeases(env.ctx, { now: now + 1000, action: 'stop' })).stands).toEqual([]);
    // destroy action removes the stand entirely
    const later = now + 3_600_000;
    const d = await expireLeases(env.ctx, { now: later, action: 'destroy' });
    expect(d.stands.map((s) => `${s.userid}:${s.outcome}`)).toEqual([`${b!.userid}:removed`]);
    for (const vm of b!.vms) expect(env.sim.state.vms.has(vm.vmid)).toBe(false);
    expect(await env.ctx.store.stands.get('pw', b!.userid)).toBeUndefined();
  });

  it('shutdown: ACPI first; a guest that ignores it is stopped after the timeout (forceStop)', async () => {
    const c = plan.stands[2]!;
    for (const vm of c.vms) expect(vmState(vm.vmid)).toBe('running');
    const [deaf, ...rest] = c.vms;
    env.sim.state.vms.get(deaf!.vmid)!.ignoresAcpi = true;
    const before = { ...env.sim.stats.byRoute };
    const r = await shutdownStands(env.ctx, { group: 'pw', user: c.userid }, { shutdownTimeoutMs: 3000 });
    expect(r.status).toBe('succeeded');
    for (const vm of c.vms) expect(vmState(vm.vmid)).toBe('stopped');
    const calls = (route: string) => (env.sim.stats.byRoute[route] ?? 0) - (before[route] ?? 0);
    // the graceful path for every VM, no separate stop: PVE's forceStop ended the deaf one
    expect(calls('POST /nodes/{node}/qemu/{vmid}/status/shutdown')).toBe(c.vms.length);
    expect(calls('POST /nodes/{node}/qemu/{vmid}/status/stop')).toBe(0);
    const deafTask = [...env.sim.state.tasks.values()].filter((t) => t.type === 'qmshutdown' && t.id === String(deaf!.vmid)).at(-1)!;
    expect(deafTask.exitstatus).toBe('WARNINGS: 1');
    for (const vm of rest) {
      const t = [...env.sim.state.tasks.values()].filter((x) => x.type === 'qmshutdown' && x.id === String(vm.vmid)).at(-1)!;
      expect(t.exitstatus).toBe('OK');
    }
    // already off: nothing to do
    const again = await shutdownStands(env.ctx, { group: 'pw', user: c.userid });
    expect(again.stands[0]!.vms.map((v) => v.outcome)).toEqual(c.vms.map(() => 'already'));
  });

  it('a lease that ends shuts the stand down by default (stands.yml leases.action: shutdown)', async () => {
    expect(env.ctx.settings.leases.action).toBe('shutdown');
    const c = plan.stands[2]!;
    expect((await startStands(env.ctx, { group: 'pw', user: c.userid })).status).toBe('succeeded');
    const now = Date.now();
    await setLease(env.ctx, { group: 'pw', user: c.userid }, new Date(now - 1000).toISOString(), now);
    const before = env.sim.stats.byRoute['POST /nodes/{node}/qemu/{vmid}/status/shutdown'] ?? 0;
    const r = await expireLeases(env.ctx, { now });
    expect(r.stands.map((s) => `${s.userid}:${s.action}:${s.outcome}`)).toEqual([`${c.userid}:shutdown:stopped`]);
    expect((env.sim.stats.byRoute['POST /nodes/{node}/qemu/{vmid}/status/shutdown'] ?? 0) - before).toBe(c.vms.length);
    for (const vm of c.vms) expect(vmState(vm.vmid)).toBe('stopped');
    expect((await env.ctx.store.stands.get('pw', c.userid))!.history.at(-1)).toMatchObject({ event: 'lease-expired', message: 'shut down' });
  });
});
