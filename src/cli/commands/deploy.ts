import path from 'node:path';
import { parseDuration } from '../../config/duration.js';
import { loadProfile } from '../../config/profile.js';
import { userListRules } from '../../config/settings.js';
import { loadUserListFile } from '../../config/user-list.js';
import { runDeploy, type DeployResult } from '../../core/deploy.js';
import { markPasswordsShown } from '../../core/credentials.js';
import { planDeploy } from '../../core/plan.js';
import { renderPlan } from '../../core/plan-table.js';
import type { PlanEstimate } from '../../core/types.js';
import { isPlacementStrategy, type CloneMode } from '../../core/types.js';
import { ConfigError, formatIssue, UserError } from '../../errors.js';
import { cancelled, confirm } from '../confirm.js';
import { withContext } from '../engine.js';
import { retryAfterStaleLock } from '../lock-wait.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { cliRequester, terminalWidth, writeLine, type CliIo } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { createProgress } from '../progress.js';
import { CredentialsFile } from '../credentials-file.js';
import { colors, compactIds, fitText, renderCredentials, stateColor, table } from '../tables.js';
import { msg, say, stored, text, type Lang } from '../../i18n/index.js';
import { head, langOf, stateWord } from '../lang.js';

export interface DeployOptions {
  profile: string;
  users: string;
  group?: string;
  cluster?: string;
  placement?: string;
  clone?: CloneMode;
  lease?: string;
  start?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  rollbackFailed?: boolean;
  applyForeignPending?: boolean;
  /** Write the new users' passwords to this CSV (0600) instead of the screen. */
  credentialsOut?: string;
  force?: boolean;
  wide?: boolean;
}

/** `--profile netlab` is a name in <config>/profiles; anything that looks like a path is a file. */
export function profileArg(value: string, cwd: string): string {
  return /[\\/]|\.ya?ml$/i.test(value) ? path.resolve(cwd, value) : value;
}

/**
 * `stands deploy`: check the inputs (exit 2 with file:line, nothing touched), plan (exit 2 on a refusal),
 * show the plan, confirm, deploy with a progress display, print the result and the new users' passwords once.
 */
export async function deployCommand(opts: DeployOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const lang = langOf(env);
  if (opts.placement !== undefined && !isPlacementStrategy(opts.placement)) {
    throw new UserError(msg('opt.placement', { value: opts.placement }));
  }
  if (opts.lease !== undefined && parseDuration(opts.lease) === undefined) {
    throw new UserError(msg('opt.lease', { value: opts.lease }));
  }
  // Inputs first: a bad profile or user list must stop us before anything talks to the cluster.
  const profile = await loadProfile(env.paths.configDir, profileArg(opts.profile, io.cwd));
  // The credentials file is created (0600, never over an existing one without --force) before anything else is.
  const credsFile =
    opts.credentialsOut !== undefined && !opts.dryRun
      ? await CredentialsFile.reserve(opts.credentialsOut, { force: opts.force, cwd: io.cwd, option: '--credentials-out' })
      : undefined;
  let written = false;
  try {
    return await withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const users = await loadUserListFile(path.resolve(io.cwd, opts.users), userListRules(ctx.settings));
    if (users.users.length === 0) {
      throw new ConfigError({ file: users.file, message: 'the user list has no users' });
    }
    for (const w of users.warnings) writeLine(io.stderr, say(lang, 'cli.warning', { message: formatIssue(w) }));

    const plan = await planDeploy(ctx, {
      profile,
      users,
      ...(opts.group !== undefined ? { group: opts.group } : {}),
      ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
      ...(opts.placement !== undefined ? { placement: opts.placement } : {}),
      ...(opts.clone !== undefined ? { clone: opts.clone } : {}),
      ...(opts.lease !== undefined ? { lease: opts.lease } : {}),
      ...(opts.start !== undefined ? { start: opts.start } : {}),
    });
    // With --json the human-readable plan goes to stderr: stdout carries only the result object.
    writeLine(opts.json ? io.stderr : io.stdout, renderPlan(plan, { width: terminalWidth(io), lang, ...(opts.wide ? { wide: true } : {}) }));

    if (opts.dryRun) {
      if (opts.json) printJson(io, { dryRun: true, plan });
      else print(io, say(lang, 'out.dryRunCreated'));
      return EXIT_OK;
    }
    const vms = plan.stands.reduce((n, s) => n + s.vms.length, 0);
    if (!(await confirm(io, say(lang, 'out.confirmDeploy', { stands: plan.stands.length, vms, cluster: plan.cluster }), opts.yes, lang))) {
      cancelled();
    }

    const progress = createProgress(io, { label: plan.group, lang });
    let result: DeployResult;
    try {
      result = await retryAfterStaleLock(io, () => runDeploy(ctx, plan, {
        onEvent: (e) => progress.onEvent(e),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(opts.rollbackFailed ? { rollbackFailed: true } : {}),
        ...(opts.applyForeignPending ? { applyForeignPending: true } : {}),
        requestedBy: cliRequester(io),
      }));
    } finally {
      progress.stop();
    }
    let savedTo: string | undefined;
    if (credsFile) {
      try {
        await credsFile.write(result.credentials);
        written = true;
        savedTo = credsFile.file;
      } catch (err) {
        // the passwords exist only in memory now: show them rather than lose them
        writeLine(
          io.stderr,
          say(lang, 'cli.warning', { message: say(lang, 'out.credsOutFailed', { file: opts.credentialsOut ?? '', message: String((err as Error).message) }) }),
        );
      }
    }
    printDeployResult(io, result, { json: opts.json, wide: opts.wide, credentialsFile: savedTo, lang, ...(plan.estimate ? { estimate: plan.estimate } : {}) });
    // shown now, however the run ended (interrupted and partial runs print theirs too)
    await markPasswordsShown(ctx, result.credentials, savedTo ? `written to ${savedTo}` : opts.json ? 'printed (JSON)' : 'printed');
    return result.status === 'succeeded' ? EXIT_OK : EXIT_PARTIAL;
    });
  } finally {
    if (credsFile && !written) await credsFile.discard().catch(() => undefined);
  }
}

export interface PrintResultOptions {
  json?: boolean | undefined;
  wide?: boolean | undefined;
  /** The passwords went to this file: the screen only says where. */
  credentialsFile?: string | undefined;
  /** The plan's estimate: with --json it rides along, next to the real duration. */
  estimate?: PlanEstimate;
  /** Language of the warnings (codes in DeployResult.warningMsgs). */
  lang?: Lang;
}

/** One line per stand: user, node, status, VMIDs, console link (or the error) last, cut to the terminal. */
export function printDeployResult(io: CliIo, result: DeployResult, o: PrintResultOptions = {}): void {
  const lang = o.lang ?? 'en';
  const coded = result.warningMsgs?.length === result.warnings.length ? result.warningMsgs : result.warnings;
  const warnings = coded.map((w) => say(lang, 'cli.warning', { message: text(lang, w) }));
  if (o.json) {
    for (const w of warnings) writeLine(io.stderr, w);
    // the plan's estimate rides along, next to the real duration
    printJson(io, o.estimate ? { ...result, estimate: o.estimate } : result);
    return;
  }
  const p = colors(io);
  print(io);
  print(
    io,
    table(
      io,
      [
        { head: head(lang, 'user'), shrink: 'truncate', min: 12 },
        { head: head(lang, 'node') },
        { head: head(lang, 'status'), paint: stateColor(p) },
        o.wide ? { head: head(lang, 'vms'), shrink: 'wrap', min: 12 } : { head: head(lang, 'vmids'), shrink: 'truncate', min: 9 },
        o.wide ? { head: head(lang, 'consoleError'), shrink: 'wrap', min: 16 } : { head: head(lang, 'consoleError'), shrink: 'truncate', min: 10 },
      ],
      result.stands.map((s) => [
        s.userid,
        s.node,
        stateWord(lang, s.status) + (s.rolledBack ? say(lang, 'out.rolledBack') : ''),
        o.wide ? s.vms.map((v) => `${v.vmid} ${v.name}`).join('\n') : compactIds(s.vms.map((v) => v.vmid)),
        s.status === 'ready' ? (s.consoleUrl ?? '') : stored(lang, s.errorMsg, s.error),
      ]),
    ),
  );
  // an error cut short in the table is printed whole below it
  const failed = result.stands.filter((s) => s.status !== 'ready' && s.error);
  if (failed.length > 0 && !o.wide) {
    print(io, fitText(['', say(lang, 'out.errors'), ...failed.map((s) => `  ${s.userid}: ${stored(lang, s.errorMsg, s.error)}`)].join('\n'), terminalWidth(io)));
  }
  for (const w of warnings) writeLine(io.stderr, w);
  const withPw = result.credentials.filter((c) => c.password).length;
  if (o.credentialsFile) {
    print(io, say(lang, 'out.passwordsWritten', { count: withPw, file: o.credentialsFile }));
  } else {
    const creds = renderCredentials(io, result.credentials, lang);
    if (creds) print(io, `\n${creds}`);
  }
  const secs = (result.durationMs / 1000).toFixed(1);
  print(io, say(lang, 'out.deployDone', { status: result.status, ready: result.ready, failed: result.failed, secs, group: result.group, job: result.job }));
  if (result.status === 'cancelled') {
    print(io, say(lang, 'out.resumeHint', { group: result.group }));
  } else if (result.failed > 0) {
    print(io, say(lang, 'out.retryHint'));
  }
}
