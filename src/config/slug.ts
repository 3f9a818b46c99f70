/**
 * ASCII identifiers from people's names. PVE pool ids, VM names (DNS names) and tags must be ASCII, but Cyrillic
 * student names are common and valid PVE user names. Russian, Ukrainian and Belarusian letters are
 * transliterated after the ICAO Doc 9303 table (what Russian passports print), other letters lose their
 * diacritics, everything else becomes "-". Whenever that changes anything beyond case (so two different names
 * could meet, `ivan.petrov` and `ivan_petrov`), a short stable hash of the original text is appended.
 */
import { createHash } from 'node:crypto';

const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'i', к: 'k', л: 'l',
  м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh',
  щ: 'shch', ъ: 'ie', ы: 'y', ь: '', э: 'e', ю: 'iu', я: 'ia',
  // Ukrainian, Belarusian
  і: 'i', ї: 'i', є: 'ie', ґ: 'g', ў: 'u',
  // Latin letters that do not decompose into a base letter and a diacritic
  ł: 'l', ß: 'ss', æ: 'ae', ø: 'o', đ: 'd', þ: 'th', œ: 'oe', ı: 'i',
};

export const HASH_LENGTH = 6;

/** A short, stable (same input → same output, across runs and machines) lowercase hex hash. */
export function shortHash(text: string, length: number = HASH_LENGTH): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/** Transliterate to lowercase ASCII letters and digits, other characters kept as they are. */
export function transliterate(text: string): string {
  let out = '';
  for (const ch of text.toLowerCase()) {
    const mapped = CYRILLIC[ch];
    if (mapped !== undefined) out += mapped;
    else out += ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  }
  return out;
}

export interface SlugOptions {
  /** Maximum length of the result, hash included (default 63, a DNS label). At least 8. */
  maxLength?: number;
  /** `auto` (default): hash only when the text was changed beyond lowercasing or cut; `always`; `never`. */
  hash?: 'auto' | 'always' | 'never';
}

/**
 * `Иванов Пётр` → `ivanov-petr-<hash>`; `student01` → `student01`. The result matches `^[a-z0-9]+(-[a-z0-9]+)*$`
 * and is never empty. It may start with a digit: callers that need a letter first (pool ids) add their prefix.
 */
export function slugify(text: string, options: SlugOptions = {}): string {
  const maxLength = Math.max(8, options.maxLength ?? 63);
  const mode = options.hash ?? 'auto';
  const base = transliterate(text)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const changed = base !== text.toLowerCase();
  const hash = shortHash(text);
  if (base === '') return mode === 'never' ? 'x' : hash;
  const needHash = mode === 'always' || (mode === 'auto' && (changed || base.length > maxLength));
  if (!needHash) return trimSlug(base.slice(0, maxLength));
  const room = maxLength - hash.length - 1;
  return `${trimSlug(base.slice(0, room))}-${hash}`.replace(/^-/, '');
}

function trimSlug(s: string): string {
  return s.replace(/-+$/g, '');
}
