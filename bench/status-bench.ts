/**
 * Benchmark 5: `/status` on a 32-node, 3,000-VM simulated cluster. The simulator runs in its own process; the
 * status is built in this one with the engine's getStatus. Counts the API requests of a warm call (goal ≤ 2: the
 * rrddata comes from the background cache) and its wall time without the chart (goal < 200 ms), then the chart's
 * rendering time separately (the Discord layer's renderer).
 */
import { bigSeed } from '../src/sim/index.js';
import { createContext } from '../src/core/context.js';
import { silentLogger } from '../src/log.js';
import { THREE_VM_PROFILE, writeFixture } from './lib/fixture.js';
import { tmp } from './lib/harness.js';
import { fmtMs, verdict, type ResultRow } from './lib/results.js';
import { spawnSimulator } from './lib/sim-process.js';

type GetStatus = (ctx: unknown, o: Record<string, unknown>) => Promise<unknown>;
type RenderChart = (series: { node: string; points: { t: number; cpu: number; mem: number }[] }[]) => Buffer;

async function optionalImport<T>(path: string, name: string): Promise<T | undefined> {
  try {
    const mod = (await import(path)) as Record<string, unknown>;
    return mod[name] as T | undefined;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function runStatusBench({ quick }: { quick: boolean }): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const getStatus = await optionalImport<GetStatus>('../src/core/status.js', 'getStatus');
  const nodes = 32;
  const vms = quick ? 1000 : 3000;
  if (!getStatus) {
    rows.push({ bench: '5', metric: '/status hot path', value: 'not measured', goal: '≤ 2 requests, < 200 ms', verdict: 'n/a', note: 'getStatus (src/core/status.ts) not available' });
  } else {
    const sim = await spawnSimulator({ seed: bigSeed({ nodes, vms }), timeScale: 1, rngSeed: 5 });
    try {
      const fx = writeFixture({ dir: tmp('status'), sim, profileName: 'bench3', machines: THREE_VM_PROFILE, clone: 'linked', users: 1 });
      const ctx = await createContext({ configDir: fx.configDir, statePath: fx.statePath, logger: silentLogger() });
      try {
        const client = ctx.client();
        // first call: fills the inventory and starts the rrd background cache
        await getStatus(ctx, {});
        await new Promise((r) => setTimeout(r, quick ? 1500 : 4000));
        const times: number[] = [];
        const reqs: number[] = [];
        let report: unknown;
        for (let i = 0; i < 7; i++) {
          await new Promise((r) => setTimeout(r, 200));
          const before = client.stats.requests;
          const t0 = performance.now();
          // maxAgeMs 0: no reuse of a cached inventory, so each call does the full work of a fresh /status
          report = await getStatus(ctx, { maxAgeMs: 0 });
          times.push(performance.now() - t0);
          reqs.push(client.stats.requests - before);
        }
        const maxReq = Math.max(...reqs);
        rows.push({ bench: '5', metric: `/status on ${nodes} nodes, ${vms} VMs: API requests per call (warm)`, value: `${maxReq} (per call: ${reqs.join(',')})`, goal: '≤ 2', verdict: verdict(maxReq <= 2) });
        rows.push({ bench: '5', metric: '/status reply built from a fresh inventory, no chart (median of 7)', value: fmtMs(median(times)), goal: '< 200 ms', verdict: verdict(median(times) < 200), note: `max ${fmtMs(Math.max(...times))}; loopback HTTPS to a simulator process` });
        await renderChartRow(rows, report, nodes);
      } finally {
        await ctx.close();
      }
    } finally {
      await sim.stop();
    }
    return rows;
  }
  await renderChartRow(rows, undefined, nodes);
  return rows;
}

async function renderChartRow(rows: ResultRow[], report: unknown, nodes: number): Promise<void> {
  const render = await optionalImport<RenderChart>('../src/discord/chart.js', 'renderLoadChart');
  if (!render) {
    rows.push({ bench: '5', metric: 'status chart render', value: 'not measured', goal: 'reported separately', verdict: 'n/a', note: 'no renderLoadChart in src/discord/chart.ts' });
    return;
  }
  void report;
  // an hour of rrd points per node (PVE's 'hour' timeframe: 70 points, one a minute)
  const now = Math.floor(Date.now() / 1000);
  const series = Array.from({ length: nodes }, (_, n) => ({
    node: `pve${n + 1}`,
    points: Array.from({ length: 70 }, (_, i) => ({ t: now - (70 - i) * 60, cpu: 0.1 + 0.3 * Math.abs(Math.sin((i + n) / 9)), mem: 0.3 + 0.2 * Math.abs(Math.cos((i * n) / 17)) })),
  }));
  render(series.slice(0, 2));
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    render(series);
    times.push(performance.now() - t0);
  }
  rows.push({ bench: '5', metric: `status chart render (${nodes} nodes × 70 points, SVG → PNG)`, value: fmtMs(median(times)), goal: 'reported separately', verdict: 'info', note: 'median of 5 after a warm-up' });
}
