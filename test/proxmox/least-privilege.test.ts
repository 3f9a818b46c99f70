/**
 * `stands check` against a token holding exactly the README's per-path grants (applied from the README's own
 * `pveum` lines, through the API as root would) says OK; each missing grant is named with its path, a grant
 * without propagation as such; ifupdown2 and the realm type are checked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '../../src/sim/default-seed.js';
import type { RunningSimulator } from '../../src/sim/index.js';
import type { SimSeedInput } from '../../src/sim/seed.js';
import { runConnectionCheck } from '../../src/proxmox/check.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';

const README = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
const TOKEN = { tokenId: 'stands@pve!bot', tokenSecret: '5f0c7a1e-0000-4000-8000-00000000b07d' };

/** The README's set-up block: `pveum role add` and `pveum acl modify` lines. */
function readmeLines(): string[] {
  const start = README.indexOf('pveum user add stands@pve');
  const block = README.slice(start, README.indexOf('```', start));
  return block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('pveum '));
}

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function simWithReadmeGrants(o: { skip?: (line: string) => boolean; seed?: Partial<SimSeedInput>; propagate?: (path: string) => boolean | undefined } = {}) {
  sim = await startSim({
    seed: {
      ...DEFAULT_SEED,
      ...o.seed,
      users: [...(DEFAULT_SEED.users ?? []), { userid: 'stands@pve', comment: 'pve-stands deployer' }],
      tokens: [...(DEFAULT_SEED.tokens ?? []), { id: TOKEN.tokenId, secret: TOKEN.tokenSecret, privsep: false }],
    },
  });
  const root = clientFor(sim, clusterFor(sim, 'token'));
  const applied: string[] = [];
  for (const line of readmeLines()) {
    if (o.skip?.(line)) continue;
    const role = /^pveum role add (\S+) --privs "([^"]+)"$/.exec(line);
    const acl = /^pveum acl modify (\S+) --users (\S+) --roles (\S+)(?: --propagate ([01]))?$/.exec(line);
    if (role) await root.createRole(role[1]!, role[2]!.split(','));
    else if (acl) await root.updateAcl({ path: acl[1]!, users: [acl[2]!], roles: acl[3]!.split(','), propagate: o.propagate?.(acl[1]!) ?? acl[4] !== '0' });
    else if (!/^pveum user (add|token add) /.test(line)) throw new Error(`unexpected README line: ${line}`);
    applied.push(line);
  }
  await root.close();
  return { client: clientFor(sim, clusterFor(sim, 'token', {}, TOKEN)), applied };
}

describe('stands check with the README grants', () => {
  it('the README block has the role and per-path lines with real pveum option names', () => {
    const lines = readmeLines();
    expect(lines.filter((l) => l.startsWith('pveum acl modify')).every((l) => / --users \S+ --roles \S+( --propagate 0)?$/.test(l))).toBe(true);
    expect(lines.some((l) => / -user | -role | -privs /.test(l))).toBe(false);
    // on / only Sys.Audit, not propagated (the datacenter firewall state); Sys.Modify on / never
    expect(lines.filter((l) => l.startsWith('pveum acl modify / '))).toEqual(['pveum acl modify / --users stands@pve --roles StandsAudit --propagate 0']);
    expect(lines).toContain('pveum role add StandsAudit --privs "Sys.Audit"');
  });

  it('says OK for a token holding exactly those grants', async () => {
    const { client } = await simWithReadmeGrants();
    const r = await runConnectionCheck(client);
    expect(r.missing ?? [], r.message).toEqual([]);
    expect(r).toMatchObject({ verdict: 'ok', message: 'connected to Proxmox VE 9.1.2 with token stands@pve!bot' });
    await client.close();
  });

  it('names each missing grant with its path', async () => {
    const { client } = await simWithReadmeGrants({ skip: (l) => l.startsWith('pveum acl modify /storage ') });
    const r = await runConnectionCheck(client);
    expect(r.verdict).toBe('missing-privileges');
    expect(r.missing).toEqual([
      'Datastore.AllocateSpace on /storage',
      'Datastore.Audit on /storage',
    ]);
    await client.close();
    const roles = await simWithReadmeGrants({ skip: (l) => l.includes('--roles StandsUsers') && l.includes('/access/groups') });
    expect((await runConnectionCheck(roles.client)).missing).toEqual(['User.Modify on /access/groups']);
    await roles.client.close();
    const audit = await simWithReadmeGrants({ skip: (l) => l.startsWith('pveum acl modify / ') });
    const ra = await runConnectionCheck(audit.client);
    expect(ra.missing).toEqual(['Sys.Audit on /']);
    await audit.client.close();
  });

  it('reports a grant made without propagation as such', async () => {
    const { client } = await simWithReadmeGrants({ propagate: (p) => (p === '/nodes' || p === '/pool' ? false : undefined) });
    const r = await runConnectionCheck(client);
    expect(r.verdict).toBe('missing-privileges');
    expect(r.missing).toEqual(expect.arrayContaining([
      'Pool.Allocate on /pool (granted there without propagation; the engine works below it)',
      'VM.PowerMgmt on /pool (granted there without propagation; the engine works below it)',
      'Sys.Modify on /nodes/pve1 (granted on /nodes without propagation)',
      'Sys.Audit on /nodes/pve3 (granted on /nodes without propagation)',
    ]));
    await client.close();
  });

  it('finds a node without ifupdown2 and a realm that takes no passwords', async () => {
    const { client } = await simWithReadmeGrants({
      seed: { nodes: DEFAULT_SEED.nodes.map((n) => (n.name === 'pve2' ? { ...n, ifupdown2: false } : n)), realms: [{ realm: 'corp', type: 'ldap' }] },
    });
    const root = clientFor(sim!, clusterFor(sim!, 'token'));
    await root.updateAcl({ path: '/access/realm/corp', users: ['stands@pve'], roles: ['StandsUsers'] });
    await root.close();
    const r = await runConnectionCheck(client, { realms: ['pve', 'corp'], mode: 'bridges', studentRole: 'PVEVMUser' });
    expect(r.verdict).toBe('missing-prerequisites');
    expect(r.problems).toEqual([
      'realm corp is of type ldap: Proxmox takes passwords only for pve and pam users, so stands cannot set student passwords there',
      "node pve2: ifupdown2 is not installed, so Proxmox cannot apply the stands' bridges (apt install ifupdown2)",
    ]);
    await client.close();
  });

  it('a custom students role: refused with the pveum line unless the token may create roles', async () => {
    const { client } = await simWithReadmeGrants();
    const scope = { realms: ['pve'], mode: 'bridges' as const, studentRole: 'StandsStudent', studentRolePrivs: ['VM.Audit', 'VM.PowerMgmt'] };
    const r = await runConnectionCheck(client, scope);
    expect(r.verdict).toBe('missing-prerequisites');
    expect(r.problems).toEqual([
      'role StandsStudent does not exist and the API token may not create roles (that takes Sys.Modify on /access): ' +
        'create it once with: pveum role add StandsStudent --privs "VM.Audit,VM.PowerMgmt"',
    ]);
    const root = clientFor(sim!, clusterFor(sim!, 'token'));
    await root.updateAcl({ path: '/access', users: ['stands@pve'], roles: ['StandsNodes'], propagate: false });
    await root.close();
    expect((await runConnectionCheck(client, scope)).verdict).toBe('ok');
    await client.close();
  });
});
