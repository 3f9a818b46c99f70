import { rrdCacheFor } from '../../core/rrd-cache.js';
import { getStatus, type NodeReport, type StatusReport } from '../../core/status.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { table } from '../tables.js';

export interface StatusOptions {
  group?: string;
  cluster?: string;
  node?: string;
  json?: boolean;
}

/** The last hour of rrddata is worth a few requests in a one-shot CLI (the bot keeps it warm in the background). */
const RRD_WAIT_MS = 5_000;

const GiB = 1024 ** 3;
const gib = (bytes: number): string => `${(bytes / GiB).toFixed(1)}`;
const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x * 100)}%`);

function nodeRow(n: NodeReport): string[] {
  const rrd = n.rrd;
  const memTotal = rrd?.memTotal ?? n.memTotal;
  const memHour =
    rrd?.memAvg !== undefined && memTotal > 0
      ? `\n1h avg ${pct(rrd.memAvg / memTotal)}, peak ${pct((rrd.memPeak ?? rrd.memAvg) / memTotal)}`
      : '';
  const cpuHour = rrd?.cpuAvg !== undefined ? `\n1h avg ${pct(rrd.cpuAvg)}, peak ${pct(rrd.cpuPeak)}` : '';
  return [
    n.node,
    n.status,
    `${pct(n.cpu)} of ${n.maxcpu}${cpuHour}`,
    `${gib(n.memUsed)} used, ${gib(n.memAllocated)} allocated / ${gib(n.memTotal)} GiB${memHour}`,
    `${n.running}/${n.vms} running, ${n.coresAllocated} vCPU`,
    n.storage.map((s) => `${s.storage}${s.shared ? ' (shared)' : ''} ${gib(s.used)}/${gib(s.total)} GiB`).join('\n') || '-',
  ];
}

export function renderStatus(r: StatusReport): string {
  const out: string[] = [`Cluster ${r.cluster} at ${r.generatedAt.slice(0, 19).replace('T', ' ')} UTC`];
  out.push(table(['node', 'status', 'CPU', 'memory', 'VMs', 'storage'], r.nodes.map(nodeRow)));
  if (r.groups.length > 0) {
    out.push(
      table(
        ['group', 'profile', 'stands', 'VMs running', 'job'],
        r.groups.map((g) => [
          g.name,
          g.profile,
          `${g.stands} (${g.ready} ready${g.failed ? `, ${g.failed} failed` : ''})`,
          `${g.vmsRunning}/${g.vms}`,
          g.lockedBy ?? '',
        ]),
      ),
    );
  }
  if (r.stands.length > 0) {
    out.push(
      table(
        ['group', 'user', 'node', 'status', 'VMs', 'console'],
        r.stands.map((s) => [
          s.group,
          s.userid,
          s.node,
          s.status + (s.error ? `: ${s.error}` : '') + (s.leaseExpiresAt ? `\nlease ends ${s.leaseExpiresAt.slice(0, 16).replace('T', ' ')}` : ''),
          s.vms.map((v) => `${v.vmid} ${v.name} ${v.state}${v.lock ? ` (lock ${v.lock})` : ''}`).join('\n'),
          s.consoleUrl ?? '',
        ]),
      ),
    );
  } else {
    out.push('No stands recorded in the state file for this cluster.');
  }
  for (const j of r.jobs) {
    out.push(`running job ${j.id}: ${j.kind}${j.group ? ` ${j.group}` : ''} ${j.progress.done}/${j.progress.total}${j.progress.message ? ` ${j.progress.message}` : ''}`);
  }
  return out.join('\n');
}

/** `stands status`: nodes (load, memory, last hour), groups, stands with VM states and console links, running jobs. */
export async function statusCommand(opts: StatusOptions, env: CommandEnv): Promise<number> {
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const cache = rrdCacheFor(ctx, opts.cluster ?? ctx.defaultCluster);
    await Promise.race([cache.refresh().catch(() => undefined), new Promise((r) => setTimeout(r, RRD_WAIT_MS).unref())]);
    const report = await getStatus(ctx, {
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.group ? { group: opts.group } : {}),
      ...(opts.node ? { node: opts.node } : {}),
    });
    cache.stop();
    if (opts.json) printJson(env.io, report);
    else print(env.io, renderStatus(report));
    return EXIT_OK;
  });
}
