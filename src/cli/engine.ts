import { createContext, type AppContext } from '../core/context.js';
import { envValue } from './io.js';
import type { CommandEnv } from './program.js';

/** The engine's context for one command: config + connections + store, closed when the command ends. */
export async function withContext<T>(
  env: CommandEnv,
  o: { cluster?: string; secrets?: boolean | 'optional' },
  fn: (ctx: AppContext) => Promise<T>,
): Promise<T> {
  const cluster = o.cluster ?? envValue(env.io.env, 'STANDS_CLUSTER');
  const ctx = await createContext({
    configDir: env.paths.configDir,
    statePath: env.paths.statePath,
    logger: env.logger,
    env: env.io.env,
    ...(cluster ? { clusterOverride: cluster } : {}),
    ...(o.secrets !== undefined ? { secrets: o.secrets } : {}),
    ...(env.clientOptions ? { clientOptions: env.clientOptions } : {}),
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
