import { randomInt } from 'node:crypto';
import { UserError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import type { AppContext } from './context.js';
import { isOurUserComment } from './ownership.js';
import { msg } from '../i18n/index.js';

/**
 * Passwords of PVE users we create: shown once (deploy result / credentials event), never stored or logged.
 * No look-alike characters (0/O, 1/l/I) because students type them from a screen.
 */
const LOWER = 'abcdefghijkmnpqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGIT = '23456789';
const SYMBOL = '-_.+=';
const ALL = LOWER + UPPER + DIGIT + SYMBOL;

/** A strong random password (default 16 characters, ≈ 95 bits) with every character class present. */
export function generatePassword(length = 16): string {
  if (length < 8) throw new RangeError('password length must be at least 8');
  const chars: string[] = [pick(LOWER), pick(UPPER), pick(DIGIT), pick(SYMBOL)];
  while (chars.length < length) chars.push(pick(ALL));
  // Fisher–Yates with a CSPRNG so the class-guaranteed characters are not at fixed positions.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  // PVE/ticket login forms trip over a leading symbol in some shells' copy-paste; start with a letter.
  if (!/[A-Za-z]/.test(chars[0]!)) {
    const k = chars.findIndex((c) => /[A-Za-z]/.test(c));
    [chars[0], chars[k]] = [chars[k]!, chars[0]!];
  }
  const password = chars.join('');
  registerSecret(password);
  return password;
}

function pick(set: string): string {
  return set[randomInt(set.length)]!;
}

/** One credential handed to the teacher (and the student): userid, one-time password, console link. */
export interface StandCredential {
  group: string;
  userid: string;
  /** Present only when we created the user (or reset the password) in this run. */
  password?: string;
  consoleUrl?: string;
  pool: string;
}

/**
 * Records that these passwords were shown to a person just now (printed, written to a credentials file, sent by
 * Discord), on the stand records: a later run that finds the user it created then knows somebody has the
 * password, even when the run that created it was interrupted. Best effort per stand: the password is out
 * already, a failed write must not hide it. Call it right after showing, also for interrupted or partial runs.
 */
export async function markPasswordsShown(
  ctx: AppContext,
  creds: Pick<StandCredential, 'group' | 'userid' | 'password'>[],
  how: string,
): Promise<void> {
  const at = new Date().toISOString();
  for (const c of creds) {
    if (!c.password) continue;
    const rec = await ctx.store.stands.get(c.group, c.userid).catch(() => undefined);
    if (!rec) continue;
    await ctx.store.stands
      .update(c.group, c.userid, (r) => ({
        ...r,
        passwordShownAt: at,
        history: [...r.history, { at, event: 'password-shown', message: how }].slice(-100),
      }))
      .catch((err: unknown) => ctx.logger.warn({ err, user: c.userid }, 'could not record that a password was shown'));
  }
}

/** `stands password` showed a new password of `userid`: every stand of it on `cluster` records that. */
export async function markUserPasswordShown(ctx: AppContext, cluster: string, userid: string, how: string): Promise<void> {
  const u = userid.toLowerCase();
  const recs = (await ctx.store.stands.list({ cluster })).filter((r) => r.userid.toLowerCase() === u && r.createdUser);
  await markPasswordsShown(ctx, recs.map((r) => ({ group: r.group, userid: r.userid, password: 'new' })), how);
}

/** noVNC console link as the PVE GUI builds it: `<base>/#v1:0:=qemu%2F<vmid>:4:::::::`. */
export function consoleUrl(base: string, vmid: number): string {
  return `${base.replace(/\/+$/, '')}/#v1:0:=qemu%2F${vmid}:4:::::::`;
}

/**
 * `stands password --user U`: a new generated password for a PVE user WE created (journal or comment marker);
 * anyone else's account (alice@pve, root@pam, a pre-existing student account) is refused. Needs ticket auth:
 * the client explains when only a token is configured.
 */
export async function setPassword(
  ctx: AppContext,
  userid: string,
  o: { cluster?: string; length?: number } = {},
): Promise<{ userid: string; password: string }> {
  const cluster = o.cluster ?? ctx.defaultCluster;
  const client = ctx.client(cluster);
  if (userid === 'root@pam' || /@pam$/.test(userid)) {
    throw new UserError(msg('user.passwordNotManaged', { userid }));
  }
  const user = await client.getUser(userid);
  if (!user) throw new UserError(msg('user.notFound', { userid, cluster }));
  const journaled = await ctx.store.journal.get('user', userid, cluster);
  if (!journaled && !isOurUserComment(user.comment)) {
    throw new UserError(msg('user.passwordNotOurs', { userid }));
  }
  const password = generatePassword(o.length ?? ctx.settings?.passwords?.length ?? 16);
  await client.changePassword(userid, password);
  await ctx.store.audit.append({ actor: 'cli', action: 'password', user: userid, outcome: 'ok' }).catch(() => undefined);
  return { userid, password };
}
