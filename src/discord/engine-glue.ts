/**
 * Small adapters between the engine's results and what the Discord layer shows: outcome of a deploy, who holds
 * a group, where a student's Discord id comes from, autocomplete choices.
 */
import type { ApplicationCommandOptionChoiceData } from 'discord.js';
import { listProfiles } from '../config/profile.js';
import type { AppContext } from '../core/context.js';
import type { StandCredential } from '../core/credentials.js';
import type { DeployResult } from '../core/deploy.js';
import type { DeployPlan } from '../core/types.js';
import { UserError } from '../errors.js';
import { say, stored, type Lang } from '../i18n/index.js';
import type { Messages } from './i18n.js';
import type { JobResult } from './jobs.js';
import type { Bot } from './types.js';

export interface DeployJobResult extends JobResult {
  jobId: string;
  credentials: StandCredential[];
  failed: number;
}

/** `❌ user: why`, the reason in the reader's language (its code), else as the engine wrote it. */
export function failedLine(lang: Lang, s: { userid: string; error?: string | undefined; errorMsg?: unknown }): string {
  return `❌ ${s.userid}: ${stored(lang, s.errorMsg, s.error, say(lang, 'fail.unknown'))}`;
}

export function deployOutcome(r: DeployResult, lang: Lang): DeployJobResult {
  const failedLines = r.stands.filter((s) => s.status === 'failed').map((s) => failedLine(lang, s));
  return {
    outcome: r.status,
    jobId: r.job,
    credentials: r.credentials,
    failed: r.failed,
    ...(failedLines.length ? { note: failedLines.slice(0, 15).join('\n') } : {}),
  };
}

/** Refuses when a job (this bot's, or any process's via the store lock) holds the group, naming the holder. */
export async function ensureGroupFree(bot: Bot, group: string, m: Messages): Promise<void> {
  const mine = bot.jobs.holder(group);
  if (mine) throw new UserError(m.groupBusy(group, mine.actor.name));
  const lock = await bot.app.store.lockInfo(group);
  if (!lock) return;
  let holder = lock.holder;
  const jobId = holder.startsWith('job:') ? holder.slice(4) : undefined;
  if (jobId) {
    const job = await bot.app.store.jobs.get(jobId).catch(() => undefined);
    const by = job?.requestedBy;
    if (by) holder = by.name ? `${by.name} (${by.via})` : by.via;
  }
  throw new UserError(m.groupBusy(group, holder));
}

export async function discordIdOf(app: AppContext, plan: DeployPlan | undefined, userid: string): Promise<string | undefined> {
  const fromRoster = plan?.stands.find((s) => s.userid === userid)?.discord;
  if (fromRoster) return fromRoster;
  const links = await app.store.links.byUserid(userid);
  return links[0]?.discordId;
}

function filterChoices(names: string[], typed: string): ApplicationCommandOptionChoiceData[] {
  const t = typed.toLowerCase();
  return names
    .filter((n) => n.toLowerCase().includes(t))
    .slice(0, 25)
    .map((n) => ({ name: n, value: n }));
}

export async function profileChoices(configDir: string, typed: string): Promise<ApplicationCommandOptionChoiceData[]> {
  return filterChoices(await listProfiles(configDir), typed);
}

export function clusterChoices(app: AppContext, typed: string): ApplicationCommandOptionChoiceData[] {
  return filterChoices(Object.keys(app.connections.clusters), typed);
}

export async function groupChoices(app: AppContext, typed: string): Promise<ApplicationCommandOptionChoiceData[]> {
  return filterChoices((await app.store.groups.list()).map((g) => g.name), typed);
}
