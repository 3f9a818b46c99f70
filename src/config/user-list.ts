/**
 * User lists (a class): from a file or a Discord attachment, as `.txt`, `.csv` or `.yml`/`.yaml`. Every problem is
 * reported at once with its line, and a bad list changes nothing (the caller gets a ConfigError, not a partial
 * list). User ids follow PVE's rules; Cyrillic names are valid PVE user names and are accepted.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { decodeText, readBytes } from './text-input.js';
import { checkUserId } from './userid.js';
import { formatPath, lineOf, parseYaml, sortIssues, stringOrMapping, strictObject, validate } from './yaml-source.js';

export interface UserEntry {
  /** `name@realm` */
  userid: string;
  name: string;
  realm: string;
  /** Discord user id (snowflake), from the CSV `discord` column or the YAML `discord` key. */
  discord?: string;
  displayName?: string;
  email?: string;
  /** 1-based line in the source file. */
  line: number;
}

export interface UserList {
  file: string;
  users: UserEntry[];
  warnings: InputIssue[];
}

export interface UserListOptions {
  /** Realm for names written without one (default `pve`). */
  defaultRealm?: string;
  /** Realms a list may use (default: only `defaultRealm`). `pam` also needs `allowPam`. */
  allowedRealms?: readonly string[];
  /** Allow `@pam` users (never `root@pam`). Default false. */
  allowPam?: boolean;
  /** Default 1,000 users. */
  maxUsers?: number;
  /** Default 1 MiB. */
  maxBytes?: number;
  /** YAML alias uses allowed (default 100). */
  maxAliasCount?: number;
}

export const MAX_USERS = 1000;
export const MAX_USER_LIST_BYTES = 1024 * 1024;
export { MAX_USERID_LENGTH, REALM_RE, MAX_REALM_LENGTH } from './userid.js';
const SNOWFLAKE_RE = /^\d{17,20}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type ListFormat = 'txt' | 'csv' | 'yaml';

function formatOf(filename: string): ListFormat | undefined {
  const ext = extname(filename).toLowerCase();
  if (ext === '.txt' || ext === '.list' || ext === '') return 'txt';
  if (ext === '.csv') return 'csv';
  if (ext === '.yml' || ext === '.yaml') return 'yaml';
  return undefined;
}

/** A user as found in the file, before the PVE rules are applied. */
interface RawUser {
  text: string;
  line: number;
  path?: string;
  discord?: string;
  displayName?: string;
  email?: string;
}

interface Ctx {
  file: string;
  issues: InputIssue[];
}

function err(ctx: Ctx, line: number | undefined, message: string, path?: string): void {
  ctx.issues.push({ file: ctx.file, line, path, message });
}

/** Parse a user list. Throws ConfigError with every problem found, each with its line. */
export function parseUserList(input: Buffer | Uint8Array | string, filename: string, options: UserListOptions = {}): UserList {
  const file = filename;
  const format = formatOf(filename);
  if (!format) {
    throw new ConfigError({
      file,
      message: `unsupported file type "${extname(filename)}" (expected .txt, .csv, .yml or .yaml)`,
    });
  }
  const decoded = decodeText(input, file, {
    maxBytes: options.maxBytes ?? MAX_USER_LIST_BYTES,
    what: 'user list',
    allowCp1251: format !== 'yaml',
  });
  if ('issue' in decoded) throw new ConfigError(decoded.issue);
  const text = decoded.text;
  if (text.trim() === '') throw new ConfigError({ file, message: 'the file is empty: expected one user per line' });

  const ctx: Ctx = { file, issues: [] };
  let raws: RawUser[];
  if (format === 'txt') raws = readTxt(text);
  else if (format === 'csv') raws = readCsv(text, ctx);
  else raws = readYaml(text, ctx, options.maxAliasCount);

  const maxUsers = options.maxUsers ?? MAX_USERS;
  if (raws.length > maxUsers) {
    err(ctx, raws[maxUsers]!.line, `too many users (${raws.length}); the limit is ${maxUsers} per list`);
    raws = raws.slice(0, maxUsers);
  }
  if (raws.length === 0 && ctx.issues.length === 0) {
    throw new ConfigError({ file, message: 'no users in the file' });
  }

  const rules = {
    defaultRealm: options.defaultRealm ?? 'pve',
    allowedRealms: options.allowedRealms ?? [options.defaultRealm ?? 'pve'],
    allowPam: options.allowPam ?? false,
  };
  const users: UserEntry[] = [];
  const warnings: InputIssue[] = decoded.warning ? [decoded.warning] : [];
  const seen = new Map<string, UserEntry>();
  for (const raw of raws) {
    const user = checkUser(raw, rules, ctx);
    if (!user) continue;
    const key = user.userid.toLowerCase();
    const first = seen.get(key);
    if (first) {
      warnings.push({
        file,
        line: raw.line,
        path: raw.path,
        message: `duplicate of "${first.userid}" (line ${first.line}); the first is kept`,
      });
      continue;
    }
    seen.set(key, user);
    users.push(user);
  }
  if (ctx.issues.length > 0) throw new ConfigError(sortIssues(ctx.issues));
  return { file, users, warnings };
}

/** Read a user list from disk (the size is checked before the file is read). */
export async function loadUserListFile(path: string, options: UserListOptions = {}): Promise<UserList> {
  const bytes = await readBytes(path, options.maxBytes ?? MAX_USER_LIST_BYTES, 'user list');
  return parseUserList(bytes, path, options);
}

function checkUser(
  raw: RawUser,
  rules: { defaultRealm: string; allowedRealms: readonly string[]; allowPam: boolean },
  ctx: Ctx,
): UserEntry | undefined {
  const checked = checkUserId(raw.text, rules);
  if (!checked.ok) {
    err(ctx, raw.line, checked.message, raw.path);
    return undefined;
  }
  const { userid, name, realm } = checked;
  const entry: UserEntry = { userid, name, realm, line: raw.line };
  if (raw.discord !== undefined) {
    if (!SNOWFLAKE_RE.test(raw.discord)) {
      err(ctx, raw.line, `discord: "${raw.discord}" is not a Discord user id (17–20 digits)`, raw.path);
      return undefined;
    }
    entry.discord = raw.discord;
  }
  if (raw.email !== undefined) {
    if (!EMAIL_RE.test(raw.email)) {
      err(ctx, raw.line, `email: "${raw.email}" is not an e-mail address`, raw.path);
      return undefined;
    }
    entry.email = raw.email;
  }
  if (raw.displayName !== undefined) entry.displayName = raw.displayName;
  return entry;
}

// ---- .txt: one user per line; `#` starts a comment (whole line, or after whitespace)

function readTxt(text: string): RawUser[] {
  const out: RawUser[] = [];
  text.split(/\r?\n|\r/).forEach((lineText, i) => {
    const stripped = lineText.replace(/(^|\s)#.*$/, '').trim();
    if (stripped === '') return;
    out.push({ text: stripped, line: i + 1 });
  });
  return out;
}

// ---- .csv: comma or semicolon (Excel in a Russian locale writes ";"), RFC 4180 quoting, a header with `user`

const CSV_COLUMNS: Record<string, 'user' | 'discord' | 'name' | 'email'> = {
  user: 'user',
  userid: 'user',
  username: 'user',
  discord: 'discord',
  discord_id: 'discord',
  name: 'name',
  display_name: 'name',
  email: 'email',
  'e-mail': 'email',
  // Russian headers, as teachers write them
  пользователь: 'user',
  логин: 'user',
  имя: 'name',
  фио: 'name',
  почта: 'email',
};

interface CsvRecord {
  fields: string[];
  line: number;
}

function detectDelimiter(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const count = (ch: string): number => {
    let n = 0;
    let quoted = false;
    for (const c of firstLine) {
      if (c === '"') quoted = !quoted;
      else if (c === ch && !quoted) n++;
    }
    return n;
  };
  const semi = count(';');
  const comma = count(',');
  const tab = count('\t');
  if (tab > semi && tab > comma) return '\t';
  return semi > comma ? ';' : ',';
}

function parseCsv(text: string, delimiter: string, ctx: Ctx, firstLine = 1): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = firstLine;
  let recordLine = firstLine;
  let quoted = false;
  let quoteLine = 0;
  let i = 0;
  const endRecord = (): void => {
    fields.push(field);
    records.push({ fields, line: recordLine });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      quoteLine = line;
      field = '';
      i++;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      recordLine = line;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) err(ctx, quoteLine, 'a quoted field is not closed (missing ")');
  if (field !== '' || fields.length > 0) endRecord();
  return records.filter((r) => r.fields.some((f) => f.trim() !== ''));
}

function readCsv(text: string, ctx: Ctx): RawUser[] {
  // Excel honours (and some tools write) a first line "sep=;" naming the separator.
  const sep = /^sep=(.)\r?\n/i.exec(text);
  const body = sep ? text.slice(sep[0].length) : text;
  const records = parseCsv(body, sep ? sep[1]! : detectDelimiter(body), ctx, sep ? 2 : 1).filter((r) => !r.fields[0]?.trim().startsWith('#'));
  const header = records.shift();
  if (!header) return [];
  const columns: ((typeof CSV_COLUMNS)[string] | undefined)[] = [];
  let headerOk = true;
  header.fields.forEach((h) => {
    const name = h.trim().toLowerCase();
    if (name === '') {
      columns.push(undefined);
      return;
    }
    const col = CSV_COLUMNS[name];
    if (!col) {
      err(ctx, header.line, `unknown column "${h.trim()}" (expected user, discord, name, email)`);
      headerOk = false;
    } else if (columns.includes(col)) {
      err(ctx, header.line, `column "${h.trim()}" appears twice`);
      headerOk = false;
    }
    columns.push(col);
  });
  const userCol = columns.indexOf('user');
  if (userCol < 0) {
    if (headerOk) err(ctx, header.line, 'the first row must be a header with a "user" column (and optionally discord, name, email)');
    return [];
  }
  if (!headerOk) return [];
  const out: RawUser[] = [];
  for (const r of records) {
    const extra = r.fields.slice(columns.length).filter((f) => f.trim() !== '');
    if (extra.length > 0) {
      err(ctx, r.line, `${r.fields.length} fields, but the header has ${columns.length}`);
      continue;
    }
    const get = (col: 'discord' | 'name' | 'email'): string | undefined => {
      const idx = columns.indexOf(col);
      const v = idx < 0 ? undefined : r.fields[idx]?.trim();
      return v === '' ? undefined : v;
    };
    const raw: RawUser = { text: r.fields[userCol] ?? '', line: r.line };
    const discord = get('discord');
    const name = get('name');
    const email = get('email');
    if (discord !== undefined) raw.discord = discord;
    if (name !== undefined) raw.displayName = name;
    if (email !== undefined) raw.email = email;
    out.push(raw);
  }
  return out;
}

// ---- .yml / .yaml: `users:` (or a bare list) of strings, objects, or a mix

const snowflake = z.union([z.string(), z.number(), z.bigint()]).transform((v) => String(v));
const YamlUser = stringOrMapping(
  z.string(),
  strictObject({
    user: z.string(),
    discord: snowflake.optional(),
    name: z.string().optional(),
    email: z.string().optional(),
  }),
  'expected a user name ("ivanov" or "ivanov@pve"; quote names that look like numbers) or {user, discord, name, email}',
);
const UserListYamlTop = strictObject({ users: z.array(z.unknown()) });

function readYaml(text: string, ctx: Ctx, maxAliasCount: number | undefined): RawUser[] {
  const parsed = parseYaml(text, ctx.file, { maxAliasCount });
  if (parsed.issues.length > 0) {
    ctx.issues.push(...parsed.issues);
    return [];
  }
  const value = parsed.value;
  let list: unknown[];
  let prefix: PropertyKey[];
  if (Array.isArray(value)) {
    list = value;
    prefix = [];
  } else if (value !== null && typeof value === 'object') {
    const top = validate(UserListYamlTop, value, parsed.source);
    const users = (value as { users?: unknown }).users;
    if (!top.ok) ctx.issues.push(...top.issues);
    // An unknown key next to `users:` must not hide the problems of the users themselves.
    if (!Array.isArray(users)) return [];
    list = users;
    prefix = ['users'];
  } else {
    err(ctx, 1, 'expected "users:" followed by a list of users');
    return [];
  }
  const out: RawUser[] = [];
  list.forEach((item: unknown, i) => {
    const path = [...prefix, i];
    const line = lineOf(parsed.source, path) ?? 1;
    const r = validate(YamlUser, item, parsed.source, { pathPrefix: path });
    if (!r.ok) {
      ctx.issues.push(...r.issues);
      return;
    }
    const v = r.data;
    if (typeof v === 'string') {
      out.push({ text: v, line, path: formatPath(path) });
      return;
    }
    const raw: RawUser = { text: v.user, line, path: formatPath(path) };
    if (v.discord !== undefined) raw.discord = v.discord;
    if (v.name !== undefined) raw.displayName = v.name;
    if (v.email !== undefined) raw.email = v.email;
    out.push(raw);
  });
  return out;
}
