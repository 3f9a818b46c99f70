/**
 * Plans waiting for a Confirm click. In memory on purpose: a plan is cheap to make again, and after a restart
 * a click on an old Confirm button is answered "expired" instead of running a plan nobody re-checked.
 */
import { randomBytes } from 'node:crypto';

export interface Pending<T = unknown> {
  id: string;
  kind: string;
  ownerId: string;
  group: string;
  payload: T;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

export class PendingStore {
  private readonly items = new Map<string, Pending>();

  add<T>(o: { kind: string; ownerId: string; group: string; payload: T; timeoutMs: number; onTimeout: () => void }): Pending<T> {
    const id = randomBytes(6).toString('hex');
    const timer = setTimeout(() => {
      if (this.items.delete(id)) o.onTimeout();
    }, o.timeoutMs);
    timer.unref();
    const p: Pending<T> = { id, kind: o.kind, ownerId: o.ownerId, group: o.group, payload: o.payload, expiresAt: Date.now() + o.timeoutMs, timer };
    this.items.set(id, p);
    return p;
  }

  get<T>(id: string): Pending<T> | undefined {
    return this.items.get(id) as Pending<T> | undefined;
  }

  /** Removes and returns it: a confirmation is used once. */
  take<T>(id: string): Pending<T> | undefined {
    const p = this.items.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.items.delete(id);
    return p as Pending<T>;
  }

  clear(): void {
    for (const p of this.items.values()) clearTimeout(p.timer);
    this.items.clear();
  }
}
