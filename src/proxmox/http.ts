import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { UserError } from '../errors.js';
import { ProxmoxApiError, TlsFingerprintMismatchError, type ParamErrors } from './errors.js';
import type { ClusterConfig, Params } from './types.js';

/** 'ab:cd…' / 'ABCD…' → 'AB:CD:…' (how PVE shows fingerprints). */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/^sha256\s*[:=]?\s*/i, '').replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{1,2}/g)?.join(':') ?? '';
}

function loadCa(cluster: ClusterConfig): string | undefined {
  if (cluster.tls.caPem) return cluster.tls.caPem;
  if (!cluster.tls.ca) return undefined;
  try {
    return readFileSync(cluster.tls.ca, 'utf8');
  } catch (err) {
    throw new UserError(`cluster ${cluster.name}: cannot read tls.ca file ${cluster.tls.ca}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export interface AgentOptions {
  connectTimeoutMs: number;
  maxInFlight: number;
}

/**
 * One keep-alive Agent per cluster. TLS trust, in order: a pinned sha256 fingerprint (chain not checked, the
 * pin is the trust, like PVE's own node-to-node links), a CA (file or PEM), `insecure`, else the system CAs.
 */
export function createAgent(cluster: ClusterConfig, o: AgentOptions): Agent {
  const common = {
    keepAliveTimeout: 10_000,
    // pveproxy closes the socket after every response >= 400; undici reopens as needed.
    connections: Math.max(1, o.maxInFlight),
    pipelining: 1,
  };
  const pin = cluster.tls.fingerprint ? normalizeFingerprint(cluster.tls.fingerprint) : undefined;
  if (pin) {
    // No session cache: a resumed session would skip the certificate we need to look at.
    const base = buildConnector({ rejectUnauthorized: false, timeout: o.connectTimeoutMs, maxCachedSessions: 0 });
    const connect: buildConnector.connector = (opts, cb) => {
      base(opts, (err, socket) => {
        if (err || !socket) {
          cb(err ?? new Error('connect failed'), null);
          return;
        }
        const cert = (socket as TLSSocket).getPeerCertificate?.();
        const seen = cert?.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : '(no certificate)';
        if (seen !== pin) {
          socket.destroy();
          cb(new TlsFingerprintMismatchError(seen, pin, `${opts.hostname}:${opts.port}`), null);
          return;
        }
        cb(null, socket);
      });
    };
    return new Agent({ ...common, connect });
  }
  const ca = loadCa(cluster);
  return new Agent({
    ...common,
    connect: {
      timeout: o.connectTimeoutMs,
      ...(ca ? { ca } : {}),
      rejectUnauthorized: !cluster.tls.insecure,
    },
  });
}

/** FIFO cap on requests in flight (pveproxy has 3 workers; more parallel requests only queue up there). */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  get inFlight(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiters.length;
  }
  async acquire(): Promise<() => void> {
    if (this.active < this.limit) {
      this.active++;
    } else {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/**
 * PVE form encoding: booleans as 1/0 (`true` is rejected with "type check ('boolean') failed"), arrays as
 * repeated keys, undefined/null left out.
 */
export function encodeParams(params: Params | undefined): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value) out.append(key, String(v));
    } else if (typeof value === 'boolean') {
      out.append(key, value ? '1' : '0');
    } else {
      out.append(key, String(value));
    }
  }
  return out.toString();
}

export interface RawResponse {
  status: number;
  statusText: string;
  body: unknown;
  /** Envelope keys other than `data` (e.g. `changes`, `total`). */
  envelope: Record<string, unknown>;
}

/** Network error codes meaning the request never left (nothing can have happened on the server). */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_FINGERPRINT_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
]);

export const TLS_TRUST_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
]);

export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Find a fingerprint mismatch anywhere in an error's cause chain. */
export function findCause<T>(err: unknown, ctor: new (...a: never[]) => T): T | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof ctor) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface SendInit {
  agent: Dispatcher;
  origin: string;
  method: string;
  /** Path below /api2/json, used in errors and logs (never carries secrets). */
  path: string;
  query?: Params;
  body?: Params;
  headers: Record<string, string>;
  timeoutMs: number;
  cluster: string;
  /** Refuse a response body larger than this (default MAX_RESPONSE_BYTES). */
  maxBodyBytes?: number;
}

/**
 * The most we read of one response. The largest real answers (cluster resources of thousands of guests, a long
 * task log page, RRD data) are a few MiB; a body beyond this is a misbehaving server or proxy, not data.
 */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the response body is larger than ${limit} bytes`);
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], headers: Dispatcher.ResponseData['headers'], limit: number): Promise<string> {
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limit) {
      body.destroy();
      throw new BodyTooLargeError(limit);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One HTTP exchange, no retries. Returns the parsed envelope for 2xx; throws ProxmoxApiError otherwise, with
 * `retrySafe`/`ambiguous` set from what could have happened on the server.
 */
export async function send(init: SendInit): Promise<RawResponse> {
  const qs = encodeParams(init.query);
  const url = `/api2/json${init.path}${qs ? `?${qs}` : ''}`;
  const isRead = init.method === 'GET';
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined && (init.method === 'POST' || init.method === 'PUT')) {
    body = encodeParams(init.body);
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await init.agent.request({
      origin: init.origin,
      path: url,
      method: init.method as Dispatcher.HttpMethod,
      headers,
      body,
      headersTimeout: init.timeoutMs,
      bodyTimeout: init.timeoutMs,
    });
  } catch (err) {
    throw networkError(err, init, isRead);
  }
  let text: string;
  try {
    text = await readCapped(res.body, res.headers, init.maxBodyBytes ?? MAX_RESPONSE_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      // refused, not guessed at: a write may have happened on the server all the same
      throw new ProxmoxApiError({
        status: res.statusCode,
        method: init.method,
        path: init.path,
        pveMessage: `response too large: more than ${Math.round(err.limit / 1024 / 1024)} MiB (the cap on any body read from Proxmox); refused`,
        retrySafe: false,
        ambiguous: !isRead,
        cluster: init.cluster,
        code: 'ERR_BODY_TOO_LARGE',
      });
    }
    throw networkError(err, init, isRead, true);
  }
  let parsed: Record<string, unknown> | undefined;
  if (text.length > 0) {
    try {
      const j = JSON.parse(text) as unknown;
      if (j && typeof j === 'object' && !Array.isArray(j)) parsed = j as Record<string, unknown>;
    } catch {
      // server-level errors (501 no such uri, 506) have plain-text bodies
    }
  }
  if (res.statusCode >= 200 && res.statusCode < 300) {
    const envelope = { ...(parsed ?? {}) };
    const data = envelope.data;
    delete envelope.data;
    return { status: res.statusCode, statusText: res.statusText, body: data ?? null, envelope };
  }
  throw httpError(res.statusCode, res.statusText, parsed, text, init, isRead);
}

function httpError(
  status: number,
  statusText: string,
  parsed: Record<string, unknown> | undefined,
  text: string,
  init: SendInit,
  isRead: boolean,
): ProxmoxApiError {
  const rawMsg = typeof parsed?.message === 'string' ? parsed.message : '';
  let pveMessage = rawMsg.trim() || statusText?.trim() || '';
  if (!pveMessage && !parsed && text) pveMessage = text.trim().slice(0, 300);
  const paramErrors: ParamErrors = {};
  const errors = parsed?.errors;
  if (errors && typeof errors === 'object') {
    for (const [k, v] of Object.entries(errors as Record<string, unknown>)) {
      paramErrors[k] = typeof v === 'string' ? v.trim() : JSON.stringify(v);
    }
  }
  // 595: pveproxy could not connect to pvedaemon, so the request never reached a handler.
  // 596/597/599: it may have run (header-wait timeout while the handler was still working).
  const ambiguous = !isRead && (status === 596 || status === 597 || status === 599);
  const retrySafe = isRead || status === 595 || /got no worker upid - start worker failed/.test(pveMessage);
  return new ProxmoxApiError({
    status,
    method: init.method,
    path: init.path,
    pveMessage,
    paramErrors,
    retrySafe,
    ambiguous,
    cluster: init.cluster,
  });
}

function networkError(err: unknown, init: SendInit, isRead: boolean, afterHeaders = false): ProxmoxApiError {
  const mismatch = findCause(err, TlsFingerprintMismatchError);
  const code = mismatch ? mismatch.code : errorCode(err);
  const notSent = !afterHeaders && code !== undefined && NOT_SENT_CODES.has(code);
  const message = mismatch ? mismatch.message : describeNetworkError(err, code);
  return new ProxmoxApiError({
    status: 0,
    method: init.method,
    path: init.path,
    pveMessage: message,
    retrySafe: isRead || notSent,
    ambiguous: !isRead && !notSent,
    cluster: init.cluster,
    ...(code ? { code } : {}),
    cause: err,
  });
}

function describeNetworkError(err: unknown, code: string | undefined): string {
  const msg = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused (${msg})`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out waiting for the response';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out reading the response body';
    default:
      return code ? `${msg} (${code})` : msg;
  }
}
