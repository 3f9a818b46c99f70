import { rrdCacheFor } from '../../core/rrd-cache.js';
import { getStatus, type NodeReport, type StandReport, type StatusReport } from '../../core/status.js';
import { fitText } from '../../core/text-table.js';
import { UserError } from '../../errors.js';
import type { Palette } from '../../color.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { terminalWidth, type CliIo } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { colors, compactIds, stateColor, table } from '../tables.js';

export interface StatusOptions {
  group?: string;
  user?: string;
  cluster?: string;
  node?: string;
  wide?: boolean;
  json?: boolean;
}

/** The last hour of rrddata is worth a few requests in a one-shot CLI (the bot keeps it warm in the background). */
const RRD_WAIT_MS = 5_000;

const GiB = 1024 ** 3;
const gib = (bytes: number): string => `${(bytes / GiB).toFixed(1)}`;
const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x * 100)}%`);
const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ');

function nodeRow(n: NodeReport, wide: boolean): string[] {
  const rrd = n.rrd;
  const memTotal = rrd?.memTotal ?? n.memTotal;
  const memAvg = rrd?.memAvg !== undefined && memTotal > 0 ? rrd.memAvg / memTotal : undefined;
  const memPeak = memAvg !== undefined ? (rrd?.memPeak ?? rrd?.memAvg ?? 0) / memTotal : undefined;
  const storage = n.storage.map((s) => `${s.storage}${s.shared ? ' (shared)' : ''} ${gib(s.used)}/${gib(s.total)} GiB`);
  if (!wide) {
    // compact: the last hour as avg/peak
    return [
      n.node,
      n.status,
      `${n.running}/${n.vms} running`,
      `${pct(n.cpu)} of ${n.maxcpu}${rrd?.cpuAvg !== undefined ? `, 1h ${pct(rrd.cpuAvg)}/${pct(rrd.cpuPeak)}` : ''}`,
      `${gib(n.memUsed)}/${gib(n.memTotal)} GiB, alloc ${gib(n.memAllocated)}${memAvg !== undefined ? `, 1h ${pct(memAvg)}/${pct(memPeak)}` : ''}`,
      storage.join(', ') || '-',
    ];
  }
  return [
    n.node,
    n.status,
    `${n.running}/${n.vms} running\n${n.coresAllocated} vCPU`,
    `${pct(n.cpu)} of ${n.maxcpu}${rrd?.cpuAvg !== undefined ? `\n1h avg ${pct(rrd.cpuAvg)}, peak ${pct(rrd.cpuPeak)}` : ''}`,
    `${gib(n.memUsed)} used, ${gib(n.memAllocated)} allocated / ${gib(n.memTotal)} GiB` +
      (memAvg !== undefined ? `\n1h avg ${pct(memAvg)}, peak ${pct(memPeak)}` : ''),
    storage.join('\n') || '-',
  ];
}

/** A stand's state in a few words: `ready, 3 running` / `ready, 1 running 2 stopped` / `failed`. */
export function standState(s: StandReport): string {
  const counts = new Map<string, number>();
  for (const v of s.vms) counts.set(v.state, (counts.get(v.state) ?? 0) + 1);
  const vms = [...counts].map(([state, n]) => `${n} ${state}`).join(' ');
  const locked = s.vms.some((v) => v.lock) ? ' (locked)' : '';
  return `${s.status}${vms ? `, ${vms}` : ''}${locked}`;
}

export interface RenderStatusOptions {
  width: number;
  wide?: boolean;
  colors: Palette;
}

/** `stands status`: one line per node, per group and per stand (user, node, VMIDs, state, console link last). */
export function renderStatus(r: StatusReport, o: RenderStatusOptions): string {
  const { width } = o;
  const wide = Boolean(o.wide);
  const paint = stateColor(o.colors);
  const out: string[] = [`Cluster ${r.cluster} at ${r.generatedAt.slice(0, 19).replace('T', ' ')} UTC`, ''];
  const render = (cols: Parameters<typeof table>[1], rows: string[][]): string => table(ioFor(width), cols, rows);
  out.push(
    render(
      [
        { head: 'node' },
        { head: 'status', paint },
        { head: 'VMs', shrink: 'truncate', min: 8 },
        { head: wide ? 'CPU' : 'CPU (1h avg/peak)', shrink: wide ? 'wrap' : 'truncate', min: 8 },
        { head: wide ? 'memory' : 'memory (1h avg/peak)', shrink: wide ? 'wrap' : 'truncate', min: 14 },
        { head: 'storage', shrink: wide ? 'wrap' : 'truncate', min: 8, first: !wide },
      ],
      r.nodes.map((n) => nodeRow(n, wide)),
    ),
  );
  if (r.groups.length > 0) {
    out.push(
      '',
      render(
        [{ head: 'group', shrink: 'truncate', min: 10 }, { head: 'profile', shrink: 'truncate', min: 8 }, { head: 'stands' }, { head: 'VMs running' }, { head: 'job', shrink: 'truncate', min: 4 }],
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
  const groups = new Set(r.stands.map((s) => s.group));
  const showGroup = groups.size > 1;
  if (r.stands.length > 0 && !wide) {
    out.push(
      '',
      render(
        [
          ...(showGroup ? [{ head: 'group', shrink: 'truncate' as const, min: 8 }] : []),
          { head: 'user', shrink: 'truncate', min: 12 },
          { head: 'node' },
          { head: 'VMIDs', shrink: 'truncate', min: 9 },
          { head: 'state', shrink: 'truncate', min: 10, paint },
          { head: 'console', shrink: 'truncate', min: 10 },
        ],
        r.stands.map((s) => [
          ...(showGroup ? [s.group] : []),
          s.userid,
          s.node,
          compactIds(s.vms.map((v) => v.vmid)),
          standState(s),
          s.consoleUrl ?? '',
        ]),
      ),
    );
  } else if (r.stands.length > 0) {
    out.push(
      '',
      render(
        [
          { head: 'group', shrink: 'wrap', min: 8 },
          { head: 'user', shrink: 'wrap', min: 12 },
          { head: 'node' },
          { head: 'status', shrink: 'wrap', min: 12, paint },
          { head: 'VMs', shrink: 'wrap', min: 16, paint },
          // a link broken over lines cannot be clicked: cut it (every VM's full link: --user)
          { head: 'console', shrink: 'truncate', min: 10 },
        ],
        r.stands.map((s) => [
          s.group,
          s.userid,
          s.node,
          s.status + (s.error ? `: ${s.error}` : '') + (s.leaseExpiresAt ? `\nlease ends ${when(s.leaseExpiresAt)}` : ''),
          s.vms.map((v) => `${v.vmid} ${v.name} ${v.state}${v.lock ? ` (lock ${v.lock})` : ''}`).join('\n'),
          s.consoleUrl ?? '',
        ]),
      ),
    );
  } else {
    out.push('', 'No stands recorded in the state file for this cluster.');
  }
  const failed = r.stands.filter((s) => s.error);
  if (failed.length > 0 && !wide) out.push('', 'Errors:', ...failed.map((s) => `  ${s.group}/${s.userid}: ${s.error}`));
  for (const j of r.jobs) {
    out.push(`running job ${j.id}: ${j.kind}${j.group ? ` ${j.group}` : ''} ${j.progress.done}/${j.progress.total}${j.progress.message ? ` ${j.progress.message}` : ''}`);
  }
  return fitText(out.join('\n'), width);
}

/** `status --group G --user U`: everything about one stand, then a line per VM. */
export function renderStandDetails(s: StandReport, o: RenderStatusOptions): string {
  const paint = stateColor(o.colors);
  const lines = [
    `Stand of ${s.userid} in group ${s.group}`,
    `  state:   ${paint(standState(s), s.status)}`,
    `  node:    ${s.node}`,
    `  pool:    ${s.pool}`,
    ...(s.leaseExpiresAt ? [`  lease:   ends ${when(s.leaseExpiresAt)} UTC`] : []),
    ...(s.error ? [`  error:   ${s.error}`] : []),
    ...(s.consoleUrl ? [`  console: ${s.consoleUrl}`] : []),
    '',
  ];
  const vms = table(
    ioFor(o.width),
    [
      { head: 'VMID' },
      { head: 'name', shrink: 'truncate', min: 10 },
      { head: 'machine', shrink: 'truncate', min: 7 },
      { head: 'node' },
      { head: 'state', paint },
      { head: 'lock' },
      { head: 'console', shrink: 'wrap', min: 16 },
    ],
    s.vms.map((v) => [String(v.vmid), v.name, v.machine, v.node, v.state, v.lock ?? '', v.consoleUrl]),
  );
  return fitText(`${lines.join('\n')}\n${vms}`, o.width);
}

/** The table helper reads only the width from the io. */
function ioFor(width: number): Pick<CliIo, 'columns' | 'env'> {
  return { columns: width, env: {} };
}

/** The groups in the state file, for "no such group" (exit 2, nothing else done). */
async function checkGroup(names: string[], group: string): Promise<void> {
  if (names.includes(group)) return;
  throw new UserError(
    names.length > 0
      ? `group ${group} does not exist; groups in the state file: ${names.sort().join(', ')}`
      : `group ${group} does not exist: the state file has no groups`,
  );
}

/**
 * `stands status`: nodes (load, memory, last hour), groups, stands with VM states and console links, running jobs.
 * One line per stand (`--wide` for every VM); `--group G --user U` for one stand.
 */
export async function statusCommand(opts: StatusOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    if (opts.group) await checkGroup((await ctx.store.groups.list()).map((g) => g.name), opts.group);
    const cache = rrdCacheFor(ctx, opts.cluster ?? ctx.defaultCluster);
    await Promise.race([cache.refresh().catch(() => undefined), new Promise((r) => setTimeout(r, RRD_WAIT_MS).unref())]);
    const report = await getStatus(ctx, {
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.group ? { group: opts.group } : {}),
      ...(opts.node ? { node: opts.node } : {}),
    });
    cache.stop();
    const ro: RenderStatusOptions = { width: terminalWidth(io), wide: opts.wide, colors: colors(io) };
    if (opts.user) {
      const mine = report.stands.filter((s) => s.userid === opts.user);
      if (mine.length === 0) {
        const users = report.stands.map((s) => s.userid);
        throw new UserError(
          `no stand of ${opts.user}${opts.group ? ` in group ${opts.group}` : ''}` +
            (users.length > 0 ? `; stands here belong to: ${[...new Set(users)].join(', ')}` : ''),
        );
      }
      if (opts.json) printJson(io, { cluster: report.cluster, generatedAt: report.generatedAt, stands: mine });
      else print(io, mine.map((s) => renderStandDetails(s, ro)).join('\n\n'));
      return EXIT_OK;
    }
    if (opts.json) printJson(io, report);
    else print(io, renderStatus(report, ro));
    return EXIT_OK;
  });
}
