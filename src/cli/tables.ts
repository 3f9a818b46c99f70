import { colorEnabled, palette, type Palette } from '../color.js';
import { renderTable, type Column } from '../core/text-table.js';
import type { StandCredential } from '../core/credentials.js';
import { say, type Lang } from '../i18n/index.js';
import { terminalWidth, type CliIo } from './io.js';
import { head } from './lang.js';

export { compactIds, displayWidth, fitText } from '../core/text-table.js';

/**
 * A table fitted to the terminal (text-table.ts): a string column is a plain column that wraps when the table is
 * too wide (the first one never does); pass a Column to choose truncation, alignment or a colour.
 */
export function table(io: Pick<CliIo, 'columns' | 'env'>, columns: (string | Column)[], rows: readonly (readonly (string | number)[])[]): string {
  const cols = columns.map((c, i): Column => (typeof c === 'string' ? (i === 0 ? { head: c } : { head: c, shrink: 'wrap' }) : c));
  return renderTable(cols, rows, { width: terminalWidth(io) });
}

/** Colours for stdout: on a terminal unless NO_COLOR; FORCE_COLOR forces them (src/color.ts). */
export function colors(io: CliIo): Palette {
  return palette(colorEnabled(io.env, Boolean(io.stdoutTty)));
}

/** Colours a VM or stand state word: running/ready green, stopped yellow, failed/missing red. */
export function stateColor(p: Palette): (text: string, value: string) => string {
  return (text, value) => {
    // the value may be the Russian word (cli.ru.ts STATES_RU)
    if (/failed|missing|error|ошибк|нет на кластере/.test(value)) return p.red(text);
    if (/stopped|partial|paused|cancelled|останов|частично|приостанов|отмен/.test(value)) return p.yellow(text);
    if (/running|ready|succeeded|работает|готов|успешно/.test(value)) return p.green(text);
    return text;
  };
}

/** Passwords of users created in this run: printed once, never logged or stored; never cut short. */
export function renderCredentials(io: CliIo, creds: StandCredential[], lang: Lang = 'en'): string {
  const withPw = creds.filter((c) => c.password);
  if (withPw.length === 0) return '';
  return [
    say(lang, 'out.newUsers'),
    table(
      io,
      [
        { head: head(lang, 'user') },
        { head: head(lang, 'password') },
        { head: head(lang, 'pool'), shrink: 'truncate', min: 8 },
        { head: head(lang, 'console'), shrink: 'truncate', min: 10 },
      ],
      withPw.map((c) => [c.userid, c.password ?? '', c.pool, c.consoleUrl ?? '']),
    ),
  ].join('\n');
}
