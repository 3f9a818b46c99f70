import { setTimeout as sleep } from 'node:timers/promises';
import { GROUP_LOCK_TTL_MS } from '../core/deploy.js';
import { GroupBusyError } from '../store/index.js';
import { writeLine, type CliIo } from './io.js';

/**
 * A process that was killed (kill -9, a crash, a lost SSH session) cannot release its group lock. On this host
 * the store takes such a lock over at once (its holder's process is gone: store/instance.ts); a holder on
 * another host or in another container (the bot, a colleague's CLI) cannot be checked, so its lock only
 * expires one TTL (STANDS_LOCK_TTL_MS) later. Rather than failing a
 * re-run in the meantime, wait once until the lock's expiry and try again. A live holder renews its lock, so the
 * second attempt fails with the same clear "busy" error.
 */
export async function retryAfterStaleLock<T>(io: CliIo, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof GroupBusyError)) throw err;
    const waitMs = Date.parse(err.expiresAt) - Date.now();
    if (!(waitMs > 0 && waitMs <= GROUP_LOCK_TTL_MS + 2_000)) throw err;
    writeLine(
      io.stderr,
      `group ${err.group} is locked by ${err.holder} until ${err.expiresAt}; waiting ${Math.ceil(waitMs / 1000)} s ` +
        'in case that process is gone (Ctrl+C to stop)',
    );
    await sleep(waitMs + 250, undefined, io.signal ? { signal: io.signal } : {});
    return fn();
  }
}
