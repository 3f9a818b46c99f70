/**
 * Fault drills (issue 7): a deploy under one kind of trouble, then the end state is checked with
 * bench/invariants.ts — every stand ready or cleanly failed, no duplicate or orphaned VM/pool/user/bridge,
 * nothing pre-existing touched — and, after the trouble is gone, a plain re-run must converge (all stands ready).
 * Shared by `npm run drills` (20 seeds each) and test/bench/drills.test.ts (a few fast ones).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadProfile, loadUserListFile } from '../src/config/index.js';
import { createContext, type AppContext } from '../src/core/context.js';
import { runDeploy } from '../src/core/deploy.js';
import { planDeploy } from '../src/core/plan.js';
import { silentLogger } from '../src/log.js';
import { startSimulator, type FaultRuleInput } from '../src/sim/index.js';
import { openStore } from '../src/store/index.js';
import { checkInvariants, leftovers, snapshotPreexisting, type InvariantReport } from './invariants.js';
import { FOUR_VM_PROFILE, writeFixture, type Fixture } from './lib/fixture.js';
import { tmp } from './lib/harness.js';

export const DRILLS = ['task-start-failures', 'timeouts-596', 'clone-failures', 'ticket-expiry', 'node-offline', 'kill-restart'] as const;
export type DrillName = (typeof DRILLS)[number];

export interface DrillOutcome {
  drill: DrillName;
  seed: number;
  /** invariants held after the faulty run */
  ok: boolean;
  ready: number;
  failed: number;
  violations: string[];
  /** after the trouble was gone, a plain re-run made every stand ready (node-offline: every stand on online nodes) */
  converged: boolean;
  rerunViolations: string[];
  /** kill-restart: when the process was killed (real ms after start) and whether it was still running */
  killedAtMs?: number;
  atKill?: { vms: number; locked: number; pools: number; users: number };
  /** the mid-run trouble (expiry, node offline) actually happened before the run ended */
  struck?: boolean;
  /** ticket-expiry: logins the client made during the run (≥ 1 = it re-authenticated) */
  logins?: number;
  error?: string;
  rerunNote?: string;
  notes?: string[];
  /** kill-restart: what of ours (or pre-existing, changed) remained after `stands cleanup` */
  afterCleanup?: string[];
  /** proof the faults struck: the client's own retries (no worker, 596) and the engine's step retries (clones) */
  clientRetries?: number;
  engineRetries?: number;
  ms: number;
}

export interface DrillOptions {
  timeScale: number;
  users: number;
  /** do the clean re-run (default true) */
  rerun?: boolean;
  /** replace the drill's fault rules (tests use deterministic ones: `skip`/`times` instead of a probability) */
  faults?: FaultRuleInput[];
}

/** A small deterministic PRNG for drill choices (kill moment, offline node, expiry moment). */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function faultsFor(drill: DrillName): FaultRuleInput[] {
  switch (drill) {
    case 'task-start-failures':
      // every call that forks a worker may answer "got no worker upid - start worker failed"
      return [{ kind: 'task-start-failure', method: '*', path: '**', probability: 0.1 }];
    case 'timeouts-596':
      // 5% of requests time out at pveproxy; half of them after the write was done (the reply is lost)
      return [
        { kind: 'timeout', method: '*', path: '**', probability: 0.025, when: 'before' },
        { kind: 'timeout', method: '*', path: '**', probability: 0.025, when: 'after' },
      ];
    case 'clone-failures':
      return [{ kind: 'clone-failure', method: 'POST', path: '/nodes/*/qemu/*/clone', probability: 0.05 }];
    default:
      return [];
  }
}

const CLI = fileURLToPath(new URL('../bin/stands.js', import.meta.url));

/**
 * Run the CLI as a child process. With `killWhen`, the child is SIGKILLed as soon as the predicate (polled every
 * 10 ms against the in-process simulator) turns true: the moment is chosen by progress, not by the clock, so the
 * kill lands mid-deploy whatever the machine's speed.
 */
function runCli(args: string[], killWhen?: () => boolean, onKill?: () => void): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STANDS_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = killWhen === undefined ? undefined : setInterval(() => {
      if (child.exitCode !== null || !killWhen()) return;
      clearInterval(timer);
      killed = true;
      child.kill('SIGKILL');
      onKill?.();
    }, 10);
    child.on('exit', (code) => {
      if (timer) clearInterval(timer);
      resolve({ code, killed, stdout, stderr });
    });
  });
}

async function deployInProcess(ctx: AppContext, fx: Fixture, start: boolean, group: string): Promise<{ ready: number; failed: number; group: string }> {
  const profile = await loadProfile(fx.configDir, fx.profile);
  const users = await loadUserListFile(fx.usersFile);
  const plan = await planDeploy(ctx, { profile, users, start, group });
  const r = await runDeploy(ctx, plan);
  return { ready: r.ready, failed: r.failed, group: plan.group };
}

export async function runDrill(drill: DrillName, seed: number, o: DrillOptions): Promise<DrillOutcome> {
  const t0 = performance.now();
  const rand = mulberry(seed * 7919 + DRILLS.indexOf(drill));
  const sim = await startSimulator({ timeScale: o.timeScale, rngSeed: seed, faults: o.faults ?? faultsFor(drill) });
  const out: DrillOutcome = { drill, seed, ok: false, ready: 0, failed: 0, violations: [], converged: false, rerunViolations: [], ms: 0 };
  const unreachable: string[] = [];
  try {
    const fx = writeFixture({
      dir: tmp(`drill-${drill}-${seed}`),
      sim,
      profileName: 'drill',
      machines: FOUR_VM_PROFILE,
      clone: 'linked',
      users: o.users,
      ticketAuth: drill === 'ticket-expiry',
    });
    const pre = snapshotPreexisting(sim.state);
    const group = 'drill-users';
    const expectedUsers = fx.userids;
    let report: InvariantReport;

    if (drill === 'kill-restart') {
      const args = ['deploy', '--config', fx.configDir, '--state', fx.statePath, '--profile', 'drill', '--users', fx.usersFile, '--group', group, '--start', '--yes', '--json'];
      // kill once k objects of ours exist (VMs — in flight or done —, pools, users), k random over the deploy
      const ours = (): { vms: number; locked: number; pools: number; users: number } => {
        let vms = 0;
        let locked = 0;
        for (const [vmid, vm] of sim.state.vms) {
          if (pre.vms.has(vmid)) continue;
          vms++;
          if (vm.config.lock) locked++;
        }
        return { vms, locked, pools: sim.state.pools.size - pre.pools.size, users: sim.state.users.size - pre.users.size };
      };
      const total = o.users * (FOUR_VM_PROFILE.length + 2);
      const k = 1 + Math.floor(rand() * (total - 1));
      const started = performance.now();
      await runCli(args, () => {
        const n = ours();
        return n.vms + n.pools + n.users >= k;
      }, () => {
        // what of ours existed at the moment of the kill (shows where in the deploy it struck)
        out.atKill = ours();
        out.killedAtMs = Math.round(performance.now() - started);
      });
      // No waiting for the dead job's group lock: its holder's pid is gone, so the re-run's store takes the lock
      // over at once (src/store/store.ts deadOwner) — which this drill thereby also exercises.
      const second = await runCli(args);
      if (second.code !== 0 && second.code !== 1) out.error = `re-run exited ${second.code}: ${second.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      const store = await openStore(fx.statePath);
      try {
        report = await checkInvariants(sim.state, store, pre, { group, expectedUsers });
      } finally {
        await store.close();
      }
      out.ok = report.ok && !out.error;
      out.ready = report.stands.ready;
      out.failed = report.stands.failed;
      out.violations = report.violations;
      out.notes = report.notes;
      // the re-run was the recovery itself: converged means every stand ready
      out.converged = report.stands.ready === expectedUsers.length;
      // and the killed run left nothing cleanup cannot find: after `stands cleanup` nothing of ours remains
      const clean = await runCli(['cleanup', '--config', fx.configDir, '--state', fx.statePath, '--group', group, '--yes', '--json']);
      const store2 = await openStore(fx.statePath);
      try {
        out.afterCleanup = await leftovers(sim.state, store2, pre);
      } finally {
        await store2.close();
      }
      if (clean.code !== 0) out.afterCleanup.push(`cleanup exited ${clean.code}: ${clean.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      out.ok = out.ok && out.afterCleanup.length === 0;
      return out;
    }

    const ctx = await createContext({ configDir: fx.configDir, statePath: fx.statePath, logger: silentLogger(), clientOptions: { timeScale: o.timeScale } });
    try {
      const profile = await loadProfile(fx.configDir, fx.profile);
      const users = await loadUserListFile(fx.usersFile);
      const plan = await planDeploy(ctx, { profile, users, start: true, group });
      // the trouble strikes after a random number of finished steps: mid-deploy by construction
      const strikeAt = 5 + Math.floor(rand() * 40);
      let finished = 0;
      let strike: (() => void) | undefined;
      if (drill === 'ticket-expiry') {
        // jump the server's clock past the 2 h ticket lifetime
        strike = () => sim.clock.advance(2 * 3600_000 + 60_000);
      }
      if (drill === 'node-offline') {
        const used = [...new Set(plan.stands.map((s) => s.node))].sort();
        const node = used[Math.floor(rand() * used.length)]!;
        unreachable.push(node);
        strike = () => sim.faults.add({ kind: 'node-offline', node });
      }
      let threw = false;
      const loginsBefore = ctx.client().stats.logins;
      try {
        await runDeploy(ctx, plan, {
          onEvent: (e) => {
            if (e.type === 'retry') out.engineRetries = (out.engineRetries ?? 0) + 1;
            if (e.type !== 'step-finished' || !strike) return;
            if (++finished === strikeAt) {
              strike();
              strike = undefined;
            }
          },
        });
      } catch (e) {
        threw = true;
        out.error = `runDeploy threw: ${(e as Error).message.split('\n')[0]}`;
      }
      out.struck = strike === undefined;
      out.clientRetries = ctx.client().stats.retries;
      if (drill === 'ticket-expiry') out.logins = ctx.client().stats.logins - loginsBefore;
      // a node going away may fail the whole job; that is clean only if nothing of ours is left unrecorded
      const cleanJobFailure = threw && drill === 'node-offline';
      report = await checkInvariants(sim.state, ctx.store, pre, {
        group,
        ...(cleanJobFailure ? {} : { expectedUsers }),
        unreachableNodes: unreachable,
      });
      out.ok = report.ok && (!threw || cleanJobFailure);
      out.ready = report.stands.ready;
      out.failed = report.stands.failed;
      out.violations = report.violations;
      out.notes = report.notes;

      if (o.rerun ?? true) {
        sim.faults.clear();
        try {
          await deployInProcess(ctx, fx, true, group);
        } catch (e) {
          // with a node still offline a refused plan (its template gone with it) is the right answer
          const msg = `re-run threw: ${(e as Error).message.split('\n')[0]}`;
          if (unreachable.length) out.rerunNote = msg;
          else out.rerunViolations.push(msg);
        }
        const again = await checkInvariants(sim.state, ctx.store, pre, { group, expectedUsers, unreachableNodes: unreachable });
        out.rerunViolations.push(...again.violations);
        // with a node still offline, convergence = a correct state again (its stands failed or refused at plan time)
        out.converged = again.ok && (unreachable.length ? true : again.stands.ready === expectedUsers.length);
      }
    } finally {
      await ctx.close();
    }
    return out;
  } catch (e) {
    out.error = (e as Error).message.split('\n')[0];
    return out;
  } finally {
    out.ms = performance.now() - t0;
    await sim.stop();
  }
}
