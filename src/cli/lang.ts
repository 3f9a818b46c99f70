import { cliLang, say, type Head, type Lang } from '../i18n/index.js';
import type { CliIo } from './io.js';
import type { GlobalOptions } from './context.js';

/** The language of a command's output: --lang, else LC_ALL/LC_MESSAGES/LANG, else English. */
export function langOf(env: { globals: Pick<GlobalOptions, 'lang'>; io: Pick<CliIo, 'env'> }): Lang {
  return cliLang(env.globals.lang, env.io.env);
}

/** A table head in a language. */
export function head(lang: Lang, h: Head): string {
  return say(lang, 'out.head', { head: h });
}

/** A state word (ready, failed, running…) in a language; the English word is the value the colours key on. */
export function stateWord(lang: Lang, state: string): string {
  return say(lang, 'out.state', { state });
}
