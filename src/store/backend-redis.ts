/**
 * Redis (`redis://host:6379/0?prefix=name`): records through @keyv/redis as `<prefix>::<key>`, leases as
 * `<prefix>:lease:<name>` holding `{holder, token, owner}` with a server-side TTL. A lease is taken with
 * `SET NX PX`; renewal, release and take-over run as Lua scripts that compare the token first, so a holder
 * whose lease expired and was taken can neither extend nor delete the new holder's. Reentrant claims
 * (reservations of the same group) are one script over all keys, atomic on the server.
 */
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { NAMESPACE, redactUrl, takeParam, type Backend, type LeaseRow } from './backend.js';

/** The part of the node-redis client we use. */
interface RedisLike {
  set(key: string, value: string, o: { NX?: boolean; PX: number }): Promise<string | null>;
  get(key: string): Promise<string | null>;
  mGet(keys: string[]): Promise<(string | null)[]>;
  pTTL(key: string): Promise<number>;
  eval(script: string, o: { keys: string[]; arguments: string[] }): Promise<unknown>;
  scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<string[] | string>;
}

const CHUNK = 200;

const CLAIM_REENTRANT = `
local out = {}
for i, key in ipairs(KEYS) do
  local cur = redis.call('GET', key)
  local ok = 0
  if not cur then ok = 1 else
    local okd, v = pcall(cjson.decode, cur)
    if okd and v.holder == ARGV[(i - 1) * 3 + 1] then ok = 1 end
  end
  if ok == 1 then redis.call('SET', key, ARGV[(i - 1) * 3 + 2], 'PX', ARGV[(i - 1) * 3 + 3]) end
  out[i] = ok
end
return out`;

const IF_TOKEN = (then: string) => `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local okd, v = pcall(cjson.decode, cur)
if not okd or v.token ~= ARGV[1] then return 0 end
${then}
return 1`;
const RENEW = IF_TOKEN(`redis.call('PEXPIRE', KEYS[1], ARGV[2])`);
const RELEASE = IF_TOKEN(`redis.call('DEL', KEYS[1])`);
const REPLACE = IF_TOKEN(`redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])`);

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

export async function openRedis(url: string): Promise<Backend> {
  const u = new URL(url);
  const prefix = takeParam(u, 'prefix', NAMESPACE);
  const location = redactUrl(url);
  const adapter = new KeyvRedis(u.toString(), {
    namespace: prefix,
    throwOnConnectError: true,
    throwOnErrors: true,
    connectionTimeout: 10_000,
  });
  adapter.on('error', () => undefined);
  let client: RedisLike;
  try {
    client = (await adapter.getClient()) as unknown as RedisLike;
  } catch (err) {
    await adapter.disconnect(true).catch(() => undefined);
    throw new Error(`cannot reach the state server ${location}: ${(err as Error).message}`);
  }
  // keyv must not add its own prefix: the adapter already writes `<prefix>::<key>`
  const keyv = new Keyv({ store: adapter, namespace: prefix, useKeyPrefix: false, throwOnErrors: true });
  keyv.on('error', () => undefined);
  const recordPrefix = `${prefix}::`;
  const leaseKey = (name: string): string => `${prefix}:lease:${name}`;
  const leasePrefix = `${prefix}:lease:`;

  async function keysMatching(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
      if (Array.isArray(batch)) keys.push(...batch);
      else keys.push(batch);
    }
    return [...new Set(keys)];
  }

  async function readLease(key: string): Promise<LeaseRow | undefined> {
    const [raw, ttl] = await Promise.all([client.get(key), client.pTTL(key)]);
    if (!raw || ttl === -2) return undefined;
    const v = JSON.parse(raw) as { holder: string; token: string; owner?: string };
    const expiresAt = ttl < 0 ? Number.MAX_SAFE_INTEGER : Date.now() + ttl;
    return { name: key.slice(leasePrefix.length), holder: v.holder, token: v.token, ...(v.owner ? { owner: v.owner } : {}), expiresAt };
  }

  const value = (c: { holder: string; token: string; owner: string }): string =>
    JSON.stringify({ holder: c.holder, token: c.token, owner: c.owner });

  return {
    kind: 'redis',
    location,
    keyv,
    async scan(p, so = {}) {
      const keys = (await keysMatching(`${globEscape(recordPrefix + p)}*`)).sort();
      if (so.desc) keys.reverse();
      const wanted = so.limit !== undefined ? keys.slice(0, Math.max(0, Math.floor(so.limit))) : keys;
      const out: { key: string; value: string }[] = [];
      for (let i = 0; i < wanted.length; i += 500) {
        const part = wanted.slice(i, i + 500);
        const values = await client.mGet(part);
        part.forEach((k, j) => {
          const v = values[j];
          // a key deleted between SCAN and MGET is simply gone
          if (v !== null && v !== undefined) out.push({ key: k.slice(recordPrefix.length), value: v });
        });
      }
      return out;
    },
    async claim(claims, co = {}) {
      const won = new Set<string>();
      if (!co.reentrant) {
        // the plain case is exactly SET NX PX
        for (const c of claims) {
          const ok = await client.set(leaseKey(c.name), value(c), { NX: true, PX: Math.max(1, Math.round(c.ttlMs)) });
          if (ok) won.add(c.name);
        }
        return won;
      }
      for (let i = 0; i < claims.length; i += CHUNK) {
        const part = claims.slice(i, i + CHUNK);
        const res = (await client.eval(CLAIM_REENTRANT, {
          keys: part.map((c) => leaseKey(c.name)),
          arguments: part.flatMap((c) => [c.holder, value(c), String(Math.max(1, Math.round(c.ttlMs)))]),
        })) as number[];
        part.forEach((c, j) => {
          if (Number(res[j]) === 1) won.add(c.name);
        });
      }
      return won;
    },
    async replace(name, token, c) {
      const r = await client.eval(REPLACE, { keys: [leaseKey(name)], arguments: [token, value(c), String(Math.max(1, Math.round(c.ttlMs)))] });
      return Number(r) === 1;
    },
    async renew(name, token, ttlMs) {
      const r = await client.eval(RENEW, { keys: [leaseKey(name)], arguments: [token, String(Math.max(1, Math.round(ttlMs)))] });
      return Number(r) === 1;
    },
    async release(name, token) {
      return Number(await client.eval(RELEASE, { keys: [leaseKey(name)], arguments: [token] })) === 1;
    },
    get: (name) => readLease(leaseKey(name)),
    async list(p) {
      const keys = (await keysMatching(`${globEscape(leasePrefix + p)}*`)).sort();
      const rows = await Promise.all(keys.map((k) => readLease(k)));
      return rows.filter((r): r is LeaseRow => r !== undefined);
    },
    now: async () => Date.now(),
    close: () => adapter.disconnect(),
  };
}
