import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, runCli } from './run-cli.js';
import { oursOnCluster, REPO, startSimEnv, type SimEnv } from './sim-env.js';

/** A progress line of a non-terminal run: `HH:MM:SS …` on stderr. */
const PROGRESS = /^\d\d:\d\d:\d\d /;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  progressLines: number;
  stdout: string;
  stderr: string;
}

/**
 * `node bin/stands.js deploy … --yes --json` as a real child process talking HTTPS to the simulator in this
 * process; SIGKILLed (no cleanup, no finally blocks) right after its `killAt`-th progress line.
 */
function runChild(argv: string[], killAt?: number | ((line: string) => boolean), signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildRun> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/stands.js'), ...argv], {
    cwd: REPO,
    env: { ...process.env, STANDS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  let progressLines = 0;
  let killed = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!PROGRESS.test(line)) continue;
      progressLines++;
      const hit = typeof killAt === 'function' ? killAt(line) : progressLines === killAt;
      if (hit && !killed) {
        killed = true;
        child.kill(signal);
      }
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, progressLines, stdout, stderr })),
  );
}

describe('killing `stands deploy` with SIGKILL at 10 different moments', () => {
  let env: SimEnv;
  let users: string;

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.02 });
    users = path.join(env.dir, 'kill.txt');
    await writeFile(users, 'k1\nk2\nk3\n');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('then running it again converges: every stand once, nothing duplicated or leaked, cleanup leaves nothing', async () => {
    const argv = [...env.globals, 'deploy', '--profile', 'netlab', '--users', users, '--yes', '--json'];
    const killed: (number | string)[] = [];
    const vmsAfterKill: number[] = [];
    // VMs that did not exist before: clones in flight or done, configured (tagged) or not
    const before = new Set(env.sim.state.vms.keys());
    const newVms = (): number => [...env.sim.state.vms.keys()].filter((id) => !before.has(id)).length;
    // First a kill on a state, not a line count (on a loaded machine the lines and the cluster's work drift
    // apart): at the first progress line once a clone exists. Then at progress lines: early (users/pools/bridges),
    // mid (clones in flight), late (snapshots); a re-run prints a line per step it finds done, so these land
    // wherever the work has got to.
    const kills: (number | ((line: string) => boolean))[] = [() => newVms() > 0, 1, 4, 9, 2, 15, 6, 25, 3, 12, 40];
    for (const killAt of kills) {
      const run = await runChild(argv, killAt);
      if (run.signal === 'SIGKILL') {
        killed.push(typeof killAt === 'number' ? killAt : 'first clone');
        vmsAfterKill.push(newVms());
      }
      else expect(run.code, run.stderr).toBe(0); // the deploy finished before that line: nothing left to kill
      // A killed process cannot release its group lock: the next run takes it over at once, because the
      // holder's process on this host is gone (src/store/instance.ts deadOwner: pid and start time) — no waiting out the 30 s TTL here.
    }
    expect(killed.length).toBeGreaterThanOrEqual(5);
    // the kills really landed mid-deploy: a killed run left VMs of an unfinished class behind
    expect(killed[0], 'the run killed at its first clone').toBe('first clone');
    expect(vmsAfterKill[0], `new VMs after each kill: ${vmsAfterKill.join(', ')}`).toBeGreaterThan(0);

    const final = await runChild(argv);
    expect(final.code, final.stderr).toBe(0);
    const result = lastJson<{ status: string; stands: { userid: string; vms: { vmid: number; name: string }[] }[] }>(
      final.stdout,
    );
    expect(result.status).toBe('succeeded');
    expect(result.stands.map((s) => s.userid).sort()).toEqual(['k1@pve', 'k2@pve', 'k3@pve']);

    const s = env.sim.state;
    const ours = oursOnCluster(env.sim);
    const recorded = result.stands.flatMap((x) => x.vms.map((v) => v.vmid)).sort((a, b) => a - b);
    // exactly the recorded VMs carry our tag: no orphan clone from a killed run
    expect([...ours.vms].sort((a, b) => a - b)).toEqual(recorded);
    expect(recorded).toHaveLength(9);
    const names = ours.vms.map((id) => s.vms.get(id)!.config.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...s.pools.keys()].filter((p) => p.startsWith('netlab-kill')).sort()).toEqual([
      'netlab-kill_k1',
      'netlab-kill_k2',
      'netlab-kill_k3',
    ]);
    expect([...s.users.keys()].sort()).toEqual(['alice@pve', 'k1@pve', 'k2@pve', 'k3@pve', 'root@pam']);
    // two private segments per stand, each one bridge, applied (nothing of ours left pending)
    expect(ours.bridges.filter((b) => b.endsWith('(pending)'))).toEqual([]);
    expect(ours.bridges).toHaveLength(6);

    const cleanup = await runCli([...env.globals, 'cleanup', '--group', 'netlab-kill', '--yes']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(oursOnCluster(env.sim)).toEqual({ vms: [], bridges: [] });
    expect([...s.users.keys()].sort()).toEqual(['alice@pve', 'root@pam']);
    expect([...s.pools.keys()]).toEqual(['prod']);
  }, 300_000);

  it('Ctrl+C (SIGINT) stops after the current steps, says how to finish, and `stands resume` finishes', async () => {
    const users2 = path.join(env.dir, 'int.txt');
    await writeFile(users2, 'i1\ni2\n');
    const argv = [...env.globals, 'deploy', '--profile', 'basic', '--users', users2, '--group', 'int', '--yes'];
    const run = await runChild(argv, 3, 'SIGINT');
    // 130: interrupted by Ctrl+C (src/cli/errors.ts)
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping after the current steps');
    expect(run.stdout).toContain('Interrupted: run `stands resume --group int` (or the same deploy again) to finish.');

    const resumed = await runCli([...env.globals, 'resume', '--group', 'int', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const res = lastJson<{ resumed: { status: string; ready: number }[] }>(resumed.stdout);
    expect(res.resumed.map((r) => [r.status, r.ready])).toEqual([['succeeded', 2]]);
    const nothing = await runCli([...env.globals, 'resume', '--group', 'int']);
    expect(nothing.stdout).toBe('nothing to resume: no unfinished deploy jobs in group int\n');

    const cleanup = await runCli([...env.globals, 'cleanup', '--group', 'int', '--yes']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(oursOnCluster(env.sim)).toEqual({ vms: [], bridges: [] });
  }, 120_000);

  it('Ctrl+C after users were created: the passwords printed then are not called "never shown" by resume', async () => {
    const list = path.join(env.dir, 'shown.txt');
    await writeFile(list, 's1\ns2\ns3\n');
    const argv = [...env.globals, 'deploy', '--profile', 'basic', '--users', list, '--group', 'shown', '--yes'];
    // interrupt as soon as the first user exists (its access step finished)
    const run = await runChild(argv, (line) => /@pve: access done/.test(line), 'SIGINT');
    expect(run.code, run.stderr).toBe(130);
    const printed = ['s1@pve', 's2@pve', 's3@pve'].filter((u) => new RegExp(`^\\W*${u.replace('.', '\\.')}\\W+[A-Za-z][^\\s│|]{11,}`, 'm').test(run.stdout));
    expect(run.stdout).toContain('New users (passwords are shown only now');
    expect(printed.length, run.stdout).toBeGreaterThanOrEqual(1);

    const resumed = await runCli([...env.globals, 'resume', '--group', 'shown']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).not.toContain('never shown');
    // users the interrupted run created without printing them (none here, all were printed) would be named
    expect(resumed.stdout).toMatch(/succeeded: 3 ready, 0 failed/);

    const cleanup = await runCli([...env.globals, 'cleanup', '--group', 'shown', '--yes']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
  }, 120_000);

  it('a user created by a run killed before it printed anything keeps the message with the exact command', async () => {
    const list = path.join(env.dir, 'lost.txt');
    await writeFile(list, 'l1\n');
    const argv = [...env.globals, 'deploy', '--profile', 'basic', '--users', list, '--group', 'lost', '--yes'];
    const run = await runChild(argv, (line) => /l1@pve: access done/.test(line), 'SIGKILL');
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).not.toContain('New users');
    const resumed = await runCli([...env.globals, 'resume', '--group', 'lost']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      'l1@pve was created by an interrupted run, so its password was never shown: set a new one with `stands password --user l1@pve`',
    );
    const cleanup = await runCli([...env.globals, 'cleanup', '--group', 'lost', '--yes']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
  }, 120_000);
});
