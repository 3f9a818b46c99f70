/**
 * /templates prepare profile [cluster] [nodes] — admins only. Makes (or verifies) every template replica a
 * deploy of the profile would need, ahead of class, with the progress in the reply; the same core as
 * `stands templates --prepare` (src/core/prepare.ts), idempotent: replicas already there are only verified.
 */
import { SlashCommandBuilder } from 'discord.js';
import { listProfiles, loadProfile } from '../src/config/profile.js';
import { planPrepare, runPrepare } from '../src/core/prepare.js';
import { UserError } from '../src/errors.js';
import { clusterChoices, profileChoices } from '../src/discord/engine-glue.js';
import { clip } from '../src/discord/progress.js';
import type { BotCommand } from '../src/discord/types.js';

const data = new SlashCommandBuilder()
  .setName('templates')
  .setDescription('Template replicas')
  .setDescriptionLocalizations({ ru: 'Копии шаблонов' })
  .addSubcommand((s) =>
    s
      .setName('prepare')
      .setDescription('Make every template replica a deploy of the profile needs, ahead of class')
      .setDescriptionLocalizations({ ru: 'Заранее сделать копии шаблонов, нужные для развёртывания профиля' })
      .addStringOption((o) => o.setName('profile').setDescription('Stand profile').setDescriptionLocalizations({ ru: 'Профиль стенда' }).setRequired(true).setAutocomplete(true))
      .addStringOption((o) => o.setName('cluster').setDescription('Cluster').setDescriptionLocalizations({ ru: 'Кластер' }).setAutocomplete(true))
      .addStringOption((o) => o.setName('nodes').setDescription('Only these nodes, e.g. pve2,pve3').setDescriptionLocalizations({ ru: 'Только эти узлы, например pve2,pve3' })),
  );

/** Progress edits at most this often (Discord rate-limits message edits). */
const EDIT_EVERY_MS = 2000;

export const templates: BotCommand = {
  data: data.toJSON(),
  // making VMs on every node is an administrator's decision, not a teacher's
  access: 'admin',
  ephemeral: true,
  async autocomplete({ interaction, app }) {
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'cluster') return clusterChoices(app, focused.value);
    return profileChoices(app.configDir, focused.value);
  },
  async run(cx) {
    const { interaction: i, app, m } = cx;
    const profileName = i.options.getString('profile', true);
    // names only: a path would let a member make the bot read any file
    const known = await listProfiles(app.configDir);
    if (!known.includes(profileName)) throw new UserError(m.unknownProfile(profileName, known.join(', ') || m.none));
    const cluster = i.options.getString('cluster') ?? undefined;
    const nodesArg = i.options.getString('nodes') ?? undefined;
    const nodes = nodesArg?.split(',').map((n) => n.trim()).filter(Boolean);
    const plan = await planPrepare(app, { profile: await loadProfile(app.configDir, profileName), ...(cluster ? { cluster } : {}), ...(nodes?.length ? { nodes } : {}) });
    const head = m.prepareHead(plan.profile, plan.cluster, plan.replicas.length, plan.replicas.filter((r) => !r.exists).length);
    const skipped = plan.skipped.map((s) => `${s.node}: ${s.reason}`);
    const lines: string[] = [];
    const render = (tail?: string): string =>
      clip([head, ...skipped.map((s) => m.prepareSkipped(s)), '```', ...(lines.length ? lines.slice(-15) : ['…']), '```', ...(tail ? [tail] : [])].join('\n'), 2000);
    await i.editReply({ content: render(), allowedMentions: { parse: [] } });
    let last = 0;
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      last = Date.now();
      timer = undefined;
      void i.editReply({ content: render(), allowedMentions: { parse: [] } }).catch((err: unknown) => cx.logger.warn({ err }, 'progress edit failed'));
    };
    const result = await runPrepare(app, plan, {
      onEvent: (e) => {
        if (e.type === 'step-started' || e.type === 'stand-done' || e.type === 'stand-failed') {
          const mark = e.type === 'stand-failed' ? '✘' : e.type === 'stand-done' ? '✔' : '…';
          lines.push(`${mark} ${e.stand ?? ''}${e.message && e.type !== 'stand-done' ? `: ${e.message}` : e.type === 'stand-done' && /present/.test(e.message ?? '') ? ` (${m.preparePresent})` : ''}`);
          if (!timer) timer = setTimeout(flush, Math.max(0, EDIT_EVERY_MS - (Date.now() - last)));
        }
      },
    });
    if (timer) clearTimeout(timer);
    await i.editReply({ content: render(m.prepareDone(result.made, result.present, result.failed)), allowedMentions: { parse: [] } });
    await cx.audit('templates prepare', result.failed ? (result.made || result.present ? 'partial' : 'failed') : 'ok', {
      job: result.job,
      details: { profile: plan.profile, cluster: plan.cluster, made: result.made, present: result.present, failed: result.failed },
    });
  },
};
