import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile.js';
import { planPrepare } from '../../src/core/prepare.js';
import { UserError } from '../../src/errors.js';
import { englishRuns } from '../support/english-runs.js';
import { startRunEnv, type RunEnv } from './run-harness.js';

describe('stands templates --prepare: a profile that cannot be prepared', () => {
  let env: RunEnv;
  beforeAll(async () => {
    env = await startRunEnv();
  });
  afterAll(async () => env?.close());

  it('is refused before anything is made, in English as before and in Russian', async () => {
    const profile = parseProfile('name: broken\nmachines:\n  - name: router\n    template: no-such-template\n    networks: ["lan"]\n', 'broken.yml');
    const vms = env.sim.state.vms.size;
    const err = await planPrepare(env.ctx, { profile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^profile broken cannot be prepared: .*router.*no-such-template/);
    const ru = e.text('ru');
    expect(ru).toMatch(/^профиль broken нельзя подготовить: /);
    expect(englishRuns(ru, ['broken', 'router', 'no-such-template', 'broken.yml', env.ctx.defaultCluster])).toEqual([]);
    expect(env.sim.state.vms.size).toBe(vms);
  });
});
