/**
 * The Proxmox VE client: the one way pve-stands talks to a cluster (engine, CLI, bot).
 *
 * Rules it follows (shared/pve-api/BEHAVIOUR.md §2–3, §5):
 * - one keep-alive undici Agent per cluster, at most `maxInFlight` requests open (pveproxy has 3 workers);
 * - auth by API token, or ticket + CSRF (renewed at 1 h of its 2 h life, by posting the ticket as password;
 *   a 401 logs in again once); password changes always go by ticket (PVE refuses them for tokens);
 * - reads retried with jittered backoff on network errors, 5xx and 59x; writes never repeated blindly: lock
 *   refusals, 595 and "no worker" (nothing happened) are retried, ambiguous failures (596/597/599, timeouts,
 *   resets after send) re-read state through a per-operation "already done?" check;
 * - tasks polled with a growing interval, "no such task" tolerated briefly, failures carry the log tail.
 * All durations in options are PVE time: multiplied by `timeScale` (the simulator's, 1 for real PVE).
 */
import { registerSecret } from '../secrets.js';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Agent } from 'undici';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import {
  ProxmoxApiError,
  TaskFailedError,
  TaskTimeoutError,
  isAlreadyExists,
  isLockError,
  isNoWorker,
  isNotFound,
} from './errors.js';
import { createAgent, send, Semaphore, TLS_TRUST_CODES, type RawResponse } from './http.js';
import { defaultTaskDeadlineMs, isTaskOk, nextPollInterval, parseUpid, taskRefFrom } from './tasks.js';
import {
  AclEntry,
  ClusterResource,
  NetworkIface,
  NodeListEntry,
  NodeStatus,
  Permissions,
  Pool,
  PveUser,
  PveVersion,
  Role,
  RrdPoint,
  SdnVnet,
  SdnZone,
  Snapshot,
  TaskListEntry,
  TaskLogLine,
  TaskStatus,
  TicketResponse,
  VmConfig,
  VmListEntry,
  VmStatus,
  pveInt,
  type BridgeOptions,
  type CloneOptions,
  type ClusterConfig,
  type ClusterResourceType,
  type CreateUserOptions,
  type NetworkList,
  type NetworkUpdate,
  type Params,
  type TaskRef,
  type TaskResult,
  type UpdateAclOptions,
  type VnetOptions,
  type ZoneOptions,
} from './types.js';
import { runConnectionCheck, type ConnectionCheck } from './check.js';
import { isSupportedVersion, parsePveVersion, unsupportedVersionMessage } from './version.js';

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

interface TicketState {
  ticket: string;
  csrf: string;
  obtainedAt: number;
}

type AuthKind = 'token' | 'ticket';

interface RequestOptions {
  query?: Params;
  body?: Params;
  /** Credentials to use (default: the cluster's main mode). */
  auth?: AuthKind;
}

interface WriteOptions<T> extends RequestOptions {
  /** After an ambiguous failure: read state; a value means "it happened" (returned as the write's result). */
  alreadyDone?: () => Promise<T | undefined>;
  /** Repeating the write has the same effect as doing it once (PUT config, ACL, apply). */
  idempotent?: boolean;
  /** Retry "VM is locked" / "can't lock file" refusals (default true). */
  retryLocks?: boolean;
}

function isTlsTrustError(err: ProxmoxApiError): boolean {
  return err.code === 'ERR_TLS_FINGERPRINT_MISMATCH' || (err.code !== undefined && TLS_TRUST_CODES.has(err.code));
}

function enc(s: string | number): string {
  return encodeURIComponent(String(s));
}

const NullData = z.unknown();
const UpidData = z.string();

/**
 * The one way pve-stands talks to Proxmox VE. One instance per cluster (it owns the keep-alive Agent, the
 * in-flight cap, the ticket and the inventory cache).
 */
export class ProxmoxClient {
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
  private readonly log: Logger;
  private readonly sleepImpl: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly timeScale: number;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly ticketRenewAgeMs: number;
  private readonly lockWaitMs: number;
  private readonly maxAttempts: number;
  private readonly pollStartMs: number;
  private readonly pollMaxMs: number;
  private readonly random: () => number;
  private readonly noSuchTaskGraceMs: number;
  private agentInstance: Agent | undefined;
  private readonly slots: Semaphore;
  private readonly origin: string;
  private ticketState: TicketState | undefined;
  private loginInFlight: Promise<TicketState> | undefined;
  private readonly resourceCache = new Map<string, { at: number; data: ClusterResource[] }>();
  private readonly resourceInFlight = new Map<string, Promise<ClusterResource[]>>();
  private cacheEpoch = 0;
  private versionCache: PveVersion | undefined;

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

  private get agent(): Agent {
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

  /** PVE-time ms → real ms. */
  private scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.timeScale));
  }

  private async sleep(pveMs: number): Promise<void> {
    await this.sleepImpl(this.scaled(pveMs));
  }

  /** Exponential backoff with full jitter on the upper half: 0.5..1 × base × 2^attempt, capped. PVE time. */
  private backoffMs(attempt: number, baseMs = 500, capMs = 10_000): number {
    const raw = Math.min(capMs, baseMs * 2 ** attempt);
    return Math.round(raw * (0.5 + this.random() * 0.5));
  }

  // ---------------------------------------------------------------------------------------------- auth

  private async login(reason: string): Promise<TicketState> {
    if (this.loginInFlight) return this.loginInFlight;
    const p = (async () => {
      const { user, password } = this.cluster;
      if (!user || !password) {
        throw new UserError(
          `cluster ${this.cluster.name}: no credentials: set tokenId/tokenSecret or user/password in connections.yml`,
        );
      }
      const previous = this.ticketState;
      // Renew with the current ticket as the password (PVE: "This can also be a valid ticket") so a long run does
      // not need the password again; fall back to the password if the old ticket is no longer accepted.
      if (previous && reason === 'renew') {
        try {
          const t = await this.postTicket(user, previous.ticket);
          this.stats.renewals++;
          this.log.debug({ reason }, 'ticket renewed');
          return t;
        } catch (err) {
          if (!(err instanceof ProxmoxApiError && err.status === 401)) throw err;
          this.log.debug('ticket renewal refused, logging in with the password');
        }
      }
      const t = await this.postTicket(user, password);
      this.log.debug({ reason, user }, 'logged in');
      return t;
    })();
    this.loginInFlight = p;
    try {
      const t = await p;
      this.ticketState = t;
      return t;
    } finally {
      this.loginInFlight = undefined;
    }
  }

  /** POST /access/ticket. Creates nothing on the server, so network errors and 5xx/59x are simply retried. */
  private async postTicket(username: string, password: string): Promise<TicketState> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.postTicketOnce(username, password);
      } catch (err) {
        const retry =
          err instanceof ProxmoxApiError && attempt + 1 < this.maxAttempts && !isTlsTrustError(err) && (err.status === 0 || err.status >= 500);
        if (!retry) throw err;
        this.stats.retries++;
        await this.sleep(this.backoffMs(attempt));
      }
    }
  }

  private async postTicketOnce(username: string, password: string): Promise<TicketState> {
    this.stats.logins++;
    const release = await this.slots.acquire();
    try {
      this.count('POST');
      const res = await send({
        agent: this.agent,
        origin: this.origin,
        method: 'POST',
        path: '/access/ticket',
        body: { username, password },
        headers: {},
        timeoutMs: this.requestTimeoutMs,
        cluster: this.cluster.name,
      });
      const t = this.parse(TicketResponse, res.body, 'POST', '/access/ticket');
      registerSecret(t.ticket);
      registerSecret(t.CSRFPreventionToken);
      return { ticket: t.ticket, csrf: t.CSRFPreventionToken, obtainedAt: this.now() };
    } catch (err) {
      if (err instanceof ProxmoxApiError && err.status === 401) {
        throw new ProxmoxApiError({
          status: 401,
          method: 'POST',
          path: '/access/ticket',
          pveMessage: `authentication failure for ${username} (wrong user or password)`,
          retrySafe: false,
          cluster: this.cluster.name,
        });
      }
      throw err;
    } finally {
      release();
    }
  }

  private async ticket(): Promise<TicketState> {
    const t = this.ticketState;
    if (!t) return this.login('first request');
    if (this.now() - t.obtainedAt >= this.ticketRenewAgeMs) return this.login('renew');
    return t;
  }

  private async authHeaders(kind: AuthKind, method: string): Promise<{ headers: Record<string, string>; ticket?: TicketState }> {
    if (kind === 'token') {
      return {
        headers: { authorization: `PVEAPIToken=${this.cluster.tokenId}=${this.cluster.tokenSecret}` },
      };
    }
    const t = await this.ticket();
    const headers: Record<string, string> = { cookie: `PVEAuthCookie=${encodeURIComponent(t.ticket)}` };
    // CSRF token on every non-GET with ticket auth, else 401 "Permission denied - invalid csrf token".
    if (method !== 'GET') headers.csrfpreventiontoken = t.csrf;
    return { headers, ticket: t };
  }

  private count(method: string): void {
    this.stats.requests++;
    this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
  }

  /** One authenticated exchange; a 401 with a ticket triggers one fresh login and one resend. */
  private async sendAuthed(method: string, path: string, o: RequestOptions): Promise<RawResponse> {
    const kind = o.auth ?? this.authMode;
    for (let attempt = 0; ; attempt++) {
      const { headers, ticket } = await this.authHeaders(kind, method);
      const release = await this.slots.acquire();
      const t0 = performance.now();
      try {
        this.count(method);
        const res = await send({
          agent: this.agent,
          origin: this.origin,
          method,
          path,
          query: o.query,
          body: o.body,
          headers,
          timeoutMs: this.requestTimeoutMs,
          cluster: this.cluster.name,
        });
        this.log.trace({ method, path, status: res.status, ms: Math.round(performance.now() - t0) }, 'pve request');
        return res;
      } catch (err) {
        const status = err instanceof ProxmoxApiError ? err.status : undefined;
        this.log.debug(
          { method, path, status, ms: Math.round(performance.now() - t0), err: (err as Error).message },
          'pve request failed',
        );
        if (status === 401 && kind === 'ticket' && attempt === 0) {
          // Expired or revoked ticket (2 h lifetime): log in again once. Only the first of many parallel 401s logs in.
          if (this.ticketState === ticket) this.ticketState = undefined;
          continue;
        }
        throw err;
      } finally {
        release();
      }
    }
  }

  // ------------------------------------------------------------------------------------------- request layer

  /** GET with retries on network errors, 5xx and 59x (jittered backoff). */
  async get<S extends z.ZodType>(path: string, schema: S, query?: Params): Promise<z.infer<S>> {
    const res = await this.getRaw(path, query);
    return this.parse(schema, res.body, 'GET', path);
  }

  private async getRaw(path: string, query?: Params, attempts = this.maxAttempts): Promise<RawResponse> {
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

  private readRetryable(err: ProxmoxApiError): boolean {
    if (isTlsTrustError(err)) return false;
    if (err.status === 0) return true;
    if (err.status === 501) return false;
    // A 500 "does not exist" is an answer, not a hiccup.
    if (err.status === 500 && isNotFound(err.pveMessage)) return false;
    return err.status >= 500;
  }

  private parse<S extends z.ZodType>(schema: S, data: unknown, method: string, path: string): z.infer<S> {
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

  private doneAfterAmbiguity<T>(method: string, path: string, done: T): T {
    this.log.info({ method, path }, 'ambiguous write had happened: not repeating it');
    this.invalidateCache();
    return done;
  }

  private invalidateCache(): void {
    this.cacheEpoch++;
    this.resourceCache.clear();
  }

  private upidWrite(method: 'POST' | 'PUT' | 'DELETE', path: string, node: string, type: string, o: WriteOptions<TaskRef> = {}): Promise<TaskRef> {
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

  private voidWrite(method: 'POST' | 'PUT' | 'DELETE', path: string, o: WriteOptions<true> = {}): Promise<void> {
    return this.write(method, path, () => true as const, o).then(() => undefined);
  }

  /** `undefined` when PVE says the object does not exist (500 "does not exist", "no such …"). */
  private async getOrUndefined<S extends z.ZodType>(path: string, schema: S, query?: Params): Promise<z.infer<S> | undefined> {
    try {
      return await this.get(path, schema, query);
    } catch (err) {
      if (err instanceof ProxmoxApiError && (err.status === 500 || err.status === 404 || err.status === 400) && isNotFound(err.fullText)) {
        return undefined;
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------- version

  /** `attempts` lets the connection test give up on an unreachable host quickly (default: maxAttempts). */
  async version(o: { attempts?: number } = {}): Promise<PveVersion> {
    const res = await this.getRaw('/version', undefined, o.attempts ?? this.maxAttempts);
    const v = this.parse(PveVersion, res.body, 'GET', '/version');
    this.versionCache = v;
    return v;
  }

  /** Refuses servers older than 8.1 (the pools API changed in 8.1). */
  async checkVersion(): Promise<PveVersion> {
    const v = this.versionCache ?? (await this.version());
    if (!isSupportedVersion(v.release ?? v.version)) {
      throw new UserError(unsupportedVersionMessage(this.cluster.name, v.version));
    }
    return v;
  }

  // ----------------------------------------------------------------------------------------------- nodes

  nodes(): Promise<NodeListEntry[]> {
    return this.get('/nodes', z.array(NodeListEntry));
  }

  nodeStatus(node: string): Promise<NodeStatus> {
    return this.get(`/nodes/${enc(node)}/status`, NodeStatus);
  }

  nodeRrd(node: string, timeframe: 'hour' | 'day' | 'week' | 'month' | 'year' = 'hour', cf?: 'AVERAGE' | 'MAX'): Promise<RrdPoint[]> {
    return this.get(`/nodes/${enc(node)}/rrddata`, z.array(RrdPoint), { timeframe, cf });
  }

  /**
   * The cluster inventory. `maxAgeMs` (real ms) allows an answer that old from the cache; our own writes and
   * finished tasks clear the cache. Concurrent callers share one request.
   */
  async clusterResources(type?: ClusterResourceType, o: { maxAgeMs?: number } = {}): Promise<ClusterResource[]> {
    const key = type ?? 'all';
    const maxAge = o.maxAgeMs ?? 0;
    if (maxAge > 0) {
      const hit = this.resourceCache.get(key);
      if (hit && performance.now() - hit.at <= maxAge) {
        this.stats.cacheHits++;
        return hit.data;
      }
      const pending = this.resourceInFlight.get(key);
      if (pending) {
        this.stats.cacheHits++;
        return pending;
      }
    }
    const epoch = this.cacheEpoch;
    const p = this.get('/cluster/resources', z.array(ClusterResource), { type });
    if (maxAge > 0) this.resourceInFlight.set(key, p);
    try {
      const data = await p;
      // Do not cache an answer that a write made stale while it was in flight.
      if (epoch === this.cacheEpoch) this.resourceCache.set(key, { at: performance.now(), data });
      return data;
    } finally {
      if (this.resourceInFlight.get(key) === p) this.resourceInFlight.delete(key);
    }
  }

  async nextId(): Promise<number> {
    return this.get('/cluster/nextid', pveInt);
  }

  /** Asks PVE whether `vmid` is free right now (no reservation: PVE has none). */
  async isVmidFree(vmid: number): Promise<boolean> {
    try {
      await this.get('/cluster/nextid', pveInt, { vmid });
      return true;
    } catch (err) {
      if (err instanceof ProxmoxApiError && err.status === 400 && /already exists/.test(err.fullText)) return false;
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------------- qemu

  vmList(node: string): Promise<VmListEntry[]> {
    return this.get(`/nodes/${enc(node)}/qemu`, z.array(VmListEntry));
  }

  vmConfig(node: string, vmid: number): Promise<VmConfig> {
    return this.get(`/nodes/${enc(node)}/qemu/${vmid}/config`, VmConfig) as Promise<VmConfig>;
  }

  vmStatus(node: string, vmid: number): Promise<VmStatus> {
    return this.get(`/nodes/${enc(node)}/qemu/${vmid}/status/current`, VmStatus);
  }

  /** Sync config update (PUT). Setting the same values twice is harmless, so ambiguous failures are repeated. */
  updateVmConfig(node: string, vmid: number, params: Params): Promise<void> {
    return this.voidWrite('PUT', `/nodes/${enc(node)}/qemu/${vmid}/config`, { body: params, idempotent: true });
  }

  /**
   * Where VM `vmid` lives right now, if anywhere: existence from the real-time vmlist (nextid?vmid=), the node
   * from the inventory (`node: ''` when pvestatd has not listed it yet).
   */
  async findVm(vmid: number): Promise<{ node: string; lock?: string } | undefined> {
    if (await this.isVmidFree(vmid)) return undefined;
    const all = await this.clusterResources('vm');
    const r = all.find((x) => x.vmid === vmid);
    return r?.node ? { node: r.node, ...(r.lock ? { lock: r.lock } : {}) } : { node: '' };
  }

  /**
   * "Did this clone start?" after an ambiguous clone request. The new VM's config exists from the first moment
   * of the clone task (with `lock: clone`), so: no VM → no clone (safe to repeat). VM present → adopt the running
   * qmclone task if it is the only one for that source on the node, else watch the new VM's lock.
   */
  async cloneState(node: string, source: number, newid: number, target?: string): Promise<TaskRef | undefined> {
    if (await this.isVmidFree(newid)) return undefined;
    const active = await this.activeTasks(node, 'qmclone').catch(() => [] as TaskListEntry[]);
    const mine = active.filter((t) => t.id === String(source));
    if (mine.length === 1) {
      return { ...taskRefFrom(mine[0]!.upid, node, 'qmclone'), adopted: true };
    }
    return {
      node: target ?? node,
      upid: `adopted:qmclone:${newid}`,
      type: 'qmclone',
      id: String(source),
      adopted: true,
      watchVmid: newid,
    };
  }

  cloneVm(node: string, vmid: number, o: CloneOptions): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/clone`, node, 'qmclone', {
      body: {
        newid: o.newid,
        name: o.name,
        pool: o.pool,
        full: o.full,
        target: o.target,
        storage: o.storage,
        description: o.description,
        snapname: o.snapname,
      },
      alreadyDone: () => this.cloneState(node, vmid, o.newid, o.target),
    });
  }

  private powerWrite(node: string, vmid: number, action: 'start' | 'stop' | 'shutdown', want: 'running' | 'stopped'): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/status/${action}`, node, `qm${action}`, {
      alreadyDone: async () => {
        // Tasks first, then the state: a task that ends between the two reads is then seen in the state.
        const active = await this.activeTasks(node, `qm${action}`).catch(() => [] as TaskListEntry[]);
        const mine = active.find((t) => t.id === String(vmid));
        if (mine) return { ...taskRefFrom(mine.upid, node, `qm${action}`), adopted: true };
        const s = await this.vmStatus(node, vmid);
        if (s.status !== want) return undefined;
        return { node, upid: `adopted:qm${action}:${vmid}`, type: `qm${action}`, id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  startVm(node: string, vmid: number): Promise<TaskRef> {
    return this.powerWrite(node, vmid, 'start', 'running');
  }

  stopVm(node: string, vmid: number): Promise<TaskRef> {
    return this.powerWrite(node, vmid, 'stop', 'stopped');
  }

  shutdownVm(node: string, vmid: number): Promise<TaskRef> {
    return this.powerWrite(node, vmid, 'shutdown', 'stopped');
  }

  listSnapshots(node: string, vmid: number): Promise<Snapshot[]> {
    return this.get(`/nodes/${enc(node)}/qemu/${vmid}/snapshot`, z.array(Snapshot));
  }

  createSnapshot(node: string, vmid: number, name: string, description?: string): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/snapshot`, node, 'qmsnapshot', {
      body: { snapname: name, description },
      alreadyDone: async () => {
        const snaps = await this.listSnapshots(node, vmid);
        if (!snaps.some((s) => s.name === name)) return undefined;
        return { node, upid: `adopted:qmsnapshot:${vmid}`, type: 'qmsnapshot', id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  rollbackSnapshot(node: string, vmid: number, name: string): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/snapshot/${enc(name)}/rollback`, node, 'qmrollback');
  }

  destroyVm(node: string, vmid: number, o: { purge?: boolean; destroyUnreferencedDisks?: boolean } = {}): Promise<TaskRef> {
    return this.upidWrite('DELETE', `/nodes/${enc(node)}/qemu/${vmid}`, node, 'qmdestroy', {
      query: { purge: o.purge ?? true, 'destroy-unreferenced-disks': o.destroyUnreferencedDisks ?? true },
      alreadyDone: async () => {
        const where = await this.findVm(vmid);
        // Gone, or a `lock: destroyed` zombie that disappears when the disks are freed.
        if (where && where.lock !== 'destroyed') return undefined;
        return { node, upid: `adopted:qmdestroy:${vmid}`, type: 'qmdestroy', id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  convertToTemplate(node: string, vmid: number): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/template`, node, 'qmtemplate', {
      alreadyDone: async () => {
        const c = await this.vmConfig(node, vmid);
        if (!c.template) return undefined;
        return { node, upid: `adopted:qmtemplate:${vmid}`, type: 'qmtemplate', id: String(vmid), adopted: true, watchVmid: vmid };
      },
    });
  }

  migrateVm(node: string, vmid: number, target: string, o: { online?: boolean; withLocalDisks?: boolean } = {}): Promise<TaskRef> {
    return this.upidWrite('POST', `/nodes/${enc(node)}/qemu/${vmid}/migrate`, node, 'qmigrate', {
      body: { target, online: o.online, 'with-local-disks': o.withLocalDisks },
    });
  }

  // ------------------------------------------------------------------------------------------------ tasks

  taskStatus(node: string, upid: string): Promise<TaskStatus> {
    return this.get(`/nodes/${enc(node)}/tasks/${enc(upid)}/status`, TaskStatus);
  }

  async taskLog(node: string, upid: string, o: { start?: number; limit?: number } = {}): Promise<{ lines: TaskLogLine[]; total?: number }> {
    const res = await this.getRaw(`/nodes/${enc(node)}/tasks/${enc(upid)}/log`, { start: o.start, limit: o.limit });
    const lines = this.parse(z.array(TaskLogLine), res.body, 'GET', `/nodes/${node}/tasks/…/log`);
    const total = typeof res.envelope.total === 'number' ? res.envelope.total : undefined;
    return { lines, ...(total === undefined ? {} : { total }) };
  }

  /** The last `n` lines of a task's log. */
  async taskLogTail(node: string, upid: string, n = 12): Promise<string[]> {
    const first = await this.taskLog(node, upid, { start: 0, limit: 500 });
    let lines = first.lines;
    if (first.total !== undefined && first.total > 500) {
      lines = (await this.taskLog(node, upid, { start: Math.max(0, first.total - n), limit: n })).lines;
    }
    return lines.slice(-n).map((l) => l.t);
  }

  activeTasks(node: string, typefilter?: string): Promise<TaskListEntry[]> {
    return this.get(`/nodes/${enc(node)}/tasks`, z.array(TaskListEntry), { source: 'active', typefilter });
  }

  /**
   * Wait for a task by polling its status with a growing interval. A brief 400 "no such task" right after the
   * task started counts as pending. Throws TaskFailedError (with the log tail) on an error exit status,
   * TaskTimeoutError at the deadline (PVE-time ms; the task may still finish).
   */
  async waitTask(
    task: TaskRef,
    o: { deadlineMs?: number; onPoll?: (s: TaskStatus) => void } = {},
  ): Promise<TaskResult> {
    const deadlinePve = o.deadlineMs ?? defaultTaskDeadlineMs(task.type);
    if (task.watchVmid !== undefined) return this.waitAdopted(task, deadlinePve);
    const start = performance.now();
    const deadlineReal = this.scaled(deadlinePve);
    const noSuchTaskGrace = this.scaled(this.noSuchTaskGraceMs);
    let interval = this.pollStartMs;
    for (;;) {
      // Sleep first: a task polled the moment it was forked is always still running (or not yet listed).
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
      let status: TaskStatus | undefined;
      this.stats.taskPolls++;
      try {
        status = await this.taskStatus(task.node, task.upid);
      } catch (err) {
        const noSuchTask = err instanceof ProxmoxApiError && err.status === 400 && /no such task/.test(err.fullText);
        if (!noSuchTask || performance.now() - start > noSuchTaskGrace) throw err;
      }
      if (status) {
        o.onPoll?.(status);
        if (status.status !== 'running') {
          this.invalidateCache();
          const exitstatus = status.exitstatus ?? 'unexpected status';
          if (isTaskOk(exitstatus)) return { ok: true, exitstatus, logTail: [], upid: task.upid };
          const logTail = await this.taskLogTail(task.node, task.upid).catch(() => [] as string[]);
          const e = new TaskFailedError({ upid: task.upid, node: task.node, type: task.type, exitstatus, logTail });
          this.log.debug({ upid: task.upid, exitstatus }, 'task failed');
          throw e;
        }
      }
      if (performance.now() - start > deadlineReal) {
        throw new TaskTimeoutError(
          `task ${task.type} on ${task.node} still running after ${Math.round(deadlinePve / 1000)} s (it may still finish): ${task.upid}`,
          task.upid,
        );
      }
    }
  }

  /**
   * Start a task and wait for it; when the task itself fails on a lock ("VM is locked (clone)", "can't lock file
   * … got timeout" inside the worker, which happens when start or config races a clone), start it again with
   * backoff for up to `lockWaitMs`. Only for operations that are safe to repeat after they failed.
   */
  async runTask(
    start: () => Promise<TaskRef>,
    o: { deadlineMs?: number; onPoll?: (s: TaskStatus) => void } = {},
  ): Promise<TaskResult> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const task = await start();
      try {
        return await this.waitTask(task, o);
      } catch (err) {
        if (!(err instanceof TaskFailedError) || !isLockError(err.exitstatus) || waited >= this.lockWaitMs) throw err;
        const wait = this.backoffMs(attempt, 1_000, 10_000);
        waited += wait;
        this.stats.retries++;
        this.log.debug({ type: task.type, exitstatus: err.exitstatus, wait }, 'task failed on a lock, starting it again');
        await this.sleep(wait);
      }
    }
  }

  /** A task found by re-reading state, without a UPID: done when the VM's lock clears (or the VM is gone). */
  private async waitAdopted(task: TaskRef, deadlinePve: number): Promise<TaskResult> {
    const vmid = task.watchVmid!;
    const where = await this.findVm(vmid);
    if (task.type === 'qmdestroy') {
      if (!where) {
        this.invalidateCache();
        return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
      }
      await this.waitGone(vmid, deadlinePve);
      return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
    }
    if (!where) {
      // The clone's config vanished: PVE removes it when the clone fails.
      throw new TaskFailedError({
        upid: task.upid,
        node: task.node,
        type: task.type,
        exitstatus: `VM ${vmid} disappeared while waiting (the ${task.type} task failed; see the task list on ${task.node})`,
        logTail: [],
      });
    }
    await this.waitUnlocked(where.node || task.node, vmid, { deadlineMs: deadlinePve });
    return { ok: true, exitstatus: 'OK', logTail: [], upid: task.upid };
  }

  private async waitGone(vmid: number, deadlinePve: number): Promise<void> {
    const start = performance.now();
    let interval = this.pollStartMs;
    while (!(await this.isVmidFree(vmid))) {
      this.stats.taskPolls++;
      if (performance.now() - start > this.scaled(deadlinePve)) {
        throw new TaskTimeoutError(`VM ${vmid} still exists after ${Math.round(deadlinePve / 1000)} s`, undefined);
      }
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
    }
    this.invalidateCache();
  }

  /** After a clone: poll status/current until `lock` is gone (config and start refuse while it is set). */
  async waitUnlocked(node: string, vmid: number, o: { deadlineMs?: number } = {}): Promise<VmStatus> {
    const deadlinePve = o.deadlineMs ?? 10 * 60_000;
    const start = performance.now();
    let interval = this.pollStartMs;
    for (;;) {
      this.stats.taskPolls++;
      const s = await this.vmStatus(node, vmid);
      if (!s.lock) return s;
      if (performance.now() - start > this.scaled(deadlinePve)) {
        throw new TaskTimeoutError(
          `VM ${vmid} on ${node} is still locked (${s.lock}) after ${Math.round(deadlinePve / 1000)} s; ` +
            `if no task is running, an operation crashed and left the lock: clear it with 'qm unlock ${vmid}'`,
          undefined,
        );
      }
      await this.sleep(interval);
      interval = nextPollInterval(interval, this.pollMaxMs);
    }
  }

  // ------------------------------------------------------------------------------------------------ pools

  listPools(): Promise<Pool[]> {
    return this.get('/pools', z.array(Pool));
  }

  /** PVE ≥ 8.1: GET /pools?poolid= (an array of one). `undefined` when the pool does not exist. */
  async getPool(id: string): Promise<Pool | undefined> {
    const r = await this.getOrUndefined('/pools', z.array(Pool), { poolid: id });
    return r?.[0];
  }

  createPool(id: string, comment?: string): Promise<void> {
    return this.voidWrite('POST', '/pools', {
      body: { poolid: id, comment },
      alreadyDone: async () => ((await this.getPool(id)) ? true : undefined),
    });
  }

  addToPool(id: string, vmids: number[], o: { allowMove?: boolean } = {}): Promise<void> {
    return this.voidWrite('PUT', '/pools', {
      body: { poolid: id, vms: vmids.join(','), 'allow-move': o.allowMove },
      alreadyDone: async () => {
        const p = await this.getPool(id);
        const members = new Set((p?.members ?? []).map((m) => m.vmid));
        return vmids.every((v) => members.has(v)) ? true : undefined;
      },
    });
  }

  removeFromPool(id: string, vmids: number[]): Promise<void> {
    return this.voidWrite('PUT', '/pools', {
      body: { poolid: id, vms: vmids.join(','), delete: true },
      alreadyDone: async () => {
        const p = await this.getPool(id);
        const members = new Set((p?.members ?? []).map((m) => m.vmid));
        return vmids.some((v) => members.has(v)) ? undefined : true;
      },
    });
  }

  deletePool(id: string): Promise<void> {
    return this.voidWrite('DELETE', '/pools', {
      query: { poolid: id },
      alreadyDone: async () => ((await this.getPool(id)) ? undefined : true),
    });
  }

  // ------------------------------------------------------------------------------------------------ users

  listUsers(): Promise<PveUser[]> {
    return this.get('/access/users', z.array(PveUser));
  }

  getUser(id: string): Promise<PveUser | undefined> {
    return this.getOrUndefined(`/access/users/${enc(id)}`, PveUser.omit({ userid: true }).extend({ userid: z.string().optional() })).then(
      (u) => (u ? { ...u, userid: u.userid ?? id } : undefined),
    );
  }

  createUser(o: CreateUserOptions): Promise<void> {
    return this.voidWrite('POST', '/access/users', {
      body: {
        userid: o.userid,
        password: o.password,
        comment: o.comment,
        email: o.email,
        firstname: o.firstname,
        lastname: o.lastname,
        groups: o.groups?.join(','),
        enable: o.enable,
        expire: o.expire,
      },
      alreadyDone: async () => ((await this.getUser(o.userid)) ? true : undefined),
    });
  }

  deleteUser(id: string): Promise<void> {
    return this.voidWrite('DELETE', `/access/users/${enc(id)}`, {
      alreadyDone: async () => ((await this.getUser(id)) ? undefined : true),
    });
  }

  /**
   * PUT /access/password. PVE refuses it for API tokens (403 "need proper ticket"), so this always uses a
   * ticket session from the cluster's user/password, even when a token is configured for everything else.
   */
  async changePassword(userid: string, password: string): Promise<void> {
    if (!this.cluster.user || !this.cluster.password) {
      throw new UserError(
        `cluster ${this.cluster.name}: cannot change the password of ${userid}: Proxmox VE refuses password changes ` +
          `made with an API token; add user and password (e.g. root@pam) for this cluster in connections.yml`,
      );
    }
    const v = this.versionCache ?? (await this.version());
    const pv = parsePveVersion(v.version);
    // Since 8.2 a non-root caller must confirm with its own password; 8.1 rejects the unknown parameter.
    const confirm = pv && (pv.major > 8 || (pv.major === 8 && pv.minor >= 2)) && this.cluster.user !== 'root@pam';
    await this.voidWrite('PUT', '/access/password', {
      auth: 'ticket',
      body: { userid, password, ...(confirm ? { 'confirmation-password': this.cluster.password } : {}) },
      idempotent: true,
    });
  }

  // -------------------------------------------------------------------------------------------- acl/roles

  listAcl(): Promise<AclEntry[]> {
    return this.get('/access/acl', z.array(AclEntry));
  }

  updateAcl(o: UpdateAclOptions): Promise<void> {
    return this.voidWrite('PUT', '/access/acl', {
      body: {
        path: o.path,
        roles: o.roles.join(','),
        users: o.users?.join(','),
        groups: o.groups?.join(','),
        tokens: o.tokens?.join(','),
        propagate: o.propagate,
        delete: o.delete,
      },
      idempotent: true,
    });
  }

  listRoles(): Promise<Role[]> {
    return this.get('/access/roles', z.array(Role));
  }

  createRole(id: string, privs: string[]): Promise<void> {
    return this.voidWrite('POST', '/access/roles', {
      body: { roleid: id, privs: privs.join(',') },
      alreadyDone: async () => ((await this.listRoles()).some((r) => r.roleid === id) ? true : undefined),
    });
  }

  /** Effective privileges of the caller (or `userid`) per path. */
  permissions(o: { path?: string; userid?: string } = {}): Promise<Permissions> {
    return this.get('/access/permissions', Permissions, { path: o.path, userid: o.userid });
  }

  // ---------------------------------------------------------------------------------------------- network

  /** Interfaces, plus `changes` (the pending diff) when someone has unapplied edits on this node. */
  async listNetwork(node: string, type?: string): Promise<NetworkList> {
    const res = await this.getRaw(`/nodes/${enc(node)}/network`, { type });
    const ifaces = this.parse(z.array(NetworkIface), res.body, 'GET', `/nodes/${node}/network`);
    const changes = res.envelope.changes;
    return { ifaces, ...(typeof changes === 'string' && changes.length > 0 ? { changes } : {}) };
  }

  async bridgeExists(node: string, iface: string): Promise<boolean> {
    return (await this.listNetwork(node)).ifaces.some((i) => i.iface === iface);
  }

  createBridge(node: string, o: BridgeOptions): Promise<void> {
    return this.voidWrite('POST', `/nodes/${enc(node)}/network`, {
      body: {
        iface: o.iface,
        type: 'bridge',
        bridge_ports: o.bridge_ports,
        bridge_vlan_aware: o.bridge_vlan_aware,
        bridge_vids: o.bridge_vids,
        autostart: o.autostart ?? true,
        comments: o.comments,
        cidr: o.cidr,
        gateway: o.gateway,
        mtu: o.mtu,
      },
      alreadyDone: async () => ((await this.bridgeExists(node, o.iface)) ? true : undefined),
    });
  }

  updateNetwork(node: string, iface: string, o: NetworkUpdate): Promise<void> {
    const { delete: del, ...rest } = o;
    return this.voidWrite('PUT', `/nodes/${enc(node)}/network/${enc(iface)}`, {
      body: { type: 'bridge', ...rest, delete: del?.join(',') },
      idempotent: true,
    });
  }

  deleteNetwork(node: string, iface: string): Promise<void> {
    return this.voidWrite('DELETE', `/nodes/${enc(node)}/network/${enc(iface)}`, {
      alreadyDone: async () => ((await this.bridgeExists(node, iface)) ? undefined : true),
    });
  }

  /** Apply pending network changes (ifreload). Applying twice applies nothing new, so it may be repeated. */
  applyNetwork(node: string): Promise<TaskRef> {
    return this.upidWrite('PUT', `/nodes/${enc(node)}/network`, node, 'srvreload', { idempotent: true });
  }

  revertNetwork(node: string): Promise<void> {
    return this.voidWrite('DELETE', `/nodes/${enc(node)}/network`, { idempotent: true });
  }

  // -------------------------------------------------------------------------------------------------- sdn

  listZones(o: { pending?: boolean } = {}): Promise<SdnZone[]> {
    return this.get('/cluster/sdn/zones', z.array(SdnZone), { pending: o.pending });
  }

  createZone(o: ZoneOptions): Promise<void> {
    return this.voidWrite('POST', '/cluster/sdn/zones', {
      body: {
        zone: o.zone,
        type: o.type,
        bridge: o.bridge,
        tag: o.tag,
        mtu: o.mtu,
        nodes: o.nodes?.join(','),
        peers: o.peers?.join(','),
        ipam: o.ipam,
      },
      alreadyDone: async () => ((await this.listZones({ pending: true })).some((z) => z.zone === o.zone) ? true : undefined),
    });
  }

  listVnets(o: { pending?: boolean } = {}): Promise<SdnVnet[]> {
    return this.get('/cluster/sdn/vnets', z.array(SdnVnet), { pending: o.pending });
  }

  createVnet(o: VnetOptions): Promise<void> {
    return this.voidWrite('POST', '/cluster/sdn/vnets', {
      body: { vnet: o.vnet, zone: o.zone, tag: o.tag, alias: o.alias, vlanaware: o.vlanaware },
      alreadyDone: async () => ((await this.listVnets({ pending: true })).some((v) => v.vnet === o.vnet) ? true : undefined),
    });
  }

  deleteVnet(vnet: string): Promise<void> {
    return this.voidWrite('DELETE', `/cluster/sdn/vnets/${enc(vnet)}`, {
      alreadyDone: async () =>
        (await this.listVnets({ pending: true })).some((v) => v.vnet === vnet && v.state !== 'deleted') ? undefined : true,
    });
  }

  applySdn(): Promise<TaskRef> {
    return this.upidWrite('PUT', '/cluster/sdn', '', 'reloadnetworkall', { idempotent: true });
  }

  // ------------------------------------------------------------------------------------------------ check

  /** The connection test behind `stands check`: one verdict, never throws for connection problems. */
  check(): Promise<ConnectionCheck> {
    return runConnectionCheck(this);
  }
}

export { parseUpid };
export type { ConnectionCheck };
