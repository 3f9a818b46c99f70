import { print } from '../output.js';
import type { CommandEnv } from '../program.js';

/** Pass --config/--state only when given: otherwise the bot reads STANDS_CONFIG/STANDS_STATE after loading .env. */
function botPaths(env: CommandEnv): { configDir?: string; statePath?: string } {
  return {
    ...(env.globals.config ? { configDir: env.paths.configDir } : {}),
    ...(env.globals.state ? { statePath: env.paths.statePath } : {}),
  };
}

/** Tests run main() with their own environment; the real process reads .env as well. */
function botEnv(env: CommandEnv): { env?: NodeJS.ProcessEnv } {
  return env.io.env === process.env ? {} : { env: env.io.env };
}

/** `stands bot` (npm start): runs until SIGTERM/SIGINT, then shuts down gracefully (jobs checkpoint). */
export async function botCommand(_opts: unknown, env: CommandEnv): Promise<number> {
  const { runBot } = await import('../../main.js');
  const running = await runBot({
    ...botPaths(env),
    ...botEnv(env),
    ...(env.globals.logLevel ? { logger: env.logger } : {}),
  });
  const signal = env.io.signal;
  if (!signal) return 0;
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await running.stop();
  return 0;
}

/** `stands register` (npm run register): puts the guild's slash commands; run it when the definitions change. */
export async function registerCommand(_opts: unknown, env: CommandEnv): Promise<number> {
  const [{ registerCommands }, { commands }] = await Promise.all([
    import('../../discord/register.js'),
    import('../../../commands/index.js'),
  ]);
  const res = await registerCommands({
    commands,
    ...botPaths(env),
    ...botEnv(env),
    logger: env.logger,
  });
  print(env.io, `registered ${res.names.length} ${res.names.length === 1 ? 'command' : 'commands'} in guild ${res.guildId}: ${res.names.map((n) => `/${n}`).join(', ')}`);
  return 0;
}
