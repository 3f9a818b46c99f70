/**
 * Leases: a stand may carry an expiry (`--lease 4h`, the profile's lease, or stands.yml leases.default). When it
 * ends, `expireLeases` stops the stand or removes it (stands.yml leases.action); the bot runs it on a schedule
 * and warns students beforehand with `leasesExpiringWithin`.
 */
import { parseDuration } from '../config/duration.js';
import { UserError } from '../errors.js';
import { GroupBusyError } from '../store/store.js';
import type { StandRecord } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { planCleanup, runCleanup } from './cleanup.js';
import { reasonOf } from './executor.js';
import { stopStands } from './power.js';
import { msg } from '../i18n/index.js';

export type LeaseAction = 'stop' | 'destroy';

export interface ExpiredStand {
  group: string;
  userid: string;
  leaseExpiresAt: string;
  action: LeaseAction;
  outcome: 'stopped' | 'removed' | 'busy' | 'failed';
  message?: string;
}

export interface ExpireResult {
  at: string;
  stands: ExpiredStand[];
}

const LEASE_EXPIRED = 'lease-expired';

function isLive(s: StandRecord): boolean {
  return s.status !== 'removed' && s.status !== 'removing';
}

/** Stands whose lease has ended and that were not handled yet (a stopped one is not stopped again). */
export async function expiredStands(ctx: AppContext, now: number = Date.now()): Promise<StandRecord[]> {
  return (await ctx.store.stands.list()).filter((s) => {
    if (!isLive(s) || !s.leaseExpiresAt) return false;
    const end = Date.parse(s.leaseExpiresAt);
    if (!(end <= now)) return false;
    return !s.history.some((h) => h.event === LEASE_EXPIRED && Date.parse(h.at) >= end);
  });
}

/** Stands whose lease ends in (now, now + ms]: the bot DMs their students. */
export async function leasesExpiringWithin(ctx: AppContext, ms: number, now: number = Date.now()): Promise<StandRecord[]> {
  return (await ctx.store.stands.list())
    .filter((s) => isLive(s) && s.leaseExpiresAt !== undefined)
    .filter((s) => {
      const end = Date.parse(s.leaseExpiresAt!);
      return end > now && end <= now + ms;
    })
    .sort((a, b) => a.leaseExpiresAt!.localeCompare(b.leaseExpiresAt!));
}

/** Set or extend a stand's lease: a duration from now (`4h`), an ISO time, or null to clear it. */
export async function setLease(
  ctx: AppContext,
  target: { group: string; user: string },
  lease: string | null,
  now: number = Date.now(),
): Promise<StandRecord> {
  let at: string | undefined;
  if (lease !== null) {
    const ms = parseDuration(lease);
    const abs = Date.parse(lease);
    if (ms !== undefined) at = new Date(now + ms).toISOString();
    else if (Number.isFinite(abs)) at = new Date(abs).toISOString();
    else throw new UserError(msg('input.leaseOrDate', { lease }));
  }
  const cur = await ctx.store.stands.get(target.group, target.user);
  if (!cur) throw new UserError(msg('stand.notFound', { user: target.user, group: target.group }));
  return ctx.store.stands.update(target.group, target.user, (r) => {
    const { leaseExpiresAt: _old, ...rest } = r;
    return { ...rest, ...(at ? { leaseExpiresAt: at } : {}), history: [...r.history, { at: new Date(now).toISOString(), event: 'lease-set', message: at ?? 'none' }].slice(-100) };
  });
}

/**
 * Stop or remove every stand whose lease has ended. A group busy with another job is skipped this round (the
 * next run picks it up).
 */
export async function expireLeases(
  ctx: AppContext,
  o: { now?: number; action?: LeaseAction } = {},
): Promise<ExpireResult> {
  const now = o.now ?? Date.now();
  const action: LeaseAction = o.action ?? ctx.settings.leases.action;
  const due = await expiredStands(ctx, now);
  const out: ExpiredStand[] = [];
  for (const s of due) {
    const base = { group: s.group, userid: s.userid, leaseExpiresAt: s.leaseExpiresAt!, action };
    try {
      if (action === 'stop') {
        const r = await stopStands(ctx, { group: s.group, user: s.userid }, { requestedBy: { via: 'schedule', name: 'lease expiry' } });
        const ok = r.status === 'succeeded';
        out.push({ ...base, outcome: ok ? 'stopped' : 'failed', ...(ok ? {} : { message: r.stands[0]?.error }) });
        if (ok) await ctx.store.stands.addHistory(s.group, s.userid, { event: LEASE_EXPIRED, message: 'stopped', at: new Date(Math.max(now, Date.now())).toISOString() });
      } else {
        const r = await runCleanup(ctx, await planCleanup(ctx, { group: s.group, user: s.userid }), {
          requestedBy: { via: 'schedule', name: 'lease expiry' },
        });
        const ok = r.status === 'succeeded';
        out.push({ ...base, outcome: ok ? 'removed' : 'failed', ...(ok ? {} : { message: r.stands[0]?.error }) });
      }
    } catch (err) {
      if (err instanceof GroupBusyError) out.push({ ...base, outcome: 'busy', message: err.message });
      else out.push({ ...base, outcome: 'failed', message: reasonOf(err) });
    }
  }
  return { at: new Date(now).toISOString(), stands: out };
}
