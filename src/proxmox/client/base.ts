/** The client's shared state: options, counters, the Agent and the in-flight cap, PVE-time helpers, response parsing. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Agent } from 'undici';
import type { z } from 'zod';
import { silentLogger, type Logger } from '../../log.js';
import { ProxmoxApiError } from '../errors.js';
import { createAgent, Semaphore, TLS_TRUST_CODES } from '../http.js';
import type { ClusterConfig, ClusterResource, Params, PveVersion } from '../types.js';

export interface ProxmoxClientOptions {
  logger?: Logger;
  /** Real-time sleep (tests may inject one). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Clock for the ticket's age (epoch ms, PVE time). Tests pass the simulator's clock; without it the real clock
   * is used and the renewal age is scaled by `timeScale`.
   */
  now?: () => number;
  /**
   * Speed of the server's clock relative to real time (the simulator's timeScale; 1 for real PVE). Every PVE-time
   * duration below (poll intervals, backoff, lock waits, task deadlines) is multiplied by it.
   */
  timeScale?: number;
  /** Real ms to wait for response headers/body. Default 45 s (pveproxy gives up on pvedaemon after 30 s). */
  requestTimeoutMs?: number;
  /** Real ms to establish a connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Renew the ticket when it is this old (PVE time). Default 1 h of its 2 h lifetime. */
  ticketRenewAgeMs?: number;
  /** How long to keep retrying lock errors (PVE time). Default 2 min. */
  lockWaitMs?: number;
  /** Attempts for reads and for writes that provably did not reach PVE. Default 5. */
  maxAttempts?: number;
  /** First task-poll interval and its cap (PVE time). Default 300 ms → 2 s. */
  pollStartMs?: number;
  pollMaxMs?: number;
  /** How long a task may answer 400 "no such task" before that is believed (PVE time). Default 10 s. */
  noSuchTaskGraceMs?: number;
  /** Jitter source (tests can make backoff deterministic). */
  random?: () => number;
}

export interface ClientStats {
  /** HTTP requests sent (every attempt, logins included). */
  requests: number;
  byMethod: Record<string, number>;
  /** Task status polls (and status/current polls of waitUnlocked). */
  taskPolls: number;
  /** Repeated requests (reads after errors, lock waits, safe write repeats, logins). */
  retries: number;
  /** POST /access/ticket attempts (logins and renewals). */
  logins: number;
  /** Successful renewals with the ticket as password. */
  renewals: number;
  /** clusterResources answers served from the cache. */
  cacheHits: number;
}

export interface TicketState {
  ticket: string;
  csrf: string;
  obtainedAt: number;
}

export type AuthKind = 'token' | 'ticket';

export interface RequestOptions {
  query?: Params;
  body?: Params;
  /** Credentials to use (default: the cluster's main mode). */
  auth?: AuthKind;
}

export interface WriteOptions<T> extends RequestOptions {
  /** After an ambiguous failure: read state; a value means "it happened" (returned as the write's result). */
  alreadyDone?: () => Promise<T | undefined>;
  /** Repeating the write has the same effect as doing it once (PUT config, ACL, apply). */
  idempotent?: boolean;
  /** Retry "VM is locked" / "can't lock file" refusals (default true). */
  retryLocks?: boolean;
}

export function isTlsTrustError(err: ProxmoxApiError): boolean {
  return err.code === 'ERR_TLS_FINGERPRINT_MISMATCH' || (err.code !== undefined && TLS_TRUST_CODES.has(err.code));
}

export function enc(s: string | number): string {
  return encodeURIComponent(String(s));
}

/** Configuration, counters and the connection of one client: what every layer above shares. */
export class ClientBase {
  readonly cluster: ClusterConfig;
  readonly stats: ClientStats = {
    requests: 0,
    byMethod: {},
    taskPolls: 0,
    retries: 0,
    logins: 0,
    renewals: 0,
    cacheHits: 0,
  };
  protected readonly log: Logger;
  protected readonly sleepImpl: (ms: number) => Promise<void>;
  protected readonly now: () => number;
  protected readonly timeScale: number;
  protected readonly requestTimeoutMs: number;
  protected readonly connectTimeoutMs: number;
  protected readonly ticketRenewAgeMs: number;
  protected readonly lockWaitMs: number;
  protected readonly maxAttempts: number;
  protected readonly pollStartMs: number;
  protected readonly pollMaxMs: number;
  protected readonly random: () => number;
  protected readonly noSuchTaskGraceMs: number;
  protected agentInstance: Agent | undefined;
  protected readonly slots: Semaphore;
  protected readonly origin: string;
  protected ticketState: TicketState | undefined;
  protected loginInFlight: Promise<TicketState> | undefined;
  protected readonly resourceCache = new Map<string, { at: number; data: ClusterResource[] }>();
  protected readonly resourceInFlight = new Map<string, Promise<ClusterResource[]>>();
  protected cacheEpoch = 0;
  protected versionCache: PveVersion | undefined;

  constructor(cluster: ClusterConfig, options: ProxmoxClientOptions = {}) {
    this.cluster = cluster;
    const parent = options.logger ?? silentLogger();
    // Callers often bind `cluster` already; binding it twice would print the key twice.
    this.log = parent.child(parent.bindings().cluster === undefined ? { cluster: cluster.name, component: 'proxmox' } : { component: 'proxmox' });
    this.sleepImpl = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
    this.timeScale = options.timeScale ?? 1;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 45_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    // With the server's clock the age is in PVE time; with our own (real) clock, scale the threshold instead.
    const renewAge = options.ticketRenewAgeMs ?? 3_600_000;
    this.ticketRenewAgeMs = options.now ? renewAge : renewAge * this.timeScale;
    this.lockWaitMs = options.lockWaitMs ?? 120_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.pollStartMs = options.pollStartMs ?? 300;
    this.pollMaxMs = options.pollMaxMs ?? 2_000;
    this.random = options.random ?? Math.random;
    this.noSuchTaskGraceMs = options.noSuchTaskGraceMs ?? 10_000;
    this.slots = new Semaphore(Math.max(1, cluster.maxInFlight || 6));
    const u = new URL(cluster.url);
    this.origin = u.origin;
  }

  resetStats(): void {
    Object.assign(this.stats, { requests: 0, byMethod: {}, taskPolls: 0, retries: 0, logins: 0, renewals: 0, cacheHits: 0 });
  }

  /** Which credentials the client uses for ordinary requests. */
  get authMode(): AuthKind {
    if (this.cluster.tokenId && this.cluster.tokenSecret) return 'token';
    return 'ticket';
  }

  /** Requests currently being sent (≤ maxInFlight) and waiting for a slot. */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.slots.inFlight, queued: this.slots.queued };
  }

  protected get agent(): Agent {
    this.agentInstance ??= createAgent(this.cluster, {
      connectTimeoutMs: this.connectTimeoutMs,
      maxInFlight: this.cluster.maxInFlight || 6,
    });
    return this.agentInstance;
  }

  async close(): Promise<void> {
    const a = this.agentInstance;
    this.agentInstance = undefined;
    if (a) await a.close();
  }

  /** A PVE-time clock (ms from an arbitrary origin): real time divided by the time scale. */
  pveNow(): number {
    return performance.now() / this.timeScale;
  }

  /** PVE-time ms → real ms. */
  protected scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.timeScale));
  }

  protected async sleep(pveMs: number): Promise<void> {
    await this.sleepImpl(this.scaled(pveMs));
  }

  /** Exponential backoff with full jitter on the upper half: 0.5..1 × base × 2^attempt, capped. PVE time. */
  protected backoffMs(attempt: number, baseMs = 500, capMs = 10_000): number {
    const raw = Math.min(capMs, baseMs * 2 ** attempt);
    return Math.round(raw * (0.5 + this.random() * 0.5));
  }

  protected parse<S extends z.ZodType>(schema: S, data: unknown, method: string, path: string): z.infer<S> {
    const r = schema.safeParse(data);
    if (r.success) return r.data;
    throw new ProxmoxApiError({
      status: 200,
      method,
      path,
      pveMessage: `unexpected response shape: ${r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
      retrySafe: false,
      cluster: this.cluster.name,
    });
  }
}
