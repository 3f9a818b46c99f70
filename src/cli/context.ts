import path from 'node:path';
import { createLogger, type Logger } from '../log.js';
import { isStateUrl } from '../store/backend.js';
import { envValue, type CliIo } from './io.js';

/** Options every subcommand accepts (`--config`, `--state`), resolved against the environment. */
export interface GlobalOptions {
  config?: string;
  state?: string;
  logLevel?: string;
  lang?: 'ru' | 'en';
}

export interface ResolvedPaths {
  configDir: string;
  statePath: string;
}

/** `--config` > STANDS_CONFIG > ./data; `--state` > STANDS_STATE > <config>/state.sqlite (a postgres:// or redis:// URL stays as it is). */
export function resolvePaths(globals: GlobalOptions, io: CliIo): ResolvedPaths {
  const configDir = path.resolve(io.cwd, globals.config ?? envValue(io.env, 'STANDS_CONFIG') ?? 'data');
  const state = globals.state ?? envValue(io.env, 'STANDS_STATE');
  const statePath = state ? (isStateUrl(state) ? state.trim() : path.resolve(io.cwd, state)) : path.join(configDir, 'state.sqlite');
  return { configDir, statePath };
}

/**
 * The CLI's logger: warnings and errors only by default, so the progress display and tables stay readable;
 * STANDS_LOG_LEVEL=info (or --log-level) shows the engine's structured log on stderr.
 */
export function cliLogger(globals: GlobalOptions, io: CliIo): Logger {
  const level = globals.logLevel ?? envValue(io.env, 'STANDS_LOG_LEVEL') ?? 'warn';
  if (io.stderr === process.stderr) return createLogger({ level });
  return createLogger({ level, destination: io.stderr });
}
