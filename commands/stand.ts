/**
 * /stand request [profile] | info | rollback (alias reset) | start | stop | delete — students, on their own stand only. Identity
 * comes from /link, from a roster's `discord` column (recorded on the stand), or is created when bot.yml allows
 * it; no option ever names another user, so nobody can act on someone else's stand. Replies are ephemeral, and
 * a password is shown only to its owner.
 */
import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { slugify } from '../src/config/slug.js';
import { loadProfile } from '../src/config/profile.js';
import { userListRules } from '../src/config/settings.js';
import { checkUserId } from '../src/config/userid.js';
import type { UserList } from '../src/config/user-list.js';
import { planCleanup, runCleanup } from '../src/core/cleanup.js';
import { markPasswordsShown } from '../src/core/credentials.js';
import { deployStepCounts, runDeploy } from '../src/core/deploy.js';
import { planDeploy } from '../src/core/plan.js';
import { resetStands, startStands, stopStands } from '../src/core/power.js';
import { liveStandVms } from '../src/core/status.js';
import { UserError } from '../src/errors.js';
import { stored } from '../src/i18n/index.js';
import { standIsolationLine } from '../src/discord/plan-view.js';
import { applyEvent, newProgress, renderProgress, ThrottledEditor } from '../src/discord/progress.js';
import type { DiscordSettings } from '../src/discord/settings.js';
import type { StandRecord } from '../src/store/index.js';
import type { BotCommand, CommandContext } from '../src/discord/types.js';

function selfServiceGroup(settings: DiscordSettings, profile: string, userSlug: string): string {
  return settings.selfService.group.replaceAll('{profile}', profile).replaceAll('{user}', userSlug);
}

function isSelfServiceGroup(settings: DiscordSettings, group: string): boolean {
  return settings.selfService.profiles.some((p) => {
    const re = new RegExp(`^${selfServiceGroup(settings, p, '\u0000').replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\u0000', '[a-z0-9-]+')}$`);
    return re.test(group);
  });
}

/**
 * The member's PVE user id: /link first, then a stand whose record names this member (a roster's `discord`
 * column, or the self-service request that created it), then (if allowed) one derived from the Discord name,
 * which `claimDerived` must clear before anything is created. Every id passes the roster's user-id rules.
 */
async function identity(cx: CommandContext, create: boolean): Promise<{ userid: string; derived: boolean }> {
  const { app, bot, interaction: i, m } = cx;
  const rules = userListRules(app.settings);
  const checked = (userid: string): string => {
    const c = checkUserId(userid, rules);
    if (!c.ok) throw new UserError(m.useridRefused(c.message));
    return c.userid;
  };
  const link = await app.store.links.byDiscord(i.user.id);
  if (link) return { userid: checked(link.userid), derived: false };
  const fromRoster = (await app.store.stands.list()).find((s) => s.discord === i.user.id);
  if (fromRoster) return { userid: fromRoster.userid, derived: false };
  if (create && bot.settings.selfService.createUsers) {
    return { userid: checked(`${slugify(i.user.username, { maxLength: 40 })}@${bot.settings.selfService.realm}`), derived: true };
  }
  throw new UserError(m.noIdentity);
}

/**
 * A derived identity is this member's only when nothing else claims it: no other member's link, no stand record
 * (any group) naming someone else or no one, and no such user on the cluster (a user the product created for this
 * member would have a stand naming them, found by `identity` first). Reads only: a refusal changes nothing.
 */
async function claimDerived(cx: CommandContext, userid: string, cluster: string): Promise<void> {
  const { app, interaction: i, m } = cx;
  const lower = userid.toLowerCase();
  const links = await app.store.links.byUserid(userid);
  const stands = (await app.store.stands.list()).filter((s) => s.userid.toLowerCase() === lower);
  const taken =
    links.some((l) => l.discordId !== i.user.id) ||
    stands.some((s) => s.discord !== i.user.id) ||
    (await app.client(cluster).getUser(userid)) !== undefined;
  if (taken) {
    cx.logger.warn({ userid, member: i.user.id }, 'self-service identity refused: the derived Proxmox user is not this member\'s');
    await cx.audit('stand request', 'denied', { user: userid, details: { reason: 'identity taken' } });
    throw new UserError(m.identityTaken(userid));
  }
}

async function ownStands(cx: CommandContext, userid: string): Promise<StandRecord[]> {
  const u = userid.toLowerCase();
  return (await cx.app.store.stands.list()).filter((s) => s.userid.toLowerCase() === u && s.status !== 'removed');
}

/** The one stand an action is about: the named group, or the member's only stand. */
async function pickStand(cx: CommandContext, userid: string): Promise<StandRecord> {
  const stands = await ownStands(cx, userid);
  const group = cx.interaction.options.getString('group');
  const chosen = group ? stands.filter((s) => s.group === group) : stands;
  if (!chosen.length) throw new UserError(cx.m.noStand);
  if (chosen.length > 1) throw new UserError(cx.m.pickGroup(chosen.map((s) => s.group).join(', ')));
  return chosen[0]!;
}

async function request(cx: CommandContext): Promise<void> {
  const { bot, app, m, interaction: i } = cx;
  const ss = bot.settings.selfService;
  if (!ss.enabled || !ss.profiles.length) throw new UserError(m.selfServiceOff);
  const profileName = i.options.getString('profile') ?? ss.profiles[0]!;
  if (!ss.profiles.includes(profileName)) throw new UserError(m.profileNotAllowed(profileName, ss.profiles.join(', ')));
  const { userid, derived } = await identity(cx, true);
  const cluster = ss.cluster ?? app.defaultCluster;
  // before anything that counts "your" stands: a derived id names nobody else's (checked again in the group's turn)
  if (derived) await claimDerived(cx, userid, cluster);
  const mine = (await ownStands(cx, userid)).filter((s) => isSelfServiceGroup(bot.settings, s.group));
  if (mine.length >= ss.maxStandsPerStudent) throw new UserError(m.standLimit(mine.length));
  const [name = userid, realm = ss.realm] = userid.split('@');
  const group = selfServiceGroup(bot.settings, profileName, slugify(name, { maxLength: 30 }));
  const users: UserList = { file: 'discord', users: [{ userid, name, realm, discord: i.user.id, line: 1 }], warnings: [] };
  const profile = await loadProfile(app.configDir, profileName);
  const requestedBy = { via: 'discord' as const, id: i.user.id, name: i.user.username };
  // students share a self-service group: their requests run one after another, not into the group lock; a derived
  // identity is claimed inside that turn (two members whose names slug alike cannot both pass the check)
  const result = await bot.jobs.serial(`user:${userid.toLowerCase()}`, () => bot.jobs.serial(`group:${group}`, async () => {
    if (derived) await claimDerived(cx, userid, cluster);
    const plan = await planDeploy(app, {
      profile,
      users,
      group,
      ...(ss.cluster ? { cluster: ss.cluster } : {}),
      ...(ss.lease ? { lease: ss.lease } : {}),
      start: true,
    });
    const state = newProgress('deploy', group, '…', [userid], deployStepCounts(plan));
    const editor = new ThrottledEditor({
      intervalMs: bot.settings.progressIntervalMs,
      send: async () => void (await i.editReply({ content: m.standRequested(group), embeds: [renderProgress(state, m)] })),
      onError: (err) => cx.logger.warn({ err }, 'stand progress edit failed'),
    });
    editor.push(null);
    try {
      return await runDeploy(app, plan, {
        requestedBy,
        onEvent: (e) => {
          applyEvent(state, e);
          editor.push(null);
        },
      });
    } finally {
      await editor.flush();
      editor.stop();
    }
  }));
  const stand = result.stands[0];
  if (!stand || stand.status !== 'ready') {
    await cx.audit('stand request', 'failed', { group, user: userid });
    throw new UserError(m.standFailed(stand ? stored(cx.lang, stand.errorMsg, stand.error, result.status) : result.status));
  }
  await cx.audit('stand request', 'ok', { group, user: userid, job: result.job });
  const lines = [m.standReady(group, userid)];
  const cred = result.credentials.find((c) => c.userid === userid);
  if (cred?.password) lines.push(`${m.password}: ||${cred.password}||`);
  if (stand.consoleUrl) lines.push(`${m.console}: ${stand.consoleUrl}`);
  await i.editReply({ content: lines.join('\n'), embeds: [], allowedMentions: { parse: [] } });
  if (cred?.password) await markPasswordsShown(app, [cred], 'Discord: /stand request reply');
}

async function info(cx: CommandContext): Promise<void> {
  const { app, m, interaction: i } = cx;
  const { userid } = await identity(cx, false);
  const stands = await ownStands(cx, userid);
  if (!stands.length) throw new UserError(m.noStand);
  const embeds = [];
  const shown = stands.slice(0, 10);
  // the member's own VMs, read from their nodes (one request per node): cluster resources lag a fresh stand
  const live = await liveStandVms(app, shown);
  for (const s of shown) {
    const vms = (live.get(s) ?? []).map((v) => `${v.name} (${v.vmid}) — ${v.state} · ${v.consoleUrl}`);
    embeds.push({
      title: m.standInfo(s.group, s.node, s.status),
      description: [
        vms.join('\n'),
        s.leaseExpiresAt ? m.leaseUntil(`<t:${Math.floor(Date.parse(s.leaseExpiresAt) / 1000)}:R>`) : '',
        standIsolationLine(s, m),
      ]
        .filter(Boolean)
        .join('\n')
        .slice(0, 4000),
    });
  }
  await i.editReply({ embeds, allowedMentions: { parse: [] } });
}

/** `rollback` is Proxmox's word for a return to a snapshot; `reset` is its old name, kept as an alias. */
async function power(cx: CommandContext, action: 'rollback' | 'reset' | 'start' | 'stop'): Promise<void> {
  const { bot, app, m, interaction: i } = cx;
  const { userid } = await identity(cx, false);
  const stand = await pickStand(cx, userid);
  const requestedBy = { via: 'discord' as const, id: i.user.id, name: i.user.username };
  const fn = action === 'reset' || action === 'rollback' ? resetStands : action === 'start' ? startStands : stopStands;
  const r = await bot.jobs.serial(`group:${stand.group}`, () => fn(app, { group: stand.group, user: stand.userid }, { requestedBy }));
  const failed = r.stands.find((s) => s.status === 'failed');
  await cx.audit(`stand ${action}`, failed ? 'failed' : 'ok', { group: stand.group, user: stand.userid, job: r.job });
  if (failed) throw new UserError(stored(cx.lang, failed.errorMsg, failed.error, r.status));
  await i.editReply({ content: m.standDone(m.standActions[action] ?? action) });
}

async function remove(cx: CommandContext): Promise<void> {
  const { bot, app, m, interaction: i } = cx;
  const { userid } = await identity(cx, false);
  const stand = await pickStand(cx, userid);
  if (!isSelfServiceGroup(bot.settings, stand.group)) throw new UserError(m.notSelfService(stand.group));
  const requestedBy = { via: 'discord' as const, id: i.user.id, name: i.user.username };
  const r = await bot.jobs.serial(`group:${stand.group}`, async () => {
    const cplan = await planCleanup(app, { group: stand.group, user: stand.userid });
    return runCleanup(app, cplan, { requestedBy });
  });
  const failed = r.stands.find((s) => s.status === 'failed');
  await cx.audit('stand delete', failed ? 'failed' : 'ok', { group: stand.group, user: stand.userid, job: r.job });
  if (failed) throw new UserError(stored(cx.lang, failed.errorMsg, failed.error, r.status));
  await i.editReply({ content: m.standDone(m.standActions.delete!) });
}

const withGroup = (d: import('discord.js').SlashCommandSubcommandBuilder) =>
  d.addStringOption((o) => o.setName('group').setDescription('Group (when you have stands in several)').setDescriptionLocalizations({ ru: 'Группа (если у вас стенды в нескольких)' }));

export const stand: BotCommand = {
  data: new SlashCommandBuilder()
    .setName('stand')
    .setDescription('Your own stand')
    .setDescriptionLocalizations({ ru: 'Ваш собственный стенд' })
    .addSubcommand((s) =>
      s
        .setName('request')
        .setDescription('Get a stand').setDescriptionLocalizations({ ru: 'Получить стенд' })
        .addStringOption((o) => o.setName('profile').setDescription('Profile').setDescriptionLocalizations({ ru: 'Профиль' })),
    )
    .addSubcommand((s) => s.setName('info').setDescription('Your stands').setDescriptionLocalizations({ ru: 'Ваши стенды' }))
    .addSubcommand((s) => withGroup(s.setName('rollback').setDescription('Roll back to the start snapshot').setDescriptionLocalizations({ ru: 'Откатить к снимку start' })))
    .addSubcommand((s) => withGroup(s.setName('reset').setDescription('Same as rollback (old name)').setDescriptionLocalizations({ ru: 'То же, что rollback (старое имя)' })))
    .addSubcommand((s) => withGroup(s.setName('start').setDescription('Start the VMs').setDescriptionLocalizations({ ru: 'Запустить ВМ' })))
    .addSubcommand((s) => withGroup(s.setName('stop').setDescription('Stop the VMs').setDescriptionLocalizations({ ru: 'Остановить ВМ' })))
    .addSubcommand((s) => withGroup(s.setName('delete').setDescription('Remove your stand').setDescriptionLocalizations({ ru: 'Удалить ваш стенд' })))
    .toJSON(),
  access: 'student',
  ephemeral: true,
  async run(cx) {
    const sub = (cx.interaction as ChatInputCommandInteraction).options.getSubcommand(true);
    if (sub === 'request') return request(cx);
    if (sub === 'info') return info(cx);
    if (sub === 'delete') return remove(cx);
    if (sub === 'rollback' || sub === 'reset' || sub === 'start' || sub === 'stop') return power(cx, sub);
    throw new UserError(cx.m.unknownCommand);
  },
};
