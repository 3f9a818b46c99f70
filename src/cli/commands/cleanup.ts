import { describeCleanupPlan, planCleanup, runCleanup, type CleanupResult } from '../../core/cleanup.js';
import { cancelled, confirm } from '../confirm.js';
import { withContext } from '../engine.js';
import { retryAfterStaleLock } from '../lock-wait.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { cliRequester, terminalWidth, writeLine } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { createProgress } from '../progress.js';
import { fitText, table } from '../tables.js';
import { count } from '../../i18n/index.js';

const nn = (n: number, one: string, other: string): string => count('en', n, { one, other });

export interface CleanupCommandOptions {
  group: string;
  user?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

/**
 * `stands cleanup`: shows what will go (only objects recorded in the state file AND marked ours on the cluster),
 * then stop → destroy → bridges/VNets → pools → users we created that have no other stand.
 */
export async function cleanupCommand(opts: CleanupCommandOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  return withContext(env, {}, async (ctx) => {
    const cplan = await planCleanup(ctx, { group: opts.group, ...(opts.user ? { user: opts.user } : {}) });
    const out = opts.json ? io.stderr : io.stdout;
    const lines = describeCleanupPlan(cplan);
    writeLine(out, `Cleanup of group ${cplan.group} on cluster ${cplan.cluster}:`);
    for (const l of lines) writeLine(out, fitText(`  ${l}`, terminalWidth(io)));
    if (cplan.stands.length === 0) writeLine(out, '  nothing of ours is left');

    if (opts.dryRun) {
      if (opts.json) printJson(io, { dryRun: true, cleanup: cplan });
      else print(io, '\nDry run: nothing was removed.');
      return EXIT_OK;
    }
    const vms = cplan.stands.reduce((n, s) => n + s.vms.length, 0);
    if (
      cplan.stands.length > 0 &&
      !(await confirm(io, `Remove ${nn(cplan.stands.length, 'stand', 'stands')} with ${nn(vms, 'VM', 'VMs')} of group ${cplan.group}?`, opts.yes))
    ) {
      cancelled();
    }
    const progress = createProgress(io, { label: `cleanup ${cplan.group}` });
    let result: CleanupResult;
    try {
      result = await retryAfterStaleLock(io, () => runCleanup(ctx, cplan, {
        onEvent: (e) => progress.onEvent(e),
        ...(io.signal ? { signal: io.signal } : {}),
        requestedBy: cliRequester(io),
      }));
    } finally {
      progress.stop();
    }
    if (opts.json) {
      printJson(io, result);
    } else {
      if (result.stands.length > 0) {
        print(
          io,
          table(
            io,
            ['user', 'status', 'VMs destroyed', 'error'],
            result.stands.map((s) => [s.userid, s.status, s.destroyedVms.join(', ') || '-', s.error ?? '']),
          ),
        );
      }
      const r = result.removed;
      print(
        io,
        `${result.status}: removed ${nn(r.vms, 'VM', 'VMs')}, ${nn(r.bridges, 'bridge', 'bridges')}, ${nn(r.vnets, 'VNet', 'VNets')}, ${nn(r.pools, 'pool', 'pools')}, ` +
          `${nn(r.users, 'user', 'users')}, ${nn(r.acls, 'ACL entry', 'ACL entries')}`,
      );
      for (const k of result.kept) print(io, `kept: ${k.what}: ${k.reason}`);
      for (const w of result.warnings) writeLine(io.stderr, `warning: ${w}`);
    }
    return result.status === 'succeeded' ? EXIT_OK : EXIT_PARTIAL;
  });
}
