import type { TaskRef } from './types.js';

// pve-common UPID.pm: UPID:node:PID(8hex):PSTART(8-9hex):STARTTIME(8hex):type:id:user:
const UPID_RE =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export interface ParsedUpid {
  node: string;
  pid: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

export function parseUpid(upid: string): ParsedUpid | undefined {
  const m = UPID_RE.exec(upid);
  if (!m) return undefined;
  return {
    node: m[1]!,
    pid: parseInt(m[2]!, 16),
    starttime: parseInt(m[4]!, 16),
    type: m[5]!,
    id: m[6]!,
    user: m[7]!,
  };
}

/** A TaskRef from a write's reply. `fallbackNode` is used when the UPID does not parse (never seen, but cheap). */
export function taskRefFrom(upid: string, fallbackNode: string, fallbackType: string): TaskRef {
  const p = parseUpid(upid);
  return { upid, node: p?.node ?? fallbackNode, type: p?.type ?? fallbackType, id: p?.id ?? '' };
}

/** PVE and the Terraform providers treat `OK` and `WARNINGS: n` as success. */
export function isTaskOk(exitstatus: string | undefined): boolean {
  return exitstatus !== undefined && /^(OK|WARNINGS)/.test(exitstatus);
}

/** Default deadlines in PVE time (scaled by the client's timeScale): clones of big disks take long. */
export function defaultTaskDeadlineMs(type: string): number {
  switch (type) {
    case 'qmclone':
    case 'qmigrate':
      return 60 * 60_000;
    case 'qmdestroy':
    case 'qmtemplate':
    case 'qmrollback':
    case 'qmsnapshot':
      return 20 * 60_000;
    default:
      return 10 * 60_000;
  }
}

/** Poll interval: starts short (most tasks finish fast), grows ×1.5 up to a cap. PVE-time ms. */
export function nextPollInterval(current: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(current * 1.5));
}

/**
 * The waiter's poll delays (PVE-time ms, each counted from the previous poll). Without an expected duration:
 * `startMs`, then ×1.5 per poll up to `maxMs` (most tasks finish fast). With one (from the planner's timing
 * model): the same schedule through the first half of the expected length (a server faster than the model is
 * still seen early), then one poll just after the expected end (a task that ends on time is seen within a few per
 * cent of its end, not up to `maxMs` late), then short polls growing ×1.5 again for a task that runs late (it
 * waited for a lock).
 */
export function pollDelays(o: { expectedMs?: number; startMs: number; maxMs: number }): () => number {
  const { startMs, maxMs } = o;
  const e = o.expectedMs;
  let next = startMs;
  if (e === undefined || !(e > 0)) {
    return () => {
      const d = next;
      next = nextPollInterval(next, maxMs);
      return d;
    };
  }
  const target = e + Math.min(250, Math.max(30, e * 0.04));
  let at = 0;
  let after = false;
  return () => {
    let d = next;
    if (!after && at + d > e / 2) {
      // this poll would pass the expected end: make it the one just after the end, then poll finely
      d = Math.max(50, target - at);
      after = true;
      next = Math.max(100, Math.min(startMs, e * 0.1));
    } else next = nextPollInterval(next, maxMs);
    at += d;
    return Math.round(d);
  };
}
