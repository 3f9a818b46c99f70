/** /link member user@realm — teachers: ties a Discord member to a Proxmox user, for /stand and credential DMs. */
import { SlashCommandBuilder } from 'discord.js';
import { USERID_RE } from '../src/config/connections.js';
import { userListRules } from '../src/config/settings.js';
import { checkUserId } from '../src/config/userid.js';
import { UserError } from '../src/errors.js';
import type { BotCommand } from '../src/discord/types.js';

export const link: BotCommand = {
  data: new SlashCommandBuilder()
    .setName('link')
    .setDescription('Link a Discord member to a Proxmox user')
    .setDescriptionLocalizations({ ru: 'Привязать участника Discord к пользователю Proxmox' })
    .addUserOption((o) => o.setName('member').setDescription('Member').setDescriptionLocalizations({ ru: 'Участник' }).setRequired(true))
    .addStringOption((o) => o.setName('user').setDescription('Proxmox user, name@realm').setDescriptionLocalizations({ ru: 'Пользователь Proxmox, имя@realm' }).setRequired(true))
    .toJSON(),
  access: 'teacher',
  ephemeral: true,
  async run(cx) {
    const { interaction: i, m, app } = cx;
    const member = i.options.getUser('member', true);
    const userid = i.options.getString('user', true).trim();
    if (!USERID_RE.test(userid) || userid.length > 64) throw new UserError(m.badUserid(userid));
    // the same rules as a roster line: realm allowlist, no root@pam, @pam only with allow_pam, no list separators
    const checked = checkUserId(userid, userListRules(app.settings));
    if (!checked.ok) throw new UserError(m.useridRefused(checked.message));
    await app.store.links.link(member.id, userid, `discord:${i.user.id}`);
    await cx.audit('link', 'ok', { user: userid, details: { member: member.id } });
    await i.editReply({ content: m.linked(member.id, userid), allowedMentions: { parse: [] } });
  },
};
