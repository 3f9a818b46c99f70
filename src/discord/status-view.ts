/**
 * /status as embeds: per node CPU, memory (used vs allocated vs total) and storage bars, a page of nodes at a
 * time (an embed holds 25 fields), groups with stand counts and running jobs for teachers, and the last hour of
 * CPU and memory as one PNG chart.
 */
import type { APIEmbed } from 'discord.js';
import type { NodeReport, StatusReport } from '../core/status.js';
import type { ChartSeries } from './chart.js';
import type { Messages } from './i18n.js';
import { bar, clip } from './progress.js';

const GiB = 1024 ** 3;
export const gib = (bytes: number) => `${(bytes / GiB).toFixed(bytes >= 100 * GiB ? 0 : 1)} GiB`;

function nodeField(n: NodeReport, m: Messages) {
  const lines: string[] = [];
  if (n.status !== 'online') {
    return { name: `${n.node} (${m.offline})`, value: '-' };
  }
  lines.push(`${m.cpu} \`${bar(n.cpu, 12)}\` · ${n.coresAllocated}/${n.maxcpu} vCPU`);
  lines.push(`${m.memory} \`${bar(n.memTotal ? n.memUsed / n.memTotal : 0, 12)}\``);
  lines.push(m.usedAllocTotal(gib(n.memUsed), gib(n.memAllocated), gib(n.memTotal)));
  for (const s of n.storage.slice(0, 4)) {
    lines.push(`${m.storage} ${s.storage} \`${bar(s.total ? s.used / s.total : 0, 12)}\` ${gib(s.used)}/${gib(s.total)}`);
  }
  return { name: `${n.node} · ${n.running}/${n.vms} VM`, value: clip(lines.join('\n'), 1024) };
}

export function statusEmbed(r: StatusReport, m: Messages, o: { page: number; perPage: number; teacher: boolean }): { embed: APIEmbed; pages: number } {
  const pages = Math.max(1, Math.ceil(r.nodes.length / o.perPage));
  const page = Math.min(Math.max(0, o.page), pages - 1);
  const fields = r.nodes.slice(page * o.perPage, (page + 1) * o.perPage).map((n) => nodeField(n, m));
  if (o.teacher) {
    const groups = r.groups.map((g) => m.groupLine(g.name, g.stands) + (g.lockedBy ? ` 🔒` : ''));
    fields.push({ name: m.groups, value: clip(groups.join('\n') || m.none, 1024) });
    const jobs = r.jobs.map((j) => `${j.kind} ${j.group ?? ''} — ${j.progress.done}/${j.progress.total} (${j.requestedBy.name ?? j.requestedBy.via})`);
    fields.push({ name: m.jobs, value: clip(jobs.join('\n') || m.none, 1024) });
  }
  return {
    embed: {
      title: m.statusTitle(r.cluster),
      fields,
      footer: { text: pages > 1 ? m.page(page + 1, pages) : new Date(r.generatedAt).toISOString().slice(0, 19).replace('T', ' ') },
      color: 0x1565c0,
    },
    pages,
  };
}

export function chartSeries(r: StatusReport): ChartSeries[] {
  return r.nodes
    .filter((n) => n.rrd?.samples.length)
    .map((n) => ({
      node: n.node,
      points: n.rrd!.samples.map((p) => ({
        t: p.time,
        cpu: p.cpu ?? Number.NaN,
        mem: p.memUsed !== undefined && (p.memTotal ?? n.memTotal) ? p.memUsed / (p.memTotal ?? n.memTotal) : Number.NaN,
      })),
    }));
}
