import { expireLeases } from '../../core/leases.js';
import { withContext } from '../engine.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { table } from '../tables.js';
import { say, stored } from '../../i18n/index.js';
import { head, langOf, stateWord } from '../lang.js';

export interface ExpireOptions {
  json?: boolean;
}

/** `stands expire`: stop or remove (stands.yml leases.action) every stand whose lease has ended. Cron-friendly. */
export async function expireCommand(opts: ExpireOptions, env: CommandEnv): Promise<number> {
  const lang = langOf(env);
  return withContext(env, {}, async (ctx) => {
    const result = await expireLeases(ctx);
    const failed = result.stands.some((s) => s.outcome === 'failed');
    if (opts.json) {
      printJson(env.io, result);
    } else if (result.stands.length === 0) {
      print(env.io, say(lang, 'out.noLeaseEnded'));
    } else {
      print(
        env.io,
        table(
          env.io,
          [head(lang, 'group'), head(lang, 'user'), say(lang, 'out.leaseEnded'), say(lang, 'out.action'), say(lang, 'out.outcome')],
          result.stands.map((s) => [
            s.group,
            s.userid,
            s.leaseExpiresAt,
            say(lang, 'out.pStep', { step: s.action }),
            stateWord(lang, s.outcome) + (s.message ? `: ${stored(lang, s.messageMsg, s.message)}` : ''),
          ]),
        ),
      );
    }
    return failed ? EXIT_PARTIAL : EXIT_OK;
  });
}
