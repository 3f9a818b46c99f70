/**
 * The CLI face of stand isolation against the simulator: with the datacenter firewall off (the default seed) a
 * deploy of an isolated profile exits 2 with the admin's how-to and not one write request; `stands check` reports
 * the firewall state; a bad CIDR in stands.yml is an input error with file and line.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, runCli } from './run-cli.js';
import { startSimEnv, type SimEnv } from './sim-env.js';

const PROFILE = `name: isolab
isolation: stand
machines:
  - name: web
    template: 9000
    networks: ["**vmbr0", "lan"]
`;

describe('stands deploy with isolation: stand', () => {
  let env: SimEnv;
  let users: string;
  const writes = (): string[] => Object.keys(env.sim.stats.byRoute).filter((r) => !r.startsWith('GET'));

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
    users = path.join(env.dir, 'class.txt');
    await writeFile(users, 'alpha\nbeta\n');
    await writeFile(path.join(env.configDir, 'profiles', 'isolab.yml'), PROFILE);
    await writeFile(path.join(env.configDir, 'stands.yml'), 'isolation:\n  deny: [192.168.100.0/24]\n  allow_in: [172.16.9.0/24]\n');
  });
  afterAll(async () => env?.close());

  it('stands check reports the datacenter firewall off', async () => {
    const r = await runCli([...env.globals, 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  datacenter firewall: off: profiles with isolation: stand are refused');
  });

  it('the datacenter firewall off: exit 2, the how-to, and no write request at all', async () => {
    env.sim.stats.reset();
    const r = await runCli([...env.globals, 'deploy', '--profile', 'isolab', '--users', users, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the datacenter firewall is off');
    expect(r.stderr).toContain('1. add datacenter rules accepting TCP 8006 and 22 from the admin network');
    expect(r.stderr).toContain('never turns the datacenter firewall on itself');
    expect(r.stderr).toContain('pve-docs/chapter-pve-firewall.html');
    expect(env.sim.stats.requests).toBeGreaterThan(0);
    expect(writes()).toEqual([]);
    expect([...env.sim.state.vms.keys()].filter((v) => v >= 10000)).toEqual([]);
  });

  it('with the firewall on, the dry run shows the firewall objects; check says on', async () => {
    env.sim.state.firewall.cluster.options.enable = 1;
    const c = await runCli([...env.globals, 'check', '--json']);
    expect(lastJson(c.stdout)).toMatchObject({ verdict: 'ok', firewall: { enabled: true } });
    const r = await runCli([...env.globals, 'deploy', '--profile', 'isolab', '--users', users, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Isolation (Proxmox firewall, objects marked ours):');
    expect(r.stdout).toContain('every stand VM: IPSet stands-deny: 192.168.100.0/24, 10.0.0.11, 10.0.0.12, 10.0.0.13');
    expect(r.stdout).toContain('every stand VM: IPSet stands-allow-in: 172.16.9.0/24');
    expect(r.stdout).toContain('nothing at cluster level (no security group, no cluster IPSet)');
    expect(r.stdout).not.toContain('shared LAN');
  });

  it('a bad CIDR in stands.yml: exit 2 with file, line and the fix', async () => {
    await writeFile(path.join(env.configDir, 'stands.yml'), 'isolation:\n  deny:\n    - 10.0.0.5/24\n');
    const r = await runCli([...env.globals, 'deploy', '--profile', 'isolab', '--users', users, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stands\.yml:3.*host bits set \(did you mean 10\.0\.0\.0\/24\?\)/);
  });
});
