/**
 * One active bot per guild, however many run on a shared state: the active one holds the leader lease
 * (`bot:leader:<guild>`), renews it every third of its TTL, and alone logs in to the gateway and runs the
 * schedules. A standby polls for the lease; when the active bot dies its lease expires (or, on the same host,
 * its process is seen gone at once) and the standby takes over, logs in and resumes running deploys.
 * A bot that fails to renew (the state server unreachable, or another bot took the lease) steps down.
 */
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { Lease, Store } from '../store/index.js';

export const DEFAULT_LEADER_TTL_MS = 15_000;

export function leaderLeaseName(guildId: string): string {
  return `bot:leader:${guildId}`;
}

/** Waits until this process holds the lease; undefined when `signal` aborts first. */
export async function waitForLeadership(
  store: Store,
  o: { guildId: string; ttlMs: number; logger: Logger; signal?: AbortSignal },
): Promise<Lease | undefined> {
  const name = leaderLeaseName(o.guildId);
  const holder = `bot on ${hostname()} (pid ${process.pid})`;
  const pollMs = Math.max(250, Math.min(2_000, Math.floor(o.ttlMs / 4)));
  let said = false;
  while (!o.signal?.aborted) {
    const lease = await store.tryAcquireLease(name, holder, o.ttlMs).catch((err: unknown) => {
      o.logger.warn({ err }, 'could not reach the state to take the leader lease; trying again');
      return undefined;
    });
    if (lease) {
      if (said) o.logger.info('the active bot is gone: taking over');
      return lease;
    }
    if (!said) {
      const info = await store.leaseInfo(name).catch(() => undefined);
      o.logger.info({ active: info?.holder, until: info?.expiresAt }, 'standby: another bot is active; waiting to take over');
      said = true;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pollMs);
      o.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
  return undefined;
}

/** Renews the lease every third of its TTL; calls `onLost` once if a renewal fails. Returns a stop function. */
export function keepLeadership(lease: Lease, ttlMs: number, logger: Logger, onLost: () => void): () => Promise<void> {
  let stopped = false;
  const timer = setInterval(() => {
    void lease
      .renew(ttlMs)
      .catch((err: unknown) => {
        logger.warn({ err }, 'leader lease renewal failed');
        return false;
      })
      .then((ok) => {
        if (ok || stopped) return;
        stopped = true;
        clearInterval(timer);
        logger.error('lost the leader lease (another bot may be active now): stepping down');
        onLost();
      });
  }, Math.max(200, Math.floor(ttlMs / 3)));
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await lease.release().catch(() => undefined);
  };
}
