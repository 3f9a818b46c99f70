import { pino, destination as pinoDestination, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { colorEnabled } from './color.js';
import { redactSecrets, redactTokenPaths } from './secrets.js';

export type { Logger };

/**
 * Redaction is configuration, not discipline: any of these keys, at the top level or nested up to a few
 * levels, is censored wherever it appears in a log record.
 */
export const SECRET_KEYS = [
  'password',
  'new_password',
  'confirmation-password',
  'token',
  'token_secret',
  'tokenSecret',
  'token_value',
  'ticket',
  'CSRFPreventionToken',
  'csrf',
  'cookie',
  'Cookie',
  'authorization',
  'Authorization',
  'secret',
  'discordToken',
  'DISCORD_TOKEN',
] as const;

export function redactPaths(keys: readonly string[] = SECRET_KEYS): string[] {
  const paths: string[] = [];
  for (const key of keys) {
    const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const dot = k.startsWith('[') ? '' : '.';
    paths.push(k, `*${dot}${k}`, `*.*${dot}${k}`, `*.*.*${dot}${k}`);
  }
  return paths;
}

/** Keys of an error object that may carry what a request sent (a message with a password, a CSV as bytes). */
const DROPPED_ERROR_KEYS = new Set(['requestBody', 'requestData', 'body', 'files', 'options', 'config', 'headers', 'rawBody']);

/** A Discord REST error (@discordjs/rest DiscordAPIError, HTTPError, RateLimitError), told by shape: log.ts is below
 * the core, which never imports discord.js. */
function isDiscordRestError(err: Record<string, unknown>): boolean {
  return typeof err.method === 'string' && typeof err.url === 'string' && ('requestBody' in err || 'route' in err || 'rawError' in err);
}

function discordRoute(url: string): string {
  try {
    return redactTokenPaths(new URL(url).pathname).replace(/^\/api(\/v\d+)?/, '');
  } catch {
    return redactTokenPaths(url);
  }
}

/**
 * The `err` serializer: Discord REST errors keep code, status, method and route (token replaced) and lose the
 * request body and files; every other error loses the keys that may carry a request, keeps the rest as pino's
 * standard serializer does, and its cause likewise (a few levels down).
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 4) return err;
  const e = err as unknown as Record<string, unknown>;
  if (isDiscordRestError(e)) {
    const raw = e.rawError as { message?: unknown } | undefined;
    return {
      type: err.name,
      message: redactTokenPaths(typeof raw?.message === 'string' ? raw.message : err.message),
      ...(e.code !== undefined ? { code: e.code } : {}),
      ...(e.status !== undefined ? { status: e.status } : {}),
      method: e.method,
      route: discordRoute(String(e.url)),
    };
  }
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const k of Object.keys(out)) if (DROPPED_ERROR_KEYS.has(k)) delete out[k];
  if (err.cause !== undefined) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

export interface LogOptions {
  level?: string;
  /** Pretty, human-readable output (default: STANDS_LOG_FORMAT=pretty|json, else when stderr is a terminal). */
  pretty?: boolean;
  /** Write here instead of stderr (tests capture all log output through this). */
  destination?: NodeJS.WritableStream;
}

/** The one way to make a root logger. Child loggers carry context: `log.child({ job, stand, node })`. */
export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? process.env.STANDS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  const base: LoggerOptions = {
    level,
    redact: { paths: redactPaths(), censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError, cause: serializeError },
    // second line of defence: live secrets (src/secrets.ts) by value, wherever they sit in the line
    hooks: { streamWrite: (line: string) => redactSecrets(line) },
    base: undefined,
  };
  if (options.destination) return pino(base, options.destination as DestinationStream);
  const format = process.env.STANDS_LOG_FORMAT || undefined;
  const pretty = options.pretty ?? (format === undefined ? Boolean(process.stderr.isTTY) : format === 'pretty');
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: prettyOptions(process.env, Boolean(process.stderr.isTTY)) },
    });
  }
  return pino(base, pinoDestination(2));
}

/** pino-pretty's options: colours follow NO_COLOR / FORCE_COLOR like the CLI's own output (src/color.ts). */
export function prettyOptions(env: NodeJS.ProcessEnv, stderrTty: boolean): { destination: number; colorize: boolean; ignore: string } {
  return { destination: 2, colorize: colorEnabled(env, stderrTty), ignore: 'pid,hostname' };
}

/** A logger that drops everything (library defaults). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
