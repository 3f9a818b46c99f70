import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli.js';
import type { CliIo } from '../../src/cli/io.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Runs `stands …` in-process with captured streams, not a terminal (so no prompts, plain progress lines). */
export async function runCli(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; interactive?: boolean; stdin?: string } = {},
): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = new PassThrough();
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const io: CliIo = {
    stdout,
    stderr,
    stdin,
    interactive: options.interactive ?? false,
    progressTty: false,
    env: { STANDS_LOG_LEVEL: 'warn', ...(options.env ?? {}) },
    cwd: options.cwd ?? process.cwd(),
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The last line of stdout, parsed: with --json, stdout ends with one JSON object. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as T;
}
