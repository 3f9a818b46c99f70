/**
 * A deploy with a token holding only the README's per-path grants (no Permissions.Modify; on / only Sys.Audit, not propagated): the
 * students get their pool role through PVE's subset rule (Pool.Allocate + the role's privileges on /pool). An
 * isolated class deploys with the same grants: every firewall object is the VM's own (VM.Config.Network on /vms),
 * and the datacenter firewall state is read with Sys.Audit on / alone (not propagated).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanup, runCleanup } from '../../src/core/cleanup.js';
import { runDeploy, type DeployResult } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { DeployPlan } from '../../src/core/types.js';
import { ProxmoxClient } from '../../src/proxmox/client.js';
import { parseProfile } from '../../src/config/profile.js';
import { DEFAULT_SEED } from '../../src/sim/default-seed.js';
import { evaluateFirewall, snapshotFirewall, type SimSeedInput } from '../../src/sim/index.js';
import type { Settings } from '../../src/config/settings.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

const README = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
const TOKEN = { tokenId: 'stands@pve!bot', tokenSecret: '5f0c7a1e-0000-4000-8000-00000000b07d' };

/** A run environment whose deployer token holds exactly the README's grants, applied as root would. */
function startWithReadmeGrants(o: { seed?: Partial<SimSeedInput>; settings?: Partial<Settings> } = {}): Promise<RunEnv> {
  return startRunEnv({
    seed: {
      ...DEFAULT_SEED,
      ...o.seed,
      users: [...(DEFAULT_SEED.users ?? []), { userid: 'stands@pve' }],
      tokens: [...(DEFAULT_SEED.tokens ?? []), { id: TOKEN.tokenId, secret: TOKEN.tokenSecret, privsep: false }],
    },
    ...(o.settings ? { settings: o.settings } : {}),
    deployer: {
      ...TOKEN,
      setup: async (sim) => {
        const root = new ProxmoxClient(
          { name: 'root', url: sim.url, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: sim.fingerprint, insecure: false }, maxInFlight: 4 },
          { timeScale: sim.clock.timeScale, now: () => sim.clock.now() },
        );
        const start = README.indexOf('pveum user add stands@pve');
        let acls = 0;
        for (const line of README.slice(start, README.indexOf('```', start)).split('\n')) {
          const role = /^pveum role add (\S+) --privs "([^"]+)"/.exec(line);
          const acl = /^pveum acl modify (\S+) --users (\S+) --roles (\S+)(?: --propagate ([01]))?\s*$/.exec(line);
          if (role) await root.createRole(role[1]!, role[2]!.split(','));
          if (acl) {
            await root.updateAcl({ path: acl[1]!, users: [acl[2]!], roles: acl[3]!.split(','), propagate: acl[4] !== '0' });
            acls++;
          }
        }
        await root.close();
        if (acls < 8) throw new Error(`the README's set-up block gave only ${acls} grant lines`);
      },
    },
  });
}

describe('deploy with the README grants only', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let result: DeployResult;
  beforeAll(async () => {
    env = await startWithReadmeGrants();
    plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(3), group: 'lp1', start: true });
    result = await runDeploy(env.ctx, plan);
  });
  afterAll(async () => env?.close());

  it('finishes every stand and hands each student PVEVMUser on their pool', () => {
    expect(result.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(plan.stands.map((s) => `${s.userid}:ready:`));
    for (const s of plan.stands) {
      expect(env.sim.state.acl.filter((a) => a.path === `/pool/${s.pool}`)).toEqual([
        expect.objectContaining({ ugid: s.userid, roleid: 'PVEVMUser', type: 'user', propagate: true }),
      ]);
    }
  });
});

describe('an isolated deploy with the README grants only', () => {
  const PROFILE = `
name: isolab
isolation: stand
machines:
  - name: web
    template: 9000
    networks: ["**vmbr0", "lan"]
`;
  let env: RunEnv;
  let plan: DeployPlan;
  let result: DeployResult;
  let before: unknown;
  beforeAll(async () => {
    env = await startWithReadmeGrants({
      seed: { firewall: { enable: 1 } },
      settings: { isolation: { deny: ['192.168.100.0/24'], allowIn: ['172.16.9.0/24'] } },
    });
    before = snapshotFirewall(env.sim.state.firewall);
    plan = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(2), group: 'lpiso' });
    env.sim.stats.reset();
    result = await runDeploy(env.ctx, plan);
  });
  afterAll(async () => env?.close());

  it('the token holds Sys.Audit on / without propagation, and nothing else there', () => {
    expect(env.sim.state.acl.filter((a) => a.path === '/')).toEqual([
      expect.objectContaining({ ugid: 'stands@pve', roleid: 'StandsAudit', propagate: false }),
    ]);
  });

  it('finishes every stand, writing nothing at cluster level', () => {
    expect(result.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`)).toEqual(plan.stands.map((s) => `${s.userid}:ready:`));
    expect(Object.keys(env.sim.stats.byRoute).filter((k) => !k.startsWith('GET') && k.includes('/cluster/firewall'))).toEqual([]);
  });

  it('the evaluator: nodes and deny CIDRs blocked out, the internet reachable, another stand blocked in, allow_in let in', () => {
    const [a, b] = plan.stands.map((s) => s.vms.find((v) => v.machine === 'web')!.vmid) as [number, number];
    const v = (p: Parameters<typeof evaluateFirewall>[1]): string => evaluateFirewall(env.sim.state, p).action;
    for (const vmid of [a, b]) {
      for (const dest of ['10.0.0.11', '10.0.0.12', '10.0.0.13']) {
        for (const dport of [8006, 22]) expect(v({ vmid, direction: 'out', source: '10.0.0.101', dest, proto: 'tcp', dport }), `${dest}:${dport}`).toBe('DROP');
      }
      expect(v({ vmid, direction: 'out', source: '10.0.0.101', dest: '192.168.100.9', proto: 'tcp', dport: 443 })).toBe('DROP');
      expect(v({ vmid, direction: 'out', source: '10.0.0.101', dest: '8.8.8.8', proto: 'tcp', dport: 443 })).toBe('ACCEPT');
      expect(v({ vmid, direction: 'in', source: '172.16.9.20', dest: '10.0.0.101', proto: 'tcp', dport: 22 })).toBe('ACCEPT');
    }
    expect(v({ vmid: a, direction: 'in', source: '10.0.0.102', dest: '10.0.0.101', proto: 'tcp', dport: 22 })).toBe('DROP');
    expect(v({ vmid: b, direction: 'in', source: '10.0.0.101', dest: '10.0.0.102', proto: 'tcp', dport: 22 })).toBe('DROP');
  });

  it('cleanup with the same token leaves the firewall configuration as it was', async () => {
    const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'lpiso' }));
    expect(res.status).toBe('succeeded');
    expect(res.warnings).toEqual([]);
    expect(snapshotFirewall(env.sim.state.firewall)).toEqual(before);
  });
});
