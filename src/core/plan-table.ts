/**
 * The plan and refusals as text tables (CLI) and as plain data (the bot's embed). No colours: the same text goes
 * to a terminal, a log file, a test assertion or a Discord code block. Tables fit the given width (text-table.ts):
 * one line per stand by default, every detail with `wide`.
 */
import { estimateText, say, text, type Head, type Lang } from '../i18n/index.js';
import { pct } from './placement.js';
import { compactIds, fitText, renderTable, type Column } from './text-table.js';
import type { DeployPlan, ExcludedNode, NodeProjection, RefusalRow, StandPlan } from './types.js';

/** Width used where no terminal is known (errors carried to the bot, logs). */
export const DEFAULT_WIDTH = 100;

const gibNum = (mib: number): string => `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)}`;

export interface PlanNodeRow {
  node: string;
  stands: number;
  memory: string;
  cpu: string;
  note: string;
}
export interface PlanStandRow {
  user: string;
  node: string;
  pool: string;
  vmids: string;
  networks: string;
  resources: string;
  note: string;
}
export interface PlanTableData {
  summary: string;
  nodes: PlanNodeRow[];
  stands: PlanStandRow[];
  replicas: string[];
  excluded: ExcludedNode[];
  /** `isolation: stand`: the firewall objects the deploy writes (empty when the stands are not isolated). */
  isolation: string[];
  warnings: string[];
  /** "Estimated time: about 1 min 40 s (…)", when the plan carries an estimate */
  estimate?: string;
}

const head = (lang: Lang, h: Head): string => say(lang, 'out.head', { head: h });

/** The estimate's time in a language (`about 1 min 40 s`); English keeps the text the plan carries. */
function estimateTime(e: NonNullable<DeployPlan['estimate']>, lang: Lang): string {
  return lang === 'en' ? e.text : estimateText(lang, e.ms);
}

/** The plan's estimate as one line: the time, and what the replicas add or save. */
export function estimateLine(plan: Pick<DeployPlan, 'estimate'>, lang: Lang = 'en'): string | undefined {
  const e = plan.estimate;
  if (!e) return undefined;
  const notes: string[] = [];
  if (e.replicasToMake > 0) notes.push(say(lang, 'out.estMakes', { count: e.replicasToMake }));
  if (e.replicasReused > 0) {
    notes.push(e.replicasToMake > 0 ? say(lang, 'out.estReuses', { count: e.replicasReused }) : say(lang, 'out.estExist', { count: e.replicasReused }));
  }
  if (e.moved > 0 && e.strategyMs !== undefined) {
    notes.push(say(lang, 'out.estMoved', { count: e.moved, plain: estimateText(lang, e.strategyMs, { about: false }) }));
  }
  if (e.timing === 'cluster') notes.push(say(lang, 'out.estClusterTiming'));
  return say(lang, 'out.estimate', { time: estimateTime(e, lang), notes: notes.join('; ') });
}

function nodeRow(n: NodeProjection, unit: 'stands' | 'vms', lang: Lang = 'en', excluded?: ExcludedNode): PlanNodeRow {
  const memUsed = n.baseMemMiB + n.addedMemMiB;
  const coresUsed = n.baseCores + n.addedCores;
  return {
    node: n.node,
    stands: n.stands,
    memory: n.online
      ? say(lang, 'nodes.memoryCell', { used: gibNum(memUsed), total: gibNum(n.maxMemMiB), util: pct(n.memUtil), added: gibNum(n.addedMemMiB) })
      : '-',
    cpu: n.online ? say(lang, 'nodes.cpuCell', { used: coresUsed, max: n.maxCpu, util: pct(n.cpuUtil) }) : '-',
    note: n.excluded
      ? say(lang, 'out.nodeLeftOut', { reason: text(lang, excluded?.reasonMsg, n.excluded) })
      : n.stands > 0
        ? say(lang, 'out.nodeCount', { count: n.stands, unit })
        : '',
  };
}

function networksOf(s: StandPlan, lang: Lang): string {
  if (s.segments.length === 0) return '-';
  const segs = s.segments.map((g) => `${g.alias}=${g.iface}${g.tag !== undefined ? say(lang, 'out.tag', { tag: g.tag }) : ''}${g.vlanAware ? ' vlan-aware' : ''}`);
  return s.vlans.length > 0 ? `${segs.join(', ')}; ${say(lang, 'out.vlans', { list: s.vlans.join(',') })}` : segs.join(', ');
}

function standRow(s: StandPlan, lang: Lang): PlanStandRow {
  const nodes = [...new Set(s.vms.map((v) => v.node))];
  const notes: string[] = [];
  if (s.recorded) notes.push(say(lang, 'out.recorded'));
  if (!s.userExists) notes.push(say(lang, 'out.newUser'));
  notes.push(...s.warnings);
  return {
    user: s.userid,
    node: nodes.join(', '),
    pool: s.pool,
    vmids: s.vms.map((v) => `${v.vmid} ${v.machine}`).join(', '),
    networks: networksOf(s, lang),
    resources: say(lang, 'out.resources', { cores: s.cores, gib: gibNum(s.memoryMiB) }),
    note: notes.join('; '),
  };
}

/**
 * The plan's warnings in a language: from `warningMsgs` (codes; plain strings kept as written), else — a plan
 * recorded before codes existed — the English `warnings`.
 */
export function planWarnings(plan: Pick<DeployPlan, 'warnings' | 'warningMsgs'>, lang: Lang = 'en'): string[] {
  const coded = plan.warningMsgs;
  if (!coded || coded.length !== plan.warnings.length) return plan.warnings;
  return coded.map((w) => text(lang, w));
}

/** What the isolation writes: the plan's own (English) lines, or the same said in another language. */
function isolationLines(plan: DeployPlan, lang: Lang): string[] {
  const iso = plan.isolation;
  if (!iso) return [];
  if (lang === 'en') return iso.objects;
  return [
    say(lang, 'out.isoNics'),
    say(lang, 'out.isoIpset', { ipset: iso.denyIpset, list: iso.deny.join(', '), allowIn: false }),
    say(lang, 'out.isoIpset', { ipset: iso.allowInIpset, list: iso.allowIn.join(', '), allowIn: true }),
    say(lang, 'out.isoRules', { deny: iso.denyIpset, allow: iso.allowInIpset }),
    say(lang, 'out.isoNothingCluster'),
  ];
}

export function planTableData(plan: DeployPlan, lang: Lang = 'en'): PlanTableData {
  const vms = plan.stands.reduce((n, s) => n + s.vms.length, 0);
  const summary = say(lang, 'out.planSummary', {
    group: plan.group,
    cluster: plan.cluster,
    stands: plan.stands.length,
    vms,
    clone: plan.clone,
    profile: plan.profile.name,
    strategy: plan.strategy,
    mode: plan.mode,
  });
  const unit = plan.mode === 'bridges' ? 'stands' : 'vms';
  return {
    summary,
    nodes: plan.nodes.map((n) => nodeRow(n, unit, lang, plan.excluded.find((e) => e.node === n.node))),
    stands: plan.stands.map((s) => standRow(s, lang)),
    replicas: plan.replicas.map((r) =>
      r.shared
        ? say(lang, 'out.replicaShared', { exists: r.exists, vmid: r.vmid, name: r.name, source: r.sourceVmid, from: r.sourceNode, storage: r.storage })
        : say(lang, 'out.replica', { exists: r.exists, vmid: r.vmid, name: r.name, source: r.sourceVmid, from: r.sourceNode, on: r.targetNode }),
    ),
    excluded: plan.excluded,
    isolation: isolationLines(plan, lang),
    warnings: planWarnings(plan, lang),
    ...(plan.estimate ? { estimate: estimateLine(plan, lang) } : {}),
  };
}

export interface RenderOptions {
  /** Terminal width in columns (default 100). */
  width?: number;
  /** Every detail (pool, machine names, networks, resources), wrapped to the width. */
  wide?: boolean;
  /** Language of engine texts (refusals); default English. */
  lang?: Lang;
}

function nodesTable(rows: PlanNodeRow[], width: number, lang: Lang = 'en'): string {
  const columns: Column[] = [
    { head: say(lang, 'nodes.node') },
    { head: say(lang, 'nodes.memory'), shrink: 'truncate', min: 16 },
    { head: say(lang, 'nodes.cpu'), shrink: 'truncate', min: 12 },
    { head: say(lang, 'nodes.note'), shrink: 'truncate', min: 12, first: true },
  ];
  return renderTable(columns, rows.map((n) => [n.node, n.memory, n.cpu, n.note]), { width });
}

/** A stand's bridges/VNets in few characters: `vmbr1000, vmbr1001 +VLAN 100`. */
function networksShort(s: StandPlan): string {
  if (s.segments.length === 0) return '-';
  const ifaces = s.segments.map((g) => g.iface).join(', ');
  return s.vlans.length > 0 ? `${ifaces} +VLAN ${s.vlans.join(',')}` : ifaces;
}

/** The plan as text. `maxStands` limits the per-stand table (the rest is summarised). */
export function renderPlan(plan: DeployPlan, o: { maxStands?: number } & RenderOptions = {}): string {
  const width = o.width ?? DEFAULT_WIDTH;
  const lang = o.lang ?? 'en';
  const d = planTableData(plan, lang);
  const out: string[] = [plan.estimate ? `${d.summary}; ${estimateTime(plan.estimate, lang)}` : d.summary, '', nodesTable(d.nodes, width, lang), ''];
  const max = o.maxStands ?? Infinity;
  const shown = plan.stands.slice(0, max);
  if (o.wide) {
    out.push(
      renderTable(
        [
          { head: head(lang, 'user'), shrink: 'wrap', min: 12 },
          { head: head(lang, 'node') },
          { head: head(lang, 'pool'), shrink: 'wrap', min: 10 },
          { head: head(lang, 'vmids'), shrink: 'wrap', min: 12 },
          { head: head(lang, 'bridgesVlans'), shrink: 'wrap', min: 14 },
          { head: head(lang, 'resources'), shrink: 'wrap', min: 9 },
          { head: head(lang, 'note'), shrink: 'wrap', min: 8 },
        ],
        d.stands.slice(0, max).map((s) => [s.user, s.node, s.pool, s.vmids, s.networks, s.resources, s.note]),
        { width },
      ),
    );
  } else {
    out.push(
      renderTable(
        [
          { head: head(lang, 'user'), shrink: 'truncate', min: 12 },
          { head: head(lang, 'node') },
          { head: head(lang, 'vmids'), shrink: 'truncate', min: 9 },
          { head: head(lang, 'bridges'), shrink: 'truncate', min: 10 },
          { head: head(lang, 'note'), shrink: 'truncate', min: 8 },
        ],
        shown.map((s, i) => [s.userid, d.stands[i]!.node, compactIds(s.vms.map((v) => v.vmid)), networksShort(s), d.stands[i]!.note]),
        { width },
      ),
    );
  }
  if (d.stands.length > max) out.push(say(lang, 'out.moreStands', { count: d.stands.length - max }));
  if (d.replicas.length > 0) out.push('', [say(lang, 'out.replicasHead'), ...d.replicas.map((r) => `  ${r}`)].join('\n'));
  if (d.isolation.length > 0) out.push('', [say(lang, 'out.isolationHead'), ...d.isolation.map((l) => `  ${l}`)].join('\n'));
  if (d.excluded.length > 0) out.push('', [say(lang, 'refusal.nodesLeftOut'), ...d.excluded.map((e) => `  ${e.node}: ${text(lang, e.reasonMsg, e.reason)}`)].join('\n'));
  if (d.warnings.length > 0) out.push('', [say(lang, 'plan.warnings'), ...d.warnings.map((w) => `  ${w}`)].join('\n'));
  if (d.estimate) out.push('', d.estimate);
  return fitText(out.join('\n'), width);
}

/** The table a PlanRefusedError carries (rendered again at the terminal's width by the CLI). */
export function renderRefusal(
  rows: readonly RefusalRow[],
  nodes: readonly NodeProjection[],
  excluded: readonly ExcludedNode[],
  o: RenderOptions = {},
): string {
  const width = o.width ?? DEFAULT_WIDTH;
  const lang = o.lang ?? 'en';
  const out: string[] = [];
  if (rows.length > 0) {
    out.push(
      renderTable(
        [{ head: say(lang, 'refusal.what'), shrink: 'wrap', min: 12 }, { head: say(lang, 'refusal.problem'), shrink: 'wrap', min: 20 }],
        rows.map((r) => [text(lang, r.subjectMsg, r.subject), text(lang, r.problemMsg, r.problem)]),
        { width },
      ),
    );
  }
  // a left-out node's reason is listed below the table in full rather than squeezed into its note
  if (nodes.length > 0) {
    const rowOf = (n: NodeProjection): PlanNodeRow => ({
      ...nodeRow(n, 'stands', lang),
      note: n.excluded ? say(lang, 'nodes.leftOut') : n.stands > 0 ? say(lang, 'nodes.placed', { count: n.stands }) : '',
    });
    out.push(nodesTable(nodes.map(rowOf), width, lang));
  }
  // the excluded list first: its reasons carry codes (rendered in the user's language)
  const left = [...excluded, ...nodes.filter((n) => n.excluded).map((n): ExcludedNode => ({ node: n.node, reason: n.excluded! }))];
  const seen = new Set<string>();
  const reasons = left.filter((e) => !seen.has(e.node) && seen.add(e.node));
  if (reasons.length > 0) {
    out.push([say(lang, 'refusal.nodesLeftOut'), ...reasons.map((e) => `  ${e.node}: ${text(lang, e.reasonMsg, e.reason)}`)].join('\n'));
  }
  return fitText(out.join('\n\n'), width);
}
