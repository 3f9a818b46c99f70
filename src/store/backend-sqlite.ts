/**
 * SQLite (the default): one file, shared by every process on this machine. A single SQL statement runs
 * atomically across connections and processes, so each lease operation is one conditional statement
 * (INSERT … ON CONFLICT DO UPDATE … WHERE, UPDATE/DELETE … WHERE token = ?) whose RETURNING says who won.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Keyv from 'keyv';
import { KeyvSqlite } from '@keyv/sqlite';
import { UserError } from '../errors.js';
import { KEYV_TABLE, LEASE_TABLE, NAMESPACE, type Backend, type BackendOptions, type LeaseClaim, type LeaseRow } from './backend.js';

type Row = Record<string, unknown>;
const CHUNK = 200;

/** Owner-only: the state names students, their Discord ids and the cluster's layout. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** The state file and SQLite's companions (-wal, -shm, -journal) exist readable by the owner only. */
function restrictFiles(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, FILE_MODE);
    } catch {
      // not there (yet): SQLite creates its companions with the database file's mode
    }
  }
}

export async function openSqlite(file: string, o: BackendOptions = {}): Promise<Backend> {
  const path = resolve(file);
  // a directory we create is the owner's only; the file is created 0600 before SQLite opens it (its -wal/-shm
  // companions then get the same mode), and an existing one is tightened
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  closeSync(openSync(path, 'a', FILE_MODE));
  restrictFiles(path);
  const clock = o.now ?? Date.now;
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: KEYV_TABLE, busyTimeout: o.busyTimeoutMs ?? 10_000 });
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true });
  // keyv re-emits adapter errors; with throwOnErrors the calls reject, so the event itself needs no handler work
  keyv.on('error', () => undefined);
  const query = adapter.query.bind(adapter) as (sql: string, ...params: unknown[]) => Promise<Row[]>;
  // WAL lets the bot read while a CLI writes; the lease table is ours, outside keyv's key/value shape
  try {
    await query('PRAGMA journal_mode=WAL');
  } catch (err) {
    await adapter.disconnect().catch(() => undefined);
    throw new UserError(
      `cannot read the state file ${path}: ${err instanceof Error ? err.message : String(err)}. It is not a pve-stands ` +
        'state file or it is damaged: restore it from a backup, or move it away to start with an empty one ' +
        '(`stands recover` then rebuilds stand records from what the cluster marks as ours).',
      { cause: err, exitCode: 1 },
    );
  }
  restrictFiles(path);
  await query(
    `CREATE TABLE IF NOT EXISTS ${LEASE_TABLE} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, token TEXT NOT NULL, owner TEXT, expires_at INTEGER NOT NULL)`,
  );

  const toRow = (r: Row): LeaseRow => ({
    name: String(r.name),
    holder: String(r.holder),
    token: String(r.token),
    ...(r.owner == null ? {} : { owner: String(r.owner) }),
    expiresAt: Number(r.expires_at),
  });

  return {
    kind: 'sqlite',
    location: path,
    keyv,
    async scan(prefix, so = {}) {
      const full = `${NAMESPACE}:${prefix}`;
      const limit = so.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(so.limit))}` : '';
      const rows = await query(
        `SELECT key, value FROM ${KEYV_TABLE} WHERE key >= ? AND key < ? ORDER BY key ${so.desc ? 'DESC' : 'ASC'}${limit}`,
        full,
        `${full}\uffff`,
      );
      return rows.map((r) => ({ key: String(r.key).slice(NAMESPACE.length + 1), value: String(r.value) }));
    },
    async claim(claims: readonly LeaseClaim[], co = {}) {
      const won = new Set<string>();
      for (let i = 0; i < claims.length; i += CHUNK) {
        const part = claims.slice(i, i + CHUNK);
        const t = clock();
        const rows = await query(
          `INSERT INTO ${LEASE_TABLE} (name, holder, token, owner, expires_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}
           ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, token = excluded.token, owner = excluded.owner,
             expires_at = excluded.expires_at
           WHERE ${LEASE_TABLE}.expires_at <= ?${co.reentrant ? ` OR ${LEASE_TABLE}.holder = excluded.holder` : ''}
           RETURNING name`,
          ...part.flatMap((c) => [c.name, c.holder, c.token, c.owner, t + c.ttlMs]),
          t,
        );
        for (const r of rows) won.add(String(r.name));
      }
      return won;
    },
    async replace(name, token, c) {
      const rows = await query(
        `UPDATE ${LEASE_TABLE} SET holder = ?, token = ?, owner = ?, expires_at = ? WHERE name = ? AND token = ? RETURNING name`,
        c.holder,
        c.token,
        c.owner,
        clock() + c.ttlMs,
        name,
        token,
      );
      return rows.length > 0;
    },
    async renew(name, token, ttlMs) {
      const t = clock();
      const rows = await query(
        `UPDATE ${LEASE_TABLE} SET expires_at = ? WHERE name = ? AND token = ? AND expires_at > ? RETURNING name`,
        t + ttlMs,
        name,
        token,
        t,
      );
      return rows.length > 0;
    },
    async release(name, token) {
      const rows = await query(`DELETE FROM ${LEASE_TABLE} WHERE name = ? AND token = ? RETURNING name`, name, token);
      return rows.length > 0;
    },
    async get(name) {
      const rows = await query(`SELECT name, holder, token, owner, expires_at FROM ${LEASE_TABLE} WHERE name = ?`, name);
      return rows[0] ? toRow(rows[0]) : undefined;
    },
    async list(prefix) {
      const rows = await query(
        `SELECT name, holder, token, owner, expires_at FROM ${LEASE_TABLE} WHERE name >= ? AND name < ? AND expires_at > ? ORDER BY name`,
        prefix,
        `${prefix}\uffff`,
        clock(),
      );
      return rows.map(toRow);
    },
    now: async () => clock(),
    close: () => adapter.disconnect(),
  };
}
