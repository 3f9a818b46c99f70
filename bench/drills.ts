/**
 * `npm run drills [-- --seeds 20] [--only kill-restart,…] [--time-scale 0.02] [--users 4] [--write-readme]`:
 * every fault drill of issue 7 for N seeds, then a summary table (stdout, bench/results/drills-<date>.json, and
 * with --write-readme bench/README.md). What each drill does and checks: bench/drills-lib.ts, bench/invariants.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DRILLS, runDrill, type DrillName, type DrillOutcome } from './drills-lib.js';
import { machineInfo } from './lib/machine.js';
import { BENCH_DIR, saveReport } from './lib/results.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    first: { type: 'string', default: '1' },
    only: { type: 'string' },
    'time-scale': { type: 'string', default: '0.02' },
    users: { type: 'string', default: '4' },
    'write-readme': { type: 'boolean', default: false },
  },
});
const seeds = Number(values.seeds);
const first = Number(values.first);
const timeScale = Number(values['time-scale']);
const users = Number(values.users);
const drills = (values.only ? values.only.split(',').map((s) => s.trim()) : [...DRILLS]) as DrillName[];

const outcomes: DrillOutcome[] = [];
const t0 = performance.now();
for (const drill of drills) {
  for (let seed = first; seed < first + seeds; seed++) {
    const r = await runDrill(drill, seed, { timeScale, users });
    outcomes.push(r);
    const mark = r.ok && r.converged ? 'ok ' : 'BAD';
    process.stderr.write(`[drills] ${mark} ${drill} seed ${seed}: ready ${r.ready}, failed ${r.failed}${r.error ? `, ${r.error}` : ''}${r.violations.length ? `, ${r.violations.length} violations: ${r.violations.slice(0, 2).join('; ')}` : ''} (${(r.ms / 1000).toFixed(1)} s)\n`);
  }
}

const lines = ['| drill | runs | correct end state | converged on re-run | stands ready / failed | notes |', '|---|---|---|---|---|---|'];
for (const drill of drills) {
  const rs = outcomes.filter((o) => o.drill === drill);
  const ok = rs.filter((o) => o.ok).length;
  const conv = rs.filter((o) => o.converged).length;
  const ready = rs.reduce((a, o) => a + o.ready, 0);
  const failed = rs.reduce((a, o) => a + o.failed, 0);
  const notes: string[] = [];
  const viol = rs.flatMap((o) => o.violations);
  if (viol.length) notes.push(`${viol.length} violations, e.g. ${viol[0]}`);
  const errs = rs.filter((o) => o.error).map((o) => o.error!);
  if (errs.length) notes.push(`${errs.length} runs with a job error, e.g. ${errs[0]}`);
  if (drill === 'kill-restart') {
    const killed = rs.filter((o) => o.atKill);
    const left = rs.flatMap((o) => o.afterCleanup ?? []);
    notes.push(`cleanup afterwards left ${left.length ? `${left.length} objects, e.g. ${left[0]}` : 'nothing of ours'}`);
    notes.push(`${killed.length} killed mid-run (${killed.filter((o) => (o.atKill?.locked ?? 0) > 0).length} with a clone in flight), ${rs.length - killed.length} finished before the kill`);
  }
  if (drill === 'ticket-expiry') notes.push(`expiry struck mid-run in ${rs.filter((o) => o.struck).length}/${rs.length}; re-logins ${rs.reduce((a, o) => a + (o.logins ?? 0), 0)}`);
  if (drill === 'node-offline') notes.push(`node went offline mid-run in ${rs.filter((o) => o.struck).length}/${rs.length}`);
  const n = rs.flatMap((o) => o.notes ?? []);
  if (n.length) notes.push(`${n.length} notes in ${rs.filter((o) => o.notes?.length).length} runs, e.g. ${n[0]}`);
  const rerun = rs.flatMap((o) => o.rerunViolations);
  if (rerun.length) notes.push(`re-run: ${rerun.length} violations, e.g. ${rerun[0]}`);
  lines.push(`| ${drill} | ${rs.length} | ${ok}/${rs.length} | ${conv}/${rs.length} | ${ready} / ${failed} | ${notes.join('; ').replace(/\|/g, '\\|')} |`);
}
const machine = machineInfo();
const header = `Drills run ${machine.date.slice(0, 16).replace('T', ' ')} UTC at ${machine.commit}: ${seeds} seeds each, ${users} students × 4 VMs (linked, default seed: pve3 carries someone else's pending bridge), simulator time scale ${timeScale}; took ${((performance.now() - t0) / 1000).toFixed(0)} s on ${machine.nproc} × ${machine.cpuModel}.`;
const table = lines.join('\n');
process.stdout.write(`\n${header}\n\n${table}\n`);
const file = saveReport({ machine, args: process.argv.slice(2), rows: [], details: { outcomes } }, `drills-${machine.date.slice(0, 19).replace(/[:T]/g, '-')}`);
process.stderr.write(`[drills] saved ${file}\n`);
if (values['write-readme']) {
  const readme = join(BENCH_DIR, 'README.md');
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
  const block = `<!-- drills:start -->\n${header}\n\n${table}\n<!-- drills:end -->`;
  writeFileSync(readme, /<!-- drills:start -->[\s\S]*<!-- drills:end -->/.test(text) ? text.replace(/<!-- drills:start -->[\s\S]*<!-- drills:end -->/, block) : `${text}\n${block}\n`);
}
process.exit(outcomes.every((o) => o.ok && o.converged) ? 0 : 1);
