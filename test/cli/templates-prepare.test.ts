/**
 * `stands templates --prepare` (issue 14): makes every replica a deploy of the profile would need, with progress
 * lines; a second run makes nothing and changes nothing on the cluster; a deploy afterwards makes no replica and
 * says so in its plan. Real CLI, real simulator over HTTPS, real SQLite state.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, runCli } from './run-cli.js';
import { clusterSnapshot, startSimEnv, type SimEnv } from './sim-env.js';

interface PrepareJson {
  made: number;
  present: number;
  failed: number;
  items: { status: string; replica: { vmid: number; name: string; sourceVmid: number; targetNode: string } }[];
}

describe('stands templates --prepare', () => {
  let env: SimEnv;
  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
  });
  afterAll(async () => env?.close());

  it('makes the replicas of netlab (templates 9000/9001 on pve1) on pve2 and pve3, with a progress line each', async () => {
    const r = await runCli([...env.globals, 'templates', '--prepare', '--profile', 'netlab', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout) as PrepareJson;
    expect(out.failed).toBe(0);
    expect(out.made).toBe(4);
    expect(out.items.map((i) => `${i.replica.sourceVmid}→${i.replica.targetNode}:${i.status}`).sort()).toEqual([
      '9000→pve2:made',
      '9000→pve3:made',
      '9001→pve2:made',
      '9001→pve3:made',
    ]);
    for (const i of out.items) {
      const vm = env.sim.state.vms.get(i.replica.vmid);
      expect(vm?.node, `replica ${i.replica.vmid}`).toBe(i.replica.targetNode);
      expect(vm?.config.template).toBeTruthy();
      expect(vm?.config.name).toBe(i.replica.name);
    }
    // progress: one line when each replica starts and one when it is done
    expect(r.stderr).toMatch(/4 template replicas needed, 0 present, 4 to make/);
    expect(r.stderr.match(/✔ tpl-900[01]-pve[23] \(\d+\) on pve[23]: made/g)).toHaveLength(4);
  });

  it('is idempotent: run again, it finds them present, makes nothing and changes nothing on the cluster', async () => {
    const before = clusterSnapshot(env.sim);
    const r = await runCli([...env.globals, 'templates', '--prepare', '--profile', 'netlab', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout) as PrepareJson;
    expect([out.made, out.present, out.failed]).toEqual([0, 4, 0]);
    expect(clusterSnapshot(env.sim)).toEqual(before);
    const text = await runCli([...env.globals, 'templates', '--prepare', '--profile', 'netlab', '--nodes', 'pve2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('0 made, 2 present, 0 failed');
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('lists the prepared replicas, and refuses an unknown node or a missing profile before touching anything', async () => {
    const list = await runCli([...env.globals, 'templates', '--json']);
    expect((lastJson(list.stdout) as { templates: unknown[] }).templates).toHaveLength(4);
    const bad = await runCli([...env.globals, 'templates', '--prepare', '--profile', 'netlab', '--nodes', 'pve9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--nodes: pve9 is not a node of cluster sim');
    const noProfile = await runCli([...env.globals, 'templates', '--prepare']);
    expect(noProfile.code).toBe(2);
    expect(noProfile.stderr).toContain('--prepare needs --profile');
  });

  it('a deploy of the profile afterwards makes no replica and says so in its plan', async () => {
    const users = path.join(env.dir, 'class.txt');
    await writeFile(users, 'anna\nboris\nvera\ngleb\n');
    const r = await runCli([...env.globals, 'deploy', '--profile', 'netlab', '--users', users, '--group', 'warm', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { plan } = lastJson(r.stdout) as { plan: { replicas: { exists: boolean }[]; estimate: { replicasToMake: number; text: string } } };
    expect(plan.replicas.every((x) => x.exists)).toBe(true);
    expect(plan.estimate.replicasToMake).toBe(0);
    if (plan.replicas.length > 0) expect(r.stderr).toMatch(/Estimated time: about \d+ s \(its \d+ template replicas? exists?: makes none/);
    else expect(r.stderr).toMatch(/Estimated time: about \d+ s/);
  });
});
