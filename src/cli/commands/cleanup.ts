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
import { say, stored, text } from '../../i18n/index.js';
import { head, langOf, stateWord } from '../lang.js';

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
  const lang = langOf(env);
  return withContext(env, {}, async (ctx) => {
    const cplan = await planCleanup(ctx, { group: opts.group, ...(opts.user ? { user: opts.user } : {}) });
    const out = opts.json ? io.stderr : io.stdout;
    const lines = describeCleanupPlan(cplan, lang);
    writeLine(out, say(lang, 'out.cleanupHead', { group: cplan.group, cluster: cplan.cluster }));
    for (const l of lines) writeLine(out, fitText(`  ${l}`, terminalWidth(io)));
    if (cplan.stands.length === 0) writeLine(out, say(lang, 'out.nothingLeft'));

    if (opts.dryRun) {
      if (opts.json) printJson(io, { dryRun: true, cleanup: cplan });
      else print(io, say(lang, 'out.dryRunRemoved'));
      return EXIT_OK;
    }
    const vms = cplan.stands.reduce((n, s) => n + s.vms.length, 0);
    if (
      cplan.stands.length > 0 &&
      !(await confirm(io, say(lang, 'out.confirmCleanup', { stands: cplan.stands.length, vms, group: cplan.group }), opts.yes, lang))
    ) {
      cancelled();
    }
    const progress = createProgress(io, { label: `cleanup ${cplan.group}`, lang });
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
            [head(lang, 'user'), head(lang, 'status'), head(lang, 'vmsDestroyed'), head(lang, 'error')],
            result.stands.map((s) => [s.userid, stateWord(lang, s.status), s.destroyedVms.join(', ') || '-', stored(lang, s.errorMsg, s.error)]),
          ),
        );
      }
      const r = result.removed;
      print(io, say(lang, 'out.cleanupDone', { status: result.status, ...r }));
      for (const k of result.kept) print(io, say(lang, 'out.kept', { what: text(lang, k.whatMsg, k.what), reason: text(lang, k.reasonMsg, k.reason) }));
      const coded = result.warningMsgs?.length === result.warnings.length ? result.warningMsgs : result.warnings;
      for (const w of coded) writeLine(io.stderr, say(lang, 'cli.warning', { message: text(lang, w) }));
    }
    return result.status === 'succeeded' ? EXIT_OK : EXIT_PARTIAL;
  });
}
