import { CommanderError } from 'commander';
import { ConfigError, UserError, errorReference } from '../errors.js';
import type { Logger } from '../log.js';
import { writeLine, type CliIo } from './io.js';

/** Exit codes of every `stands` command (issue 5). */
export const EXIT_OK = 0;
/** Some stands failed (the others are done). */
export const EXIT_PARTIAL = 1;
/** Bad input, bad config or a refused plan: nothing was done. */
export const EXIT_INPUT = 2;

/** Thrown by command actions that have printed their result and only need to set the exit code. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

interface ProxmoxLikeError {
  name: string;
  message: string;
  status?: number;
}

function isProxmoxApiError(err: unknown): err is ProxmoxLikeError {
  // Matched by name, not instanceof: the CLI must map it even when the error crossed a module boundary
  // (tsx in the bin and compiled dist/ may load two copies of the class).
  return err instanceof Error && (err.name === 'ProxmoxApiError' || err.name === 'TaskFailedError');
}

/**
 * The one place errors become what a user sees: the message on stderr and an exit code.
 * ConfigError/UserError → their message (file:line included); Proxmox API errors → their message;
 * anything else → "internal error, reference XYZ", with the details logged under that reference.
 */
export function reportError(err: unknown, io: CliIo, logger: Logger | undefined): number {
  if (err instanceof CliExit) return err.exitCode;
  if (err instanceof CommanderError) {
    // commander has already printed its message (through configureOutput); help and version are not errors.
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    if (err.code === 'commander.help') return EXIT_OK;
    return EXIT_INPUT;
  }
  if (err instanceof ConfigError) {
    writeLine(io.stderr, `error: ${err.issues.length > 1 ? `${err.issues.length} problems found:\n` : ''}${err.message}`);
    return EXIT_INPUT;
  }
  if (err instanceof UserError) {
    writeLine(io.stderr, `error: ${err.message}`);
    const table = (err as { table?: unknown }).table;
    if (typeof table === 'string' && table.length > 0 && !err.message.includes(table)) writeLine(io.stderr, table);
    return err.exitCode;
  }
  if (err instanceof Error && err.name === 'JobAbortedError') {
    writeLine(io.stderr, `error: interrupted (${err.message}); run the same command again to finish`);
    return EXIT_PARTIAL;
  }
  if (isProxmoxApiError(err)) {
    writeLine(io.stderr, `error: Proxmox VE: ${err.message}`);
    return EXIT_PARTIAL;
  }
  const ref = errorReference();
  logger?.error({ err, reference: ref }, 'internal error');
  writeLine(io.stderr, `error: internal error, reference ${ref}${logger ? '' : ` (${String(err)})`}`);
  return EXIT_PARTIAL;
}
