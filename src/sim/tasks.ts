/**
 * Worker tasks (pve-common RESTEnvironment fork_worker / UPID.pm): exact UPID format, per-node task lists, the
 * task log ending in "TASK OK", "TASK WARNINGS: n" or "TASK ERROR: <msg>", and exitstatus derived from it.
 */
import type { SimClock } from './clock.js';
import type { SimState, SimTask } from './state.js';

const hex = (n: number, width = 8): string => Math.floor(n).toString(16).toUpperCase().padStart(width, '0');

export function formatUpid(t: { node: string; pid: number; pstart: number; starttime: number; type: string; id: string; user: string }): string {
  return `UPID:${t.node}:${hex(t.pid)}:${hex(t.pstart)}:${hex(t.starttime)}:${t.type}:${t.id}:${t.user}:`;
}

export const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export interface TaskContext {
  task: SimTask;
  log(line: string): void;
  warn(line: string): void;
  sleep(simMs: number): Promise<void>;
}

/** Finished tasks kept per node (the task index rotates too). */
const KEEP_PER_NODE = 2000;

export class TaskManager {
  /** tasks that are still running, for stop() */
  readonly running = new Set<Promise<void>>();
  constructor(private state: SimState, private clock: SimClock) {}

  fork(node: string, type: string, id: string, user: string, fn: (ctx: TaskContext) => Promise<void>): SimTask {
    const n = this.state.nodes.get(node)!;
    const now = this.clock.now();
    const pid = n.nextPid++;
    const pstart = ((now - n.bootEpochMs) / 10) % 0xffffffff;
    const starttime = Math.floor(now / 1000);
    const task: SimTask = {
      upid: formatUpid({ node, pid, pstart, starttime, type, id, user }),
      node, pid, pstart: Math.floor(pstart), starttime, type, id, user,
      status: 'running',
      log: [],
      forkedAtMs: now,
      done: Promise.resolve(),
    };
    let warnings = 0;
    const ctx: TaskContext = {
      task,
      log: (line) => void task.log.push(line),
      warn: (line) => {
        warnings++;
        task.log.push(`WARN: ${line}`);
      },
      sleep: (ms) => this.clock.sleep(ms),
    };
    const done = (async () => {
      // the worker runs after the API call returned its UPID
      await Promise.resolve();
      try {
        await fn(ctx);
        task.exitstatus = warnings ? `WARNINGS: ${warnings}` : 'OK';
        task.log.push(warnings ? `TASK WARNINGS: ${warnings}` : 'TASK OK');
      } catch (e) {
        const msg = (e instanceof Error ? e.message : String(e)).replace(/\n+$/, '');
        task.log.push(`TASK ERROR: ${msg}`);
        task.exitstatus = msg;
      }
      task.status = 'stopped';
      task.endtime = Math.floor(this.clock.now() / 1000);
    })();
    task.done = done;
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    this.state.tasks.set(task.upid, task);
    const list = this.state.tasksByNode.get(node)!;
    list.push(task);
    if (list.length > KEEP_PER_NODE * 1.5) {
      for (const old of list.splice(0, list.length - KEEP_PER_NODE)) if (old.status === 'stopped') this.state.tasks.delete(old.upid);
    }
    return task;
  }
}
