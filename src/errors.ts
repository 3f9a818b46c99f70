/**
 * Typed errors, mapped to replies in one place (the CLI's exit codes, the bot's router).
 *
 * - `UserError`: the message is safe to show to whoever asked (CLI user, Discord member).
 * - `ConfigError`: bad input in a file (config, profile, user list); carries file, line and path.
 * - `ProxmoxApiError` lives with the Proxmox client (src/proxmox/errors.ts).
 * Engine errors carry a code (`msg`, src/i18n) that the CLI and the bot render in the user's language.
 * Anything else is an internal error: shown as "internal error, reference XYZ", details logged.
 */
import { render, type Lang, type Msg } from './i18n/index.js';

export class UserError extends Error {
  override readonly name: string = 'UserError';
  /** Exit code for the CLI: 2 = bad input / refused plan (nothing done), 1 = a run that failed partly. */
  readonly exitCode: number;
  /** The code and parameters the faces render in the user's language; `message` is its English text (logs). */
  readonly msg?: Msg;
  constructor(message: string | Msg, options?: { cause?: unknown; exitCode?: number }) {
    super(typeof message === 'string' ? message : render('en', message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode ?? 2;
    if (typeof message !== 'string') this.msg = message;
  }
  /** The message in a language (a UserError raised with a plain string keeps its text). */
  text(lang: Lang): string {
    return this.msg ? render(lang, this.msg) : this.message;
  }
}

/** One problem found in an input file. `line` is 1-based; `path` is the key path such as `machines[1].networks[0]`. */
export interface InputIssue {
  file: string;
  line?: number;
  path?: string;
  message: string;
}

export function formatIssue(issue: InputIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** Bad configuration or input file. Holds every problem found, so all of them are reported at once. */
export class ConfigError extends UserError {
  override readonly name: string = 'ConfigError';
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[] | InputIssue, options?: { cause?: unknown }) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map(formatIssue).join('\n'), { cause: options?.cause, exitCode: 2 });
    this.issues = list;
  }
  /** The file of the first issue (most errors are about one file). */
  get file(): string | undefined {
    return this.issues[0]?.file;
  }
  get line(): number | undefined {
    return this.issues[0]?.line;
  }
}

/** A short random reference that ties an "internal error" shown to a user to the full log entry. */
export function errorReference(): string {
  return Math.random().toString(36).slice(2, 8).toUpperCase();
}
