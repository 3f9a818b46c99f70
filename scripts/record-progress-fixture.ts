/**
 * Records the event sequence of a real deploy against the simulator (12 students of data/profiles/netlab.yml,
 * VMs started, time scale 0.25) into test/core/fixtures/deploy-events.json, for test/core/eta.test.ts:
 * `npx tsx scripts/record-progress-fixture.ts`. Each event is [ms since the job's first event, type, kind].
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDeploy } from '../src/core/deploy.js';
import { standStepKinds } from '../src/core/deploy/steps.js';
import { planDeploy } from '../src/core/plan.js';
import { netlabProfile, startRunEnv, users } from '../test/core/run-harness.js';

const env = await startRunEnv({ timeScale: 0.25 });
try {
  const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users: users(12), group: 'eta', start: true });
  const planned: Record<string, number> = {};
  for (const s of plan.stands) for (const k of standStepKinds(s, plan.start)) planned[k] = (planned[k] ?? 0) + 1;
  let t0: number | undefined;
  const events: [number, string, string][] = [];
  const result = await runDeploy(env.ctx, plan, {
    onEvent: (e) => {
      t0 ??= Date.now();
      if (e.type !== 'step-started' && e.type !== 'step-finished') return;
      events.push([Date.now() - t0, e.message === 'already done' ? 'step-skipped' : e.type, e.step ?? '?']);
    },
  });
  if (result.status !== 'succeeded') throw new Error(`deploy ${result.status}`);
  const out = join(import.meta.dirname, '..', 'test', 'core', 'fixtures', 'deploy-events.json');
  writeFileSync(
    out,
    `{\n  "about": "12 students of netlab.yml, started, simulator at time scale 0.25 (scripts/record-progress-fixture.ts)",\n  "planned": ${JSON.stringify(planned)},\n  "events": [\n${events.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]\n}\n`,
  );
  console.log(`${events.length} events, ${events.at(-1)?.[0]} ms → ${out}`);
} finally {
  await env.close();
}
