/**
 * The last hour of every node's CPU and memory (rrddata), kept in memory and refreshed in the background, so a
 * status read never waits for N per-node requests (issue 7 bench 5: at most 2 requests on the hot path).
 * RRD points are 1-minute averages (`timeframe=hour`), so a refresh every minute loses nothing.
 */
import type { ProxmoxClient } from '../proxmox/client.js';
import type { AppContext } from './context.js';

export interface RrdSample {
  /** epoch seconds */
  time: number;
  /** 0..1 of the node's CPUs */
  cpu?: number;
  memUsed?: number;
  memTotal?: number;
}

export interface NodeRrd {
  node: string;
  samples: RrdSample[];
  cpuAvg?: number;
  cpuPeak?: number;
  /** bytes */
  memAvg?: number;
  memPeak?: number;
  memTotal?: number;
  fetchedAt: number;
}

export const RRD_REFRESH_MS = 60_000;

export class RrdCache {
  private readonly data = new Map<string, NodeRrd>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastRefresh = 0;
  lastError: string | undefined;

  constructor(
    private readonly client: ProxmoxClient,
    private readonly refreshMs = RRD_REFRESH_MS,
  ) {}

  get(node: string): NodeRrd | undefined {
    return this.data.get(node);
  }

  all(): NodeRrd[] {
    return [...this.data.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  /** Starts the background refresh (idempotent); the first refresh starts now, nobody waits for it. */
  start(): void {
    if (this.timer) return;
    if (Date.now() - this.lastRefresh > this.refreshMs / 2) void this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.refreshMs);
    // a CLI that printed its status must be able to exit
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One refresh of every online node (concurrent callers share it). `nodes` skips the node list request. */
  refresh(nodes?: string[]): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        const names = nodes ?? (await this.client.nodes()).filter((n) => n.status === 'online').map((n) => n.node);
        await Promise.all(
          names.map(async (node) => {
            try {
              const points = await this.client.nodeRrd(node, 'hour');
              this.data.set(node, summarise(node, points));
            } catch (err) {
              this.lastError = `${node}: ${(err as Error).message}`;
            }
          }),
        );
        this.lastRefresh = Date.now();
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

export function summarise(
  node: string,
  points: readonly { time: number; cpu?: number | undefined; memused?: number | undefined; memtotal?: number | undefined }[],
): NodeRrd {
  const samples: RrdSample[] = points.map((p) => ({
    time: p.time,
    ...(p.cpu === undefined ? {} : { cpu: p.cpu }),
    ...(p.memused === undefined ? {} : { memUsed: p.memused }),
    ...(p.memtotal === undefined ? {} : { memTotal: p.memtotal }),
  }));
  const cpu = samples.map((s) => s.cpu).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const mem = samples.map((s) => s.memUsed).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const memTotal = samples.map((s) => s.memTotal).filter((v): v is number => typeof v === 'number').at(-1);
  const avg = (xs: number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  const peak = (xs: number[]): number | undefined => (xs.length ? Math.max(...xs) : undefined);
  const r: NodeRrd = { node, samples, fetchedAt: Date.now() };
  const ca = avg(cpu);
  const cp = peak(cpu);
  const ma = avg(mem);
  const mp = peak(mem);
  if (ca !== undefined) r.cpuAvg = ca;
  if (cp !== undefined) r.cpuPeak = cp;
  if (ma !== undefined) r.memAvg = ma;
  if (mp !== undefined) r.memPeak = mp;
  if (memTotal !== undefined) r.memTotal = memTotal;
  return r;
}

const caches = new WeakMap<AppContext, Map<string, RrdCache>>();

/** The context's cache for `cluster` (created on first use; not started). */
export function rrdCacheFor(ctx: AppContext, cluster: string = ctx.defaultCluster): RrdCache {
  let m = caches.get(ctx);
  if (!m) caches.set(ctx, (m = new Map()));
  let c = m.get(cluster);
  if (!c) m.set(cluster, (c = new RrdCache(ctx.client(cluster))));
  return c;
}

/** Stop every background refresh of this context (the bot on shutdown). */
export function stopRrdCaches(ctx: AppContext): void {
  for (const c of caches.get(ctx)?.values() ?? []) c.stop();
}
