/**
 * Locks as PVE has them: flock-style shared/exclusive locks with an acquisition timeout (qemu-server config
 * locks, the per-storage allocation lock, pmxcfs cfs-locks), and the pvedaemon worker limit per node.
 */
import type { SimClock } from './clock.js';

export class LockTimeout extends Error {}

interface Waiter {
  exclusive: boolean;
  grant: () => void;
}

export class RwLock {
  private shared = 0;
  private exclusive = false;
  private queue: Waiter[] = [];

  get busy(): boolean {
    return this.exclusive || this.shared > 0 || this.queue.length > 0;
  }

  /** Resolves with a release function, or rejects with LockTimeout after `timeoutMs` of simulated time. */
  acquire(clock: SimClock, exclusive: boolean, timeoutMs: number, message: string): Promise<() => void> {
    return new Promise((resolve, reject) => {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        if (exclusive) this.exclusive = false;
        else this.shared--;
        this.pump();
      };
      if (this.canGrant(exclusive) && this.queue.length === 0) {
        this.take(exclusive);
        return resolve(release);
      }
      const waiter: Waiter = {
        exclusive,
        grant: () => {
          clearTimeout(timer);
          this.take(exclusive);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new LockTimeout(message));
        this.pump();
      }, clock.toReal(timeoutMs));
      timer.unref();
      this.queue.push(waiter);
    });
  }

  private canGrant(exclusive: boolean): boolean {
    return exclusive ? !this.exclusive && this.shared === 0 : !this.exclusive;
  }
  private take(exclusive: boolean): void {
    if (exclusive) this.exclusive = true;
    else this.shared++;
  }
  private pump(): void {
    while (this.queue.length && this.canGrant(this.queue[0]!.exclusive)) this.queue.shift()!.grant();
  }
}

export class LockTable {
  private locks = new Map<string, RwLock>();
  constructor(private clock: SimClock) {}

  acquire(name: string, exclusive: boolean, timeoutMs: number, message: string): Promise<() => void> {
    let l = this.locks.get(name);
    if (!l) {
      l = new RwLock();
      this.locks.set(name, l);
    }
    return l.acquire(this.clock, exclusive, timeoutMs, message);
  }

  isBusy(name: string): boolean {
    return this.locks.get(name)?.busy ?? false;
  }
}

/** qemu-server's per-VM flock. */
export const configLockName = (vmid: number): string => `/var/lock/qemu-server/lock-${vmid}.conf`;
export const configLockTimeoutMessage = (vmid: number): string =>
  `can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`;

/** The storage allocation lock: a local flock per node for local storage, a cluster-wide cfs-lock for shared. */
export function storageLock(storage: { id: string; shared: boolean }, node: string): { name: string; message: string } {
  return storage.shared
    ? { name: `cfs:storage-${storage.id}`, message: `cfs-lock 'storage-${storage.id}' error: got lock request timeout` }
    : {
        name: `${node}:/var/lock/pve-manager/pve-storage-${storage.id}`,
        message: `can't lock file '/var/lock/pve-manager/pve-storage-${storage.id}' - got timeout`,
      };
}

/** A counting semaphore: pvedaemon's 3 workers per node; further requests wait their turn. */
export class Workers {
  private busy = 0;
  private queue: (() => void)[] = [];
  constructor(readonly size: number) {}
  get inWork(): number {
    return this.busy;
  }
  get queued(): number {
    return this.queue.length;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((r) => this.queue.push(r));
    else this.busy++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.busy--;
    }
  }
}
