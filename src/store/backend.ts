/**
 * Where the state lives: a SQLite file (the default), a PostgreSQL database or a Redis server, chosen by the
 * form of STANDS_STATE / --state. Each backend gives the store the same few things: a keyv instance for records,
 * an ordered prefix scan, and leases (named, expiring, token-checked claims) built on the engine's own atomic
 * operation, so that locks, reservations and leader election are never a read followed by a write.
 */
import type Keyv from 'keyv';
import { UserError } from '../errors.js';

export type BackendKind = 'sqlite' | 'postgres' | 'redis';

export interface RawEntry {
  /** The key without the backend's namespace. */
  key: string;
  /** As keyv serialised it. */
  value: string;
}

export interface LeaseRow {
  name: string;
  holder: string;
  token: string;
  /** Instance id of the process that holds it (see instance.ts). */
  owner?: string;
  /** Epoch ms (the backend's clock). */
  expiresAt: number;
}

export interface LeaseClaim {
  name: string;
  holder: string;
  token: string;
  owner: string;
  ttlMs: number;
}

export interface Backend {
  readonly kind: BackendKind;
  /** A file path, or the URL without its password: safe to print. */
  readonly location: string;
  readonly keyv: Keyv;
  scan(prefix: string, o?: { desc?: boolean; limit?: number }): Promise<RawEntry[]>;
  /**
   * One atomic step: take each name that is free or expired (with `reentrant`, also one held by the same
   * holder). Returns the names taken.
   */
  claim(claims: readonly LeaseClaim[], o?: { reentrant?: boolean }): Promise<Set<string>>;
  /** Compare-and-swap: hand `name` to `claim` only while it is still held with `token`. */
  replace(name: string, token: string, claim: LeaseClaim): Promise<boolean>;
  /** Extends a lease still held with `token` (false once it expired or was taken). */
  renew(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Removes a lease only while it is held with `token`. */
  release(name: string, token: string): Promise<boolean>;
  /** The lease row, live or not yet cleaned up (check expiresAt against now()). */
  get(name: string): Promise<LeaseRow | undefined>;
  /** Live leases whose name starts with prefix. */
  list(prefix: string): Promise<LeaseRow[]>;
  /** The backend's clock, epoch ms. */
  now(): Promise<number>;
  close(): Promise<void>;
}

export interface BackendOptions {
  busyTimeoutMs?: number;
  /** SQLite only: the clock for lease expiry (tests). */
  now?: () => number;
}

/** True for a postgres:// or redis:// state location (anything else is a file path). */
export function isStateUrl(s: string): boolean {
  return /^(postgres|postgresql|redis|rediss):\/\//i.test(s.trim());
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export async function openBackend(location: string, o: BackendOptions = {}): Promise<Backend> {
  const loc = location.trim();
  if (/^(postgres|postgresql):\/\//i.test(loc)) return (await import('./backend-postgres.js')).openPostgres(loc);
  if (/^rediss?:\/\//i.test(loc)) return (await import('./backend-redis.js')).openRedis(loc);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(loc) && !/^sqlite:\/\//i.test(loc)) {
    throw new UserError(`state location ${redactUrl(loc)}: not a file path, postgres://… or redis://… URL`);
  }
  return (await import('./backend-sqlite.js')).openSqlite(loc.replace(/^sqlite:\/\//i, ''), o);
}

/** Splits off our own query parameter (`schema`, `prefix`) and checks it is a plain identifier. */
export function takeParam(url: URL, name: string, fallback: string): string {
  const v = url.searchParams.get(name);
  url.searchParams.delete(name);
  const value = v ?? fallback;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)) {
    throw new UserError(`state URL parameter ${name}=${JSON.stringify(value)}: use letters, digits and _ only`);
  }
  return value;
}

export const LEASE_TABLE = 'stands_leases';
export const KEYV_TABLE = 'keyv';
/** Namespace of every record key (`stands:stand:…`) in the SQL tables. */
export const NAMESPACE = 'stands';
