/** /unlink member — teachers: removes a member's link to a Proxmox user. */
import { SlashCommandBuilder } from 'discord.js';
import type { BotCommand } from '../src/discord/types.js';

export const unlink: BotCommand = {
  data: new SlashCommandBuilder()
    .setName('unlink')
    .setDescription('Remove the link between a Discord member and a Proxmox user')
    .setDescriptionLocalizations({ ru: 'Удалить привязку участника Discord к пользователю Proxmox' })
    .addUserOption((o) => o.setName('member').setDescription('Member').setDescriptionLocalizations({ ru: 'Участник' }).setRequired(true))
    .toJSON(),
  access: 'teacher',
  ephemeral: true,
  async run(cx) {
    const { interaction: i, m, app } = cx;
    const member = i.options.getUser('member', true);
    const had = await app.store.links.byDiscord(member.id);
    if (!had) return void (await i.editReply({ content: m.notLinked(member.id), allowedMentions: { parse: [] } }));
    await app.store.links.unlink(member.id);
    await cx.audit('unlink', 'ok', { user: had.userid, details: { member: member.id } });
    await i.editReply({ content: m.unlinked(member.id), allowedMentions: { parse: [] } });
  },
};
