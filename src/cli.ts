/**
 * The `stands` command line. `main()` parses argv, runs one command and returns its exit code (src/cli/errors.ts:
 * 0 success, 1 some stands failed, 2 bad input / bad config / refused plan / declined, 3 cluster unusable,
 * 130 interrupted). It never exits the process itself except on a second Ctrl+C: bin/stands.js sets
 * process.exitCode, and tests call main() in-process with captured streams.
 */
import { buildProgram, type ProgramState } from './cli/program.js';
import { EXIT_INTERRUPTED, reportError } from './cli/errors.js';
import path from 'node:path';
import { loadDotEnv } from './config/env.js';
import { cliLang, type Lang } from './i18n/index.js';
import { processIo, writeLine, type CliIo } from './cli/io.js';

export type { CliIo } from './cli/io.js';

export async function main(argv: string[], io?: CliIo): Promise<number> {
  let cleanupSignals = (): void => {};
  if (!io) {
    const controller = new AbortController();
    io = processIo(controller.signal);
    cleanupSignals = installSignalHandlers(controller, io);
  }
  const state: ProgramState = { exitCode: 0 };
  // `--json` anywhere before `--`: errors are answered with one JSON object on stdout too
  const dashdash = argv.indexOf('--');
  const head = dashdash < 0 ? argv : argv.slice(0, dashdash);
  const json = head.includes('--json');
  // the language of messages, known before parsing so that a usage or parse error is rendered in it too
  const lang = langFromArgv(head, io.env);
  try {
    // `.env` in the working directory fills unset variables (tests pass their own environment instead).
    if (io.env === process.env) loadDotEnv(path.resolve(io.cwd, '.env'), io.env);
    const program = buildProgram(io, state);
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    // a command stopped by Ctrl+C has printed what it did (and how to resume); the shell learns it was interrupted
    return io.signal?.aborted && state.exitCode !== 0 ? EXIT_INTERRUPTED : state.exitCode;
  } catch (err) {
    const code = reportError(err, io, state.logger, { json, lang });
    return io.signal?.aborted && code !== 0 ? EXIT_INTERRUPTED : code;
  } finally {
    cleanupSignals();
  }
}

/** `--lang ru|en` (or `--lang=ru`), else LC_ALL / LC_MESSAGES / LANG, else English; a bad value is commander's to report. */
function langFromArgv(argv: readonly string[], env: NodeJS.ProcessEnv): Lang {
  let flag: string | undefined;
  argv.forEach((a, i) => {
    if (a === '--lang') flag = argv[i + 1];
    else if (a.startsWith('--lang=')) flag = a.slice('--lang='.length);
  });
  try {
    return cliLang(flag, env);
  } catch {
    return cliLang(undefined, env);
  }
}

/**
 * First SIGINT/SIGTERM: abort the running command (the engine checkpoints; `stands resume` finishes the job).
 * A second one exits at once — the only place the CLI ends the process itself.
 */
function installSignalHandlers(controller: AbortController, io: CliIo): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // the live progress display hides the cursor and turns off line wrap: give both back before leaving
      if (io.progressTty) io.stderr.write('\x1b[?25h\x1b[?7h');
      writeLine(io.stderr, `\n${signal} again: exiting now (run \`stands resume\` to finish interrupted jobs)`);
      process.exit(130);
    }
    writeLine(io.stderr, `\n${signal}: stopping after the current steps (press Ctrl+C again to exit at once)`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
