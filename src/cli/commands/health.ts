import { heartbeatProblem, HEARTBEAT_MAX_AGE_MS, readHeartbeat } from '../../discord/health.js';
import { UserError } from '../../errors.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { print } from '../output.js';
import type { CommandEnv } from '../program.js';

export interface HealthOptions {
  file?: string;
  maxAge?: string;
}

/**
 * `stands health`: exit 0 while the bot (run with STANDS_HEALTH_FILE) is connected to the Discord gateway,
 * 1 when it has lost the connection for longer than --max-age seconds or stopped writing its health file.
 * The container image's HEALTHCHECK.
 */
export async function healthCommand(opts: HealthOptions, env: CommandEnv): Promise<number> {
  const file = opts.file ?? env.io.env.STANDS_HEALTH_FILE;
  if (!file) throw new UserError('no health file: pass --file or set STANDS_HEALTH_FILE (the bot writes it when that is set)');
  const maxAgeMs = opts.maxAge === undefined ? HEARTBEAT_MAX_AGE_MS : Number(opts.maxAge) * 1000;
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0) throw new UserError(`--max-age: expected a positive number of seconds, got "${opts.maxAge}"`);
  let problem: string | undefined;
  let standby = false;
  try {
    const beat = readHeartbeat(file);
    standby = beat.standby === true;
    problem = heartbeatProblem(beat, Date.now(), maxAgeMs);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) {
    print(env.io, `unhealthy: ${problem}`);
    return EXIT_PARTIAL;
  }
  print(env.io, standby ? 'healthy: standing by (another instance of the bot is active)' : 'healthy: connected to the Discord gateway');
  return EXIT_OK;
}
