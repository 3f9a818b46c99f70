/**
 * /status [cluster] [node] — teachers and students. Students see node load only (no groups, stands or jobs of
 * other people). Pages of nodes turn with buttons that re-read the status (restart-safe).
 */
import { AttachmentBuilder, SlashCommandBuilder } from 'discord.js';
import { getStatus } from '../src/core/status.js';
import { allows, type MemberLevel } from '../src/discord/access.js';
import { renderLoadChart } from '../src/discord/chart.js';
import { clusterChoices } from '../src/discord/engine-glue.js';
import type { Messages } from '../src/discord/i18n.js';
import { chartSeries, statusEmbed } from '../src/discord/status-view.js';
import type { AppContext } from '../src/core/context.js';
import type { Bot, BotCommand } from '../src/discord/types.js';

async function view(app: AppContext, bot: Bot, m: Messages, level: MemberLevel, q: { cluster?: string; node?: string; page: number }) {
  const teacher = allows(level, 'teacher');
  const report = await getStatus(app, { ...(q.cluster ? { cluster: q.cluster } : {}), ...(q.node ? { node: q.node } : {}), nodesOnly: !teacher });
  const { embed, pages } = statusEmbed(report, m, { page: q.page, perPage: bot.settings.statusNodesPerPage, teacher });
  const png = renderLoadChart(chartSeries(report), { width: 800, height: 400, title: m.chartTitle, labels: { cpu: m.cpu, memory: m.memory } });
  const files = [new AttachmentBuilder(png, { name: 'load.png' })];
  const chart = { title: m.chartTitle, image: { url: 'attachment://load.png' }, color: 0x1565c0 };
  const arg = `${report.cluster}:${q.node ?? ''}`;
  const components =
    pages > 1
      ? [
          {
            type: 1,
            components: [
              { type: 2, style: 2, custom_id: `status:page:${arg}:${q.page - 1}`, label: m.prev, disabled: q.page <= 0 },
              { type: 2, style: 2, custom_id: `status:page:${arg}:${q.page + 1}`, label: m.next, disabled: q.page >= pages - 1 },
            ],
          },
        ]
      : [];
  return { embeds: [embed, chart], files, components, attachments: [] };
}

export const status: BotCommand = {
  data: new SlashCommandBuilder()
    .setName('status')
    .setDescription('Cluster load, groups and running jobs')
    .setDescriptionLocalizations({ ru: 'Нагрузка кластера, группы и выполняемые задачи' })
    .addStringOption((o) => o.setName('cluster').setDescription('Cluster').setDescriptionLocalizations({ ru: 'Кластер' }).setAutocomplete(true))
    .addStringOption((o) => o.setName('node').setDescription('Only this node').setDescriptionLocalizations({ ru: 'Только этот узел' }))
    .toJSON(),
  access: 'student',
  ephemeral: true,
  autocomplete: async ({ interaction, app }) => clusterChoices(app, interaction.options.getFocused()),
  async run({ interaction: i, app, bot, m, level }) {
    const cluster = i.options.getString('cluster') ?? undefined;
    const node = i.options.getString('node') ?? undefined;
    await i.editReply(await view(app, bot, m, level, { ...(cluster ? { cluster } : {}), ...(node ? { node } : {}), page: 0 }));
  },
  buttons: {
    page: {
      access: 'student',
      async run({ interaction: i, app, bot, m, level }, arg) {
        const [cluster = '', node = '', page = '0'] = arg.split(':');
        await i.deferUpdate();
        await i.editReply(await view(app, bot, m, level, { ...(cluster ? { cluster } : {}), ...(node ? { node } : {}), page: Number(page) || 0 }));
      },
    },
  },
};
