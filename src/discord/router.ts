/**
 * The one interaction router: find the command → authorize in memory (roles come with the interaction) → defer,
 * ephemeral or public as the command declares → run → map errors. Buttons (`<command>:<action>:<arg>`) go
 * through the same authorization on every press, from the global interactionCreate handler, so they keep
 * working after a restart. Refusals are ephemeral and audited.
 */
import { MessageFlags, type Interaction, type RepliableInteraction } from 'discord.js';
import { errorReference, UserError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { ProxmoxApiError } from '../proxmox/errors.js';
import { allows, memberLevel, memberRoleIds, type AccessLevel } from './access.js';
import { langFor, messages, type Lang, type Messages } from './i18n.js';
import type { AuditInput } from './audit.js';
import type { Bot, BotCommand } from './types.js';

/**
 * What a member sees for an error: a UserError in the member's language (engine codes render from the engine
 * catalogue, src/i18n), PVE's message for API errors, a reference otherwise.
 */
export function describeError(err: unknown, m: Messages, log: (ref: string, err: unknown) => void, lang: Lang = 'en'): string {
  if (err instanceof UserError) return err.text(lang);
  if (err instanceof ProxmoxApiError) return m.proxmoxError(`${err.status || ''} ${err.pveMessage}`.trim());
  const ref = errorReference();
  log(ref, err);
  return m.internalError(ref);
}

export function createRouter(bot: Bot, commands: readonly BotCommand[]): (i: Interaction) => Promise<void> {
  const byName = new Map(commands.map((c) => [c.data.name, c]));

  function base(i: Interaction, action: string) {
    const lang = langFor(i.locale, bot.settings.language);
    const m = messages(lang);
    const level = memberLevel(memberRoleIds(i.member), bot.settings.roles);
    const logger = bot.logger.child({ interaction: i.id, user: i.user.id, action });
    const audit = (a: string, outcome: AuditInput['outcome'], extra: Partial<AuditInput> = {}) =>
      bot.audit({ actor: i.user.username, actorId: i.user.id, action: a, outcome, ...extra });
    return { bot, app: bot.app, lang, m, level, logger, audit };
  }

  async function reply(i: RepliableInteraction, content: string): Promise<void> {
    const body = { content: content.slice(0, 2000), embeds: [], components: [], allowedMentions: { parse: [] } };
    if (i.deferred || i.replied) await i.editReply(body);
    else await i.reply({ ...body, flags: MessageFlags.Ephemeral });
  }

  return async function route(i: Interaction): Promise<void> {
    // the interaction token is a credential for 15 minutes: redacted by value wherever it would be logged
    if ('token' in i) registerSecret(i.token);
    if (i.guildId !== bot.settings.guildId && i.guildId !== null) {
      bot.logger.warn({ guild: i.guildId }, 'interaction from another guild ignored');
      return;
    }
    if (i.isChatInputCommand()) {
      const cx0 = base(i, i.commandName);
      const cmd = byName.get(i.commandName);
      if (!cmd) return void (await reply(i, cx0.m.unknownCommand).catch(() => undefined));
      const sub = i.options.getSubcommand(false);
      const need: AccessLevel = typeof cmd.access === 'function' ? cmd.access(sub) : cmd.access;
      const what = sub ? `${i.commandName} ${sub}` : i.commandName;
      if (!allows(cx0.level, need)) {
        cx0.logger.info({ need, level: cx0.level }, 'command refused');
        await reply(i, cx0.m.denied(cx0.m.accessNames[need] ?? need)).catch((err: unknown) => cx0.logger.warn({ err }, 'refusal reply failed'));
        await cx0.audit(what, 'denied', { details: { need } });
        return;
      }
      try {
        await i.deferReply(cmd.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
      } catch (err) {
        // 10062: we were too slow (or a restart caught it mid-flight); Discord already shows a failure.
        cx0.logger.warn({ err }, 'defer failed');
        return;
      }
      try {
        await cmd.run({ ...cx0, interaction: i });
      } catch (err) {
        const text = describeError(err, cx0.m, (ref, e) => cx0.logger.error({ err: e, ref }, 'command failed'), cx0.lang);
        await reply(i, text).catch((e: unknown) => cx0.logger.warn({ err: e }, 'error reply failed'));
      }
      return;
    }
    if (i.isAutocomplete()) {
      const cx0 = base(i, `${i.commandName}:autocomplete`);
      const cmd = byName.get(i.commandName);
      const sub = i.options.getSubcommand(false);
      const need = cmd ? (typeof cmd.access === 'function' ? cmd.access(sub) : cmd.access) : 'admin';
      let choices: { name: string; value: string | number }[] = [];
      if (cmd?.autocomplete && allows(cx0.level, need)) {
        try {
          choices = await cmd.autocomplete({ ...cx0, interaction: i });
        } catch (err) {
          cx0.logger.warn({ err }, 'autocomplete failed');
        }
      }
      await i.respond(choices.slice(0, 25)).catch((err: unknown) => cx0.logger.warn({ err }, 'autocomplete respond failed'));
      return;
    }
    if (i.isButton()) {
      const [name = '', action = '', ...rest] = i.customId.split(':');
      const cx0 = base(i, `${name}:${action}`);
      const handler = byName.get(name)?.buttons?.[action];
      if (!handler) return void (await reply(i, cx0.m.confirmExpired).catch(() => undefined));
      const refuse = async (text: string) => {
        await reply(i, text).catch((err: unknown) => cx0.logger.warn({ err }, 'refusal reply failed'));
        await cx0.audit(`${name} ${action}`, 'denied', { details: { button: i.customId } });
      };
      if (!allows(cx0.level, handler.access)) {
        cx0.logger.info({ need: handler.access, level: cx0.level }, 'button refused');
        await refuse(cx0.m.denied(cx0.m.accessNames[handler.access] ?? handler.access));
        return;
      }
      try {
        await handler.run({ ...cx0, interaction: i, refuse }, rest.join(':'));
      } catch (err) {
        const text = describeError(err, cx0.m, (ref, e) => cx0.logger.error({ err: e, ref }, 'button failed'), cx0.lang);
        if (i.deferred || i.replied) await i.followUp({ content: text, flags: MessageFlags.Ephemeral }).catch(() => undefined);
        else await reply(i, text).catch(() => undefined);
      }
    }
  };
}
