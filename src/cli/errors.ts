import { CommanderError } from 'commander';
import { DEFAULT_WIDTH, renderRefusal } from '../core/plan-table.js';
import type { ExcludedNode, NodeProjection, RefusalRow } from '../core/types.js';
import { ConfigError, UserError, errorReference, type InputIssue } from '../errors.js';
import { say, text, type Lang } from '../i18n/index.js';
import type { Logger } from '../log.js';
import { terminalWidth, writeLine, type CliIo } from './io.js';

/**
 * Exit codes of every `stands` command, in one place (also in `stands --help` and the README):
 * 0 success; 1 some stands failed; 2 bad input, bad config, a refused plan or a declined confirmation (nothing
 * done); 3 the cluster could not be used (unreachable, TLS mismatch, bad credentials, missing privileges);
 * 130 interrupted by Ctrl+C.
 */
export const EXIT_OK = 0;
/** Some stands failed (the others are done). */
export const EXIT_PARTIAL = 1;
/** Bad input, bad config, a refused plan or a declined confirmation: nothing was done. */
export const EXIT_INPUT = 2;
/** The cluster could not be used: unreachable, TLS mismatch, bad credentials, missing privileges. */
export const EXIT_CLUSTER = 3;
/** Interrupted by SIGINT/SIGTERM (128 + 2, the shell's convention). */
export const EXIT_INTERRUPTED = 130;

/** Thrown by command actions that have printed their result and only need to set the exit code. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** The `error` object of a `--json` answer that failed. */
export interface JsonError {
  code: string;
  message: string;
  problems: { file: string; line?: number; message: string }[];
}

/** What a failure means for the user: exit code, a stable code for scripts, the text, the problems by file. */
export interface ErrorReport {
  exitCode: number;
  error: JsonError;
  /** Printed after the message on stderr (a refusal's table). */
  details?: string;
}

interface ProxmoxLikeError extends Error {
  status?: number;
  code?: string;
}

function isProxmoxApiError(err: unknown): err is ProxmoxLikeError {
  // Matched by name, not instanceof: the CLI must map it even when the error crossed a module boundary
  // (tsx in the bin and compiled dist/ may load two copies of the class).
  return err instanceof Error && (err.name === 'ProxmoxApiError' || err.name === 'TaskFailedError');
}

/** Codes of a Proxmox client error that mean "this cluster cannot be used", by HTTP status / network error. */
export function clusterErrorCode(err: ProxmoxLikeError): string | undefined {
  if (err.name !== 'ProxmoxApiError') return undefined;
  if (err.code === 'ERR_TLS_FINGERPRINT_MISMATCH' || /^(ERR_TLS|CERT_|UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO)/.test(err.code ?? '')) {
    return 'tls-mismatch';
  }
  if (err.status === 0 || err.status === 595) return 'unreachable';
  if (err.status === 401) return 'bad-credentials';
  if (err.status === 403) return 'missing-privileges';
  return undefined;
}

const problemOf = (i: InputIssue): JsonError['problems'][number] => ({
  file: i.file,
  ...(i.line !== undefined ? { line: i.line } : {}),
  message: i.path ? `${i.path}: ${i.message}` : i.message,
});

/**
 * The one place errors become what a user sees: the message, a code and an exit code.
 * ConfigError/UserError → their message (file:line included); Proxmox API errors → their message, exit 3 when the
 * cluster cannot be used; anything else → "internal error, reference XYZ", with the details logged under it.
 */
export function describeError(err: unknown, o: { width?: number; logger?: Logger | undefined; lang?: Lang } = {}): ErrorReport {
  const lang = o.lang ?? 'en';
  const fail = (exitCode: number, code: string, message: string, extra: Partial<ErrorReport> & { problems?: JsonError['problems'] } = {}): ErrorReport => ({
    exitCode,
    error: { code, message, problems: extra.problems ?? [] },
    ...(extra.details ? { details: extra.details } : {}),
  });
  if (err instanceof CliExit) return fail(err.exitCode, 'exit', err.message);
  if (err instanceof CommanderError) {
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return fail(EXIT_OK, 'help', '');
    }
    return fail(EXIT_INPUT, 'usage', err.message.replace(/^error: /, ''));
  }
  if (err instanceof ConfigError) {
    // the headline is translated; each problem keeps its file:line: path: detail as the validator wrote it
    const head = say(lang, 'cli.configHeadline', { count: err.issues.length });
    return fail(EXIT_INPUT, 'bad-input', head ? `${head}\n${err.message}` : err.message, { problems: err.issues.map(problemOf) });
  }
  if (err instanceof Error && err.name === 'PlanRefusedError') {
    const r = err as Error & { summary?: string; summaryText?: (l: Lang) => string; rows?: RefusalRow[]; nodes?: NodeProjection[]; excluded?: ExcludedNode[]; table?: string };
    const details = r.rows ? renderRefusal(r.rows, r.nodes ?? [], r.excluded ?? [], { width: o.width ?? DEFAULT_WIDTH, lang }) : r.table;
    return fail(EXIT_INPUT, 'plan-refused', r.summaryText?.(lang) ?? r.summary ?? err.message, {
      problems: (r.rows ?? []).map((row) => ({ file: text(lang, row.subjectMsg, row.subject), message: text(lang, row.problemMsg, row.problem) })),
      ...(details ? { details } : {}),
    });
  }
  if (err instanceof UserError) {
    const code =
      err.name === 'GroupBusyError' ? 'group-busy' : /^cancelled\b|confirmation needed/.test(err.message) ? 'not-confirmed' : 'bad-input';
    const table = (err as { table?: unknown }).table;
    return fail(err.exitCode, code, err.text(lang), typeof table === 'string' && table && !err.message.includes(table) ? { details: table } : {});
  }
  if (err instanceof Error && err.name === 'JobAbortedError') {
    return fail(EXIT_INTERRUPTED, 'interrupted', say(lang, 'cli.interrupted', { reason: err.message }));
  }
  if (err instanceof Error && err.name === 'TlsFingerprintMismatchError') return fail(EXIT_CLUSTER, 'tls-mismatch', say(lang, 'cli.tls', { message: err.message }));
  if (isProxmoxApiError(err)) {
    const cluster = clusterErrorCode(err);
    if (cluster) return fail(EXIT_CLUSTER, cluster, say(lang, 'cli.proxmox', { message: err.message }));
    return fail(EXIT_PARTIAL, 'proxmox', say(lang, 'cli.proxmox', { message: err.message }));
  }
  const ref = errorReference();
  o.logger?.error({ err, reference: ref }, 'internal error');
  return fail(EXIT_PARTIAL, 'internal', `${say(lang, 'cli.internal', { ref })}${o.logger ? '' : ` (${String(err)})`}`);
}

/**
 * Reports a failure: `error: …` on stderr (commander has printed its own usage errors already) and, with
 * `--json`, the one JSON object on stdout. Returns the exit code, the same with or without `--json`.
 */
export function reportError(err: unknown, io: CliIo, logger: Logger | undefined, o: { json?: boolean; lang?: Lang } = {}): number {
  const lang = o.lang ?? 'en';
  const r = describeError(err, { width: terminalWidth(io), logger, lang });
  if (r.exitCode === EXIT_OK && r.error.code === 'help') return EXIT_OK;
  if (!(err instanceof CommanderError) && !(err instanceof CliExit)) {
    writeLine(io.stderr, say(lang, 'cli.error', { message: r.error.message }));
    if (r.details) writeLine(io.stderr, r.details);
  }
  if (o.json && !(err instanceof CliExit)) writeLine(io.stdout, JSON.stringify({ error: r.error }));
  return r.exitCode;
}
