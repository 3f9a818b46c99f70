/**
 * One deployer run in its own process (so CPU time and peak RSS are the deployer's alone, the simulator being in
 * another process): load config → plan → deploy (engine, or the sequential bench driver). Options come as a JSON
 * file; the result is one JSON line on stdout. The plan is written to `planOut` for the lower bound.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadProfile, loadUserListFile } from '../../src/config/index.js';
import { createContext } from '../../src/core/context.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { planPrepare, runPrepare } from '../../src/core/prepare.js';
import { createLogger } from '../../src/log.js';
import { runSequential } from '../sequential.js';

export interface DeployChildOptions {
  configDir: string;
  statePath: string;
  profile: string;
  usersFile: string;
  group?: string;
  start: boolean;
  timeScale: number;
  mode: 'engine' | 'sequential' | 'plan-only';
  planOut?: string;
  /** write every engine event with its time (ms since the deploy started) here, for timelines */
  eventsOut?: string;
  /** make every replica the profile needs first (`stands templates --prepare`), untimed: a warm deploy */
  prepare?: boolean;
}

export interface DeployChildResult {
  planMs: number;
  planCpuMs: number;
  deployMs: number;
  deployCpuMs: number;
  totalCpuMs: number;
  maxRssBytes: number;
  stands: number;
  vms: number;
  ready?: number;
  failed?: number;
  status?: string;
  errors: string[];
  client: { requests: number; taskPolls: number; retries: number; logins: number; byMethod: Record<string, number> };
  events: Record<string, number>;
  /** the plan's estimated makespan (PVE-time ms) */
  estimateMs?: number;
  /** replicas made by the untimed prepare step (warm runs) */
  prepared?: { made: number; present: number; failed: number; ms: number; keys?: string[] };
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

const o = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as DeployChildOptions;
const cpuStart = process.cpuUsage();
const logger = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent', pretty: false });
const ctx = await createContext({
  configDir: o.configDir,
  statePath: o.statePath,
  logger,
  clientOptions: { timeScale: o.timeScale },
});
const profile = await loadProfile(o.configDir, o.profile);
const users = await loadUserListFile(o.usersFile, { maxUsers: 100_000, maxBytes: 64 * 1024 * 1024 });
let prepared: DeployChildResult['prepared'];
if (o.prepare) {
  const p0 = performance.now();
  const pp = await planPrepare(ctx, { profile });
  const pr = await runPrepare(ctx, pp);
  prepared = {
    made: pr.made,
    present: pr.present,
    failed: pr.failed,
    ms: performance.now() - p0,
    // what is on the cluster now, keyed as placement-bound.ts keys replicas
    keys: pr.items.filter((i) => i.status !== 'failed').map((i) => `${i.replica.sourceVmid}/${i.replica.shared ? 'shared' : i.replica.targetNode}`),
  };
}
const t0 = performance.now();
const c0 = process.cpuUsage();
const plan = await planDeploy(ctx, { profile, users, start: o.start, ...(o.group ? { group: o.group } : {}) });
const planMs = performance.now() - t0;
const planCpuMs = cpuMs(process.cpuUsage(c0));
if (o.planOut) writeFileSync(o.planOut, JSON.stringify(plan));
const events: Record<string, number> = {};
const errors: string[] = [];
let deployMs = 0;
let deployCpuMs = 0;
let summary: { ready?: number; failed?: number; status?: string } = {};
if (o.mode !== 'plan-only') {
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  if (o.mode === 'sequential') {
    await runSequential(ctx.client(), plan);
    summary = { ready: plan.stands.length, failed: 0, status: 'sequential' };
  } else {
    const timeline: unknown[] = [];
    const r = await runDeploy(ctx, plan, {
      onEvent: (e) => {
        if (o.eventsOut && e.type !== 'progress') timeline.push({ t: Math.round(performance.now() - t1), ...e });
        events[e.type] = (events[e.type] ?? 0) + 1;
        if (e.type === 'stand-failed' && errors.length < 10) errors.push(`${e.stand}: ${e.message}`);
      },
    });
    summary = { ready: r.ready, failed: r.failed, status: r.status };
    if (o.eventsOut) writeFileSync(o.eventsOut, JSON.stringify(timeline));
  }
  deployMs = performance.now() - t1;
  deployCpuMs = cpuMs(process.cpuUsage(c1));
}
const stats = ctx.client().stats;
const result: DeployChildResult = {
  planMs,
  planCpuMs,
  deployMs,
  deployCpuMs,
  totalCpuMs: cpuMs(process.cpuUsage(cpuStart)),
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  stands: plan.stands.length,
  vms: plan.stands.reduce((a, s) => a + s.vms.length, 0),
  ...summary,
  errors,
  ...(plan.estimate ? { estimateMs: plan.estimate.ms } : {}),
  ...(prepared ? { prepared } : {}),
  client: { requests: stats.requests, taskPolls: stats.taskPolls, retries: stats.retries, logins: stats.logins, byMethod: stats.byMethod },
  events,
};
await ctx.close();
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
