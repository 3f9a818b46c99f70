import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { clusterSnapshot, startSimEnv, type SimEnv } from './sim-env.js';

/** Bad input, bad config and refused plans: exit 2, the reason (with file:line) on stderr, the cluster untouched. */
describe('stands deploy refuses bad input with exit 2 and creates nothing', () => {
  let env: SimEnv;
  let good: string;
  let before: Record<string, unknown>;

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
    good = path.join(env.dir, 'good.txt');
    await writeFile(good, 'ok\n');
    before = clusterSnapshot(env.sim);
  });
  afterAll(async () => {
    await env?.close();
  });

  async function deploy(...args: string[]) {
    const r = await runCli([...env.globals, 'deploy', ...args, '--yes']);
    expect(clusterSnapshot(env.sim)).toEqual(before);
    expect(r.stdout).toBe('');
    return r;
  }

  it('a bad user list: every problem with its line', async () => {
    const users = path.join(env.dir, 'bad.txt');
    await writeFile(users, 'ok\nbad user@@x\na:b@pve\n');
    const r = await deploy('--profile', 'netlab', '--users', users);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: 2 problems found:\n' +
        `${users}:2: "bad user@@x": contains whitespace; more than one "@"; realm "x" is not valid (a letter, then letters, digits, ".", "-" or "_"; 2–32 characters)\n` +
        `${users}:3: "a:b@pve": the name must not contain ":" or "/"\n`,
    );
  });

  it('root@pam in a list is refused', async () => {
    const users = path.join(env.dir, 'root.txt');
    await writeFile(users, 'ok\nroot@pam\n');
    const r = await deploy('--profile', 'netlab', '--users', users);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${users.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: .*root@pam`, 'm'));
  });

  it('a bad profile: unknown key (with a suggestion), missing key and VLAN out of range, each with its line', async () => {
    const prof = path.join(env.dir, 'broken.yml');
    await writeFile(
      prof,
      'name: broken\nmachines:\n  - name: a\n    template: 9000\n    netwroks: ["hq"]\n  - name: b\n    template: 9000\n    networks: ["x.4095"]\n',
    );
    const r = await deploy('--profile', prof, '--users', good);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: 3 problems found:\n' +
        `${prof}:3: machines[0].networks: required key is missing\n` +
        `${prof}:5: machines[0].netwroks: unknown key (did you mean "networks"?)\n` +
        `${prof}:8: machines[1].networks[0]: "x.4095": VLAN 4095 is out of range (expected 1–4094)\n`,
    );
  });

  it('a profile name that does not exist lists the ones that do', async () => {
    const r = await deploy('--profile', 'nope', '--users', good);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${path.join(env.configDir, 'profiles/nope.yml')}: no such profile "nope" (available: basic, netlab)\n`);
  });

  it('a missing template is a refused plan with a table', async () => {
    const prof = path.join(env.dir, 'missing.yml');
    await writeFile(prof, 'name: missing\nmachines:\n  - name: a\n    template: no-such-tpl\n    networks: ["hq"]\n');
    const r = await deploy('--profile', prof, '--users', good);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: a template of the profile is missing\n');
    expect(r.stderr).toMatch(/^\S*missing\.yml: machine a {2,}no template named "no-such-tpl" on cluster sim$/m);
  });

  it('pinning the class to the node with a foreign pending edit is refused with the reason', async () => {
    const r = await deploy('--profile', 'netlab', '--users', good, '--placement', 'node:pve3');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: placement node:pve3: the node is left out\n');
    expect(r.stderr).toMatch(/^pve3 {2,}pending network edits by someone else \(vmbr99\)/m);
  });

  it('a class too big for the cluster is refused with a capacity table', async () => {
    const many = path.join(env.dir, 'sixty.txt');
    await writeFile(many, Array.from({ length: 60 }, (_, i) => `s${i + 1}`).join('\n'));
    const r = await deploy('--profile', 'netlab', '--users', many);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: the class does not fit: \d+ of 60 stands cannot be placed\n/);
    expect(r.stderr).toMatch(/^pve1 {2,}\d+ \/ \d+ GiB .*placed$/m);
  });

  it('bad options, an unknown cluster, a missing file', async () => {
    const placement = await deploy('--profile', 'netlab', '--users', good, '--placement', 'spread');
    expect(placement.code).toBe(2);
    expect(placement.stderr).toBe('error: --placement spread: expected balanced, round-robin, pack or node:<name>\n');
    const lease = await deploy('--profile', 'netlab', '--users', good, '--lease', 'soon');
    expect(lease.code).toBe(2);
    expect(lease.stderr).toContain('error: --lease soon: expected a duration such as "45m", "4h"');
    const clone = await deploy('--profile', 'netlab', '--users', good, '--clone', 'deep');
    expect(clone.code).toBe(2);
    expect(clone.stderr).toContain("error: option '--clone <mode>' argument 'deep' is invalid. Allowed choices are linked, full.");
    const cluster = await deploy('--profile', 'netlab', '--users', good, '--cluster', 'zzz');
    expect(cluster.code).toBe(2);
    expect(cluster.stderr).toBe(`error: ${path.join(env.configDir, 'connections.yml')}: no cluster named "zzz" (known: sim)\n`);
    const absent = path.join(env.dir, 'absent.txt');
    const missing = await deploy('--profile', 'netlab', '--users', absent);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error: ${absent}: file not found\n`);
  });

  it('a config directory without connections.yml', async () => {
    const r = await runCli(['--config', path.join(env.dir, 'nowhere'), 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${path.join(env.dir, 'nowhere', 'connections.yml')}: file not found\n`);
  });
});
