import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, runCli } from './run-cli.js';
import { clusterSnapshot, oursOnCluster, startSimEnv, type SimEnv } from './sim-env.js';

interface DeployJson {
  status: string;
  group: string;
  ready: number;
  failed: number;
  stands: { userid: string; status: string; vms: { vmid: number }[] }[];
  credentials: { userid: string; password?: string }[];
}

describe('stands deploy / cleanup against the simulator', () => {
  let env: SimEnv;
  let users: string;

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
    users = path.join(env.dir, 'class.txt');
    await writeFile(users, '# three students\nalpha\nbeta@pve\nиванов.пётр\n');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('--dry-run prints the plan table and creates nothing', async () => {
    const before = clusterSnapshot(env.sim);
    const r = await runCli([...env.globals, 'deploy', '--profile', 'netlab', '--users', users, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('group netlab-class on sim: 3 stands, 9 VMs (linked clones), profile netlab');
    expect(r.stdout).toMatch(/^alpha@pve {2,}pve\d/m);
    expect(r.stdout).toContain('pve3: pending network edits by someone else (vmbr99)');
    expect(r.stdout).toContain('Dry run: nothing was created.');
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('without --yes and without a terminal it refuses (exit 2) and creates nothing', async () => {
    const before = clusterSnapshot(env.sim);
    const r = await runCli([...env.globals, 'deploy', '--profile', 'netlab', '--users', users]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('this is not a terminal — nothing was done; re-run with --yes');
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('--yes --json deploys every stand and stdout ends with one JSON object (passwords shown once)', async () => {
    const r = await runCli([...env.globals, 'deploy', '--profile', 'netlab', '--users', users, '--yes', '--json']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const res = lastJson<DeployJson>(r.stdout);
    expect(res).toMatchObject({ status: 'succeeded', group: 'netlab-class', ready: 3, failed: 0 });
    expect(res.stands.map((s) => s.userid).sort()).toEqual(['alpha@pve', 'beta@pve', 'иванов.пётр@pve']);
    expect(res.credentials).toHaveLength(3);
    for (const c of res.credentials) expect(c.password).toMatch(/^\S{16}$/);
    // the plan went to stderr, so stdout is only the result object
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(oursOnCluster(env.sim).vms).toHaveLength(9);
    // progress lines are plain and timestamped when not on a terminal
    expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d job deploy-\S+ started/m);
    // passwords never reach the log stream (stderr)
    for (const c of res.credentials) expect(r.stderr).not.toContain(c.password!);
  });

  it('running the same deploy again creates nothing and prints no passwords', async () => {
    const before = clusterSnapshot(env.sim);
    const r = await runCli([...env.globals, 'deploy', '--profile', 'netlab', '--users', users, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('succeeded: 3 ready, 0 failed');
    expect(r.stdout).not.toContain('New users');
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('list and status show the group', async () => {
    const list = await runCli([...env.globals, 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.stringify(lastJson(list.stdout))).toContain('netlab-class');
    const status = await runCli([...env.globals, 'status', '--group', 'netlab-class', '--json']);
    expect(status.code).toBe(0);
    const st = JSON.stringify(lastJson(status.stdout));
    expect(st).toContain('alpha@pve');
    expect(st).toContain('pve1');
  });

  it('cleanup --dry-run lists what would go and removes nothing', async () => {
    const before = clusterSnapshot(env.sim);
    const r = await runCli([...env.globals, 'cleanup', '--group', 'netlab-class', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/alpha@pve: VMs \d+ alpha-gw/);
    expect(r.stdout).toContain('Dry run: nothing was removed.');
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('cleanup --yes leaves nothing of ours and every pre-existing object as it was', async () => {
    const r = await runCli([...env.globals, 'cleanup', '--group', 'netlab-class', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('succeeded: removed 9 VMs, 6 bridges, 0 VNets, 3 pools, 3 users');
    expect(oursOnCluster(env.sim)).toEqual({ vms: [], bridges: [] });
    const snap = clusterSnapshot(env.sim) as { vms: { vmid: number }[]; pools: { poolid: string }[]; users: string[] };
    expect(snap.vms.map((v) => v.vmid)).toEqual([100, 101, 102, 9000, 9001, 9002]);
    expect(snap.pools.map((p) => p.poolid)).toEqual(['prod']);
    expect(snap.users).toEqual(['alice@pve', 'root@pam']);
    const again = await runCli([...env.globals, 'cleanup', '--group', 'netlab-class', '--yes']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('error: no group named netlab-class in the state file');
  });
});
