import { userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';

/**
 * Where the CLI reads and writes. `main()` uses the process's streams; tests pass captured ones, so every
 * command runs in-process exactly as a user would see it.
 */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  /** stdin and stderr are a terminal: we may ask questions and draw a live progress display. */
  interactive: boolean;
  /** stderr is a terminal: draw the live progress display instead of plain lines. */
  progressTty: boolean;
  /** stdout is a terminal (colours by default; its width is `columns`). */
  stdoutTty?: boolean;
  /** Width of the terminal on stdout; unset when stdout is not a terminal (then COLUMNS, else 100). */
  columns?: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM (the engine checkpoints and stops). */
  signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    progressTty: Boolean(process.stderr.isTTY),
    stdoutTty: Boolean(process.stdout.isTTY),
    ...(process.stdout.isTTY && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
    env: process.env,
    cwd: process.cwd(),
    ...(signal ? { signal } : {}),
  };
}

export function writeLine(stream: Writable, line = ''): void {
  stream.write(line.endsWith('\n') ? line : `${line}\n`);
}

/** Environment strings that are empty count as unset (STYLE.md, rule 6). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** Who asked, for the job record: the CLI and the login name (no secrets). */
export function cliRequester(io: CliIo): { via: 'cli'; name?: string } {
  let name = envValue(io.env, 'USER') ?? envValue(io.env, 'USERNAME');
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = undefined;
    }
  }
  return name ? { via: 'cli', name } : { via: 'cli' };
}

/** Width tables are fitted to: the terminal's (`process.stdout.columns`), else COLUMNS, else 100. */
export function terminalWidth(io: Pick<CliIo, 'columns' | 'env'>): number {
  if (io.columns !== undefined && io.columns > 0) return io.columns;
  const env = Number(envValue(io.env, 'COLUMNS'));
  return Number.isInteger(env) && env > 0 ? env : 100;
}
