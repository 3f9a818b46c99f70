/**
 * PostgreSQL (`postgres://user@host/db?schema=name`): records through @keyv/postgres, leases in a table of the
 * same schema. Every lease operation is one statement (INSERT … ON CONFLICT DO UPDATE … WHERE, UPDATE/DELETE …
 * WHERE token = $n) that PostgreSQL runs under the row's lock, with RETURNING saying who won; expiry uses the
 * server's clock, so hosts with skewed clocks still agree.
 *
 * @keyv/postgres keeps one module-wide pool and ends whichever was opened last on disconnect; each store here
 * owns its own pool instead (so two stores in one process, as tests and `state copy` open, close independently).
 */
import Keyv from 'keyv';
import { KeyvPostgres } from '@keyv/postgres';
import { createRequire } from 'node:module';
import { KEYV_TABLE, LEASE_TABLE, NAMESPACE, redactUrl, takeParam, type Backend, type LeaseRow } from './backend.js';

type Row = Record<string, unknown>;
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
const CHUNK = 500;

/** The part of pg's Pool we use (pg comes with @keyv/postgres; resolved from there, typed here). */
interface PgPool {
  query(sql: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}
const pg = createRequire(createRequire(import.meta.url).resolve('@keyv/postgres'))('pg') as {
  Pool: new (o: { connectionString?: string; max?: number; idleTimeoutMillis?: number }) => PgPool;
};

class OwnPoolPostgres extends KeyvPostgres {
  declare ownPool: PgPool | undefined;
  override async connect(): Promise<(sql: string, values?: unknown) => Promise<unknown[]>> {
    // called from the base constructor: `opts` is set, our own fields are not yet
    this.ownPool ??= new pg.Pool({ connectionString: this.opts.uri, max: 4, idleTimeoutMillis: 10_000 });
    const pool = this.ownPool;
    return async (sql, values) => (await pool.query(sql, values as unknown[])).rows;
  }
  override async disconnect(): Promise<void> {
    await this.ownPool?.end();
  }
}

export async function openPostgres(url: string): Promise<Backend> {
  const u = new URL(url);
  const schema = takeParam(u, 'schema', 'public');
  const location = redactUrl(url);
  const adapter = new OwnPoolPostgres({ uri: u.toString(), schema, table: KEYV_TABLE, keySize: 1024 });
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true });
  keyv.on('error', () => undefined);
  // the adapter reports a failed connection only as an event: ask the server once, so a wrong URL fails here
  const first = new Promise<never>((_, reject) => adapter.once('error', (err: unknown) => reject(err as Error)));
  const q = async (sql: string, values: unknown[] = []): Promise<Row[]> => (await adapter.query(sql, values)) as Row[];
  try {
    await Promise.race([q('SELECT 1'), first]);
  } catch (err) {
    await adapter.disconnect().catch(() => undefined);
    throw new Error(`cannot reach the state database ${location}: ${(err as Error).message}`);
  }
  first.catch(() => undefined);
  const T = `${schema}.${KEYV_TABLE}`;
  const L = `${schema}.${LEASE_TABLE}`;
  await q(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(ignoreRace);
  await q(`CREATE TABLE IF NOT EXISTS ${T} (key VARCHAR(1024) PRIMARY KEY, value TEXT)`).catch(ignoreRace);
  await q(
    `CREATE TABLE IF NOT EXISTS ${L} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, token TEXT NOT NULL, owner TEXT, expires_at BIGINT NOT NULL)`,
  ).catch(ignoreRace);

  const toRow = (r: Row): LeaseRow => ({
    name: String(r.name),
    holder: String(r.holder),
    token: String(r.token),
    ...(r.owner == null ? {} : { owner: String(r.owner) }),
    expiresAt: Number(r.expires_at),
  });

  return {
    kind: 'postgres',
    location,
    keyv,
    async scan(prefix, so = {}) {
      const full = `${NAMESPACE}:${prefix}`;
      const limit = so.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(so.limit))}` : '';
      // byte order (COLLATE "C"), as SQLite and Redis keys sort: a locale collation would ignore punctuation
      const rows = await q(
        `SELECT key, value FROM ${T} WHERE key COLLATE "C" >= $1 AND key COLLATE "C" < $2
         ORDER BY key COLLATE "C" ${so.desc ? 'DESC' : 'ASC'}${limit}`,
        [full, `${full}\uffff`],
      );
      return rows.map((r) => ({ key: String(r.key).slice(NAMESPACE.length + 1), value: String(r.value) }));
    },
    async claim(claims, co = {}) {
      const won = new Set<string>();
      for (let i = 0; i < claims.length; i += CHUNK) {
        const part = claims.slice(i, i + CHUNK);
        const rows = await q(
          `INSERT INTO ${L} AS l (name, holder, token, owner, expires_at)
           SELECT n, h, t, o, ${NOW_MS} + ttl FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS x(n, h, t, o, ttl)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, owner = excluded.owner,
             expires_at = excluded.expires_at
           WHERE l.expires_at <= ${NOW_MS}${co.reentrant ? ' OR l.holder = excluded.holder' : ''}
           RETURNING name`,
          [
            part.map((c) => c.name),
            part.map((c) => c.holder),
            part.map((c) => c.token),
            part.map((c) => c.owner),
            part.map((c) => Math.round(c.ttlMs)),
          ],
        );
        for (const r of rows) won.add(String(r.name));
      }
      return won;
    },
    async replace(name, token, c) {
      const rows = await q(
        `UPDATE ${L} SET holder = $1, token = $2, owner = $3, expires_at = ${NOW_MS} + $4 WHERE name = $5 AND token = $6 RETURNING name`,
        [c.holder, c.token, c.owner, Math.round(c.ttlMs), name, token],
      );
      return rows.length > 0;
    },
    async renew(name, token, ttlMs) {
      const rows = await q(
        `UPDATE ${L} SET expires_at = ${NOW_MS} + $1 WHERE name = $2 AND token = $3 AND expires_at > ${NOW_MS} RETURNING name`,
        [Math.round(ttlMs), name, token],
      );
      return rows.length > 0;
    },
    async release(name, token) {
      const rows = await q(`DELETE FROM ${L} WHERE name = $1 AND token = $2 RETURNING name`, [name, token]);
      return rows.length > 0;
    },
    async get(name) {
      const rows = await q(`SELECT name, holder, token, owner, expires_at FROM ${L} WHERE name = $1`, [name]);
      return rows[0] ? toRow(rows[0]) : undefined;
    },
    async list(prefix) {
      const rows = await q(
        `SELECT name, holder, token, owner, expires_at FROM ${L}
         WHERE name COLLATE "C" >= $1 AND name COLLATE "C" < $2 AND expires_at > ${NOW_MS} ORDER BY name COLLATE "C"`,
        [prefix, `${prefix}\uffff`],
      );
      return rows.map(toRow);
    },
    async now() {
      const rows = await q(`SELECT ${NOW_MS} AS t`);
      return Number(rows[0]?.t);
    },
    close: () => adapter.disconnect(),
  };
}

/** Two processes creating the same table at once: one gets a unique violation on the catalog; the table exists. */
function ignoreRace(err: unknown): void {
  const code = (err as { code?: string }).code;
  if (code === '23505' || code === '42P06' || code === '42P07') return;
  throw err;
}
