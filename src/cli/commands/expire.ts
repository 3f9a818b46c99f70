import { expireLeases } from '../../core/leases.js';
import { withContext } from '../engine.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { table } from '../tables.js';

export interface ExpireOptions {
  json?: boolean;
}

/** `stands expire`: stop or remove (stands.yml leases.action) every stand whose lease has ended. Cron-friendly. */
export async function expireCommand(opts: ExpireOptions, env: CommandEnv): Promise<number> {
  return withContext(env, {}, async (ctx) => {
    const result = await expireLeases(ctx);
    const failed = result.stands.some((s) => s.outcome === 'failed');
    if (opts.json) {
      printJson(env.io, result);
    } else if (result.stands.length === 0) {
      print(env.io, 'no lease has ended');
    } else {
      print(
        env.io,
        table(
          env.io,
          ['group', 'user', 'lease ended', 'action', 'outcome'],
          result.stands.map((s) => [s.group, s.userid, s.leaseExpiresAt, s.action, s.outcome + (s.message ? `: ${s.message}` : '')]),
        ),
      );
    }
    return failed ? EXIT_PARTIAL : EXIT_OK;
  });
}
