/**
 * `npm run bench [-- --only 1,3] [--quick] [--write-readme]`: the benchmarks of issue 7. The simulator runs in its
 * own process (bench/lib/sim-child.ts) and every deployer run in another (bench/lib/deploy-child.ts), so the
 * deployer's CPU time and peak RSS are its own. Results: a table on stdout, bench/results/<date>.json, and with
 * --write-readme the table in bench/README.md. Methodology and the lower bound's argument: bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bigSeed, type SimSeedInput } from '../src/sim/index.js';
import { BENCH_SEED, BENCH_SEED_SHARED_TEMPLATES, COLD_SEED } from './bench-seed.js';
import { FOUR_VM_PROFILE, THREE_VM_PROFILE, TWO_VM_FULL_PROFILE } from './lib/fixture.js';
import { deployOnce, storageFacts, templateFacts, taskCount, type DeployRun } from './lib/harness.js';
import { machineInfo } from './lib/machine.js';
import { BENCH_DIR, fmtMiB, fmtMs, markdownTable, saveReport, verdict, type ResultRow } from './lib/results.js';
import { computeLowerBound, sequentialFloor, type LowerBound } from './lower-bound.js';
import { bestBoundOverPlacements, type PlacementBound } from './placement-bound.js';
import { LINKED_CLONE_SHARED_TYPES } from '../src/core/shared-replica.js';
import { runPlacementQuality } from './placement-quality.js';
import { runStatusBench } from './status-bench.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'write-readme': { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
// 1c is a diagnostic: only on request
const want = (id: string): boolean => (only ? only.has(id) : id !== '1c');


const rows: ResultRow[] = [];
const details: Record<string, unknown> = {};
const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

function bound(run: DeployRun, seed: SimSeedInput): LowerBound {
  return computeLowerBound({
    plan: run.plan,
    timing: run.timing,
    templates: templateFacts(seed),
    storages: storageFacts(seed),
    lockAt: 'start',
    // the simulator models no duration and no lock for user.cfg writes (handlers/access.ts, pools.ts)
    accessWriteMs: 0,
    accessWritesSerialised: false,
    entryNode: seed.nodes?.[0]?.name,
  });
}

function legacyBound(run: DeployRun, seed: SimSeedInput): LowerBound {
  return computeLowerBound({ plan: run.plan, timing: run.timing, templates: templateFacts(seed), storages: storageFacts(seed), lockAt: 'start', accessWriteMs: 0, legacy: true });
}

/** Every (local template, other online node) pair: what `--prepare` makes on a seed (warm placements). */
function preparedReplicas(seed: SimSeedInput): Set<string> {
  const out = new Set<string>();
  for (const [vmid, t] of templateFacts(seed)) {
    if (t.shared) continue;
    for (const n of seed.nodes ?? []) if (n.name !== t.node) out.add(`${vmid}/${n.name}`);
  }
  return out;
}

/**
 * Templates on node-local storage the planner may serve with one replica on shared linked-clone storage (the
 * bench runs with `placement.shared_replica: auto`): source VMID → that storage.
 */
function sharedReplicaOptions(seed: SimSeedInput): Map<number, string> {
  const out = new Map<number, string>();
  for (const [vmid, t] of templateFacts(seed)) {
    if (t.shared) continue;
    const st = (seed.storages ?? []).find(
      (s) => s.shared && LINKED_CLONE_SHARED_TYPES.has(s.type) && (s.content ?? 'images').split(',').includes('images') && (!s.nodes || s.nodes.includes(t.node ?? '')),
    );
    if (st) out.set(vmid, st.id);
  }
  return out;
}

function bestBound(run: DeployRun, seed: SimSeedInput, warm: boolean): PlacementBound {
  return bestBoundOverPlacements({
    plan: run.plan,
    timing: run.timing,
    templates: templateFacts(seed),
    storages: storageFacts(seed),
    lockAt: 'start',
    accessWriteMs: 0,
    sharedReplicas: sharedReplicaOptions(seed),
    // what prepare left on the cluster (per node or one shared); older children: every per-node pair
    ...(warm ? { existingReplicas: new Set(run.result.prepared?.keys ?? preparedReplicas(seed)) } : {}),
  });
}

/** The estimate row of a run: estimate vs measured makespan, goal within ±20%. */
function estimateRow(bench: string, what: string, run: DeployRun, makespanMs: number): ResultRow {
  const est = run.result.estimateMs;
  if (est === undefined) return { bench, metric: `estimate vs real, ${what}`, value: 'no estimate in the plan', goal: 'within ±20%', verdict: 'NOT MET' };
  const r = est / makespanMs;
  estimateRatios.push(r);
  return { bench, metric: `estimate vs real, ${what}`, value: `${fmtMs(est)} vs ${fmtMs(makespanMs)} (×${r.toFixed(2)})`, goal: 'within ±20%', verdict: verdict(r >= 0.8 && r <= 1.2) };
}
const estimateRatios: number[] = [];

const counts = (c: Record<string, number>): string => Object.entries(c).map(([n, k]) => `${n}: ${k}`).join(', ');

function failuresNote(run: DeployRun): string {
  const r = run.result;
  return r.failed ? `${r.failed} stands failed: ${r.errors.slice(0, 2).join('; ')}` : '';
}

// ---------------------------------------------------------------------------------------------------- 1 and 3
async function bench1and3(): Promise<void> {
  const users = quick ? 9 : 30;
  const scale = quick ? 0.1 : 1;
  log(`1: ${users} students × 4 VMs, linked, time scale ${scale} (real seconds)`);
  const run = await deployOnce({
    seed: BENCH_SEED,
    timeScale: scale,
    fixture: { profileName: 'bench4', machines: FOUR_VM_PROFILE, clone: 'linked', users },
    mode: 'engine',
    start: true,
  });
  const makespan = run.result.deployMs / scale;
  const lb = bound(run, BENCH_SEED);
  const ratio = makespan / lb.ms;
  details.bench1 = { result: run.result, lowerBound: lb, sim: { requests: run.sim.requests, taskStatusPolls: run.sim.taskStatusPolls, byRoute: run.sim.byRoute } };
  if (want('1')) {
    rows.push({ bench: '1', metric: `deploy makespan, ${users}×4 linked, 3 nodes (simulated)`, value: fmtMs(makespan), goal: '—', verdict: 'info', note: `${run.result.ready}/${run.result.stands} stands ready. ${failuresNote(run)}` });
    rows.push({ bench: '1', metric: 'lower bound (binding term)', value: fmtMs(lb.ms), goal: '—', verdict: 'info', note: lb.binding });
    const old = legacyBound(run, BENCH_SEED);
    rows.push({ bench: '1', metric: 'makespan / lower bound (with replica chains, issue 14)', value: `×${ratio.toFixed(2)}`, goal: '(info)', verdict: 'info' });
    rows.push({ bench: '1', metric: 'makespan / old lower bound (before issue 14)', value: `×${(makespan / old.ms).toFixed(2)} (old bound ${fmtMs(old.ms)})`, goal: '≤ ×1.3', verdict: verdict(makespan / old.ms <= 1.3), note: old.binding });
    rows.push(estimateRow('1', `${users}×4 cold`, run, makespan));

    log(`1w: the same class warm (replicas prepared first, untimed), time scale ${scale}`);
    const warm = await deployOnce({
      seed: BENCH_SEED,
      timeScale: scale,
      fixture: { profileName: 'bench4', machines: FOUR_VM_PROFILE, clone: 'linked', users },
      mode: 'engine',
      start: true,
      prepare: true,
    });
    const warmMakespan = warm.result.deployMs / scale;
    const warmLb = bound(warm, BENCH_SEED);
    const warmOld = legacyBound(warm, BENCH_SEED);
    details.bench1w = { result: warm.result, lowerBound: warmLb, oldLowerBound: warmOld };
    rows.push({ bench: '1w', metric: `${users}×4 warm (replicas prepared): makespan vs bound`, value: `${fmtMs(warmMakespan)} vs ${fmtMs(warmLb.ms)} (×${(warmMakespan / warmLb.ms).toFixed(2)})`, goal: '≤ ×1.2', verdict: verdict(warmMakespan / warmLb.ms <= 1.2), note: `${warm.result.ready}/${warm.result.stands} ready; prepare made ${warm.result.prepared?.made ?? '?'} replicas first; binding: ${warmLb.binding}. ${failuresNote(warm)}` });
    rows.push({ bench: '1w', metric: 'warm makespan / old lower bound', value: `×${(warmMakespan / warmOld.ms).toFixed(2)}`, goal: '≤ ×1.3', verdict: verdict(warmMakespan / warmOld.ms <= 1.3) });
    rows.push(estimateRow('1w', `${users}×4 warm`, warm, warmMakespan));

    log(`1b: the same class with every template on shared storage (no per-node replicas), time scale ${scale}`);
    const shared = await deployOnce({
      seed: BENCH_SEED_SHARED_TEMPLATES,
      timeScale: scale,
      fixture: { profileName: 'bench4', machines: FOUR_VM_PROFILE, clone: 'linked', users },
      mode: 'engine',
      start: true,
    });
    const sharedMakespan = shared.result.deployMs / scale;
    const sharedLb = bound(shared, BENCH_SEED_SHARED_TEMPLATES);
    details.bench1b = { result: shared.result, lowerBound: sharedLb };
    rows.push(estimateRow('1b', `${users}×4, templates on shared storage`, shared, sharedMakespan));
    rows.push({ bench: '1b', metric: 'same class, templates on shared storage (no replicas): makespan vs bound', value: `${fmtMs(sharedMakespan)} vs ${fmtMs(sharedLb.ms)} (×${(sharedMakespan / sharedLb.ms).toFixed(2)})`, goal: '(diagnostic)', verdict: 'info', note: `${shared.result.ready}/${shared.result.stands} ready; binding: ${sharedLb.binding}. ${failuresNote(shared)}` });

    const seqScale = quick ? 0.05 : 0.1;
    log(`1: sequential baseline at time scale ${seqScale}`);
    const seq = await deployOnce({
      seed: BENCH_SEED,
      timeScale: seqScale,
      fixture: { profileName: 'bench4', machines: FOUR_VM_PROFILE, clone: 'linked', users },
      mode: 'sequential',
      start: true,
    });
    const seqMs = seq.result.deployMs / seqScale;
    const lbIn = { plan: seq.plan, timing: seq.timing, templates: templateFacts(BENCH_SEED), accessWriteMs: 0 };
    const floor = sequentialFloor(lbIn, 'min');
    const ideal = sequentialFloor(lbIn, 'mean');
    details.sequential = { result: seq.result, simulatedMs: seqMs, floorMs: floor, idealMeanMs: ideal };
    rows.push({ bench: '1', metric: 'sequential, one operation at a time (simulated)', value: fmtMs(seqMs), goal: '—', verdict: 'info', note: `bench/sequential.ts driver, same client, run at time scale ${seqScale} and scaled back; idealised (no gaps, mean durations) ${fmtMs(ideal)}, floor (min durations) ${fmtMs(floor)}` });
    const speedup = seqMs / makespan;
    const speedupIdeal = ideal / makespan;
    rows.push({ bench: '1', metric: 'speed-up vs sequential', value: `×${speedup.toFixed(1)} measured, ×${speedupIdeal.toFixed(1)} vs idealised sequential`, goal: '≥ ×8', verdict: verdict(speedupIdeal >= 8), note: 'verdict against the idealised sequential (gap-free, so conservative)' });
  }
  if (want('3')) {
    const vms = run.result.vms;
    const tasks = taskCount(run.sim.byRoute);
    const nonPoll = run.sim.requests - run.sim.taskStatusPolls;
    rows.push({ bench: '3', metric: 'API requests per VM (server side, without task polls)', value: (nonPoll / vms).toFixed(1), goal: '≤ 15', verdict: verdict(nonPoll / vms <= 15), note: `${nonPoll} requests for ${vms} VMs; client counted ${run.result.client.requests} incl. polls, ${run.result.client.retries} retries` });
    rows.push({ bench: '3', metric: 'task status polls per task', value: (run.sim.taskStatusPolls / Math.max(1, tasks)).toFixed(1), goal: '≤ 10', verdict: verdict(run.sim.taskStatusPolls / Math.max(1, tasks) <= 10), note: `${run.sim.taskStatusPolls} polls, ${tasks} tasks; client-side waits (incl. lock polls) ${run.result.client.taskPolls}` });
  }
}

/** Diagnostic: benchmark 1 with the engine's own concurrency settings raised (stands.yml), to test the findings. */
async function bench1c(): Promise<void> {
  const users = quick ? 9 : 30;
  const scale = quick ? 0.1 : 1;
  const settings = { concurrency: { full_clones_per_storage: 2, linked_clones_per_storage: 8 } };
  log(`1c: benchmark 1 with ${JSON.stringify(settings.concurrency)}, time scale ${scale}`);
  const run = await deployOnce({
    seed: BENCH_SEED,
    timeScale: scale,
    fixture: { profileName: 'bench4', machines: FOUR_VM_PROFILE, clone: 'linked', users, settings },
    mode: 'engine',
    start: true,
  });
  const makespan = run.result.deployMs / scale;
  const lb = bound(run, BENCH_SEED);
  details.bench1c = { result: run.result, lowerBound: lb, settings };
  rows.push({ bench: '1c', metric: 'benchmark 1 with full_clones_per_storage 2, linked_clones_per_storage 8 (stands.yml)', value: `${fmtMs(makespan)} vs ${fmtMs(lb.ms)} (×${(makespan / lb.ms).toFixed(2)})`, goal: '(diagnostic)', verdict: 'info', note: `${run.result.ready}/${run.result.stands} ready. ${failuresNote(run)}` });
}

// ---------------------------------------------------------------------------------------------------- 7 and 8
/**
 * Issue 14's classes: 24 students × 3 linked clones, templates 9000/9001 on pve1's local storage (9002 on ceph),
 * pve3 left out for alice's pending edit (COLD_SEED = the default seed): cold (every replica made by the deploy)
 * and warm (replicas prepared first, untimed). Judged against the best bound over every placement the capacity
 * rules allow, not only the plan's own.
 */
async function bench7and8(): Promise<void> {
  const users = quick ? 8 : 24;
  const scale = quick ? 0.1 : 1;
  for (const warm of [false, true]) {
    const id = warm ? '8' : '7';
    if (!want(id)) continue;
    const what = `${users}×3 ${warm ? 'warm' : 'cold'}`;
    log(`${id}: ${what}, time scale ${scale}`);
    const run = await deployOnce({
      seed: COLD_SEED,
      timeScale: scale,
      fixture: { profileName: 'bench3', machines: THREE_VM_PROFILE, clone: 'linked', users },
      mode: 'engine',
      start: true,
      prepare: warm,
    });
    const makespan = run.result.deployMs / scale;
    const lb = bound(run, COLD_SEED);
    const best = bestBound(run, COLD_SEED, warm);
    const placed: Record<string, number> = {};
    for (const st of run.plan.stands) placed[st.node] = (placed[st.node] ?? 0) + 1;
    details[`bench${id}`] = { result: run.result, lowerBound: lb, bestOverPlacements: best, placed, estimate: run.plan.estimate };
    rows.push({ bench: id, metric: `${what}: makespan (simulated)`, value: fmtMs(makespan), goal: '—', verdict: 'info', note: `${run.result.ready}/${run.result.stands} ready; placed ${counts(placed)}; replicas made by the deploy ${run.plan.replicas.filter((r) => !r.exists).length}${run.plan.replicas.some((r) => r.shared) ? ` (shared: ${run.plan.replicas.filter((r) => r.shared).map((r) => `${r.sourceVmid} on ${r.storage}`).join(', ')})` : ''}${warm ? `, by prepare ${run.result.prepared?.made ?? '?'}` : ''}. ${failuresNote(run)}` });
    rows.push({ bench: id, metric: `${what}: bound of the chosen plan`, value: fmtMs(lb.ms), goal: '—', verdict: 'info', note: lb.binding });
    rows.push({ bench: id, metric: `${what}: best bound over placements (exact, ${best.allowed} of ${best.enumerated} count vectors allowed)`, value: fmtMs(best.best.ms), goal: '—', verdict: 'info', note: `at ${counts(best.counts)}${best.shared.length ? `, one shared replica of ${best.shared.join(', ')}` : ''}; ${best.best.binding}` });
    rows.push({ bench: id, metric: `${what}: makespan / best bound over placements`, value: `×${(makespan / best.best.ms).toFixed(2)}`, goal: '≤ ×1.2', verdict: verdict(makespan / best.best.ms <= 1.2) });
    rows.push(estimateRow(id, what, run, makespan));
    if (!warm) {
      const vms = run.result.vms;
      const tasks = taskCount(run.sim.byRoute);
      const nonPoll = run.sim.requests - run.sim.taskStatusPolls;
      rows.push({ bench: id, metric: `${what}: requests per VM / polls per task`, value: `${(nonPoll / vms).toFixed(1)} / ${(run.sim.taskStatusPolls / Math.max(1, tasks)).toFixed(1)}`, goal: '≤ 15 / ≤ 10', verdict: verdict(nonPoll / vms <= 15 && run.sim.taskStatusPolls / Math.max(1, tasks) <= 10) });
    }
  }
}

// ---------------------------------------------------------------------------------------------------- 2
async function bench2(): Promise<void> {
  const users = quick ? 4 : 12;
  const scale = quick ? 0.05 : 0.25;
  log(`2: ${users} students × 2 VMs, full clones, time scale ${scale}`);
  const run = await deployOnce({
    seed: BENCH_SEED,
    timeScale: scale,
    fixture: { profileName: 'bench-full', machines: TWO_VM_FULL_PROFILE, clone: 'full', users },
    mode: 'engine',
    start: true,
  });
  const makespan = run.result.deployMs / scale;
  const lb = bound(run, BENCH_SEED);
  const lockFailures = run.result.errors.filter((e) => /got timeout|lock request timeout/.test(e)).length;
  details.bench2 = { result: run.result, lowerBound: lb };
  rows.push({ bench: '2', metric: `full clones ${users}×2: stands failed on storage-lock timeouts`, value: String(lockFailures), goal: '0', verdict: verdict(lockFailures === 0 && (run.result.failed ?? 0) === 0), note: `${run.result.ready}/${run.result.stands} ready. ${failuresNote(run)}` });
  rows.push(estimateRow('2', `full clones ${users}×2`, run, makespan));
  rows.push({ bench: '2', metric: 'makespan vs lower bound (simulated)', value: `${fmtMs(makespan)} vs ${fmtMs(lb.ms)} (×${(makespan / lb.ms).toFixed(2)})`, goal: '—', verdict: 'info', note: `time scale ${scale} scaled back; binding: ${lb.binding}` });
}

// ---------------------------------------------------------------------------------------------------- 4
async function bench4(): Promise<void> {
  if (!want('4')) return bench4plan();
  const users = quick ? 100 : 500;
  const scale = 0.05;
  const seed = bigSeed({ nodes: 32, vms: 300 });
  log(`4: ${users} students × 3 VMs on 32 nodes, time scale ${scale}`);
  const run = await deployOnce({
    seed,
    timeScale: scale,
    fixture: { profileName: 'bench3', machines: THREE_VM_PROFILE, clone: 'linked', users },
    mode: 'engine',
    start: false,
  });
  details.bench4 = { result: run.result };
  rows.push({ bench: '4', metric: `plan + deploy ${users}×3 on 32 nodes: deployer CPU time`, value: fmtMs(run.result.totalCpuMs), goal: '< 30 s', verdict: verdict(run.result.totalCpuMs < 30_000), note: `plan ${fmtMs(run.result.planCpuMs)} CPU, deploy ${fmtMs(run.result.deployCpuMs)} CPU; ${run.result.ready}/${run.result.stands} ready; ${run.result.client.requests} requests. ${failuresNote(run)}` });
  rows.push({ bench: '4', metric: 'deployer peak RSS', value: fmtMiB(run.result.maxRssBytes), goal: '< 300 MB', verdict: verdict(run.result.maxRssBytes < 300e6), note: 'includes the tsx loader and node itself' });
  await bench4plan();
}

async function bench4plan(): Promise<void> {
  const planUsers = quick ? 500 : 2000;
  const planSeed: SimSeedInput = {
    ...bigSeed({ nodes: 32, vms: 300 }),
    nodes: Array.from({ length: 32 }, (_, i) => ({ name: `pve${i + 1}`, cores: 64, memoryGiB: 512 })),
  };
  log(`4: planning alone for ${planUsers} students`);
  const plan = await deployOnce({
    seed: planSeed,
    timeScale: 1,
    fixture: { profileName: 'bench3', machines: THREE_VM_PROFILE, clone: 'linked', users: planUsers },
    mode: 'plan-only',
    start: false,
  });
  details.bench4plan = { result: plan.result };
  rows.push({ bench: '4', metric: `planning alone, ${planUsers} students × 3 VMs, 32 nodes (64 cores, 512 GiB each)`, value: fmtMs(plan.result.planMs), goal: '< 1 s', verdict: verdict(plan.result.planMs < 1000), note: `${fmtMs(plan.result.planCpuMs)} CPU; ${plan.result.client.requests} API requests (inventory)` });
}

// ---------------------------------------------------------------------------------------------------- sim's own
function simBench(): void {
  // sim-*-child.ts / sim-child.ts are the SIM helper's process entry points, not benchmarks
  const files = readdirSync(BENCH_DIR).filter((f) => /^sim-.*\.ts$/.test(f) && !/child/.test(f));
  if (!files.length) {
    rows.push({ bench: 'sim', metric: "simulator's own benchmark", value: 'absent', goal: '—', verdict: 'n/a', note: 'no bench/sim-*.ts (SIM helper)' });
    return;
  }
  for (const f of files) {
    log(`sim: ${f}`);
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, f), ...(quick ? ['3'] : [])], { encoding: 'utf8', timeout: 600_000 });
      details[`sim:${f}`] = out;
      rows.push({ bench: 'sim', metric: f, value: out.trim().replace(/\s+/g, ' ').slice(0, 300), goal: "issue 3: ≥ 2,000 req/s; < 200 MB for 32 nodes/3,000 VMs", verdict: 'info', note: 'printed by the SIM helper\'s bench' });
    } catch (e) {
      rows.push({ bench: 'sim', metric: f, value: 'failed', goal: '—', verdict: 'NOT MET', note: (e as Error).message.split('\n')[0] });
    }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const steps: [string[], () => Promise<void> | void][] = [
    [['6'], () => void rows.push(...runPlacementQuality().rows)],
    [['1', '3'], bench1and3],
    [['1c'], bench1c],
    [['7', '8'], bench7and8],
    [['2'], bench2],
    [['4', '4p'], bench4],
    [['5'], async () => void rows.push(...(await runStatusBench({ quick })))],
    [['sim'], simBench],
  ];
  for (const [ids, fn] of steps) {
    if (!ids.some(want)) continue;
    try {
      await fn();
    } catch (e) {
      const msg = (e as Error).message.split('\n').slice(0, 3).join(' ');
      log(`bench ${ids.join('+')} failed: ${msg}`);
      rows.push({ bench: ids.join('+'), metric: 'benchmark run', value: 'error', goal: '—', verdict: 'NOT MET', note: msg });
    }
  }
  if (estimateRatios.length) {
    const worst = estimateRatios.reduce((a, b) => (Math.abs(Math.log(b)) > Math.abs(Math.log(a)) ? b : a));
    rows.push({ bench: 'est', metric: 'estimate / real: worst over the benchmark classes', value: `×${worst.toFixed(2)} (${estimateRatios.map((r) => r.toFixed(2)).join(', ')})`, goal: 'within ±20%', verdict: verdict(worst >= 0.8 && worst <= 1.2) });
  }
  const machine = machineInfo();
  const table = markdownTable(rows);
  const header = `Run ${machine.date.slice(0, 16).replace('T', ' ')} UTC at ${machine.commit} on ${machine.nproc} × ${machine.cpuModel}, ${machine.memTotal} RAM, node ${machine.node}${quick ? ' (--quick)' : ''}; took ${fmtMs(performance.now() - t0)}.`;
  process.stdout.write(`\n${header}\n\n${table}\n`);
  const name = `${machine.date.slice(0, 19).replace(/[:T]/g, '-')}${quick ? '-quick' : ''}`;
  const file = saveReport({ machine, args: process.argv.slice(2), rows, details }, name);
  log(`saved ${file}`);
  if (values['write-readme']) {
    const readme = join(BENCH_DIR, 'README.md');
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
    const block = `<!-- results:start -->\n${header}\n\n\`\`\`\n${machine.freeH}\n\`\`\`\n\n${table}\n<!-- results:end -->`;
    const next = /<!-- results:start -->[\s\S]*<!-- results:end -->/.test(text)
      ? text.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, block)
      : `${text}\n${block}\n`;
    writeFileSync(readme, next);
    log('bench/README.md updated');
  }
}

await main();
