import { parseDuration } from '../../config/duration.js';
import { resetStands, shutdownStands, startStands, stopStands, type PowerAction, type PowerResult } from '../../core/power.js';
import { UserError } from '../../errors.js';
import { cancelled, confirm } from '../confirm.js';
import { withContext } from '../engine.js';
import { retryAfterStaleLock } from '../lock-wait.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { cliRequester } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { createProgress } from '../progress.js';
import { table } from '../tables.js';
import { msg, say, stored } from '../../i18n/index.js';
import { head, langOf, stateWord } from '../lang.js';

export interface PowerCommandOptions {
  group: string;
  user?: string;
  yes?: boolean;
  json?: boolean;
  /** shutdown: the guest's time to power off before it is stopped (a duration). */
  timeout?: string;
}

const RUN = { reset: resetStands, start: startStands, stop: stopStands, shutdown: shutdownStands } as const;


/** `stands rollback (alias reset)|start|stop|shutdown --group G [--user U]`. */
export function powerCommand(action: PowerAction) {
  return async (opts: PowerCommandOptions, env: CommandEnv): Promise<number> => {
    const { io } = env;
    const lang = langOf(env);
    const timeoutMs = opts.timeout !== undefined ? parseDuration(opts.timeout) : undefined;
    if (opts.timeout !== undefined && timeoutMs === undefined) throw new UserError(msg('opt.timeout', { value: opts.timeout }));
    // what loses work or interrupts students asks first; starting asks nothing
    if (action !== 'start') {
      const question = say(lang, 'out.powerQuestion', { action, group: opts.group, ...(opts.user ? { user: opts.user } : {}) });
      if (!(await confirm(io, question, opts.yes, lang))) cancelled();
    }
    return withContext(env, {}, async (ctx) => {
      const name = action === 'reset' ? 'rollback' : action;
      const progress = createProgress(io, { label: `${name} ${opts.group}`, lang });
      let result: PowerResult;
      try {
        result = await retryAfterStaleLock(io, () =>
          RUN[action](
            ctx,
            { group: opts.group, ...(opts.user ? { user: opts.user } : {}) },
            {
              onEvent: (e) => progress.onEvent(e),
              ...(io.signal ? { signal: io.signal } : {}),
              requestedBy: cliRequester(io),
              ...(timeoutMs !== undefined ? { shutdownTimeoutMs: timeoutMs } : {}),
            },
          ),
        );
      } finally {
        progress.stop();
      }
      if (opts.json) {
        printJson(io, result);
      } else {
        print(
          io,
          table(
            io,
            [head(lang, 'user'), head(lang, 'status'), head(lang, 'vms')],
            result.stands.map((s) => [
              s.userid,
              stateWord(lang, s.status) + (s.error ? `: ${stored(lang, s.errorMsg, s.error)}` : ''),
              s.vms
                .map((v) => say(lang, 'out.vmOutcome', { vmid: v.vmid, name: v.name, outcome: v.outcome, message: v.message ? stored(lang, v.messageMsg, v.message) : '' }))
                .join('\n'),
            ]),
          ),
        );
        print(io, say(lang, 'out.powerDone', { action: name, group: result.group, status: result.status }));
      }
      return result.status === 'succeeded' ? EXIT_OK : EXIT_PARTIAL;
    });
  };
}
