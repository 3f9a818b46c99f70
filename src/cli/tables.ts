import Table from 'cli-table3';
import type { StandCredential } from '../core/credentials.js';

/** A plain table (no colours: output is the same on a terminal, in a pipe and in tests). */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => String(c)));
  return t.toString();
}

export function mib(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} GiB` : `${n} MiB`;
}

export function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Compresses [1000,1001,1002,1005] into "1000-1002, 1005". */
export function ranges(ids: number[]): string {
  const s = [...ids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** Passwords of users created in this run: printed once, never logged or stored. */
export function renderCredentials(creds: StandCredential[]): string {
  const withPw = creds.filter((c) => c.password);
  if (withPw.length === 0) return '';
  return [
    'New users (passwords are shown only now — hand them out, they are not stored):',
    table(
      ['user', 'password', 'pool', 'console'],
      withPw.map((c) => [c.userid, c.password ?? '', c.pool, c.consoleUrl ?? '']),
    ),
  ].join('\n');
}
