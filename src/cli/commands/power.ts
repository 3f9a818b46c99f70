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

export interface PowerCommandOptions {
  group: string;
  user?: string;
  yes?: boolean;
  json?: boolean;
  /** shutdown: the guest's time to power off before it is stopped (a duration). */
  timeout?: string;
}

const RUN = { reset: resetStands, start: startStands, stop: stopStands, shutdown: shutdownStands } as const;

/** Questions for what loses work or interrupts students; starting asks nothing. */
const QUESTION: Partial<Record<PowerAction, string>> = {
  reset: 'Roll back to the `start` snapshot (students lose their changes)',
  stop: 'Stop the VMs',
  shutdown: 'Shut the VMs down (ACPI; stopped if still running after the timeout)',
};

/** `stands rollback (alias reset)|start|stop|shutdown --group G [--user U]`. */
export function powerCommand(action: PowerAction) {
  return async (opts: PowerCommandOptions, env: CommandEnv): Promise<number> => {
    const { io } = env;
    const timeoutMs = opts.timeout !== undefined ? parseDuration(opts.timeout) : undefined;
    if (opts.timeout !== undefined && timeoutMs === undefined) throw new UserError(`--timeout ${opts.timeout}: expected a duration such as 90s or 2m`);
    const question = QUESTION[action];
    const who = opts.user ? `${opts.user}'s stand in group ${opts.group}` : `every stand of group ${opts.group}`;
    if (question && !(await confirm(io, `${question}: ${who}?`, opts.yes))) cancelled();
    return withContext(env, {}, async (ctx) => {
      const name = action === 'reset' ? 'rollback' : action;
      const progress = createProgress(io, { label: `${name} ${opts.group}` });
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
            ['user', 'status', 'VMs'],
            result.stands.map((s) => [
              s.userid,
              s.status + (s.error ? `: ${s.error}` : ''),
              s.vms.map((v) => `${v.vmid} ${v.name}: ${v.outcome}${v.message ? ` (${v.message})` : ''}`).join('\n'),
            ]),
          ),
        );
        print(io, `${name} ${result.group}: ${result.status}`);
      }
      return result.status === 'succeeded' ? EXIT_OK : EXIT_PARTIAL;
    });
  };
}
