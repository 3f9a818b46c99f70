/**
 * An estimate as people say it, in both languages, with one rounding: "about 1 min 40 s" / "около 1 мин 40 с"
 * (under a minute to the second, then to 5 s, then minutes). The CLI's plan, the bot's embed and the engine's
 * `PlanEstimate.text` (English) all come from here.
 */
import type { Lang } from './plural.js';

const UNITS: Record<Lang, { about: string; under: string; s: string; min: string; h: string }> = {
  en: { about: 'about', under: 'under 1 s', s: 's', min: 'min', h: 'h' },
  ru: { about: 'около', under: 'меньше 1 с', s: 'с', min: 'мин', h: 'ч' },
};

/** `about 1 min 40 s`; with `about: false` just `1 min 40 s`. */
export function estimateText(lang: Lang, ms: number, o: { about?: boolean } = {}): string {
  const u = UNITS[lang];
  if (!(ms > 0)) return u.under;
  const about = o.about === false ? '' : `${u.about} `;
  const s = ms / 1000;
  if (s < 60) return `${about}${Math.max(1, Math.round(s))} ${u.s}`;
  const r = Math.round(s / 5) * 5;
  const min = Math.floor(r / 60);
  const sec = r % 60;
  if (min < 60) return sec ? `${about}${min} ${u.min} ${sec} ${u.s}` : `${about}${min} ${u.min}`;
  const h = Math.floor(min / 60);
  const mm = min % 60;
  return mm ? `${about}${h} ${u.h} ${mm} ${u.min}` : `${about}${h} ${u.h}`;
}
