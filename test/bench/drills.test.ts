/**
 * Fast fault drills (issue 7): the full set runs in `npm run drills` (20 seeds each); here a few seeds of the
 * cheap ones at a small time scale, plus proof that the end-state checker catches what it must.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkInvariants, snapshotPreexisting } from '../../bench/invariants.js';
import { runDrill } from '../../bench/drills-lib.js';
import { startSimulator, type RunningSimulator } from '../../src/sim/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FAST = { timeScale: 0.01, users: 2 };

describe('fault drills end in a correct state', () => {
  it('survives 10% task-start failures: every stand ready or cleanly failed, nothing leaked, re-run converges', async () => {
    // deterministic here (the 20-seed probabilistic version is `npm run drills`): forks 3–5 fail to start a worker
    const faults = [{ kind: 'task-start-failure' as const, method: '*' as const, path: '**', skip: 2, times: 3 }];
    const r = await runDrill('task-start-failures', 3, { ...FAST, faults });
    expect(r.clientRetries).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.rerunViolations).toEqual([]);
    expect(r.converged).toBe(true);
  });

  it('survives 596 timeouts, half of them after the write was done', async () => {
    // deterministic: two writes time out before they are done, two after (their replies lost)
    const faults = [
      { kind: 'timeout' as const, method: 'POST' as const, path: '**', when: 'before' as const, skip: 2, times: 2 },
      { kind: 'timeout' as const, method: 'POST' as const, path: '**', when: 'after' as const, skip: 6, times: 2 },
    ];
    const r = await runDrill('timeouts-596', 4, { ...FAST, faults });
    expect(r.clientRetries).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.rerunViolations).toEqual([]);
    expect(r.converged).toBe(true);
  });

  it('survives clone failures', async () => {
    // deterministic: the 2nd and 3rd clone tasks fail with the allocation error
    const faults = [{ kind: 'clone-failure' as const, method: 'POST' as const, path: '/nodes/*/qemu/*/clone', skip: 1, times: 2 }];
    const r = await runDrill('clone-failures', 5, { ...FAST, faults });
    expect(r.engineRetries).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.converged).toBe(true);
  });
});

describe('checkInvariants', () => {
  let sim: RunningSimulator | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await sim?.stop();
  });

  it('reports an orphaned VM, a touched pre-existing VM and pool, an applied foreign edit, and a missing stand', async () => {
    sim = await startSimulator({ timeScale: 0.01 });
    store = await openStore(join(mkdtempSync(join(tmpdir(), 'inv-')), 'state.sqlite'));
    const pre = snapshotPreexisting(sim.state);
    const clean = await checkInvariants(sim.state, store, pre, { group: 'g' });
    expect(clean.violations).toEqual([]);

    const { state } = sim;
    // an unrecorded VM appears, someone's VM is reconfigured and leaves its pool, alice's pending bridge is applied
    state.addVm({ vmid: 4242, node: 'pve1', config: { name: 'ghost', tags: 'stands' }, status: 'stopped', snapshots: [] });
    state.vms.get(100)!.config.memory = '8192';
    state.setPool(101, undefined);
    state.applyNetwork('pve3');
    const dirty = await checkInvariants(state, store, pre, { group: 'g', expectedUsers: ['stud01@pve'] });
    expect(dirty.ok).toBe(false);
    expect(dirty.violations).toEqual(
      expect.arrayContaining([
        'pre-existing VM 100 was modified',
        'pre-existing VM 101 was modified',
        'pre-existing pool prod was modified (members or comment)',
        "someone else's pending edit pve3/vmbr99 was applied, reverted or changed",
        'orphaned VM 4242 (ghost) on pve1: not recorded in the store',
        'no stand record for stud01@pve',
      ]),
    );
  });
});
