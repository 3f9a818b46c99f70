/** The request layer: reads with retries, writes that are never repeated blindly (ambiguity re-reads state), the cache epoch. */
import { z } from 'zod';
import { ProxmoxApiError, isAlreadyExists, isLockError, isNoWorker, isNotFound } from '../errors.js';
import type { RawResponse } from '../http.js';
import { taskRefFrom } from '../tasks.js';
import type { Params, TaskRef } from '../types.js';
import { type WriteOptions, isTlsTrustError } from './base.js';
import { AuthClient } from './auth.js';

const UpidData = z.string();

export class TransportClient extends AuthClient {
  async get<S extends z.ZodType>(path: string, schema: S, query?: Params): Promise<z.infer<S>> {
    const res = await this.getRaw(path, query);
    return this.parse(schema, res.body, 'GET', path);
  }

  protected async getRaw(path: string, query?: Params, attempts = this.maxAttempts): Promise<RawResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendAuthed('GET', path, { query });
      } catch (err) {
        if (!(err instanceof ProxmoxApiError) || attempt + 1 >= attempts || !this.readRetryable(err)) throw err;
        this.stats.retries++;
        const wait = this.backoffMs(attempt);
        this.log.debug({ path, attempt, wait, status: err.status }, 'retrying read');
        await this.sleep(wait);
      }
    }
  }

  protected readRetryable(err: ProxmoxApiError): boolean {
    if (isTlsTrustError(err)) return false;
    if (err.status === 0) return true;
    if (err.status === 501) return false;
    // A 500 "does not exist" is an answer, not a hiccup.
    if (err.status === 500 && isNotFound(err.pveMessage)) return false;
    return err.status >= 500;
  }

  /**
   * A write. Never blindly repeated: lock refusals and "no worker" (nothing happened) are retried; after an
   * ambiguous failure (timeout, 596, reset after send) `alreadyDone` re-reads state to decide.
   */
  async write<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, parse: (res: RawResponse) => T, o: WriteOptions<T> = {}): Promise<T> {
    const lockDeadline = this.lockWaitMs;
    let lockWaited = 0;
    let lockAttempt = 0;
    let safeAttempts = 0;
    let hadAmbiguous = false;
    for (;;) {
      try {
        const res = await this.sendAuthed(method, path, o);
        this.invalidateCache();
        return parse(res);
      } catch (err) {
        if (!(err instanceof ProxmoxApiError)) throw err;
        const text = err.fullText;
        if (hadAmbiguous && o.alreadyDone && (isAlreadyExists(text) || isNotFound(text))) {
          // "already exists" on a create, "does not exist" on a delete: an earlier ambiguous attempt landed after all.
          const done = await o.alreadyDone();
          if (done !== undefined) return this.doneAfterAmbiguity(method, path, done);
        }
        if (o.retryLocks !== false && err.status >= 500 && err.status < 600 && isLockError(text) && lockWaited < lockDeadline) {
          const wait = this.backoffMs(lockAttempt++, 1_000, 10_000);
          lockWaited += wait;
          this.stats.retries++;
          this.log.debug({ method, path, wait, pve: err.pveMessage }, 'locked, retrying');
          await this.sleep(wait);
          continue;
        }
        // Nothing reached a handler (connection refused, 595) or nothing was started (no worker): repeating is safe.
        const reachedNothing = (err.status === 0 && !err.ambiguous && !isTlsTrustError(err)) || err.status === 595;
        if ((reachedNothing || isNoWorker(text)) && ++safeAttempts < this.maxAttempts) {
          this.stats.retries++;
          const wait = this.backoffMs(safeAttempts);
          this.log.debug({ method, path, wait, status: err.status }, 'write did not reach PVE or started nothing, repeating it');
          await this.sleep(wait);
          continue;
        }
        if (err.ambiguous) {
          hadAmbiguous = true;
          this.invalidateCache();
          if (++safeAttempts < this.maxAttempts) {
            if (o.alreadyDone) {
              // Give the handler that may still be running a moment, then look.
              await this.sleep(this.backoffMs(0));
              const done = await o.alreadyDone();
              if (done !== undefined) return this.doneAfterAmbiguity(method, path, done);
              this.stats.retries++;
              this.log.info({ method, path, status: err.status }, 'ambiguous write did not happen, repeating it');
              continue;
            }
            if (o.idempotent) {
              this.stats.retries++;
              await this.sleep(this.backoffMs(safeAttempts));
              continue;
            }
          }
        }
        throw err;
      }
    }
  }

  protected doneAfterAmbiguity<T>(method: string, path: string, done: T): T {
    this.log.info({ method, path }, 'ambiguous write had happened: not repeating it');
    this.invalidateCache();
    return done;
  }

  protected invalidateCache(): void {
    this.cacheEpoch++;
    this.resourceCache.clear();
  }

  protected upidWrite(method: 'POST' | 'PUT' | 'DELETE', path: string, node: string, type: string, o: WriteOptions<TaskRef> = {}): Promise<TaskRef> {
    return this.write(
      method,
      path,
      (res) => {
        const upid = this.parse(UpidData, res.body, method, path);
        return taskRefFrom(upid, node, type);
      },
      o,
    );
  }

  protected voidWrite(method: 'POST' | 'PUT' | 'DELETE', path: string, o: WriteOptions<true> = {}): Promise<void> {
    return this.write(method, path, () => true as const, o).then(() => undefined);
  }

  /** `undefined` when PVE says the object does not exist (500 "does not exist", "no such …"). */
  protected async getOrUndefined<S extends z.ZodType>(path: string, schema: S, query?: Params): Promise<z.infer<S> | undefined> {
    try {
      return await this.get(path, schema, query);
    } catch (err) {
      if (err instanceof ProxmoxApiError && (err.status === 500 || err.status === 404 || err.status === 400) && isNotFound(err.fullText)) {
        return undefined;
      }
      throw err;
    }
  }
}
