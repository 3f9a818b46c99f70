import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slugify } from '../../src/config/slug.js';
import { loadUserListFile, parseUserList } from '../../src/config/user-list.js';
import { formatIssue } from '../../src/errors.js';
import { errorLines, tempConfig, yaml } from './helpers.js';

const REALM_HINT = 'a letter, then letters, digits, ".", "-" or "_"; 2–32 characters';

describe('user lists: .txt', () => {
  it('reads one user per line, skips comments and blank lines, adds the default realm', () => {
    const list = parseUserList('# class 3-IS-1\n\nstudent01\nstudent02@pve   # second\n  \nteacher@ldap\n', 'users.txt', {
      allowedRealms: ['pve', 'ldap'],
    });
    expect(list.users.map((u) => [u.userid, u.name, u.realm, u.line])).toEqual([
      ['student01@pve', 'student01', 'pve', 3],
      ['student02@pve', 'student02', 'pve', 4],
      ['teacher@ldap', 'teacher', 'ldap', 6],
    ]);
    expect(list.warnings).toEqual([]);
    expect(list.file).toBe('users.txt');
  });

  it('uses the configured default realm', () => {
    const list = parseUserList('a\nb@pve\n', 'users.txt', { defaultRealm: 'school', allowedRealms: ['school', 'pve'] });
    expect(list.users.map((u) => u.userid)).toEqual(['a@school', 'b@pve']);
  });
});

describe('user lists: the bad-input table', () => {
  it('CRLF line ends: users are read and line numbers stay right', async () => {
    const list = parseUserList('student01\r\nstudent02\r\n', 'users.txt');
    expect(list.users.map((u) => [u.userid, u.line])).toEqual([
      ['student01@pve', 1],
      ['student02@pve', 2],
    ]);
    expect(await errorLines(() => parseUserList('ok1\r\nbad user\r\nok2\r\n', 'users.txt'))).toEqual([
      'users.txt:2: "bad user": contains whitespace',
    ]);
  });

  it('a UTF-8 BOM is dropped, not made part of the first name', () => {
    const list = parseUserList(Buffer.from('\uFEFFstudent01\nstudent02\n', 'utf8'), 'users.txt');
    expect(list.users.map((u) => u.userid)).toEqual(['student01@pve', 'student02@pve']);
  });

  it('duplicates, compared case-insensitively, are warnings and the first is kept', () => {
    const list = parseUserList('ivanov\nIvanov@pve\npetrov\nIVANOV\n', 'users.txt');
    expect(list.users.map((u) => u.userid)).toEqual(['ivanov@pve', 'petrov@pve']);
    expect(list.warnings.map(formatIssue)).toEqual([
      'users.txt:2: duplicate of "ivanov@pve" (line 1); the first is kept',
      'users.txt:4: duplicate of "ivanov@pve" (line 1); the first is kept',
    ]);
  });

  it('root@pam is always refused, other @pam users unless allowed', async () => {
    expect(await errorLines(() => parseUserList('root@pam\nops@pam\n', 'users.txt'))).toEqual([
      'users.txt:1: "root@pam": root@pam is never given a stand',
      'users.txt:2: "ops@pam": @pam users are refused (set allow_pam: true in stands.yml to allow them)',
    ]);
    expect(await errorLines(() => parseUserList('ROOT@pam\nops@pam\n', 'users.txt', { allowPam: true }))).toEqual([
      'users.txt:1: "ROOT@pam": root@pam is never given a stand',
    ]);
    expect(parseUserList('ops@pam\n', 'users.txt', { allowPam: true }).users[0]!.userid).toBe('ops@pam');
  });

  it('`bad user@@x` and `a:b@pve` break the PVE userid rules', async () => {
    expect(await errorLines(() => parseUserList('bad user@@x\na:b@pve\nc/d\n', 'users.txt'))).toEqual([
      `users.txt:1: "bad user@@x": contains whitespace; more than one "@"; realm "x" is not valid (${REALM_HINT})`,
      'users.txt:2: "a:b@pve": the name must not contain ":" or "/"',
      'users.txt:3: "c/d": the name must not contain ":" or "/"',
    ]);
  });

  it('realms outside the allowed list are refused', async () => {
    expect(await errorLines(() => parseUserList('a@ldap\nb@pve\n', 'users.txt'))).toEqual([
      'users.txt:1: "a@ldap": realm "ldap" is not allowed (allowed: pve)',
    ]);
  });

  it('a user id longer than 64 bytes is refused (Cyrillic letters take two)', async () => {
    const ascii = `${'a'.repeat(60)}@pve`; // exactly 64
    expect(parseUserList(`${ascii}\n`, 'users.txt').users).toHaveLength(1);
    const cyr = 'я'.repeat(31); // 62 bytes + "@pve" = 66
    expect(await errorLines(() => parseUserList(`${cyr}\n`, 'users.txt'))).toEqual([
      `users.txt:1: "${cyr}": longer than 64 bytes (66)`,
    ]);
  });

  it('1,001 users: refused at the 1,001st line', async () => {
    const text = Array.from({ length: 1001 }, (_, i) => `student${i + 1}`).join('\n');
    expect(await errorLines(() => parseUserList(text, 'users.txt'))).toEqual([
      'users.txt:1001: too many users (1001); the limit is 1000 per list',
    ]);
    expect(parseUserList(Array.from({ length: 1000 }, (_, i) => `s${i}`).join('\n'), 'users.txt').users).toHaveLength(1000);
  });

  it('binary garbage gets one clear error, not a line per byte', async () => {
    const garbage = Buffer.from([0x50, 0x4b, 0x03, 0x00, 0x14, 0x00, 0x06, 0x00, 0xff, 0xd8, 0x0a, 0x41]);
    expect(await errorLines(() => parseUserList(garbage, 'users.txt'))).toEqual([
      'users.txt: not a text file (a NUL byte at offset 3); expected UTF-8 text',
    ]);
    // a cut-off UTF-8 sequence; not Cyrillic in Windows-1251 either
    expect(await errorLines(() => parseUserList(Buffer.from([0x61, 0x0a, 0xe2, 0x82, 0x28, 0x0a]), 'users.csv'))).toEqual([
      'users.csv: not valid UTF-8 text (save the file as UTF-8)',
    ]);
    expect(await errorLines(() => parseUserList(Buffer.from('\uFEFFa\n', 'utf16le'), 'users.txt'))).toEqual([
      'users.txt: the file is UTF-16 text; save it as UTF-8',
    ]);
  });

  it('an empty file, or one with only comments, is an error', async () => {
    expect(await errorLines(() => parseUserList('', 'users.txt'))).toEqual(['users.txt: the file is empty: expected one user per line']);
    expect(await errorLines(() => parseUserList(' \r\n\n', 'users.txt'))).toEqual(['users.txt: the file is empty: expected one user per line']);
    expect(await errorLines(() => parseUserList('# nobody yet\n', 'users.txt'))).toEqual(['users.txt: no users in the file']);
    expect(await errorLines(() => parseUserList('users: []\n', 'users.yml'))).toEqual(['users.yml: no users in the file']);
  });

  it('a 2 MiB file is refused before parsing, from bytes and from disk', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'student\n');
    expect(await errorLines(() => parseUserList(big, 'users.txt'))).toEqual([
      'users.txt: user list is too large (2 MiB; the limit is 1 MiB)',
    ]);
    const { dir, cleanup } = await tempConfig({ 'big.txt': big });
    try {
      const path = join(dir, 'big.txt');
      expect(await errorLines(() => loadUserListFile(path))).toEqual([`${path}: user list is too large (2 MiB; the limit is 1 MiB)`]);
    } finally {
      await cleanup();
    }
  });

  it('a YAML alias bomb is stopped', async () => {
    const bomb = yaml(`
      a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
      users: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    `);
    expect(await errorLines(() => parseUserList(bomb, 'users.yml'))).toEqual([
      'users.yml:2: YAML aliases expand too much (more than 100 alias uses); refusing the file',
    ]);
  });

  it('Cyrillic names are accepted, and their slugs are ASCII and distinct', () => {
    const list = parseUserList('иванов.пётр\nИванова@pve\nщукин\n', 'users.txt');
    expect(list.users.map((u) => u.userid)).toEqual(['иванов.пётр@pve', 'Иванова@pve', 'щукин@pve']);
    const slugs = list.users.map((u) => slugify(u.name));
    for (const s of slugs) expect(s).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(slugs[0]).toMatch(/^ivanov-petr-[0-9a-f]{6}$/);
    expect(slugs[2]).toMatch(/^shchukin-[0-9a-f]{6}$/);
    expect(new Set(slugs).size).toBe(3);
  });

  it('every problem of a file is reported at once, in line order', async () => {
    const text = 'good1\nroot@pam\n\nbad user\ngood2\na:b\n';
    expect(await errorLines(() => parseUserList(text, 'class.txt'))).toEqual([
      'class.txt:2: "root@pam": root@pam is never given a stand',
      'class.txt:4: "bad user": contains whitespace',
      'class.txt:6: "a:b": the name must not contain ":" or "/"',
    ]);
  });

  it('unsupported file types are refused by name', async () => {
    expect(await errorLines(() => parseUserList('x', 'class.xlsx'))).toEqual([
      'class.xlsx: unsupported file type ".xlsx" (expected .txt, .csv, .yml or .yaml)',
    ]);
  });
});

describe('user lists: .csv', () => {
  it('a semicolon CSV from Excel (BOM, CRLF, quoted fields with ";") with discord, name and email', () => {
    const csv =
      '\uFEFFuser;discord;name;email\r\n' +
      'ivanov;412345678901234561;"Иванов; Иван";ivanov@example.org\r\n' +
      '"petrov@pve";;Пётр;\r\n' +
      ';;;\r\n' +
      'sidorov;412345678901234563;"Sidorov ""Sid""";\r\n';
    const list = parseUserList(Buffer.from(csv, 'utf8'), 'class.csv');
    expect(list.users).toEqual([
      {
        userid: 'ivanov@pve',
        name: 'ivanov',
        realm: 'pve',
        discord: '412345678901234561',
        displayName: 'Иванов; Иван',
        email: 'ivanov@example.org',
        line: 2,
      },
      { userid: 'petrov@pve', name: 'petrov', realm: 'pve', displayName: 'Пётр', line: 3 },
      { userid: 'sidorov@pve', name: 'sidorov', realm: 'pve', discord: '412345678901234563', displayName: 'Sidorov "Sid"', line: 5 },
    ]);
  });

  it('a "sep=" first line and Russian column names', async () => {
    const list = parseUserList('sep=,\nпользователь,ФИО,почта\nivanov,"Иванов, Иван",ivanov@example.org\n', 'class.csv');
    expect(list.users).toEqual([
      { userid: 'ivanov@pve', name: 'ivanov', realm: 'pve', displayName: 'Иванов, Иван', email: 'ivanov@example.org', line: 3 },
    ]);
    expect(await errorLines(() => parseUserList('sep=;\nuser\nbad user\n', 'class.csv'))).toEqual([
      'class.csv:3: "bad user": contains whitespace',
    ]);
  });

  it('a comma CSV with only a user column', () => {
    const list = parseUserList('user\nstudent01\nstudent02@pve\n', 'class.csv');
    expect(list.users.map((u) => u.userid)).toEqual(['student01@pve', 'student02@pve']);
  });

  it('a quoted field may span lines; later line numbers stay right', async () => {
    expect(await errorLines(() => parseUserList('user,name\na,"two\nlines"\nbad user,x\n', 'class.csv'))).toEqual([
      'class.csv:4: "bad user": contains whitespace',
    ]);
  });

  it('header problems and bad cells are reported with their lines', async () => {
    expect(await errorLines(() => parseUserList('login;emial\na;b\n', 'class.csv'))).toEqual([
      'class.csv:1: unknown column "login" (expected user, discord, name, email)',
      'class.csv:1: unknown column "emial" (expected user, discord, name, email)',
    ]);
    expect(await errorLines(() => parseUserList('name\nIvan\n', 'class.csv'))).toEqual([
      'class.csv:1: the first row must be a header with a "user" column (and optionally discord, name, email)',
    ]);
    expect(
      await errorLines(() => parseUserList('user;discord;email\na;12345;\nb;;not-an-email\nc;;;extra\n;412345678901234561;\n"d\n', 'class.csv')),
    ).toEqual([
      'class.csv:2: discord: "12345" is not a Discord user id (17–20 digits)',
      'class.csv:3: email: "not-an-email" is not an e-mail address',
      'class.csv:4: 4 fields, but the header has 3',
      'class.csv:5: the user is empty',
      'class.csv:6: a quoted field is not closed (missing ")',
    ]);
  });
});

describe('user lists: Windows-1251 from a Russian Excel', () => {
  it('a cp1251 CSV is read, with a warning; cp1251-looking garbage is still refused', async () => {
    // "user;name\r\nivanov;Иванов Ёжик\r\n" in Windows-1251
    const cp1251 = Buffer.concat([
      Buffer.from('user;name\r\nivanov;'),
      Buffer.from([0xc8, 0xe2, 0xe0, 0xed, 0xee, 0xe2, 0x20, 0xa8, 0xe6, 0xe8, 0xea]),
      Buffer.from('\r\n'),
    ]);
    const list = parseUserList(cp1251, 'class.csv');
    expect(list.users).toEqual([{ userid: 'ivanov@pve', name: 'ivanov', realm: 'pve', displayName: 'Иванов Ёжик', line: 2 }]);
    expect(list.warnings.map(formatIssue)).toEqual([
      'class.csv: read as Windows-1251 (not UTF-8); in Excel choose "CSV UTF-8" to avoid this warning',
    ]);
    const { dir, cleanup } = await tempConfig({ 'class.csv': cp1251 });
    try {
      expect((await loadUserListFile(join(dir, 'class.csv'))).users[0]!.displayName).toBe('Иванов Ёжик');
    } finally {
      await cleanup();
    }
    expect(await errorLines(() => parseUserList(Buffer.from([0x61, 0x0a, 0x81, 0x92, 0xc8, 0x0a]), 'class.csv'))).toEqual([
      'class.csv: not valid UTF-8 text (save the file as UTF-8)',
    ]);
  });
});

describe('user lists: .yml', () => {
  it('strings, objects and a mix; big Discord ids keep every digit', () => {
    const text = yaml(`
      users:
        - student01
        - user: student02@pve
          discord: 412345678901234562
          name: Student Two
        - {user: "иванов", email: ivanov@example.org}
    `);
    const list = parseUserList(text, 'class.yaml');
    expect(list.users).toEqual([
      { userid: 'student01@pve', name: 'student01', realm: 'pve', line: 2 },
      { userid: 'student02@pve', name: 'student02', realm: 'pve', discord: '412345678901234562', displayName: 'Student Two', line: 3 },
      { userid: 'иванов@pve', name: 'иванов', realm: 'pve', email: 'ivanov@example.org', line: 6 },
    ]);
  });

  it('the seed format (a users: list of strings) and a bare list', () => {
    expect(parseUserList('users:\n  - "student1@pve"\n  - "student2@pve"\n', 'users.yml').users).toHaveLength(2);
    expect(parseUserList('- a\n- b\n', 'users.yml').users.map((u) => u.userid)).toEqual(['a@pve', 'b@pve']);
  });

  it('unknown keys, wrong shapes and rule violations, each with its line and path', async () => {
    const text = yaml(`
      users:
        - ivanov
        - user: petrov
          emial: p@example.org
        - 12345
        - "bad user@@x"
        - {user: root@pam}
      teachers: [x]
    `);
    expect(await errorLines(() => parseUserList(text, 'class.yml'))).toEqual([
      'class.yml:4: users[1].emial: unknown key (did you mean "email"?)',
      'class.yml:5: users[2]: expected a user name ("ivanov" or "ivanov@pve"; quote names that look like numbers) or {user, discord, name, email}',
      `class.yml:6: users[3]: "bad user@@x": contains whitespace; more than one "@"; realm "x" is not valid (${REALM_HINT})`,
      'class.yml:7: users[4]: "root@pam": root@pam is never given a stand',
      'class.yml:8: teachers: unknown key',
    ]);
  });

  it('YAML syntax errors name the line', async () => {
    expect(await errorLines(() => parseUserList('users:\n  - a\n  - [b\n', 'class.yml'))).toHaveLength(1);
    const [line] = await errorLines(() => parseUserList('users:\n  - a\n - b\n', 'class.yml'));
    expect(line).toMatch(/^class\.yml:3: YAML: /);
  });
});

describe('loadUserListFile', () => {
  it('reads the file and names it by its path', async () => {
    const { dir, cleanup } = await tempConfig();
    try {
      const path = join(dir, 'class.txt');
      await writeFile(path, 'a\nb b\n');
      expect(await errorLines(() => loadUserListFile(path))).toEqual([`${path}:2: "b b": contains whitespace`]);
      await writeFile(path, 'a\n');
      expect((await loadUserListFile(path)).users[0]!.userid).toBe('a@pve');
      expect(await errorLines(() => loadUserListFile(join(dir, 'missing.txt')))).toEqual([`${join(dir, 'missing.txt')}: file not found`]);
    } finally {
      await cleanup();
    }
  });
});
