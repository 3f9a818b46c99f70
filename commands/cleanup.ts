/**
 * /cleanup group [user] — teachers: a dry-run listing of what will be removed, Confirm (invoker only, times
 * out), then the cleanup with live progress and a summary.
 */
import { SlashCommandBuilder } from 'discord.js';
import { describeCleanupPlan, planCleanup, runCleanup, type CleanupPlan } from '../src/core/cleanup.js';
import { newJobId } from '../src/core/executor.js';
import { ensureGroupFree, failedLine, groupChoices } from '../src/discord/engine-glue.js';
import { confirmRow } from '../src/discord/plan-view.js';
import { clip } from '../src/discord/progress.js';
import { cancelButton, takeOwnPending } from '../src/discord/confirm.js';
import type { BotCommand, ButtonContext } from '../src/discord/types.js';

interface PendingCleanup {
  cplan: CleanupPlan;
  channelId: string;
}

async function confirm(cx: ButtonContext, id: string): Promise<void> {
  const { bot, m, interaction: i } = cx;
  const p = await takeOwnPending<PendingCleanup>(cx, id);
  if (!p) return;
  const { cplan } = p.payload;
  await i.update({ components: [] });
  const jobId = newJobId('cleanup');
  const requestedBy = { via: 'discord' as const, id: i.user.id, name: i.user.username };
  await bot.jobs.start({
    kind: 'cleanup',
    group: cplan.group,
    cluster: cplan.cluster,
    actor: { id: i.user.id, name: i.user.username },
    lang: cx.lang,
    channelId: p.payload.channelId,
    stands: cplan.stands.map((s) => s.userid),
    interaction: { appId: i.applicationId, token: i.token, createdAt: i.createdTimestamp },
    jobId,
    run: async (onEvent, signal) => {
      const r = await runCleanup(cx.app, cplan, { onEvent, signal, jobId, requestedBy });
      const failed = r.stands.filter((s) => s.status === 'failed').map((s) => failedLine(cx.lang, s));
      return { outcome: r.status, ...(failed.length ? { note: failed.slice(0, 15).join('\n') } : {}) };
    },
    after: async (r) => {
      const outcome = r.outcome === 'succeeded' ? 'ok' : r.outcome === 'partial' ? 'partial' : 'failed';
      await cx.audit('cleanup', outcome, { group: cplan.group, job: jobId, details: { stands: cplan.stands.length } });
    },
  });
}

export const cleanup: BotCommand = {
  data: new SlashCommandBuilder()
    .setName('cleanup')
    .setDescription('Remove the stands of a group (or of one user)')
    .setDescriptionLocalizations({ ru: 'Удалить стенды группы (или одного пользователя)' })
    .addStringOption((o) => o.setName('group').setDescription('Group').setDescriptionLocalizations({ ru: 'Группа' }).setRequired(true).setAutocomplete(true))
    .addStringOption((o) => o.setName('user').setDescription('Only this user (name@realm)').setDescriptionLocalizations({ ru: 'Только этот пользователь (имя@realm)' }))
    .toJSON(),
  access: 'teacher',
  ephemeral: true,
  autocomplete: ({ interaction, app }) => groupChoices(app, interaction.options.getFocused()),
  async run(cx) {
    const { interaction: i, bot, app, m } = cx;
    const group = i.options.getString('group', true);
    const user = i.options.getString('user') ?? undefined;
    await ensureGroupFree(bot, group, m);
    const cplan = await planCleanup(app, { group, ...(user ? { user } : {}) });
    if (cplan.stands.length === 0) return void (await i.editReply({ content: m.nothingToDo }));
    const p = bot.pending.add<PendingCleanup>({
      kind: 'cleanup',
      ownerId: i.user.id,
      group,
      payload: { cplan, channelId: i.channelId },
      timeoutMs: bot.settings.confirmTimeoutMs,
      onTimeout: () => void i.editReply({ content: m.timedOut, embeds: [], components: [] }).catch(() => undefined),
    });
    await i.editReply({
      embeds: [
        {
          title: clip(m.cleanupTitle(group), 256),
          description: clip(describeCleanupPlan(cplan, cx.lang).join('\n'), 4000),
          footer: { text: m.planConfirm(Math.round(bot.settings.confirmTimeoutMs / 1000)) },
          color: 0xd32f2f,
        },
      ],
      components: [confirmRow('cleanup', p.id, m)],
      allowedMentions: { parse: [] },
    });
  },
  buttons: {
    confirm: { access: 'teacher', run: confirm },
    cancel: cancelButton,
  },
};
