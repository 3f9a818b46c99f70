/**
 * /reset group [user] — teachers: lists the stands that go back to their `start` snapshot, Confirm, then the
 * rollback with live progress and a summary.
 */
import { SlashCommandBuilder } from 'discord.js';
import { resetStands } from '../src/core/power.js';
import { cancelButton, takeOwnPending } from '../src/discord/confirm.js';
import { ensureGroupFree, failedLine, groupChoices } from '../src/discord/engine-glue.js';
import { confirmRow } from '../src/discord/plan-view.js';
import { clip } from '../src/discord/progress.js';
import { UserError } from '../src/errors.js';
import type { BotCommand, ButtonContext } from '../src/discord/types.js';

interface PendingReset {
  group: string;
  user?: string;
  cluster: string;
  stands: string[];
  channelId: string;
}

async function confirm(cx: ButtonContext, id: string): Promise<void> {
  const { bot, interaction: i } = cx;
  const p = await takeOwnPending<PendingReset>(cx, id);
  if (!p) return;
  const r = p.payload;
  await i.update({ components: [] });
  const requestedBy = { via: 'discord' as const, id: i.user.id, name: i.user.username };
  let jobId = '';
  await bot.jobs.start({
    kind: 'reset',
    group: r.group,
    cluster: r.cluster,
    actor: { id: i.user.id, name: i.user.username },
    lang: cx.lang,
    channelId: r.channelId,
    stands: r.stands,
    interaction: { appId: i.applicationId, token: i.token, createdAt: i.createdTimestamp },
    run: async (onEvent, signal) => {
      const res = await resetStands(cx.app, { group: r.group, ...(r.user ? { user: r.user } : {}) }, { onEvent, signal, requestedBy });
      jobId = res.job;
      const failed = res.stands.filter((s) => s.status === 'failed').map((s) => failedLine(cx.lang, s));
      return { outcome: res.status, ...(failed.length ? { note: failed.slice(0, 15).join('\n') } : {}) };
    },
    after: async (res) => {
      const outcome = res.outcome === 'succeeded' ? 'ok' : res.outcome === 'partial' ? 'partial' : 'failed';
      await cx.audit('reset', outcome, { group: r.group, ...(r.user ? { user: r.user } : {}), ...(jobId ? { job: jobId } : {}) });
    },
  });
}

export const reset: BotCommand = {
  data: new SlashCommandBuilder()
    .setName('reset')
    .setDescription('Roll the stands of a group (or of one user) back to their start snapshot')
    .setDescriptionLocalizations({ ru: 'Вернуть стенды группы (или одного пользователя) к снимку start' })
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
    const stands = (await app.store.stands.listByGroup(group)).filter((s) => (!user || s.userid === user) && s.status !== 'removed');
    if (!stands.length) throw new UserError(m.noSuchGroup(user ? `${group}/${user}` : group));
    const p = bot.pending.add<PendingReset>({
      kind: 'reset',
      ownerId: i.user.id,
      group,
      payload: { group, ...(user ? { user } : {}), cluster: stands[0]!.cluster, stands: stands.map((s) => s.userid), channelId: i.channelId },
      timeoutMs: bot.settings.confirmTimeoutMs,
      onTimeout: () => void i.editReply({ content: m.timedOut, embeds: [], components: [] }).catch(() => undefined),
    });
    const lines = stands.map((s) => `${s.userid}: ${s.vms.map((v) => `${v.vmid} ${v.name}`).join(', ')}`);
    await i.editReply({
      embeds: [
        {
          title: clip(m.resetTitle(group), 256),
          description: clip(lines.join('\n'), 4000),
          footer: { text: m.planConfirm(Math.round(bot.settings.confirmTimeoutMs / 1000)) },
          color: 0xf9a825,
        },
      ],
      components: [confirmRow('reset', p.id, m)],
      allowedMentions: { parse: [] },
    });
  },
  buttons: { confirm: { access: 'teacher', run: confirm }, cancel: cancelButton },
};
