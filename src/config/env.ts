/**
 * The process environment, parsed once. Empty strings count as unset (a `DISCORD_TOKEN=` line in .env must not
 * hide the real variable or pass as a token). `.env` in the working directory is read when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { errorMap } from './yaml-source.js';

const unsetIfEmpty = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const Env = z.object({
  /** The bot's token (Developer Portal → Bot). Only the bot needs it. */
  DISCORD_TOKEN: opt(z.string()),
  /** The application id (Developer Portal → General Information), for command registration. */
  DISCORD_APP_ID: opt(z.string().regex(/^\d{17,20}$/, 'expected a Discord application id (17–20 digits)')),
  /** Discord API base, e.g. http://127.0.0.1:5005/api for a local fake. Default: discord.js's own. */
  DISCORD_API_URL: opt(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })),
  /** Configuration directory (default ./data). */
  STANDS_CONFIG: z.preprocess(unsetIfEmpty, z.string().default('./data')),
  /** State: a SQLite file (default <config>/state.sqlite), a postgres://… or a redis://… URL. */
  STANDS_STATE: opt(z.string()),
  /** The bot's health file for `stands health` (the container's HEALTHCHECK); unset: not written. */
  STANDS_HEALTH_FILE: opt(z.string()),
  /** Group lock TTL in ms (default 30000): a killed job's lock frees itself after it. */
  STANDS_LOCK_TTL_MS: opt(z.coerce.number().int().min(1000, 'at least 1000 ms').max(600_000, 'at most 600000 ms')),
  /** Leader lease of the bot in ms (default 15000): a standby takes over this long after the active bot dies. */
  STANDS_LEADER_TTL_MS: opt(z.coerce.number().int().min(1000, 'at least 1000 ms').max(60_000, 'at most 60000 ms')),
  STANDS_LOG_LEVEL: z.preprocess(
    (v) => (typeof unsetIfEmpty(v) === 'string' ? (v as string).trim().toLowerCase() : undefined),
    z.enum(LOG_LEVELS, { error: () => `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
  /** `pretty` or `json`; default: pretty on a terminal. */
  STANDS_LOG_FORMAT: opt(z.enum(['pretty', 'json'])),
  /** Cluster to use when a command names none (default: connections.yml's default). */
  STANDS_CLUSTER: opt(z.string()),
});
export type Env = z.infer<typeof Env>;

/**
 * Read a `.env` file into `env` (default process.env). Variables already set to a non-empty value win, as with
 * `process.loadEnvFile`; unlike it, an empty variable is filled from the file (empty = unset). Returns the
 * names that were set. A missing file is not an error.
 */
export function loadDotEnv(path: string = resolve('.env'), env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(path)) return [];
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (err) {
    throw new ConfigError({ file: path, message: `cannot read: ${(err as Error).message}` }, { cause: err });
  }
  const set: string[] = [];
  for (const [k, v] of Object.entries(parsed)) {
    if (env[k] === undefined || env[k] === '') {
      env[k] = v;
      set.push(k);
    }
  }
  return set;
}

export interface LoadEnvOptions {
  env?: NodeJS.ProcessEnv;
  /** `.env` to read first; `false` skips it. Default `./.env`. */
  dotenv?: string | false;
}

/** Load `.env` (when present) and parse the environment; errors name each variable. */
export function loadEnv(options: LoadEnvOptions = {}): Env {
  const env = options.env ?? process.env;
  if (options.dotenv !== false) loadDotEnv(options.dotenv ?? resolve('.env'), env);
  return parseEnvironment(env);
}

export function parseEnvironment(env: NodeJS.ProcessEnv): Env {
  const res = Env.safeParse(env, { reportInput: true, error: errorMap });
  if (res.success) return res.data;
  throw new ConfigError(
    res.error.issues.map((iss): InputIssue => ({ file: 'environment', path: iss.path.map(String).join('.'), message: iss.message })),
  );
}

/** The bot cannot start without these; one error lists every missing one. */
export function requireBotEnv(env: Env): { token: string; appId: string } {
  const missing: InputIssue[] = [];
  if (!env.DISCORD_TOKEN) missing.push({ file: 'environment', path: 'DISCORD_TOKEN', message: 'not set (the bot token from the Developer Portal)' });
  if (!env.DISCORD_APP_ID) missing.push({ file: 'environment', path: 'DISCORD_APP_ID', message: 'not set (the application id from the Developer Portal)' });
  if (missing.length > 0) throw new ConfigError(missing);
  return { token: env.DISCORD_TOKEN!, appId: env.DISCORD_APP_ID! };
}
