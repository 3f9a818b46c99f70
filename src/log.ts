import { colorEnabled } from './color.js';
import { pino, destination as pinoDestination, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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
