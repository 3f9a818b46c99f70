/**
 * Leases: a stand may carry an expiry (`--lease 4h`, the profile's lease, or stands.yml leases.default). When it
 * ends, `expireLeases` shuts the stand down (ACPI, stopped after leases.shutdown_timeout), stops it or removes it
 * (stands.yml leases.action, default shutdown); the bot runs it on a schedule
 * and warns students beforehand with `leasesExpiringWithin`.
 */
import { parseDuration } from '../config/duration.js';
import { UserError } from '../errors.js';
import { GroupBusyError } from '../store/store.js';
import type { StandRecord } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { planCleanup, runCleanup } from './cleanup.js';
import { failureOf } from './failure.js';
import { shutdownStands, stopStands } from './power.js';
import { msg, render, type Msg } from '../i18n/index.js';

/** A stand's failure from a power or cleanup result: its English text and code, as the result gave them. */
function failedOf(s: { error?: string; errorMsg?: Msg } | undefined): Pick<ExpiredStand, 'message' | 'messageMsg'> {
  return { ...(s?.error !== undefined ? { message: s.error } : {}), ...(s?.errorMsg ? { messageMsg: s.errorMsg } : {}) };
}

export type { LeaseAction } from '../config/settings.js';
import type { LeaseAction } from '../config/settings.js';

export interface ExpiredStand {
  group: string;
  userid: string;
  leaseExpiresAt: string;
  action: LeaseAction;
  outcome: 'stopped' | 'removed' | 'busy' | 'failed';
  /** In English; `messageMsg` is the same as a code. */
  message?: string;
  messageMsg?: Msg;
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
    // a bot, a standby taking over and a cron `stands expire` may all see this stand due: one claims it; the
    // claim is kept once done (never twice) and dropped when the stand could not be handled (next run retries)
    const claim = await ctx.store.tryAcquireLease(`once:expire-${action}:${s.group}/${s.userid}/${s.leaseExpiresAt}`, 'lease expiry', 7 * 24 * 3_600_000);
    if (!claim) {
      out.push({ ...base, outcome: 'busy', message: render('en', msg('lease.busy')), messageMsg: msg('lease.busy') });
      continue;
    }
    const before = out.length;
    try {
      if (action === 'stop' || action === 'shutdown') {
        const power = action === 'stop' ? stopStands : shutdownStands;
        const r = await power(ctx, { group: s.group, user: s.userid }, { requestedBy: { via: 'schedule', name: 'lease expiry' } });
        const ok = r.status === 'succeeded';
        out.push({ ...base, outcome: ok ? 'stopped' : 'failed', ...(ok ? {} : failedOf(r.stands[0])) });
        if (ok) await ctx.store.stands.addHistory(s.group, s.userid, { event: LEASE_EXPIRED, message: action === 'stop' ? 'stopped' : 'shut down', at: new Date(Math.max(now, Date.now())).toISOString() });
      } else {
        const r = await runCleanup(ctx, await planCleanup(ctx, { group: s.group, user: s.userid }), {
          requestedBy: { via: 'schedule', name: 'lease expiry' },
        });
        const ok = r.status === 'succeeded';
        out.push({ ...base, outcome: ok ? 'removed' : 'failed', ...(ok ? {} : failedOf(r.stands[0])) });
      }
    } catch (err) {
      if (err instanceof GroupBusyError) out.push({ ...base, outcome: 'busy', message: err.message, ...(err.msg ? { messageMsg: err.msg } : {}) });
      else {
        const f = failureOf(err);
        out.push({ ...base, outcome: 'failed', message: f.error, messageMsg: f.errorMsg });
      }
    }
    const outcome = out[before]?.outcome;
    if (outcome === 'busy' || outcome === 'failed') await claim.release().catch(() => undefined);
  }
  return { at: new Date(now).toISOString(), stands: out };
}
