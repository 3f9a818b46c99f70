import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { shortHash, slugify, transliterate } from '../../src/config/slug.js';

describe('slugify', () => {
  it('keeps plain lowercase ASCII names as they are', () => {
    expect(slugify('student01')).toBe('student01');
    expect(slugify('web-1')).toBe('web-1');
  });

  it('transliterates Cyrillic (ICAO table) and adds a stable hash', () => {
    expect(transliterate('Щукин Ёжиков Юлия Хабибуллина')).toBe('shchukin ezhikov iuliia khabibullina');
    const s = slugify('Иванов Пётр');
    expect(s).toBe(`ivanov-petr-${shortHash('Иванов Пётр')}`);
    expect(slugify('Иванов Пётр')).toBe(s);
  });

  it('names that meet after cleaning stay distinct', () => {
    const names = ['ivan.petrov', 'ivan_petrov', 'Ivan Petrov', 'ivan-petrov'];
    const slugs = names.map((n) => slugify(n));
    expect(new Set(slugs).size).toBe(names.length);
    expect(slugs[3]).toBe('ivan-petrov');
  });

  it('respects maxLength, hash included, and never ends with "-"', () => {
    const long = 'очень-длинное-имя-студента-которое-не-помещается';
    const s = slugify(long, { maxLength: 20 });
    expect(s.length).toBeLessThanOrEqual(20);
    expect(s).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(slugify('a'.repeat(80), { maxLength: 30 })).toHaveLength(30);
  });

  it('never returns an empty string', () => {
    expect(slugify('!!!')).toBe(shortHash('!!!'));
    expect(slugify('Łukasz Żółć')).toMatch(/^lukasz-zolc-[0-9a-f]{6}$/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['45m', 45 * 60_000],
    ['4h', 4 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['2d', 2 * 86_400_000],
    ['1w', 7 * 86_400_000],
    ['30s', 30_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['4', '', 'h', '0m', '4 h', '-1h', '1.5h'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
});
