import { writeLine, type CliIo } from './io.js';

/** With `--json`, stdout ends with exactly one JSON object: the command's result. */
export function printJson(io: CliIo, value: unknown): void {
  writeLine(io.stdout, JSON.stringify(value));
}

export function print(io: CliIo, text = ''): void {
  writeLine(io.stdout, text);
}
