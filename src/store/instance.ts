/**
 * Who holds a lock: an instance id unique per process start, `<host>:<pid>:<scope>:<start>:<nonce>`.
 *
 * - scope: a hash of the kernel boot id and the process's pid namespace. Two containers that share a hostname
 *   (and a state volume) have different pid namespaces, so a pid seen from one says nothing about the other.
 * - start: the process's start time in clock ticks since boot (/proc/<pid>/stat field 22), so a pid reused by a
 *   later process is not mistaken for the holder.
 * - nonce: random, so even two ids that agree on everything else differ.
 *
 * A holder is judged dead early only when it provably ran in *our* scope and its pid is gone (or now belongs to
 * a process started at another time). Anything else (another host, another container, a platform without
 * /proc, an id written by an older version as `<host>:<pid>`) is left to its lease expiring.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

function readOr(fn: () => string): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Field 22 (starttime) of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function processStart(pid: number): string | undefined {
  const stat = readOr(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start && /^\d+$/.test(start) ? start : undefined;
}

function hostScope(): string | undefined {
  const boot = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  const pidns = readOr(() => readlinkSync('/proc/self/ns/pid'));
  if (!boot || !pidns) return undefined;
  return createHash('sha256').update(`${boot}\n${pidns}`).digest('hex').slice(0, 16);
}

/**
 * STANDS_INSTANCE_SCOPE replaces the derived scope: two processes with different values never judge each
 * other's pids (tests use it to pose as a process on another host).
 */
const SCOPE = process.env.STANDS_INSTANCE_SCOPE?.trim() || hostScope() || '-';
const START = processStart(process.pid) ?? '-';

/** This process's id (fixed for its lifetime). */
export const INSTANCE_ID = `${hostname()}:${process.pid}:${SCOPE}:${START}:${randomBytes(4).toString('hex')}`;

interface ParsedOwner {
  host: string;
  pid: number;
  scope: string;
  start: string;
}

export function parseInstanceId(owner: string): ParsedOwner | undefined {
  const parts = owner.split(':');
  if (parts.length < 5) return undefined;
  const [pid, scope, start] = parts.slice(-4, -1) as [string, string, string];
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return { host: parts.slice(0, -4).join(':'), pid: n, scope, start };
}

/**
 * True only when `owner` names a process of this host and pid namespace that no longer runs. Never true for
 * this process, for another scope, or for an id we cannot read.
 */
export function deadOwner(owner: string | undefined, self: string = INSTANCE_ID): boolean {
  if (!owner || owner === self) return false;
  const o = parseInstanceId(owner);
  const me = parseInstanceId(self);
  if (!o || !me || me.scope === '-' || o.scope !== me.scope || o.start === '-') return false;
  if (o.host !== me.host) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${o.pid}/stat`, 'utf8');
  } catch (err) {
    // ENOENT: no such process in our namespace; anything else (EACCES under hidepid): cannot tell, so alive
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return start !== undefined && start !== o.start;
}
