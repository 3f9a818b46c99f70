/**
 * The bot: load configuration, build the application context, become the guild's active bot (or wait as a
 * standby while another one is: discord/leader.ts), connect to Discord, hand the command list to the router,
 * resume unfinished jobs, run lease checks on a schedule; SIGTERM shuts down gracefully (running jobs are
 * signalled and checkpoint, their progress message says so, and the next start resumes them).
 */
import { registerSecret } from './secrets.js';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { loadBotSettings } from './config/bot.js';
import { loadEnv } from './config/env.js';
import { createContext, type CreateContextOptions, type AppContext } from './core/context.js';
import { expireLeases } from './core/leases.js';
import { rrdCacheFor, stopRrdCaches } from './core/rrd-cache.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { createAuditor } from './discord/audit.js';
import { JobManager } from './discord/jobs.js';
import { DEFAULT_LEADER_TTL_MS, keepLeadership, waitForLeadership } from './discord/leader.js';
import { leaseTick } from './discord/leases.js';
import { PendingStore } from './discord/pending.js';
import { resumeJobs } from './discord/resume.js';
import { createRouter } from './discord/router.js';
import { fromBotSettings, type DiscordSettings } from './discord/settings.js';
import type { Bot, BotCommand } from './discord/types.js';
import { commands as allCommands } from '../commands/index.js';
import { startHeartbeat, startStandbyHeartbeat } from './discord/heartbeat.js';

export interface RunBotOptions {
  configDir?: string;
  statePath?: string;
  /** Environment to read (default process.env, after loading ./.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Tests shorten timings here (token switch, progress interval, …). */
  settingsOverrides?: Partial<DiscordSettings>;
  clientOptions?: CreateContextOptions['clientOptions'];
  commands?: readonly BotCommand[];
  /** Install SIGTERM/SIGINT handlers (default true; tests stop the bot themselves). */
  handleSignals?: boolean;
  /** Run the lease schedule (default true). */
  leases?: boolean;
  /** Leader lease TTL (default STANDS_LEADER_TTL_MS, else 15 s). */
  leaderTtlMs?: number;
}

export interface RunningBot {
  bot: Bot;
  client: Client;
  app: AppContext;
  /** Job ids resumed at start-up. */
  resumed: string[];
  stop(): Promise<void>;
}

export async function runBot(o: RunBotOptions = {}): Promise<RunningBot> {
  const env = loadEnv(o.env ? { env: o.env, dotenv: false } : {});
  if (!env.DISCORD_TOKEN) throw new ConfigError({ file: 'environment', path: 'DISCORD_TOKEN', message: 'not set (the bot token)' });
  registerSecret(env.DISCORD_TOKEN);
  const logger = o.logger ?? createLogger({ level: env.STANDS_LOG_LEVEL });
  const configDir = o.configDir ?? env.STANDS_CONFIG;
  const botSettings = await loadBotSettings(configDir, { env: o.env ?? process.env });
  const settings = fromBotSettings(botSettings, o.settingsOverrides);
  const app = await createContext({
    configDir,
    logger,
    env: o.env ?? process.env,
    ...(o.statePath ?? env.STANDS_STATE ? { statePath: o.statePath ?? env.STANDS_STATE } : {}),
    ...(o.clientOptions ? { clientOptions: o.clientOptions } : {}),
  });
  // standby: wait (not logged in, no schedules) until this process is the guild's active bot
  const waitAbort = new AbortController();
  const onWaitSignal = (): void => waitAbort.abort();
  if (o.handleSignals !== false) {
    process.once('SIGTERM', onWaitSignal);
    process.once('SIGINT', onWaitSignal);
  }
  const leaderTtlMs = o.leaderTtlMs ?? env.STANDS_LEADER_TTL_MS ?? DEFAULT_LEADER_TTL_MS;
  const stopStandbyBeat = env.STANDS_HEALTH_FILE ? startStandbyHeartbeat(env.STANDS_HEALTH_FILE, { logger }) : undefined;
  const lease = await waitForLeadership(app.store, { guildId: settings.guildId, ttlMs: leaderTtlMs, logger, signal: waitAbort.signal }).finally(
    () => stopStandbyBeat?.(),
  );
  process.removeListener('SIGTERM', onWaitSignal);
  process.removeListener('SIGINT', onWaitSignal);
  if (!lease) {
    logger.info('stopped while standing by');
    await app.close();
    process.exit(0);
  }
  let stopLeading: () => Promise<void> = async () => undefined;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    ...(env.DISCORD_API_URL ? { rest: { api: env.DISCORD_API_URL } } : {}),
  });
  const bot: Bot = {
    app,
    client,
    settings,
    logger,
    jobs: new JobManager({ client, store: app.store, settings, logger }),
    pending: new PendingStore(),
    audit: createAuditor({ store: app.store, client, channelId: settings.auditChannelId, lang: settings.language ?? 'en', logger }),
  };
  const route = createRouter(bot, o.commands ?? allCommands);
  client.on(Events.InteractionCreate, (i) => {
    route(i).catch((err: unknown) => logger.error({ err }, 'interaction handler failed'));
  });
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  // a bot that can no longer renew its lease steps down: another one may be active now
  stopLeading = keepLeadership(lease, leaderTtlMs, logger, () => {
    void stop().then(() => {
      if (o.handleSignals !== false) process.exit(3);
    });
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(env.DISCORD_TOKEN);
  await ready;
  logger.info({ user: client.user?.tag, guild: settings.guildId }, 'bot connected');
  const stopHeartbeat = env.STANDS_HEALTH_FILE ? startHeartbeat(client, env.STANDS_HEALTH_FILE, { logger }) : undefined;

  // /status reads the last hour of rrd data from this cache: warm it now, not on the first /status
  for (const name of Object.keys(app.connections.clusters)) rrdCacheFor(app, name).start();
  const resumed = await resumeJobs(bot);
  let leaseTimer: NodeJS.Timeout | undefined;
  if (o.leases !== false) {
    let running = false;
    leaseTimer = setInterval(() => {
      if (running) return;
      running = true;
      void leaseTick(bot, () => expireLeases(app)).finally(() => (running = false));
    }, settings.expireIntervalMs);
    leaseTimer.unref();
  }

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      logger.info('bot stopping');
      if (leaseTimer) clearInterval(leaseTimer);
      stopHeartbeat?.();
      bot.pending.clear();
      await bot.jobs.shutdown();
      stopRrdCaches(app);
      await client.destroy();
      await stopLeading();
      await app.close();
    })());
  if (o.handleSignals !== false) {
    const onSignal = (sig: string) => {
      logger.info({ signal: sig }, 'signal received');
      void stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { bot, client, app, resumed, stop };
}
