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
import { msg, say, stored, type Head, type Lang } from '../../i18n/index.js';
import { head, langOf, stateWord } from '../lang.js';

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

function nodeRow(n: NodeReport, wide: boolean, lang: Lang): string[] {
  const rrd = n.rrd;
  const memTotal = rrd?.memTotal ?? n.memTotal;
  const memAvg = rrd?.memAvg !== undefined && memTotal > 0 ? rrd.memAvg / memTotal : undefined;
  const memPeak = memAvg !== undefined ? (rrd?.memPeak ?? rrd?.memAvg ?? 0) / memTotal : undefined;
  const storage = n.storage.map((s) => `${s.storage}${s.shared ? say(lang, 'out.shared') : ''} ${gib(s.used)}/${gib(s.total)} ${say(lang, 'out.gib')}`);
  const hour = rrd?.cpuAvg !== undefined ? { avg: pct(rrd.cpuAvg), peak: pct(rrd.cpuPeak) } : undefined;
  const memHour = memAvg !== undefined ? { avg: pct(memAvg), peak: pct(memPeak) } : undefined;
  if (!wide) {
    // compact: the last hour as avg/peak
    return [
      n.node,
      stateWord(lang, n.status),
      say(lang, 'out.vmsRunning', { running: n.running, vms: n.vms }),
      `${say(lang, 'out.cpuOf', { pct: pct(n.cpu), max: n.maxcpu })}${hour ? say(lang, 'out.lastHour', hour) : ''}`,
      `${say(lang, 'out.memCompact', { used: gib(n.memUsed), total: gib(n.memTotal), alloc: gib(n.memAllocated) })}${memHour ? say(lang, 'out.lastHour', memHour) : ''}`,
      storage.join(', ') || '-',
    ];
  }
  return [
    n.node,
    stateWord(lang, n.status),
    `${say(lang, 'out.vmsRunning', { running: n.running, vms: n.vms })}\n${n.coresAllocated} vCPU`,
    `${say(lang, 'out.cpuOf', { pct: pct(n.cpu), max: n.maxcpu })}${hour ? say(lang, 'out.lastHourWide', hour) : ''}`,
    say(lang, 'out.memWide', { used: gib(n.memUsed), alloc: gib(n.memAllocated), total: gib(n.memTotal) }) + (memHour ? say(lang, 'out.lastHourWide', memHour) : ''),
    storage.join('\n') || '-',
  ];
}

/** A stand's state in a few words: `ready, 3 running` / `ready, 1 running 2 stopped` / `failed`. */
export function standState(s: StandReport, lang: Lang = 'en'): string {
  const counts = new Map<string, number>();
  for (const v of s.vms) counts.set(v.state, (counts.get(v.state) ?? 0) + 1);
  const vms = [...counts].map(([state, n]) => say(lang, 'out.vmsInState', { count: n, state })).join(lang === 'en' ? ' ' : ', ');
  const locked = s.vms.some((v) => v.lock) ? say(lang, 'out.locked') : '';
  return `${stateWord(lang, s.status)}${vms ? `, ${vms}` : ''}${locked}`;
}

export interface RenderStatusOptions {
  width: number;
  wide?: boolean;
  colors: Palette;
  lang?: Lang;
}

/** `stands status`: one line per node, per group and per stand (user, node, VMIDs, state, console link last). */
export function renderStatus(r: StatusReport, o: RenderStatusOptions): string {
  const { width } = o;
  const wide = Boolean(o.wide);
  const paint = stateColor(o.colors);
  const lang = o.lang ?? 'en';
  const h = (x: Head): string => head(lang, x);
  const out: string[] = [say(lang, 'out.statusHead', { cluster: r.cluster, at: r.generatedAt.slice(0, 19).replace('T', ' ') }), ''];
  const render = (cols: Parameters<typeof table>[1], rows: string[][]): string => table(ioFor(width), cols, rows);
  out.push(
    render(
      [
        { head: h('node') },
        { head: h('status'), paint },
        { head: h('vms'), shrink: 'truncate', min: 8 },
        { head: h(wide ? 'cpu' : 'cpu1h'), shrink: wide ? 'wrap' : 'truncate', min: 8 },
        { head: h(wide ? 'memory' : 'memory1h'), shrink: wide ? 'wrap' : 'truncate', min: 14 },
        { head: h('storage'), shrink: wide ? 'wrap' : 'truncate', min: 8, first: !wide },
      ],
      r.nodes.map((n) => nodeRow(n, wide, lang)),
    ),
  );
  if (r.groups.length > 0) {
    out.push(
      '',
      render(
        [
          { head: h('group'), shrink: 'truncate', min: 10 },
          { head: h('profile'), shrink: 'truncate', min: 8 },
          { head: h('stands') },
          { head: h('vmsRunning') },
          { head: h('job'), shrink: 'truncate', min: 4 },
        ],
        r.groups.map((g) => [
          g.name,
          g.profile,
          say(lang, 'out.standsCell', { stands: g.stands, ready: g.ready, failed: g.failed }),
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
          ...(showGroup ? [{ head: h('group'), shrink: 'truncate' as const, min: 8 }] : []),
          { head: h('user'), shrink: 'truncate', min: 12 },
          { head: h('node') },
          { head: h('vmids'), shrink: 'truncate', min: 9 },
          { head: h('state'), shrink: 'truncate', min: 10, paint },
          { head: h('console'), shrink: 'truncate', min: 10 },
        ],
        r.stands.map((s) => [
          ...(showGroup ? [s.group] : []),
          s.userid,
          s.node,
          compactIds(s.vms.map((v) => v.vmid)),
          standState(s, lang),
          s.consoleUrl ?? '',
        ]),
      ),
    );
  } else if (r.stands.length > 0) {
    out.push(
      '',
      render(
        [
          { head: h('group'), shrink: 'wrap', min: 8 },
          { head: h('user'), shrink: 'wrap', min: 12 },
          { head: h('node') },
          { head: h('status'), shrink: 'wrap', min: 12, paint },
          { head: h('vms'), shrink: 'wrap', min: 16, paint },
          // a link broken over lines cannot be clicked: cut it (every VM's full link: --user)
          { head: h('console'), shrink: 'truncate', min: 10 },
        ],
        r.stands.map((s) => [
          s.group,
          s.userid,
          s.node,
          stateWord(lang, s.status) +
            (s.error ? `: ${stored(lang, s.errorMsg, s.error)}` : '') +
            (s.leaseExpiresAt ? say(lang, 'out.leaseEnds', { at: when(s.leaseExpiresAt) }) : ''),
          s.vms.map((v) => `${v.vmid} ${v.name} ${stateWord(lang, v.state)}${v.lock ? say(lang, 'out.lock', { lock: v.lock }) : ''}`).join('\n'),
          s.consoleUrl ?? '',
        ]),
      ),
    );
  } else {
    out.push('', say(lang, 'out.noStands'));
  }
  const failed = r.stands.filter((s) => s.error);
  if (failed.length > 0 && !wide) out.push('', say(lang, 'out.errors'), ...failed.map((s) => `  ${s.group}/${s.userid}: ${stored(lang, s.errorMsg, s.error)}`));
  for (const j of r.jobs) {
    const line = say(lang, 'out.runningJob', { id: j.id, kind: j.kind, group: j.group ?? '', done: j.progress.done, total: j.progress.total });
    out.push(`${line}${j.progress.message && lang === 'en' ? ` ${j.progress.message}` : ''}`);
  }
  return fitText(out.join('\n'), width);
}

/** `status --group G --user U`: everything about one stand, then a line per VM. */
export function renderStandDetails(s: StandReport, o: RenderStatusOptions): string {
  const paint = stateColor(o.colors);
  const lang = o.lang ?? 'en';
  const d = (key: 'state' | 'node' | 'pool' | 'lease' | 'error' | 'console', value: string): string => `  ${say(lang, 'out.detail', { key })}${value}`;
  const lines = [
    say(lang, 'out.standOf', { user: s.userid, group: s.group }),
    d('state', paint(standState(s, lang), s.status)),
    d('node', s.node),
    d('pool', s.pool),
    ...(s.leaseExpiresAt ? [d('lease', say(lang, 'out.leaseDetail', { at: when(s.leaseExpiresAt) }))] : []),
    ...(s.error ? [d('error', stored(lang, s.errorMsg, s.error))] : []),
    ...(s.consoleUrl ? [d('console', s.consoleUrl)] : []),
    '',
  ];
  const vms = table(
    ioFor(o.width),
    [
      { head: head(lang, 'vmid') },
      { head: head(lang, 'name'), shrink: 'truncate', min: 10 },
      { head: head(lang, 'machine'), shrink: 'truncate', min: 7 },
      { head: head(lang, 'node') },
      { head: head(lang, 'state'), paint },
      { head: head(lang, 'lock') },
      { head: head(lang, 'console'), shrink: 'wrap', min: 16 },
    ],
    s.vms.map((v) => [String(v.vmid), v.name, v.machine, v.node, stateWord(lang, v.state), v.lock ?? '', v.consoleUrl]),
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
  throw new UserError(msg('out.noGroup', { group, names: [...names].sort().join(', ') }));
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
    const ro: RenderStatusOptions = { width: terminalWidth(io), wide: opts.wide, colors: colors(io), lang: langOf(env) };
    if (opts.user) {
      const mine = report.stands.filter((s) => s.userid === opts.user);
      if (mine.length === 0) {
        const users = report.stands.map((s) => s.userid);
        throw new UserError(
          msg('out.noStandOf', { user: opts.user, ...(opts.group ? { group: opts.group } : {}), users: [...new Set(users)].join(', ') }),
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
