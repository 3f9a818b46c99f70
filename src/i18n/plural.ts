/** Plural forms by `Intl.PluralRules`: English one/other, Russian one/few/many (1 стенд, 2 стенда, 5 стендов). */
export type Lang = 'en' | 'ru';

export interface PluralForms {
  one: string;
  few?: string;
  many?: string;
  other: string;
}

const rules: Record<Lang, Intl.PluralRules> = { en: new Intl.PluralRules('en'), ru: new Intl.PluralRules('ru') };

/** The form of a noun for `n`: `plural('ru', 3, {one: 'стенд', few: 'стенда', many: 'стендов', other: 'стенда'})`. */
export function plural(lang: Lang, n: number, forms: PluralForms): string {
  const cat = rules[lang].select(n);
  return (cat === 'one' ? forms.one : cat === 'few' ? forms.few : cat === 'many' ? forms.many : undefined) ?? forms.other;
}

/** `n` and its noun: `count('ru', 5, …)` → `5 стендов`. */
export function count(lang: Lang, n: number, forms: PluralForms): string {
  return `${n} ${plural(lang, n, forms)}`;
}

/** Russian nouns used with numbers across the catalogues (other = the fractional form). */
export const RU = {
  stand: { one: 'стенд', few: 'стенда', many: 'стендов', other: 'стенда' },
  vm: { one: 'ВМ', few: 'ВМ', many: 'ВМ', other: 'ВМ' },
  job: { one: 'задача', few: 'задачи', many: 'задач', other: 'задачи' },
  problem: { one: 'проблема', few: 'проблемы', many: 'проблем', other: 'проблемы' },
  error: { one: 'ошибка', few: 'ошибки', many: 'ошибок', other: 'ошибки' },
  retry: { one: 'повтор', few: 'повтора', many: 'повторов', other: 'повтора' },
  byte: { one: 'байт', few: 'байта', many: 'байт', other: 'байта' },
  machine: { one: 'машина', few: 'машины', many: 'машин', other: 'машины' },
  unit: { one: 'единица', few: 'единицы', many: 'единиц', other: 'единицы' },
  network: { one: 'сеть', few: 'сети', many: 'сетей', other: 'сети' },
  core: { one: 'ядро', few: 'ядра', many: 'ядер', other: 'ядра' },
  user: { one: 'пользователь', few: 'пользователя', many: 'пользователей', other: 'пользователя' },
} satisfies Record<string, PluralForms>;

export const EN = {
  stand: { one: 'stand', other: 'stands' },
  vm: { one: 'VM', other: 'VMs' },
  job: { one: 'job', other: 'jobs' },
  problem: { one: 'problem', other: 'problems' },
  error: { one: 'error', other: 'errors' },
  retry: { one: 'retry', other: 'retries' },
  byte: { one: 'byte', other: 'bytes' },
  machine: { one: 'machine', other: 'machines' },
  unit: { one: 'unit', other: 'units' },
  network: { one: 'network', other: 'networks' },
  core: { one: 'core', other: 'cores' },
  user: { one: 'user', other: 'users' },
} satisfies Record<keyof typeof RU, PluralForms>;
