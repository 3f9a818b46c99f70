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
 * model): the first poll just after the expected end, then short polls growing ×1.5, so a task that ends on
 * time is seen by one poll, within a few per cent of its end, and a late one (it waited for a lock) soon after.
 * A short task (under 2 × startMs) is polled from 60% of its expected length: its duration varies most.
 */
export function pollDelays(o: { expectedMs?: number; startMs: number; maxMs: number }): () => number {
  const { startMs, maxMs } = o;
  const e = o.expectedMs;
  if (e === undefined || !(e > 0)) {
    let next = startMs;
    return () => {
      const d = next;
      next = nextPollInterval(next, maxMs);
      return d;
    };
  }
  let first = true;
  let next: number;
  let lead: number;
  if (e >= 2 * startMs) {
    lead = e + Math.min(250, Math.max(30, e * 0.04));
    next = Math.max(100, Math.min(startMs, e * 0.1));
  } else {
    lead = Math.max(100, e * 0.6);
    next = Math.max(100, e * 0.25);
  }
  return () => {
    if (first) {
      first = false;
      return Math.round(lead);
    }
    const d = next;
    next = nextPollInterval(next, maxMs);
    return Math.round(d);
  };
}
