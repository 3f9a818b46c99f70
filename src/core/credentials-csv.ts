/**
 * The credentials CSV a teacher gets (`stands deploy --credentials-out`, `stands password --out`, the bot's
 * private attachment). Formula-safe: a cell a spreadsheet would read as a formula (starting with = + - @, a tab
 * or a carriage return) is prefixed with an apostrophe, as OWASP's CSV-injection guidance says; generated
 * passwords start with a letter, so they are never changed by it.
 */
import type { StandCredential } from './credentials.js';

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: string | undefined): string {
  let s = v ?? '';
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",;\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CREDENTIALS_CSV_HEADER = 'user,password,console,pool,group';

/** One line per stand; the password is empty for a user that existed before (its password is unchanged). */
export function credentialsCsv(creds: readonly Partial<StandCredential>[]): string {
  const lines = [CREDENTIALS_CSV_HEADER];
  for (const c of creds) lines.push([c.userid, c.password, c.consoleUrl, c.pool, c.group].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}
