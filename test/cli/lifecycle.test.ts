import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { lastJson, runCli } from './run-cli.js';
import { oursOnCluster, simConnectionsYaml, startSimEnv, type SimEnv } from './sim-env.js';

const GROUP = 'life';

describe('after a deploy: status, reset/stop/start, expire, templates, password, recover, cleanup', () => {
  let env: SimEnv;
  const vmStates = (): string[] =>
    oursOnCluster(env.sim)
      .vms.sort((a, b) => a - b)
      .map((id) => env.sim.state.vms.get(id)!.status);

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
    const users = path.join(env.dir, 'two.txt');
    await writeFile(users, 'anna\nboris\n');
    const r = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--group', GROUP, '--lease', '1s', '--start', '--yes']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('status prints nodes, the group and each stand with VM states and console links', async () => {
    const r = await runCli([...env.globals, 'status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Cluster sim at /);
    expect(r.stdout).toMatch(/^pve1 {2,}online {2,}/m);
    expect(r.stdout).toMatch(/^life {2,}basic {2,}2 \(2 ready\) {2,}2\/2$/m);
    expect(r.stdout).toMatch(/^anna@pve {2,}pve\d {2,}\d+ {2,}ready, 1 running {2,}https:/m);
    expect(r.stdout).toContain(`${env.sim.url}/#v1:0:=qemu%2F`);
    const json = lastJson<{ nodes: { node: string }[]; stands: { userid: string }[] }>(
      (await runCli([...env.globals, 'status', '--json'])).stdout,
    );
    expect(json.nodes.map((n) => n.node)).toEqual(['pve1', 'pve2', 'pve3']);
    expect(json.stands.map((s) => s.userid)).toEqual(['anna@pve', 'boris@pve']);
  });

  it('stop and reset ask first (exit 2 without --yes off a terminal); start does not', async () => {
    const refused = await runCli([...env.globals, 'stop', '--group', GROUP]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Stop the VMs: every stand of group life: confirmation needed');
    expect(vmStates()).toEqual(['running', 'running']);

    const no = await runCli([...env.globals, 'stop', '--group', GROUP], { interactive: true, stdin: 'n\n' });
    expect(no.code).toBe(2);
    expect(no.stderr).toContain('Stop the VMs: every stand of group life? [y/N] ');
    expect(no.stderr).toContain('error: cancelled: nothing was done');
    expect(vmStates()).toEqual(['running', 'running']);

    const stop = await runCli([...env.globals, 'stop', '--group', GROUP, '--user', 'anna@pve'], { interactive: true, stdin: 'y\n' });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('stop life: succeeded');
    expect(vmStates().sort()).toEqual(['running', 'stopped']);

    const start = await runCli([...env.globals, 'start', '--group', GROUP, '--json']);
    expect(start.code, start.stderr).toBe(0);
    expect(lastJson(start.stdout)).toMatchObject({ action: 'start', group: GROUP, status: 'succeeded' });
    expect(vmStates()).toEqual(['running', 'running']);

    // `reset` is the old name of `rollback`: the same command
    const reset = await runCli([...env.globals, 'reset', '--group', GROUP, '--yes']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('rollback life: succeeded');
    const rollback = await runCli([...env.globals, 'rollback', '--group', GROUP, '--user', 'anna@pve', '--json', '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(lastJson(rollback.stdout)).toMatchObject({ action: 'reset', group: GROUP, status: 'succeeded' });
  });

  it('shutdown asks first, checks --timeout, and powers the VMs off through the ACPI shutdown', async () => {
    expect(vmStates()).toEqual(['running', 'running']);
    const refused = await runCli([...env.globals, 'shutdown', '--group', GROUP]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Shut the VMs down (ACPI; stopped if still running after the timeout): every stand of group life: confirmation needed');
    const bad = await runCli([...env.globals, 'shutdown', '--group', GROUP, '--timeout', 'soon', '--yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout soon: expected a duration such as 90s or 2m');
    const before = env.sim.stats.byRoute['POST /nodes/{node}/qemu/{vmid}/status/shutdown'] ?? 0;
    const shut = await runCli([...env.globals, 'shutdown', '--group', GROUP, '--timeout', '30s', '--yes']);
    expect(shut.code, shut.stderr).toBe(0);
    expect(shut.stdout).toContain('shutdown life: succeeded');
    expect(vmStates()).toEqual(['stopped', 'stopped']);
    expect((env.sim.stats.byRoute['POST /nodes/{node}/qemu/{vmid}/status/shutdown'] ?? 0) - before).toBe(2);
    expect((await runCli([...env.globals, 'start', '--group', GROUP])).code).toBe(0);
  });

  it('expire stops the stands whose lease ended, once', async () => {
    const r = await runCli([...env.globals, 'expire', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = lastJson<{ stands: { userid: string; outcome: string }[] }>(r.stdout);
    expect(res.stands.map((s) => [s.userid, s.outcome])).toEqual([
      ['anna@pve', 'stopped'],
      ['boris@pve', 'stopped'],
    ]);
    expect(vmStates()).toEqual(['stopped', 'stopped']);
    const again = await runCli([...env.globals, 'expire']);
    expect(again.stdout).toBe('no lease has ended\n');
  });

  it('a lock whose holder cannot be proven dead (it may run on another host): the next command waits for it to expire, then runs', async () => {
    const store = await openStore(env.statePath);
    const ghost = await store.tryAcquireGroupLock(GROUP, 'job:ghost', 1_500);
    await store.close();
    expect(ghost).toBeDefined();
    const r = await runCli([...env.globals, 'start', '--group', GROUP]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^group life is locked by job:ghost until \S+; waiting [12] s in case that process is gone/m);
    expect(vmStates()).toEqual(['running', 'running']);
  });

  it('templates lists the replicas our deploys made', async () => {
    const r = await runCli([...env.globals, 'templates', '--json']);
    expect(r.code).toBe(0);
    expect(lastJson(r.stdout)).toHaveProperty('templates');
  });

  it('password needs ticket auth: a clear refusal with a token only, a new password with user+password', async () => {
    const tokenOnly = await runCli([...env.globals, 'password', '--user', 'anna@pve']);
    expect(tokenOnly.code).toBe(2);
    expect(tokenOnly.stderr).toContain('Proxmox VE refuses password changes made with an API token');

    const foreign = await runCli([...env.globals, 'password', '--user', 'alice@pve']);
    expect(foreign.code).toBe(2);

    await writeFile(
      path.join(env.configDir, 'connections.yml'),
      simConnectionsYaml(env.sim).replace('    tls:', `    user: root@pam\n    password: "${env.sim.password}"\n    tls:`),
    );
    const ok = await runCli([...env.globals, 'password', '--user', 'anna@pve', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const { password } = lastJson<{ password: string }>(ok.stdout);
    expect(password).toMatch(/^\S{16}$/);
    expect(env.sim.state.users.get('anna@pve')?.password).toBe(password);
    await writeFile(path.join(env.configDir, 'connections.yml'), simConnectionsYaml(env.sim));
  });

  it('recover rebuilds a lost state file from the cluster; cleanup then removes everything of ours', async () => {
    await rm(env.statePath, { force: true });
    const empty = await runCli([...env.globals, 'list']);
    expect(empty.stdout).toBe(`no groups in ${env.statePath}\n`);

    const r = await runCli([...env.globals, 'recover']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^recovered from sim into .*: 2 stands in 1 group \(life\), 2 VMs/);
    const list = await runCli([...env.globals, 'list']);
    expect(list.stdout).toMatch(/^life {2,}sim {2,}\S+ {2,}2 /m);

    const cleanup = await runCli([...env.globals, 'cleanup', '--group', GROUP, '--yes']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(oursOnCluster(env.sim)).toEqual({ vms: [], bridges: [] });
    expect([...env.sim.state.users.keys()].sort()).toEqual(['alice@pve', 'root@pam']);
  });
});
