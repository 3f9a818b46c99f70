/**
 * The whole chain for bot tests: the real bot (runBot) with the real discord.js client ↔ the fake Discord on
 * loopback ↔ the engine ↔ the simulator over HTTPS, configured through real files (connections.yml, bot.yml,
 * profiles/) in a tmp dir, with a real SQLite state file.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.js';
import { runBot, type RunningBot } from '../../src/main.js';
import type { DiscordSettings } from '../../src/discord/settings.js';
import { startSimulator, type RunningSimulator } from '../../src/sim/index.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord, type FakeDiscordOptions } from '../support/fake-discord.js';

const DATA = join(import.meta.dirname, '..', '..', 'data');

export interface Stack {
  sim: RunningSimulator;
  fake: FakeDiscord;
  dir: string;
  env: NodeJS.ProcessEnv;
  bot: RunningBot;
  /** Graceful stop of the bot and a fresh start on the same state file (a restart). */
  restart(overrides?: Partial<DiscordSettings>): Promise<RunningBot>;
  stop(): Promise<void>;
}

export interface StackOptions {
  timeScale?: number;
  fake?: FakeDiscordOptions;
  settings?: Partial<DiscordSettings>;
  /** Extra bot.yml text (self_service etc.). */
  botYml?: string;
  /** Extra environment for the bot (STANDS_HEALTH_FILE …). */
  env?: NodeJS.ProcessEnv;
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const timeScale = o.timeScale ?? 0.01;
  const sim = await startSimulator({ timeScale, rngSeed: 11 });
  const fake = await startFakeDiscord(o.fake);
  const dir = mkdtempSync(join(tmpdir(), 'stands-bot-'));
  mkdirSync(join(dir, 'profiles'));
  copyFileSync(join(DATA, 'profiles', 'basic.yml'), join(dir, 'profiles', 'basic.yml'));
  copyFileSync(join(DATA, 'profiles', 'netlab.yml'), join(dir, 'profiles', 'netlab.yml'));
  writeFileSync(
    join(dir, 'connections.yml'),
    [
      'clusters:',
      '  sim:',
      `    url: ${sim.url}`,
      `    token_id: "${sim.tokenId}"`,
      '    token_secret: ${SIM_TOKEN_SECRET}',
      `    user: ${sim.user}`,
      '    password: ${SIM_PASSWORD}',
      '    tls:',
      `      fingerprint: "${sim.fingerprint}"`,
      'default: sim',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'bot.yml'),
    [
      `guild_id: "${fake.guildId}"`,
      'roles:',
      `  admin: ["${fake.roles.admin}"]`,
      `  teacher: ["${fake.roles.teacher}"]`,
      `  student: ["${fake.roles.student}"]`,
      `audit_channel: "${fake.auditChannelId}"`,
      `attachment_hosts: ["127.0.0.1:${fake.port}"]`,
      o.botYml ?? '',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APP_ID: fake.appId,
    DISCORD_API_URL: fake.apiUrl,
    STANDS_CONFIG: dir,
    STANDS_STATE: join(dir, 'state.sqlite'),
    STANDS_LOG_LEVEL: 'silent',
    SIM_TOKEN_SECRET: sim.tokenSecret,
    SIM_PASSWORD: sim.password,
    ...o.env,
  };
  const start = (overrides?: Partial<DiscordSettings>) =>
    runBot({
      env,
      configDir: dir,
      logger: silentLogger(),
      handleSignals: false,
      leases: false,
      settingsOverrides: { ...o.settings, ...overrides },
      clientOptions: { timeScale, now: () => sim.clock.now() },
    });
  const stack: Stack = {
    sim,
    fake,
    dir,
    env,
    bot: await start(),
    async restart(overrides) {
      await stack.bot.stop();
      stack.bot = await start(overrides);
      return stack.bot;
    },
    async stop() {
      await stack.bot.stop().catch(() => undefined);
      await fake.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
