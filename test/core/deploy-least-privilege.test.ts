/**
 * A deploy with a token holding only the README's per-path grants (no Permissions.Modify, nothing on /): the
 * students get their pool role through PVE's subset rule (Pool.Allocate + the role's privileges on /pool).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeploy, type DeployResult } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { DeployPlan } from '../../src/core/types.js';
import { ProxmoxClient } from '../../src/proxmox/client.js';
import { DEFAULT_SEED } from '../../src/sim/default-seed.js';
import { netlabProfile, startRunEnv, users, type RunEnv } from './run-harness.js';

const README = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
const TOKEN = { tokenId: 'stands@pve!bot', tokenSecret: '5f0c7a1e-0000-4000-8000-00000000b07d' };

describe('deploy with the README grants only', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let result: DeployResult;
  beforeAll(async () => {
    env = await startRunEnv({
      seed: {
        ...DEFAULT_SEED,
        users: [...(DEFAULT_SEED.users ?? []), { userid: 'stands@pve' }],
        tokens: [...(DEFAULT_SEED.tokens ?? []), { id: TOKEN.tokenId, secret: TOKEN.tokenSecret, privsep: false }],
      },
      deployer: {
        ...TOKEN,
        setup: async (sim) => {
          const root = new ProxmoxClient(
            { name: 'root', url: sim.url, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: sim.fingerprint, insecure: false }, maxInFlight: 4 },
            { timeScale: sim.clock.timeScale, now: () => sim.clock.now() },
          );
          const start = README.indexOf('pveum user add stands@pve');
          for (const line of README.slice(start, README.indexOf('```', start)).split('\n')) {
            const role = /^pveum role add (\S+) --privs "([^"]+)"/.exec(line);
            const acl = /^pveum acl modify (\S+) --users (\S+) --roles (\S+)/.exec(line);
            if (role) await root.createRole(role[1]!, role[2]!.split(','));
            if (acl) await root.updateAcl({ path: acl[1]!, users: [acl[2]!], roles: acl[3]!.split(','), propagate: true });
          }
          await root.close();
        },
      },
    });
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
