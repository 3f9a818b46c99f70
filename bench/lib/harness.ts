/** Glue for benchmark runs: a simulator process + a config fixture + a deployer process. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeployPlan } from '../../src/core/types.js';
import type { SimSeedInput } from '../../src/sim/index.js';
import type { TemplateFacts } from '../lower-bound.js';
import type { DeployChildOptions, DeployChildResult } from './deploy-child.js';
import { writeFixture, type Fixture, type FixtureOptions } from './fixture.js';
import { spawnSimulator, type SimProcess, type SimProcessStats } from './sim-process.js';

const CHILD = fileURLToPath(new URL('./deploy-child.ts', import.meta.url));

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `stands-bench-${prefix}-`));
}

export async function runDeployChild(o: DeployChildOptions): Promise<DeployChildResult> {
  const dir = tmp('deploy');
  const file = join(dir, 'options.json');
  writeFileSync(file, JSON.stringify(o));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as DeployChildResult);
      } catch {
        reject(new Error(`deployer process exited ${code}: ${err.trim().split('\n').slice(-15).join('\n')}`));
      }
    });
  });
}

export interface DeployRun {
  result: DeployChildResult;
  plan: DeployPlan;
  sim: SimProcessStats;
  timing: SimProcess['timing'];
  fixture: Fixture;
}

/** Start a simulator process, write the fixture, run one deployer process, collect both sides' numbers. */
export async function deployOnce(o: {
  seed: SimSeedInput;
  timeScale: number;
  fixture: Omit<FixtureOptions, 'dir' | 'sim'>;
  mode: DeployChildOptions['mode'];
  start: boolean;
  rngSeed?: number;
  eventsOut?: string;
  prepare?: boolean;
}): Promise<DeployRun> {
  const sim = await spawnSimulator({ seed: o.seed, timeScale: o.timeScale, rngSeed: o.rngSeed ?? 7 });
  try {
    const dir = tmp('cfg');
    const fixture = writeFixture({ ...o.fixture, dir, sim });
    const planOut = join(dir, 'plan.json');
    const result = await runDeployChild({
      configDir: fixture.configDir,
      statePath: fixture.statePath,
      profile: fixture.profile,
      usersFile: fixture.usersFile,
      start: o.start,
      timeScale: o.timeScale,
      mode: o.mode,
      planOut,
      ...(o.eventsOut ? { eventsOut: o.eventsOut } : {}),
      ...(o.prepare ? { prepare: true } : {}),
    });
    const plan = JSON.parse(readFileSync(planOut, 'utf8')) as DeployPlan;
    return { result, plan, sim: await sim.stats(), timing: sim.timing, fixture };
  } finally {
    await sim.stop();
  }
}

/** What the lower bound needs about the seed's templates. */
export function templateFacts(seed: SimSeedInput): Map<number, TemplateFacts> {
  const shared = new Map((seed.storages ?? []).map((s) => [s.id, s.shared]));
  const out = new Map<number, TemplateFacts>();
  for (const vm of seed.vms ?? []) {
    if (!vm.template) continue;
    out.set(vm.vmid, { diskGiB: vm.diskGiB ?? 8, storage: vm.storage, shared: shared.get(vm.storage) ?? false, node: vm.node });
  }
  return out;
}

export function storageFacts(seed: SimSeedInput): Map<string, boolean> {
  return new Map((seed.storages ?? []).map((s) => [s.id, s.shared]));
}

/** Tasks started by the deployer, from the simulator's per-route counters. */
export function taskCount(byRoute: Record<string, number>): number {
  let n = 0;
  for (const [route, count] of Object.entries(byRoute)) {
    if (
      /^POST \/nodes\/\{node\}\/qemu\/\{vmid\}\/(clone|snapshot|status\/(start|stop|shutdown)|template|migrate|config)$/.test(route) ||
      /^(PUT \/nodes\/\{node\}\/network|PUT \/cluster\/sdn|DELETE \/nodes\/\{node\}\/qemu\/\{vmid\})$/.test(route)
    )
      n += count;
  }
  return n;
}
