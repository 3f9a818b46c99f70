/**
 * Leases on a schedule: DM students whose stand ends within `leaseWarnMs` (once per stand: claimed in the store
 * so no other bot or process sends it too, remembered in the stand's history so a restart does not repeat it),
 * then let the engine stop or remove expired stands.
 */
import type { ExpireResult } from '../core/leases.js';
import type { StandRecord } from '../store/index.js';
import { sendDm } from './credentials.js';
import { discordIdOf } from './engine-glue.js';
import { messages } from './i18n.js';
import type { Bot } from './types.js';

export const LEASE_WARNED = 'lease-warned';

export async function warnLeases(bot: Bot, now = Date.now()): Promise<string[]> {
  const warned: string[] = [];
  const m = messages(bot.settings.language ?? 'en');
  const stands: StandRecord[] = await bot.app.store.stands.list();
  for (const s of stands) {
    if (!s.leaseExpiresAt || s.status === 'removed' || s.status === 'removing') continue;
    const ends = Date.parse(s.leaseExpiresAt);
    if (!(ends > now && ends - now <= bot.settings.leaseWarnMs)) continue;
    if (s.history.some((h) => h.event === LEASE_WARNED && h.message === s.leaseExpiresAt)) continue;
    const id = s.discord ?? (await discordIdOf(bot.app, undefined, s.userid));
    if (!id) continue;
    // every bot and process sharing the state could see this stand: exactly one claims its warning, and keeps
    // the claim until a day after the lease ends (released only when the DM could not be sent, for a retry)
    const claim = await bot.app.store.tryAcquireLease(
      `once:lease-warning:${s.group}/${s.userid}/${s.leaseExpiresAt}`,
      'lease warning',
      ends - now + 24 * 3_600_000,
    );
    if (!claim) continue;
    try {
      await sendDm(bot.client, id, { content: m.leaseWarning(s.group, `<t:${Math.floor(ends / 1000)}:R>`) });
      await bot.app.store.stands.addHistory(s.group, s.userid, { event: LEASE_WARNED, message: s.leaseExpiresAt });
      warned.push(`${s.group}/${s.userid}`);
    } catch (err) {
      await claim.release().catch(() => undefined);
      bot.logger.warn({ err, group: s.group, user: s.userid }, 'lease warning DM failed');
    }
  }
  return warned;
}

/** One scheduled pass: warnings first, then the engine's expire; what it stopped or removed is audited. */
export async function leaseTick(bot: Bot, expire: () => Promise<ExpireResult>): Promise<void> {
  try {
    await warnLeases(bot);
  } catch (err) {
    bot.logger.error({ err }, 'lease warnings failed');
  }
  try {
    const r = await expire();
    for (const e of r.stands) {
      if (e.outcome === 'busy') continue;
      await bot.audit({
        actor: 'lease expiry',
        actorId: bot.client.user?.id ?? '0',
        action: `lease ${e.action}`,
        outcome: e.outcome === 'failed' ? 'failed' : 'ok',
        group: e.group,
        user: e.userid,
        details: { leaseExpiresAt: e.leaseExpiresAt, result: e.outcome },
      });
    }
  } catch (err) {
    bot.logger.error({ err }, 'lease expiry failed');
  }
}
