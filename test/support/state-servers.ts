/**
 * The shared-state servers tests run against: PostgreSQL (127.0.0.1:5432, trust auth, database `test`) and
 * Redis (127.0.0.1:6379); STANDS_TEST_PG_URL / STANDS_TEST_REDIS_URL point elsewhere. Probed once when a test
 * file is collected: on a machine without them the suites skip with one line saying why, unless
 * STANDS_TEST_SERVERS=required (CI), where a missing server fails the run.
 *
 * Each call of `freshLocation` makes a namespace of its own (a PostgreSQL schema, a Redis key prefix) so test
 * files running in parallel never see each other's keys; `dropLocation` removes it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type BackendName = 'sqlite' | 'postgres' | 'redis';

export const PG_URL = process.env.STANDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.STANDS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

function probe(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface ServerStatus {
  name: BackendName;
  up: boolean;
  /** Why the suite is skipped (empty when up). */
  why: string;
}

const reported = new Set<string>();

export async function serverStatus(name: BackendName): Promise<ServerStatus> {
  if (name === 'sqlite') return { name, up: true, why: '' };
  const url = name === 'postgres' ? PG_URL : REDIS_URL;
  const up = await probe(url, name === 'postgres' ? 5432 : 6379);
  const u = new URL(url);
  const why = up ? '' : `${name} suites skipped: nothing answers on ${u.hostname}:${u.port || (name === 'postgres' ? 5432 : 6379)}`;
  if (!up && process.env.STANDS_TEST_SERVERS === 'required') {
    throw new Error(`${why} (STANDS_TEST_SERVERS=required: CI machines must run PostgreSQL and Redis)`);
  }
  if (!up && !reported.has(name)) {
    reported.add(name);
    console.warn(why);
  }
  return { name, up, why };
}

export interface Location {
  name: BackendName;
  /** What STANDS_STATE / openStore take. */
  url: string;
  drop(): Promise<void>;
}

export function freshLocation(name: BackendName): Location {
  const id = `t_${randomBytes(5).toString('hex')}`;
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'stands-state-'));
    return { name, url: join(dir, 'state.sqlite'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (name === 'postgres') {
    const u = new URL(PG_URL);
    u.searchParams.set('schema', id);
    return {
      name,
      url: u.toString(),
      drop: async () => {
        const pg = createRequire(createRequire(import.meta.url).resolve('@keyv/postgres'))('pg') as {
          Client: new (o: { connectionString: string }) => { connect(): Promise<void>; query(s: string): Promise<unknown>; end(): Promise<void> };
        };
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${id} CASCADE`);
        await c.end();
      },
    };
  }
  const u = new URL(REDIS_URL);
  u.searchParams.set('prefix', id);
  return {
    name,
    url: u.toString(),
    drop: async () => {
      const { createClient } = await import('@keyv/redis');
      const c = createClient({ url: REDIS_URL });
      await c.connect();
      const keys: string[] = [];
      for await (const batch of c.scanIterator({ MATCH: `${id}:*`, COUNT: 1000 })) keys.push(...(batch as string[]));
      if (keys.length) await c.del(keys);
      await c.close();
    },
  };
}
