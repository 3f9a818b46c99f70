import { resetStands, startStands, stopStands, type PowerAction, type PowerResult } from '../../core/power.js';
import { cancelled, confirm } from '../confirm.js';
import { withContext } from '../engine.js';
import { retryAfterStaleLock } from '../lock-wait.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { cliRequester } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { createProgress } from '../progress.js';
import { table } from '../tables.js';

export interface PowerCommandOptions {
  group: string;
  user?: string;
  yes?: boolean;
  json?: boolean;
}

const RUN = { reset: resetStands, start: startStands, stop: stopStands } as const;

/** Questions for what loses work or interrupts students; starting asks nothing. */
const QUESTION: Partial<Record<PowerAction, string>> = {
  reset: 'Roll back to the `start` snapshot (students lose their changes)',
  stop: 'Stop the VMs',
};

/** `stands reset|start|stop --group G [--user U]`. */
export function powerCommand(action: PowerAction) {
  return async (opts: PowerCommandOptions, env: CommandEnv): Promise<number> => {
    const { io } = env;
    const question = QUESTION[action];
    const who = opts.user ? `${opts.user}'s stand in group ${opts.group}` : `every stand of group ${opts.group}`;
    if (question && !(await confirm(io, `${question}: ${who}?`, opts.yes))) cancelled();
    return withContext(env, {}, async (ctx) => {
      const progress = createProgress(io, { label: `${action} ${opts.group}` });
      let result: PowerResult;
      try {
        result = await retryAfterStaleLock(io, () =>
          RUN[action](
            ctx,
            { group: opts.group, ...(opts.user ? { user: opts.user } : {}) },
            { onEvent: (e) => progress.onEvent(e), ...(io.signal ? { signal: io.signal } : {}), requestedBy: cliRequester(io) },
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
            ['user', 'status', 'VMs'],
            result.stands.map((s) => [
              s.userid,
              s.status + (s.error ? `: ${s.error}` : ''),
              s.vms.map((v) => `${v.vmid} ${v.name}: ${v.outcome}${v.message ? ` (${v.message})` : ''}`).join('\n'),
            ]),
          ),
        );
        print(io, `${action} ${result.group}: ${result.status}`);
      }
      return result.status === 'succeeded' ? EXIT_OK : EXIT_PARTIAL;
    });
  };
}
