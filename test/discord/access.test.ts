import { describe, expect, it } from 'vitest';
import { allows, memberLevel, memberRoleIds } from '../../src/discord/access.js';
import { langFor } from '../../src/discord/i18n.js';

const roles = { admin: ['1'], teacher: ['2', '22'], student: ['3'] };

describe('access levels', () => {
  it('takes the highest level among the member roles and nests admin ⊇ teacher ⊇ student', () => {
    expect(memberLevel(['3', '22'], roles)).toBe('teacher');
    expect(memberLevel(['9'], roles)).toBe('none');
    expect(allows('admin', 'teacher')).toBe(true);
    expect(allows('teacher', 'student')).toBe(true);
    expect(allows('student', 'teacher')).toBe(false);
    expect(allows('none', 'student')).toBe(false);
  });

  it('reads roles from a raw API member and from a cached GuildMember', () => {
    expect(memberRoleIds({ roles: ['1', '2'] })).toEqual(['1', '2']);
    expect(memberRoleIds({ roles: { cache: new Map([['5', {}]]) } })).toEqual(['5']);
    expect(memberRoleIds(null)).toEqual([]);
  });

  it('speaks Russian to ru locales and English otherwise, unless bot.yml fixes the language', () => {
    expect(langFor('ru')).toBe('ru');
    expect(langFor('en-GB')).toBe('en');
    expect(langFor('de')).toBe('en');
    expect(langFor('ru', 'en')).toBe('en');
  });
});
