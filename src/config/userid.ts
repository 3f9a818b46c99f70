/**
 * The one check of a Proxmox user id that gets a stand, wherever it comes from: a roster line, `/link`, a
 * self-service identity derived from a Discord name, or a config field naming a realm. Format (PVE's pve-userid:
 * no whitespace, ":" or "/", one "@", a realm name, at most 64 bytes), plus what this product refuses on top:
 * - characters that break Proxmox list parameters or our own records: `,` and `;` separate users and roles in
 *   `PUT /access/acl` (pve-access-control src/PVE/API2/ACL.pm update_acl reads `users`/`roles` with
 *   PVE::Tools::split_list, which turns `,` and `;` into blanks and splits on whitespace), `|` separated the parts
 *   of our old journal keys, a double quote or backslash breaks the CSV and YAML a teacher round-trips, and control
 *   characters break every one of them;
 * - `root@pam` never; other `@pam` users only with `allow_pam` (on a real node a PVE password for a pam user is the
 *   Linux account's password);
 * - realms outside the allowlist.
 */
export interface UserIdRules {
  /** Realm for a bare name (no "@"). */
  defaultRealm: string;
  /** Realms that may get stands. `pam` additionally needs `allowPam`. */
  allowedRealms: readonly string[];
  allowPam: boolean;
}

/** PVE's realm pattern (pve-realm): a letter, then letters, digits, ".", "-", "_"; 2–32 characters. */
export const REALM_RE = /^[A-Za-z][A-Za-z0-9._-]+$/;
export const MAX_REALM_LENGTH = 32;
/** PVE: the whole user id is at most 64 characters; we count UTF-8 bytes, the stricter reading. */
export const MAX_USERID_LENGTH = 64;
/** Characters refused in a user name (see the header); control characters are refused too. */
export const FORBIDDEN_NAME_CHARS = [',', ';', '|', '"', '\\'] as const;

export type UserIdCheck =
  | { ok: true; userid: string; name: string; realm: string }
  | { ok: false; message: string };

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Realm policy alone (a config field naming the realm of users we will create). Undefined when allowed. */
export function realmProblem(realm: string, rules: Pick<UserIdRules, 'allowedRealms' | 'allowPam'>): string | undefined {
  if (!REALM_RE.test(realm) || realm.length > MAX_REALM_LENGTH) {
    return `realm "${realm}" is not valid (a letter, then letters, digits, ".", "-" or "_"; 2–32 characters)`;
  }
  if (realm === 'pam' && !rules.allowPam) return '@pam users are refused (set allow_pam: true in stands.yml to allow them)';
  if (realm !== 'pam' && !rules.allowedRealms.includes(realm)) {
    return `realm "${realm}" is not allowed (allowed: ${rules.allowedRealms.join(', ')})`;
  }
  return undefined;
}

/** Checks `text` (`name@realm`, or a bare name in the default realm). The message starts with the quoted input. */
export function checkUserId(text: string, rules: UserIdRules): UserIdCheck {
  const trimmed = text.trim();
  const q = JSON.stringify(trimmed);
  if (trimmed === '') return { ok: false, message: 'the user is empty' };
  const at = trimmed.lastIndexOf('@');
  const name = at < 0 ? trimmed : trimmed.slice(0, at);
  const realm = at < 0 ? rules.defaultRealm : trimmed.slice(at + 1);
  const problems: string[] = [];
  if (/\s/.test(trimmed)) problems.push('contains whitespace');
  if (CONTROL_RE.test(trimmed)) problems.push('contains a control character');
  if (name === '') problems.push('the name before "@" is empty');
  if (/[:/]/.test(name)) problems.push('the name must not contain ":" or "/"');
  if (name.includes('@')) problems.push('more than one "@"');
  const bad = FORBIDDEN_NAME_CHARS.filter((c) => name.includes(c));
  if (bad.length) problems.push(`the name must not contain ${bad.map((c) => `"${c}"`).join(', ')} (Proxmox lists and our records use them as separators)`);
  if (!REALM_RE.test(realm) || realm.length > MAX_REALM_LENGTH) {
    problems.push(`realm "${realm}" is not valid (a letter, then letters, digits, ".", "-" or "_"; 2–32 characters)`);
  }
  const userid = `${name}@${realm}`;
  const bytes = Buffer.byteLength(userid, 'utf8');
  if (bytes > MAX_USERID_LENGTH) problems.push(`longer than ${MAX_USERID_LENGTH} bytes (${bytes})`);
  if (problems.length > 0) return { ok: false, message: `${q}: ${problems.join('; ')}` };
  if (userid.toLowerCase() === 'root@pam') return { ok: false, message: `${q}: root@pam is never given a stand` };
  const realmIssue = realmProblem(realm, rules);
  if (realmIssue) return { ok: false, message: `${q}: ${realmIssue}` };
  return { ok: true, userid, name, realm };
}
