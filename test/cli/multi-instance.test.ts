/**
 * Several `stands` processes on one shared state server (PostgreSQL, Redis) and one simulated cluster:
 * - two groups deployed at once get disjoint VMIDs, bridges and pools, and both succeed;
 * - the same group twice: the second is refused, naming the holder; once the holder is SIGKILLed (posing as a
 *   process on another host, so only its lock's TTL can free the group), the next run proceeds after the TTL;
 * - `stands state copy` moves a SQLite state to the server and back, verified, and refuses a non-empty target.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { freshLocation, serverStatus, type BackendName, type Location } from '../support/state-servers.js';
import { lastJson, runCli } from './run-cli.js';
import { oursOnCluster, REPO, startSimEnv, type SimEnv } from './sim-env.js';

const statuses = await Promise.all((['postgres', 'redis'] as BackendName[]).map((n) => serverStatus(n)));

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(argv: string[], env: NodeJS.ProcessEnv = {}): { kill(): void; done: Promise<Child> } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/stands.js'), ...argv], {
    cwd: REPO,
    env: { ...process.env, STANDS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    kill: () => child.kill('SIGKILL'),
    done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))),
  };
}

type DeployJson = { status: string; job: string; stands: { userid: string; vms: { vmid: number }[] }[] };

for (const st of statuses) {
  describe.skipIf(!st.up)(`several instances on one ${st.name} state${st.up ? '' : ` (${st.why})`}`, () => {
    let env: SimEnv;
    let loc: Location;
    let globals: string[];
    beforeAll(async () => {
      env = await startSimEnv({ timeScale: 0.02 });
      loc = freshLocation(st.name);
      globals = ['--config', env.configDir, '--state', loc.url];
    });
    afterAll(async () => {
      await env?.close();
      await loc?.drop();
    });

    it('two groups deployed at once by two processes get disjoint VMIDs and bridges, and both succeed', async () => {
      const files = await Promise.all(
        ['ga', 'gb'].map(async (g) => {
          const f = path.join(env.dir, `${g}.txt`);
          await writeFile(f, [1, 2, 3].map((i) => `${g}${i}`).join('\n'));
          return f;
        }),
      );
      const runs = await Promise.all(
        ['ga', 'gb'].map((g, i) => start([...globals, 'deploy', '--profile', 'netlab', '--users', files[i]!, '--group', g, '--yes', '--json']).done),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const results = runs.map((r) => lastJson<DeployJson>(r.stdout));
      expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      const vmids = results.flatMap((r) => r.stands.flatMap((s) => s.vms.map((v) => v.vmid)));
      expect(vmids).toHaveLength(18);
      expect(new Set(vmids).size).toBe(18);
      const ours = oursOnCluster(env.sim);
      expect(ours.vms.sort()).toEqual([...vmids].sort());
      // two segments per stand, each its own bridge, nothing left pending
      expect(ours.bridges).toHaveLength(12);
      expect(new Set(ours.bridges).size).toBe(12);
      const store = await openStore(loc.url);
      try {
        for (const g of ['ga', 'gb']) {
          const stands = await store.stands.listByGroup(g);
          expect(stands.map((s) => s.status)).toEqual(['ready', 'ready', 'ready']);
          for (const s of stands) for (const seg of s.segments) expect(ours.bridges).toContain(`${seg.node}/${seg.iface}`);
        }
        // finished runs hand their ids over to the journal and the stand records
        expect(await store.reservations.list('sim')).toEqual([]);
      } finally {
        await store.close();
      }
    }, 300_000);

    it('the same group twice: refused naming the holder; after the holder is SIGKILLed, the next run proceeds once its lock expires', async () => {
      const users = path.join(env.dir, 'same.txt');
      await writeFile(users, 'sa1\nsa2\n');
      const argv = [...globals, 'deploy', '--profile', 'basic', '--users', users, '--group', 'same', '--yes', '--json'];
      const shortTtl = { STANDS_LOCK_TTL_MS: '3000' };
      // clones take long (20 s of real time each) so the first run is surely still running when the others come
      env.sim.faults.add({ kind: 'latency', method: 'POST', path: '/nodes/*/qemu/*/clone', latencyMs: 20_000 / 0.02 });
      const first = start(argv, { ...shortTtl, STANDS_INSTANCE_SCOPE: 'another-host' });
      const store = await openStore(loc.url);
      try {
        const end = Date.now() + 120_000;
        let holder: string | undefined;
        while (!(holder = (await store.lockInfo('same'))?.holder)) {
          if (Date.now() > end) throw new Error('timed out waiting for the first run to take the group lock');
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(holder).toMatch(/^job:deploy-/);
        const second = await start(argv, shortTtl).done;
        expect(second.code, second.stderr).toBe(2);
        expect(second.stderr).toContain(`group same is busy: ${holder} is running a job on it`);

        first.kill();
        expect((await first.done).signal).toBe('SIGKILL');
        env.sim.faults.clear();
        // its lock is still there (a holder on "another host" cannot be checked): only its TTL frees it
        expect((await store.lockInfo('same'))?.holder).toBe(holder);
        // (the next run waits for the expiry when it comes earlier; here planning may already outlast 3 s)
        const third = await start(argv, shortTtl).done;
        expect(third.code, third.stderr).toBe(0);
        expect(lastJson<DeployJson>(third.stdout).status).toBe('succeeded');
        expect((await store.stands.listByGroup('same')).map((s) => s.status)).toEqual(['ready', 'ready']);
      } finally {
        env.sim.faults.clear();
        await store.close();
      }
    }, 300_000);

    it('`stands state copy` moves a SQLite state to the server and back, verified; refuses a non-empty target', async () => {
      const target = freshLocation(st.name);
      const back = path.join(env.dir, 'back.sqlite');
      try {
        // the state the first tests built on the server: copy it to a file, then the file to a fresh namespace
        const toFile = await runCli(['state', 'copy', '--from', loc.url, '--to', back, '--json']);
        expect(toFile.code, toFile.stderr).toBe(0);
        const r1 = lastJson<{ records: number; collections: Record<string, number> }>(toFile.stdout);
        expect(r1.collections.stand).toBe(8);
        const toServer = await runCli(['state', 'copy', '--from', back, '--to', target.url]);
        expect(toServer.code, toServer.stderr).toBe(0);
        expect(toServer.stdout).toContain(`copied ${r1.records} record(s)`);
        const a = await openStore(loc.url);
        const b = await openStore(target.url);
        try {
          expect(await b.stands.list()).toEqual(await a.stands.list());
          expect(await b.journal.list()).toEqual(await a.journal.list());
          expect(await b.jobs.list()).toEqual(await a.jobs.list());
          expect(await b.audit.list()).toEqual(await a.audit.list());
        } finally {
          await a.close();
          await b.close();
        }
        const again = await runCli(['state', 'copy', '--from', back, '--to', target.url]);
        expect(again.code).toBe(2);
        expect(again.stderr).toContain('already holds records; copy into an empty state only');
        // the copy serves the CLI as the original did
        const list = await runCli(['--config', env.configDir, '--state', target.url, 'list', '--json']);
        expect(list.code, list.stderr).toBe(0);
        expect(lastJson<{ groups: { name: string }[] }>(list.stdout).groups.map((g) => g.name).sort()).toEqual(['ga', 'gb', 'same']);
      } finally {
        await target.drop();
      }
    }, 120_000);
  });
}
