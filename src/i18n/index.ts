/**
 * The engine's one catalogue of user-facing texts (errors, refusals, headlines), in English and Russian.
 * The engine raises codes with parameters (`msg(code, params)`, carried by `UserError.msg`, `RefusalRow.problemMsg`…);
 * the CLI and the bot render them with `render(lang, …)`. Core-level: no discord.js here.
 */
import { en as engineEn, type EngineCatalog } from './messages.en.js';
import { ru as engineRu } from './messages.ru.js';
import type { Lang } from './plural.js';
import { runEn, type RunCatalog } from './run.en.js';
import { runRu } from './run.ru.js';
import { cliEn, type CliCatalog } from './cli.en.js';
import { cliRu } from './cli.ru.js';
import { checkEn, type CheckCatalog } from './check.en.js';
import { checkRu } from './check.ru.js';

export type { Lang } from './plural.js';
export { plural, count, RU, EN, type PluralForms } from './plural.js';
export { estimateText } from './duration.js';
export type { Head } from './cli.en.js';

/** The catalogue split by area (each part's Russian is typed against its English): engine, run results, CLI output, `stands check`. */
type Catalog = EngineCatalog & RunCatalog & CliCatalog & CheckCatalog;
const en: Catalog = { ...engineEn, ...runEn, ...cliEn, ...checkEn };
const ru: Catalog = { ...engineRu, ...runRu, ...cliRu, ...checkRu };

export type MsgCode = keyof Catalog;
export type MsgParams<C extends MsgCode> = Parameters<Catalog[C]>[0] extends undefined ? Record<string, never> : Parameters<Catalog[C]>[0];

/** A code and its parameters: plain data, so it survives JSON (job records) unchanged. */
export interface Msg<C extends MsgCode = MsgCode> {
  code: C;
  params: MsgParams<C>;
}

export const LANGS: readonly Lang[] = ['en', 'ru'];
const catalogs: Record<Lang, Catalog> = { en, ru };

export function msg<C extends MsgCode>(code: C, ...params: Parameters<Catalog[C]>[0] extends undefined ? [] : [MsgParams<C>]): Msg<C> {
  return { code, params: (params[0] ?? {}) as MsgParams<C> };
}

export function isMsg(x: unknown): x is Msg {
  return typeof x === 'object' && x !== null && typeof (x as Msg).code === 'string' && Object.hasOwn(en, (x as Msg).code);
}

/**
 * A code read back from a record (`errorMsg` of a stand or job): rendered when this version knows the code, else
 * the English text stored beside it (a record written by a newer version, or by an older one without codes).
 */
export function stored(lang: Lang, m: unknown, english: string | undefined, fallback = ''): string {
  if (isMsg(m) && typeof (m as { params?: unknown }).params === 'object') {
    try {
      return render(lang, m);
    } catch {
      // parameters of another shape (another version): the English text is still true
    }
  }
  return english ?? fallback;
}

/** The text of a code in a language. */
export function render(lang: Lang, m: Msg): string {
  const fn = catalogs[lang][m.code] as (p: unknown) => string;
  const params = m.params as Record<string, unknown> | undefined;
  // a parameter that is a message (Nested), or a list of them, is said in the same language
  const said = (v: unknown): unknown => (isMsg(v) ? render(lang, v) : Array.isArray(v) ? v.map(said) : v);
  const nested = params && Object.values(params).some((v) => isMsg(v) || (Array.isArray(v) && v.some(isMsg)));
  return fn(nested ? Object.fromEntries(Object.entries(params).map(([k, v]) => [k, said(v)])) : params);
}

/** A text that may be a code (rendered) or a plain string (kept as is: names, Proxmox's own messages). */
export function text(lang: Lang, t: string | Msg | undefined, fallback = ''): string {
  if (t === undefined) return fallback;
  return typeof t === 'string' ? t : render(lang, t);
}

/** Russian for `ru*` (also `ru_RU.UTF-8`, `ru-RU`), English for anything else. */
export function langOf(value: string | null | undefined): Lang | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '' ) return undefined;
  return v.startsWith('ru') ? 'ru' : 'en';
}

/**
 * The CLI's language: `--lang`, else LC_ALL, LC_MESSAGES, LANG (POSIX order; the first set one decides), else English.
 * `C`/`POSIX` mean English.
 */
export function cliLang(flag: string | undefined, env: NodeJS.ProcessEnv): Lang {
  if (flag !== undefined && flag !== '') {
    const l = flag.trim().toLowerCase();
    if (l !== 'ru' && l !== 'en') throw new RangeError(`--lang ${flag}: use ru or en`);
    return l;
  }
  for (const name of ['LC_ALL', 'LC_MESSAGES', 'LANG'] as const) {
    const v = env[name]?.trim();
    if (v) return langOf(v) ?? 'en';
  }
  return 'en';
}

/** Every code of the catalogue (the tests walk them). */
export function allCodes(): MsgCode[] {
  return Object.keys(en) as MsgCode[];
}

/** Shorthand: the text of a code in a language, `say('ru', 'plan.noDisk')`. */
export function say<C extends MsgCode>(lang: Lang, code: C, ...params: Parameters<Catalog[C]>[0] extends undefined ? [] : [MsgParams<C>]): string {
  return render(lang, { code, params: (params[0] ?? {}) as MsgParams<C> } as Msg);
}
