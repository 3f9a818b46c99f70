/**
 * The bot's runtime settings, in the units the Discord layer works with (ms, role id lists). Built from bot.yml
 * (src/config's BotSettings) by main.ts; tests build them directly with `discordSettings({...})`.
 */
import type { BotSettings } from '../config/bot.js';
import type { RoleMap } from './access.js';
import type { Lang } from './i18n.js';

export interface SelfServiceSettings {
  enabled: boolean;
  /** Profiles a student may request. */
  profiles: string[];
  maxStandsPerStudent: number;
  /** Lease of a self-service stand, e.g. `4h`. */
  lease?: string;
  /** Group self-service stands go into; `{profile}` is replaced. */
  group: string;
  /** Create a PVE user for a student who has no identity yet (`<discord username>@<realm>`). */
  createUsers: boolean;
  realm: string;
  cluster?: string;
}

export interface DiscordSettings {
  guildId: string;
  roles: RoleMap;
  auditChannelId?: string;
  /** Fixed reply language; unset = each member's Discord locale. */
  language?: Lang;
  /** Hosts besides Discord's CDN that attachments may come from (`host` or `host:port`). */
  attachmentHosts: string[];
  attachmentMaxBytes: number;
  /** At most one progress edit per this interval. */
  progressIntervalMs: number;
  /** Interaction tokens live 15 min; progress moves to a channel message once a token is this old. */
  tokenSwitchMs: number;
  confirmTimeoutMs: number;
  /** Nodes per /status page (an embed holds 25 fields; three per node). */
  statusNodesPerPage: number;
  selfService: SelfServiceSettings;
  /** DM students this long before their lease ends. */
  leaseWarnMs: number;
  /** How often the engine's expire runs. */
  expireIntervalMs: number;
  /** Jobs run one at a time per cluster (more is allowed here when a cluster can take it). */
  jobsPerCluster: number;
}

export function discordSettings(p: Partial<DiscordSettings> & { guildId: string; roles: RoleMap }): DiscordSettings {
  return {
    attachmentHosts: [],
    attachmentMaxBytes: 1024 * 1024,
    progressIntervalMs: 1500,
    tokenSwitchMs: 14 * 60_000,
    confirmTimeoutMs: 5 * 60_000,
    statusNodesPerPage: 8,
    leaseWarnMs: 60 * 60_000,
    expireIntervalMs: 5 * 60_000,
    jobsPerCluster: 1,
    ...p,
    selfService: {
      enabled: false,
      profiles: [],
      maxStandsPerStudent: 1,
      group: 'self-{profile}',
      createUsers: false,
      realm: 'pve',
      ...p.selfService,
    },
  };
}

/** bot.yml (as loaded by src/config) → runtime settings. */
export function fromBotSettings(b: BotSettings, overrides: Partial<DiscordSettings> = {}): DiscordSettings {
  return discordSettings({
    guildId: b.guildId,
    roles: b.roles,
    ...(b.auditChannel ? { auditChannelId: b.auditChannel } : {}),
    ...(b.language !== 'auto' ? { language: b.language } : {}),
    attachmentHosts: b.attachmentHosts,
    attachmentMaxBytes: b.attachmentMaxBytes,
    progressIntervalMs: b.progressIntervalMs,
    statusNodesPerPage: b.statusNodesPerPage,
    tokenSwitchMs: b.jobs.tokenSwitchMs,
    confirmTimeoutMs: b.jobs.confirmTimeoutMs,
    expireIntervalMs: b.jobs.expireIntervalMs,
    jobsPerCluster: b.jobs.perCluster,
    selfService: {
      enabled: b.selfService.enabled,
      profiles: b.selfService.profiles,
      maxStandsPerStudent: b.selfService.maxStandsPerStudent,
      group: b.selfService.group,
      createUsers: b.selfService.createUsers,
      realm: b.selfService.realm,
      ...(b.selfService.lease ? { lease: b.selfService.lease } : {}),
      ...(b.selfService.cluster ? { cluster: b.selfService.cluster } : {}),
    },
    ...overrides,
  });
}
