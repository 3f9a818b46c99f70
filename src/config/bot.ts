/**
 * bot.yml: settings only the Discord bot needs (guild, role mapping, audit channel, self-service rules,
 * language, attachment hosts, progress and job timings). Secrets (the bot token) never live here: they come
 * from the environment (src/config/env.ts).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { listProfiles } from './profile.js';
import { REALM_RE } from './userid.js';
import { expandEnv, issueAt, loadYamlFile, strictObject, throwIfIssues, validate } from './yaml-source.js';

export const BOT_FILE = 'bot.yml';
/** Where Discord serves message attachments. */
export const DISCORD_ATTACHMENT_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'] as const;

export type BotLanguage = 'ru' | 'en' | 'auto';

export interface BotSettings {
  guildId: string;
  roles: { admin: string[]; teacher: string[]; student: string[] };
  auditChannel?: string;
  /** `auto` = each member's Discord locale (Russian for `ru`, English otherwise). */
  language: BotLanguage;
  /** Discord's hosts plus the extra ones from bot.yml (`host` or `host:port`). */
  attachmentHosts: string[];
  attachmentMaxBytes: number;
  /** At most one progress edit per this interval. */
  progressIntervalMs: number;
  statusNodesPerPage: number;
  selfService: {
    enabled: boolean;
    profiles: string[];
    maxStandsPerStudent: number;
    lease?: string;
    leaseMs?: number;
    /** Group of self-service stands; `{profile}` is replaced by the profile name. */
    group: string;
    createUsers: boolean;
    realm: string;
    cluster?: string;
  };
  jobs: {
    /** Jobs running at once per cluster (more wait in a queue). */
    perCluster: number;
    /** Confirm/Cancel buttons expire after this. */
    confirmTimeoutMs: number;
    /** Interaction tokens live 15 minutes; progress moves to a channel message once a token is this old. */
    tokenSwitchMs: number;
    /** How often expired leases are looked for. */
    expireIntervalMs: number;
  };
  file: string;
}

const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;

const snowflake = z
  .union([z.string(), z.number(), z.bigint()], { error: () => 'expected a Discord id (quote it: "123456789012345678")' })
  .transform((v) => String(v))
  .pipe(z.string().regex(/^\d{17,20}$/, 'expected a Discord id (17–20 digits)'));
const durationMs = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) ctx.issues.push({ code: 'custom', message: `${DURATION_HINT}; got "${text}"`, input: text });
  return ms ?? 0;
});
const host = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'expected a host name, optionally with a port ("files.example.org", "127.0.0.1:8080")')
  .transform((h) => h.toLowerCase());

export const BotFile = strictObject({
  guild_id: snowflake,
  roles: strictObject({
    admin: z.array(snowflake).optional(),
    teacher: z.array(snowflake).optional(),
    student: z.array(snowflake).optional(),
  }),
  audit_channel: snowflake.optional(),
  language: z.enum(['ru', 'en', 'auto']).optional(),
  attachment_hosts: z.array(host).optional(),
  attachment_max_bytes: z.number().int().min(1024).max(25 * 1024 * 1024).optional(),
  progress_interval_ms: z.number().int().min(250).max(60_000).optional(),
  status_nodes_per_page: z.number().int().min(1).max(8).optional(),
  self_service: strictObject({
    enabled: z.boolean().optional(),
    profiles: z.array(z.string()).optional(),
    max_stands_per_student: z.number().int().min(1).max(20).optional(),
    lease: z.string().optional(),
    group: z.string().regex(/^[A-Za-z0-9{}][A-Za-z0-9{}_.-]*$/, 'expected a group name; {profile} is replaced').optional(),
    create_users: z.boolean().optional(),
    realm: z.string().max(32).regex(REALM_RE, 'expected a realm name').optional(),
    cluster: z.string().optional(),
  }).optional(),
  jobs: strictObject({
    per_cluster: z.number().int().min(1).max(16).optional(),
    confirm_timeout: durationMs.optional(),
    token_switch_after: durationMs.optional(),
    expire_every: durationMs.optional(),
  }).optional(),
});
export type BotFile = z.infer<typeof BotFile>;

export interface LoadBotSettingsOptions {
  env?: NodeJS.ProcessEnv;
  file?: string;
}

export async function loadBotSettings(configDir: string, options: LoadBotSettingsOptions = {}): Promise<BotSettings> {
  const file = options.file ?? join(configDir, BOT_FILE);
  try {
    await access(file);
  } catch {
    throw new ConfigError({ file, message: 'file not found: the bot needs bot.yml (see data/bot.yml for an example)' });
  }
  const { source, value } = await loadYamlFile(file);
  if (value === null || value === undefined) throw new ConfigError({ file, message: 'empty file: expected guild_id and roles' });
  const expanded = expandEnv(value, source, options.env ?? process.env);
  if (expanded.issues.length > 0) throw new ConfigError(expanded.issues);
  const res = validate(BotFile, expanded.value, source);
  if (!res.ok) throw new ConfigError(res.issues);
  const d = res.data;
  const issues: InputIssue[] = [];

  const roles = { admin: d.roles.admin ?? [], teacher: d.roles.teacher ?? [], student: d.roles.student ?? [] };
  if (roles.admin.length === 0 && roles.teacher.length === 0) {
    issues.push(issueAt(source, ['roles'], 'give at least one admin or teacher role id, or nobody can deploy'));
  }
  const ss = d.self_service ?? {};
  const known = await listProfiles(configDir);
  (ss.profiles ?? []).forEach((p, i) => {
    if (!known.includes(p)) {
      issues.push(issueAt(source, ['self_service', 'profiles', i], `no profile "${p}" in profiles/ (available: ${known.join(', ') || 'none'})`));
    }
  });
  let leaseMs: number | undefined;
  if (ss.lease !== undefined) {
    leaseMs = parseDuration(ss.lease);
    if (leaseMs === undefined) issues.push(issueAt(source, ['self_service', 'lease'], `${DURATION_HINT}; got "${ss.lease}"`));
  }
  // self-service gives the users it creates a password: never in the pam realm (on a real node that is the Linux
  // account's password), whatever stands.yml allows (the stands.yml realm allowlist is checked per request)
  if (ss.realm !== undefined && ss.realm.toLowerCase() === 'pam') {
    issues.push(issueAt(source, ['self_service', 'realm'], 'self-service never creates @pam users (their password is a Linux account password): use a PVE realm such as pve'));
  }
  const jobs = {
    perCluster: d.jobs?.per_cluster ?? 1,
    confirmTimeoutMs: d.jobs?.confirm_timeout ?? 5 * 60_000,
    tokenSwitchMs: d.jobs?.token_switch_after ?? 14 * 60_000,
    expireIntervalMs: d.jobs?.expire_every ?? 5 * 60_000,
  };
  if (jobs.tokenSwitchMs >= INTERACTION_TOKEN_LIFETIME_MS) {
    issues.push(issueAt(source, ['jobs', 'token_switch_after'], 'must be shorter than 15m (the interaction token lifetime)'));
  }
  throwIfIssues(issues);

  const settings: BotSettings = {
    guildId: d.guild_id,
    roles,
    language: d.language ?? 'auto',
    attachmentHosts: [...new Set([...DISCORD_ATTACHMENT_HOSTS, ...(d.attachment_hosts ?? [])])],
    attachmentMaxBytes: d.attachment_max_bytes ?? 1024 * 1024,
    progressIntervalMs: d.progress_interval_ms ?? 1500,
    statusNodesPerPage: d.status_nodes_per_page ?? 8,
    selfService: {
      enabled: ss.enabled ?? (ss.profiles !== undefined && ss.profiles.length > 0),
      profiles: ss.profiles ?? [],
      maxStandsPerStudent: ss.max_stands_per_student ?? 1,
      group: ss.group ?? 'self-{profile}',
      createUsers: ss.create_users ?? false,
      realm: ss.realm ?? 'pve',
    },
    jobs,
    file,
  };
  if (d.audit_channel !== undefined) settings.auditChannel = d.audit_channel;
  if (ss.lease !== undefined && leaseMs !== undefined) {
    settings.selfService.lease = ss.lease;
    settings.selfService.leaseMs = leaseMs;
  }
  if (ss.cluster !== undefined) settings.selfService.cluster = ss.cluster;
  return settings;
}
