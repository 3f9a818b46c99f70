/**
 * /deploy profile users [group] [cluster] [placement] [clone] [lease] [start] — teachers. The attachment is
 * downloaded and checked, the plan shown with Confirm/Cancel (only the invoker may press them, and they time
 * out), then the deploy runs with live progress and the credentials go out privately.
 */
import { SlashCommandBuilder } from 'discord.js';
import { ConfigError, UserError, formatIssue } from '../src/errors.js';
import { parseUserList } from '../src/config/user-list.js';
import { userListRules } from '../src/config/settings.js';
import { listProfiles, loadProfile } from '../src/config/profile.js';
import { planDeploy } from '../src/core/plan.js';
import { markPasswordsShown } from '../src/core/credentials.js';
import { deployStepCounts, runDeploy } from '../src/core/deploy.js';
import { newJobId } from '../src/core/executor.js';
import { PlanRefusedError, isPlacementStrategy, type DeployPlan } from '../src/core/types.js';
import { downloadAttachment } from '../src/discord/attachments.js';
import { deliverCredentials } from '../src/discord/credentials.js';
import { confirmRow, deployPlanEmbed, refusedEmbed } from '../src/discord/plan-view.js';
import { clip } from '../src/discord/progress.js';
import { clusterChoices, deployOutcome, ensureGroupFree, profileChoices, discordIdOf } from '../src/discord/engine-glue.js';
import { cancelButton, takeOwnPending } from '../src/discord/confirm.js';
import type { BotCommand, ButtonContext } from '../src/discord/types.js';

interface PendingDeploy {
  plan: DeployPlan;
  channelId: string;
}

const data = new SlashCommandBuilder()
  .setName('deploy')
  .setDescription('Deploy stands for a class from a user list')
  .setDescriptionLocalizations({ ru: 'Развернуть стенды для группы по списку пользователей' })
  .addStringOption((o) => o.setName('profile').setDescription('Stand profile').setDescriptionLocalizations({ ru: 'Профиль стенда' }).setRequired(true).setAutocomplete(true))
  .addAttachmentOption((o) => o.setName('users').setDescription('User list (.txt, .csv, .yml)').setDescriptionLocalizations({ ru: 'Список пользователей (.txt, .csv, .yml)' }).setRequired(true))
  .addStringOption((o) => o.setName('group').setDescription('Group name (default: <profile>-<list>)').setDescriptionLocalizations({ ru: 'Имя группы (по умолчанию <профиль>-<список>)' }))
  .addStringOption((o) => o.setName('cluster').setDescription('Cluster').setDescriptionLocalizations({ ru: 'Кластер' }).setAutocomplete(true))
  .addStringOption((o) => o.setName('placement').setDescription('balanced, round-robin, pack or node:<name>').setDescriptionLocalizations({ ru: 'balanced, round-robin, pack или node:<имя>' }))
  .addStringOption((o) =>
    o.setName('clone').setDescription('Clone mode').setDescriptionLocalizations({ ru: 'Режим клонирования' }).addChoices({ name: 'linked', value: 'linked' }, { name: 'full', value: 'full' }),
  )
  .addStringOption((o) => o.setName('lease').setDescription('Lease, e.g. 4h or 2d').setDescriptionLocalizations({ ru: 'Аренда, например 4h или 2d' }))
  .addBooleanOption((o) => o.setName('start').setDescription('Start the VMs after deploying').setDescriptionLocalizations({ ru: 'Запустить ВМ после развёртывания' }));

async function confirm(cx: ButtonContext, id: string): Promise<void> {
  const { bot, m, interaction: i } = cx;
  const p = await takeOwnPending<PendingDeploy>(cx, id);
  if (!p) return;
  const { plan } = p.payload;
  await i.update({ components: [] });
  const jobId = newJobId('deploy');
  const handle = { appId: i.applicationId, token: i.token, createdAt: i.createdTimestamp };
  await bot.jobs.start({
    kind: 'deploy',
    group: plan.group,
    cluster: plan.cluster,
    actor: { id: i.user.id, name: i.user.username },
    lang: cx.lang,
    channelId: p.payload.channelId,
    stands: plan.stands.map((s) => s.userid),
    standSteps: deployStepCounts(plan),
    interaction: handle,
    jobId,
    run: async (onEvent, signal) =>
      deployOutcome(
        await runDeploy(cx.app, plan, { onEvent, signal, jobId, requestedBy: { via: 'discord', id: i.user.id, name: i.user.username } }),
        cx.lang,
      ),
    after: async (r) => {
      await cx.audit('deploy', r.outcome === 'succeeded' ? 'ok' : r.outcome === 'partial' ? 'partial' : 'failed', {
        group: plan.group,
        ...(r.jobId ? { job: r.jobId } : {}),
        details: { phase: 'finished', stands: plan.stands.length, failed: r.failed },
      });
      await deliverCredentials({
        client: bot.client,
        m,
        group: plan.group,
        creds: r.credentials,
        teacherId: i.user.id,
        interaction: handle,
        tokenSwitchMs: bot.settings.tokenSwitchMs,
        discordOf: (userid) => discordIdOf(cx.app, plan, userid),
        logger: cx.logger,
        shown: (creds, how) => markPasswordsShown(cx.app, creds, how),
      });
    },
  });
  await cx.audit('deploy', 'ok', { group: plan.group, details: { stands: plan.stands.length, phase: 'started' } });
}

export const deploy: BotCommand = {
  data: data.toJSON(),
  access: 'teacher',
  ephemeral: true,
  async autocomplete({ interaction, app }) {
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'cluster') return clusterChoices(app, focused.value);
    return profileChoices(app.configDir, focused.value);
  },
  async run(cx) {
    const { interaction: i, bot, app, m } = cx;
    const profileName = i.options.getString('profile', true);
    // names only: a path would let a member make the bot read any file
    const known = await listProfiles(app.configDir);
    if (!known.includes(profileName)) throw new UserError(m.unknownProfile(profileName, known.join(', ') || m.none));
    const att = i.options.getAttachment('users', true);
    const bytes = await downloadAttachment(
      { url: att.url, name: att.name, size: att.size, contentType: att.contentType },
      { allowedHosts: bot.settings.attachmentHosts, maxBytes: bot.settings.attachmentMaxBytes, m },
    );
    let users;
    try {
      users = parseUserList(bytes, att.name, userListRules(app.settings));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const lines = err.issues.map(formatIssue);
      await i.editReply({
        content: clip(`${m.listErrors(att.name, lines.length)}\n\`\`\`\n${lines.join('\n')}\n\`\`\``, 2000),
        allowedMentions: { parse: [] },
      });
      await cx.audit('deploy', 'failed', { details: { reason: 'bad user list', file: att.name } });
      return;
    }
    const placement = i.options.getString('placement') ?? undefined;
    const group = i.options.getString('group') ?? undefined;
    if (group) await ensureGroupFree(bot, group, m);
    let plan: DeployPlan;
    try {
      plan = await planDeploy(app, {
        profile: await loadProfile(app.configDir, profileName),
        users,
        ...(group ? { group } : {}),
        ...(i.options.getString('cluster') ? { cluster: i.options.getString('cluster')! } : {}),
        ...(placement && isPlacementStrategy(placement) ? { placement } : {}),
        ...(i.options.getString('clone') ? { clone: i.options.getString('clone') as 'linked' | 'full' } : {}),
        ...(i.options.getString('lease') ? { lease: i.options.getString('lease')! } : {}),
        ...(i.options.getBoolean('start') !== null ? { start: i.options.getBoolean('start')! } : {}),
      });
    } catch (err) {
      if (err instanceof PlanRefusedError) {
        await i.editReply({ embeds: [refusedEmbed(err, m, cx.lang)] });
        await cx.audit('deploy', 'failed', { ...(group ? { group } : {}), details: { reason: err.summary } });
        return;
      }
      throw err;
    }
    if (!group) await ensureGroupFree(bot, plan.group, m);
    const seconds = Math.round(bot.settings.confirmTimeoutMs / 1000);
    const p = bot.pending.add<PendingDeploy>({
      kind: 'deploy',
      ownerId: i.user.id,
      group: plan.group,
      payload: { plan, channelId: i.channelId },
      timeoutMs: bot.settings.confirmTimeoutMs,
      onTimeout: () => void i.editReply({ content: m.timedOut, components: [] }).catch(() => undefined),
    });
    await i.editReply({ embeds: [deployPlanEmbed(plan, m, seconds, cx.lang)], components: [confirmRow('deploy', p.id, m)] });
  },
  buttons: {
    confirm: { access: 'teacher', run: confirm },
    cancel: cancelButton,
  },
};
