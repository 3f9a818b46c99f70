import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/sim/index.js';
import { DEFAULT_SEED } from '../../src/sim/default-seed.js';
import { deployerGrants, deployerSetupCommands, DEPLOYER_ROLES, runConnectionCheck } from '../../src/proxmox/check.js';
import { ALL_PRIVS } from '../../src/sim/privileges.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';
import { startResetProxy } from './reset-proxy.js';
import { formatCheck } from '../../src/cli/commands/check.js';
import { englishRuns } from '../support/english-runs.js';

const WRONG = 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99';
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim?.stop();
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('stands check: the connection test verdict', () => {
  it('ok with the token', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token'));
    const r = await c.check();
    expect(r).toMatchObject({ verdict: 'ok', version: '9.1.2', auth: 'token' });
    expect(r.message).toBe('connected to Proxmox VE 9.1.2 with token root@pam!stands');
    await c.close();
  });

  it('ok with user/password', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket'));
    expect((await c.check()).message).toBe('connected to Proxmox VE 9.1.2 with user root@pam');
    await c.close();
  });

  it('unreachable when nothing listens', async () => {
    const port = await closedPort();
    const c = clientFor(sim, clusterFor(sim, 'token', {}, { url: `https://127.0.0.1:${port}` }), { maxAttempts: 2 });
    const r = await c.check();
    expect(r.verdict).toBe('unreachable');
    expect(r.message).toMatch(new RegExp(`^cannot reach https://127\\.0\\.0\\.1:${port}: connection refused`));
    await c.close();
  });

  it('tls-mismatch with the fingerprint seen and the one expected', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: WRONG }));
    const r = await c.check();
    expect(r).toMatchObject({ verdict: 'tls-mismatch', seen: sim.fingerprint, expected: WRONG });
    expect(r.message).toBe(`TLS certificate fingerprint mismatch: seen ${sim.fingerprint}, expected ${WRONG}`);
    await c.close();
  });

  it('tls-mismatch for an untrusted self-signed certificate, suggesting the pin', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: undefined }));
    const r = await c.check();
    expect(r.verdict).toBe('tls-mismatch');
    expect(r.seen).toBe(sim.fingerprint);
    expect(r.message).toContain(`set tls.fingerprint: "${sim.fingerprint}" for cluster lab`);
    await c.close();
  });

  it('bad-credentials for a wrong token secret and for a wrong password', async () => {
    const t = clientFor(sim, clusterFor(sim, 'token', {}, { tokenSecret: '11111111-2222-3333-4444-555555555555' }));
    const rt = await t.check();
    expect(rt.verdict).toBe('bad-credentials');
    expect(rt.message).toMatch(/^API token root@pam!stands was refused by https:\/\/127\.0\.0\.1:\d+ \(401 /);
    await t.close();
    const p = clientFor(sim, clusterFor(sim, 'ticket', {}, { password: 'wrong-one' }));
    const rp = await p.check();
    expect(rp.verdict).toBe('bad-credentials');
    expect(rp.message).toContain('user root@pam was refused');
    await p.close();
  });

  it('missing-privileges names each missing grant with its path', async () => {
    const admin = clientFor(sim, clusterFor(sim, 'token'));
    await admin.createUser({ userid: 'auditor@pve', password: 'Auditor-Passw0rd' });
    await admin.updateAcl({ path: '/', roles: ['PVEAuditor'], users: ['auditor@pve'] });
    const c = clientFor(sim, clusterFor(sim, 'ticket', {}, { user: 'auditor@pve', password: 'Auditor-Passw0rd' }));
    const r = await c.check();
    expect(r.verdict).toBe('missing-privileges');
    expect(r.missing).toEqual(expect.arrayContaining(['VM.Allocate on /vms', 'VM.Clone on /vms', 'Pool.Allocate on /pool', 'User.Modify on /access/groups', 'Realm.AllocateUser on /access/realm/pve', 'Sys.Modify on /nodes/pve1']));
    expect(r.missing).not.toContain('Sys.Audit on /nodes/pve1');
    expect(r.message).toMatch(/^user auditor@pve lacks \d+ grants?: /);
    // the same check said in Russian: the English of --json stays, the output has no English beyond names and terms
    const ru = formatCheck(r, 'ru');
    expect(ru.split('\n')[0]).toBe(`ОШИБКА ${r.cluster} (${r.url}): не хватает прав`);
    expect(ru).toMatch(/\n {2}пользователь auditor@pve: не хватает прав \(\d+\):\n {4}нет /);
    expect(ru).toContain('\n    нет VM.Clone на /vms\n');
    expect(ru).toContain('команды `pveum` для каждого пути');
    expect(formatCheck(r, 'en')).toContain('\n    missing VM.Clone on /vms\n');
    const names = [r.cluster, r.url, 'auditor@pve', ...r.missing!.flatMap((m) => m.split(/ on | \(granted on | without/))];
    expect(englishRuns(ru, names)).toEqual([]);
    await c.close();
    await admin.close();
  });

  it('ok, with the datacenter firewall, said in Russian', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token'));
    const r = await c.check();
    expect(r.verdict).toBe('ok');
    const ru = formatCheck(r, 'ru');
    expect(ru).toMatch(new RegExp(`^ОК ${r.cluster} \\(.+\\): всё в порядке\\n {2}подключение к Proxmox VE ${r.version!.replace(/\./g, '\\.')} \\(API-токен [^)]+\\) работает\\n {2}межсетевой экран датацентра: (включён|выключен): `));
    expect(englishRuns(ru, [r.cluster, r.url, r.version!, sim.tokenId])).toEqual([]);
    await c.close();
  });

  it('on a server without GET /access/permissions, says privileges were not verified', async () => {
    const proxy = await startResetProxy(sim.url, (method, path) =>
      method === 'GET' && path === '/access/permissions' ? 'not-implemented' : 'pass',
    );
    try {
      const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: proxy.fingerprint }, { url: proxy.url }));
      const r = await c.check();
      expect(r.verdict).toBe('ok');
      expect(r.notes).toEqual([
        "privileges not verified: the server does not implement GET /access/permissions (Method 'GET /access/permissions' not implemented)",
      ]);
      await c.close();
    } finally {
      await proxy.stop();
    }
  });

  it('missing-privileges for a privilege-separated token without ACLs of its own', async () => {
    const seeded = await startSim({
      seed: { ...DEFAULT_SEED, tokens: [...(DEFAULT_SEED.tokens ?? []), { id: 'root@pam!readonly', secret: 'a7d3c0de-0000-4000-8000-00000000beef', privsep: true }] },
    });
    try {
      const c = clientFor(seeded, clusterFor(seeded, 'token', {}, { tokenId: 'root@pam!readonly', tokenSecret: 'a7d3c0de-0000-4000-8000-00000000beef' }));
      const r = await c.check();
      expect(r.verdict).toBe('missing-privileges');
      expect(r.missing).toEqual(r.required);
      expect(r.message).toMatch(/^token root@pam!readonly lacks \d+ grants?: VM\.Allocate on \/vms; /);
      await c.close();
    } finally {
      await seeded.stop();
    }
  });

  it('unsupported-version for PVE 8.0', async () => {
    const old = await startSim({ seed: { ...DEFAULT_SEED, version: '8.0.4' } });
    try {
      const c = clientFor(old, clusterFor(old, 'token'));
      const r = await c.check();
      expect(r.verdict).toBe('unsupported-version');
      expect(r.message).toBe(
        'cluster lab runs Proxmox VE 8.0.4; pve-stands needs 8.1 or newer (the pools API changed in 8.1): upgrade the cluster',
      );
      await expect(c.checkVersion()).rejects.toThrow('needs 8.1 or newer');
      await c.close();
    } finally {
      await old.stop();
    }
  });
});

describe('the deployer grants', () => {
  it('name only privileges that exist in PVE 9, each once per path, on / only Sys.Audit unpropagated, no Permissions.Modify', () => {
    for (const g of deployerGrants()) {
      expect(g.privs.filter((p) => !ALL_PRIVS.has(p)), g.path).toEqual([]);
      expect(new Set(g.privs).size).toBe(g.privs.length);
      if (g.path === '/') expect({ privs: g.privs, propagate: g.propagate }).toEqual({ privs: ['Sys.Audit'], propagate: false });
      expect(g.privs).not.toContain('Permissions.Modify');
    }
    expect(deployerGrants().filter((g) => g.path === '/').flatMap((g) => g.roles)).toEqual(['StandsAudit']);
    expect(DEPLOYER_ROLES.StandsAudit).toEqual(['Sys.Audit']);
    for (const privs of Object.values(DEPLOYER_ROLES)) expect(privs.filter((p) => !ALL_PRIVS.has(p))).toEqual([]);
    // privileges the engine never uses
    const all = deployerGrants().flatMap((g) => g.privs);
    expect(all).not.toContain('VM.Config.Disk');
    expect(all).not.toContain('VM.Console');
  });
});
