/**
 * `npm run register`: puts the guild's slash commands (PUT replaces the whole set, so removed commands go away).
 * Never done on boot: registration is rate limited and only needed when the definitions change.
 */
import { REST, Routes } from 'discord.js';
import { loadBotSettings } from '../config/bot.js';
import { loadEnv } from '../config/env.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { BotCommand } from './types.js';

export interface RegisterOptions {
  commands: readonly BotCommand[];
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export async function registerCommands(o: RegisterOptions): Promise<{ guildId: string; names: string[] }> {
  const env = loadEnv(o.env ? { env: o.env, dotenv: false } : {});
  const missing = [
    ...(env.DISCORD_TOKEN ? [] : [{ file: 'environment', path: 'DISCORD_TOKEN', message: 'not set (the bot token)' }]),
    ...(env.DISCORD_APP_ID ? [] : [{ file: 'environment', path: 'DISCORD_APP_ID', message: 'not set (the application id)' }]),
  ];
  if (missing.length) throw new ConfigError(missing);
  const settings = await loadBotSettings(o.configDir ?? env.STANDS_CONFIG, { env: o.env ?? process.env });
  const rest = new REST(env.DISCORD_API_URL ? { api: env.DISCORD_API_URL } : {}).setToken(env.DISCORD_TOKEN!);
  const body = o.commands.map((c) => c.data);
  const res = (await rest.put(Routes.applicationGuildCommands(env.DISCORD_APP_ID!, settings.guildId), { body })) as { name: string }[];
  o.logger?.info({ guild: settings.guildId, commands: res.map((c) => c.name) }, 'slash commands registered');
  return { guildId: settings.guildId, names: res.map((c) => c.name) };
}
