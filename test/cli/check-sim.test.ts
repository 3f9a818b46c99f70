import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxmoxClient } from '../../src/proxmox/client.js';
import { lastJson, runCli } from './run-cli.js';
import { REPO, simConnectionsYaml, startSimEnv, type SimEnv } from './sim-env.js';

describe('stands check', () => {
  let env: SimEnv;
  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01, authFailDelayMs: 1 });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('prints the verdict ok and exits 0 for the simulator', async () => {
    const r = await runCli([...env.globals, 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^OK sim \\(${env.sim.url.replace(/[.]/g, '\\.')}\\): ok\\n  connected to Proxmox VE [\\d.]+ with token root@pam!stands\\n`));
  });

  it('a wrong pinned fingerprint is a TLS mismatch showing seen and expected: exit 3 (cluster unusable)', async () => {
    const wrong = 'AA:'.repeat(31) + 'AA';
    await writeFile(path.join(env.configDir, 'connections.yml'), simConnectionsYaml({ ...env.sim, fingerprint: wrong }));
    const r = await runCli([...env.globals, 'check', '--json']);
    expect(r.code).toBe(3);
    expect(lastJson(r.stdout)).toMatchObject({ verdict: 'tls-mismatch', seen: env.sim.fingerprint, expected: wrong });
  });

  it('a wrong token secret is bad credentials, and the secret is never printed: exit 3 (cluster unusable)', async () => {
    const secret = '00000000-1111-2222-3333-444444444444';
    await writeFile(path.join(env.configDir, 'connections.yml'), simConnectionsYaml({ ...env.sim, tokenSecret: secret }));
    const r = await runCli([...env.globals, 'check']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(': bad-credentials\n  API token root@pam!stands was refused by');
    expect(r.stdout + r.stderr).not.toContain(secret);
    await writeFile(path.join(env.configDir, 'connections.yml'), simConnectionsYaml(env.sim));
  });
});

describe('stands sim --json (a child process)', () => {
  it('prints one JSON line with url, fingerprint and credentials that work, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/stands.js'), 'sim', '--port', '0', '--time-scale', '0.01', '--json'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('close', () => reject(new Error(`sim exited early: ${stderr}`)));
      });
      const info = JSON.parse(line) as Record<string, string>;
      expect(Object.keys(info).sort()).toEqual(['fingerprint', 'password', 'token_id', 'token_secret', 'url', 'user']);
      expect(info.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(info.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const client = new ProxmoxClient({
        name: 'child',
        url: info.url!,
        tokenId: info.token_id!,
        tokenSecret: info.token_secret!,
        tls: { fingerprint: info.fingerprint!, insecure: false },
        maxInFlight: 2,
      });
      const nodes = await client.nodes();
      expect(nodes.map((n) => n.node).sort()).toEqual(['pve1', 'pve2', 'pve3']);
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
