/** The plan embeds shown before a Confirm: what will be created (deploy) or removed (cleanup, reset). */
import type { APIEmbed } from 'discord.js';
import type { DeployPlan, PlanRefusedError } from '../core/types.js';
import { planWarnings } from '../core/plan-table.js';
import { text } from '../i18n/index.js';
import type { Lang, Messages } from './i18n.js';
import { clip } from './progress.js';

const pct = (x: number) => Math.round(x * 100);

export function deployPlanEmbed(plan: DeployPlan, m: Messages, confirmSeconds: number, lang: Lang = 'en'): APIEmbed {
  const perNode = new Map<string, number>();
  for (const s of plan.stands) perNode.set(s.node, (perNode.get(s.node) ?? 0) + 1);
  const nodeLines = plan.nodes
    .filter((n) => !n.excluded)
    .map((n) => m.planNodeLine(n.node, perNode.get(n.node) ?? 0, pct(n.memUtil), pct(n.cpuUtil)));
  const vms = plan.stands.reduce((a, s) => a + s.vms.length, 0);
  const fields = [{ name: m.planNodes, value: clip(nodeLines.join('\n') || '-', 1024) }];
  if (plan.estimate) {
    fields.push({ name: m.planEstimate, value: clip(m.planEstimateValue(plan.estimate.ms, plan.estimate.replicasToMake, plan.estimate.replicasReused), 1024) });
  }
  if (plan.excluded.length) {
    fields.push({ name: m.planExcluded, value: clip(plan.excluded.map((e) => `${e.node}: ${text(lang, e.reasonMsg, e.reason)}`).join('\n'), 1024) });
  }
  const iso = plan.isolation;
  fields.push({ name: m.planIsolation, value: iso ? m.planIsolated(iso.deny.length, iso.allowIn.length) : m.planNotIsolated });
  const warnings = [...planWarnings(plan, lang), ...plan.stands.flatMap((s) => s.warnings.map((w) => `${s.userid}: ${w}`))];
  if (warnings.length) fields.push({ name: m.planWarnings, value: clip(warnings.join('\n'), 1024) });
  const standLines = plan.stands.map((s) => `${s.userid} → ${s.node} (${s.vms.map((v) => v.vmid).join(', ')})`);
  return {
    title: clip(m.planTitle(plan.group, plan.profile.name), 256),
    description: clip(`${m.planSummary(plan.stands.length, vms, plan.cluster)}\n\n${standLines.join('\n')}`, 3000),
    fields,
    footer: { text: m.planConfirm(confirmSeconds) },
    color: 0x1565c0,
  };
}

/** The line `/stand info` shows for a stand record (`isolation` as the deploy recorded it). */
export function standIsolationLine(rec: { isolation?: 'none' | 'stand' }, m: Messages): string {
  return m.standIsolated(rec.isolation === 'stand');
}

export function refusedEmbed(err: PlanRefusedError, m: Messages, lang: Lang = 'en'): APIEmbed {
  const rows = err.rows.map((r) => `${text(lang, r.subjectMsg, r.subject)}: ${text(lang, r.problemMsg, r.problem)}`);
  return {
    title: clip(err.summaryText(lang) || m.planRefused, 256),
    description: clip(`${m.planRefused}\n\`\`\`\n${rows.join('\n') || err.table}\n\`\`\``, 4000),
    color: 0xd32f2f,
  };
}

export function confirmRow(command: string, id: string, m: Messages) {
  return {
    type: 1,
    components: [
      { type: 2, style: 3, custom_id: `${command}:confirm:${id}`, label: m.confirm },
      { type: 2, style: 2, custom_id: `${command}:cancel:${id}`, label: m.cancel },
    ],
  };
}
