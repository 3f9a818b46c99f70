/**
 * The store: keyv over one SQLite file, shared by the CLI and the bot (possibly several processes at once).
 *
 * Keys live in one keyv table under the `stands` namespace, prefixed per collection (`stand:`, `group:`, …) so a
 * prefix is a range scan on the primary key. Values are zod-parsed on read and on write. keyv has no
 * compare-and-set, so the per-group lock is a row in its own table taken with one conditional upsert: SQLite runs
 * a single statement atomically, across connections and processes, which is the guarantee a lock needs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Keyv from 'keyv';
import { KeyvSqlite } from '@keyv/sqlite';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import {
  AuditEntry,
  GroupRecord,
  IdentityLink,
  JobRecord,
  JournalEntry,
  ReplicaRecord,
  StandRecord,
  type HistoryEntry,
  type JobRecordInput,
  type JobStatus,
  type JournalKind,
  type JournalMeta,
  type StandRecordInput,
} from './schemas.js';
import { msg } from '../i18n/index.js';

const NAMESPACE = 'stands';
const TABLE = 'keyv';
const LOCK_TABLE = 'stands_locks';
const OWNER = `${hostname()}:${process.pid}`;

/** True when `owner` names a process on this host that no longer exists (another host's holder is never judged). */
export function deadOwner(owner: string | undefined): boolean {
  if (!owner) return false;
  const sep = owner.lastIndexOf(':');
  const host = owner.slice(0, sep);
  const pid = Number(owner.slice(sep + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else: alive.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
const HISTORY_LIMIT = 100;

/** The state file holds something we cannot read: never guess, name the key. */
export class StoreCorruptError extends Error {
  override readonly name = 'StoreCorruptError';
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`state file entry ${key} is not valid: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** Another job holds the group. Exit 2: nothing was done. */
export class GroupBusyError extends UserError {
  override readonly name: string = 'GroupBusyError';
  constructor(
    readonly group: string,
    readonly holder: string,
    readonly expiresAt: string,
  ) {
    super(msg('group.busy', { group, holder, until: expiresAt }), { exitCode: 2 });
  }
}

export interface GroupLock {
  group: string;
  holder: string;
  token: string;
  expiresAt: string;
  /** Extends the lock; false when it was lost (expired and taken by someone else). */
  renew(ttlMs?: number): Promise<boolean>;
  release(): Promise<void>;
}

export interface LockInfo {
  group: string;
  holder: string;
  expiresAt: string;
}

export interface Journal {
  /** Record BEFORE creating an object: if we die between create and confirm, recover/cleanup still find it. */
  intend(kind: JournalKind, id: string | number, meta: JournalMeta): Promise<JournalEntry>;
  /** The object was created by us. */
  confirm(kind: JournalKind, id: string | number, cluster: string): Promise<JournalEntry | undefined>;
  /** The object is gone (deleted, or it never came to exist). */
  forget(kind: JournalKind, id: string | number, cluster: string): Promise<void>;
  get(kind: JournalKind, id: string | number, cluster: string): Promise<JournalEntry | undefined>;
  list(filter?: { cluster?: string; kind?: JournalKind; group?: string; user?: string }): Promise<JournalEntry[]>;
}

export interface Store {
  readonly file: string;
  groups: {
    get(name: string): Promise<GroupRecord | undefined>;
    put(record: z.input<typeof GroupRecord>): Promise<GroupRecord>;
    delete(name: string): Promise<void>;
    list(): Promise<GroupRecord[]>;
  };
  stands: {
    get(group: string, userid: string): Promise<StandRecord | undefined>;
    put(record: StandRecordInput): Promise<StandRecord>;
    /** Read-modify-write, serialised per stand within this process (across processes the group lock holds). */
    update(
      group: string,
      userid: string,
      change: (current: StandRecord) => StandRecordInput | StandRecord,
    ): Promise<StandRecord>;
    /** Appends to the stand's history (kept to the last 100 entries) and bumps updatedAt. */
    addHistory(group: string, userid: string, entry: Omit<HistoryEntry, 'at'> & { at?: string }): Promise<StandRecord>;
    delete(group: string, userid: string): Promise<void>;
    listByGroup(group: string): Promise<StandRecord[]>;
    list(filter?: { cluster?: string }): Promise<StandRecord[]>;
  };
  journal: Journal;
  jobs: {
    create(job: JobRecordInput): Promise<JobRecord>;
    get(id: string): Promise<JobRecord | undefined>;
    update(id: string, patch: Partial<Omit<JobRecordInput, 'id' | 'createdAt'>>): Promise<JobRecord>;
    list(filter?: { group?: string; status?: JobStatus[] }): Promise<JobRecord[]>;
    /** Jobs queued or running. */
    listRunning(): Promise<JobRecord[]>;
  };
  links: {
    link(discordId: string, userid: string, linkedBy?: string): Promise<IdentityLink>;
    byDiscord(discordId: string): Promise<IdentityLink | undefined>;
    byUserid(userid: string): Promise<IdentityLink[]>;
    unlink(discordId: string): Promise<void>;
    list(): Promise<IdentityLink[]>;
  };
  audit: {
    append(entry: Omit<AuditEntry, 'at'> & { at?: string }): Promise<AuditEntry>;
    /** Newest first. */
    list(options?: { limit?: number; group?: string }): Promise<AuditEntry[]>;
  };
  replicas: {
    get(cluster: string, sourceVmid: number, node: string): Promise<ReplicaRecord | undefined>;
    put(record: z.input<typeof ReplicaRecord>): Promise<ReplicaRecord>;
    delete(cluster: string, sourceVmid: number, node: string): Promise<void>;
    list(cluster?: string): Promise<ReplicaRecord[]>;
  };
  /** Throws GroupBusyError when another live holder has it. */
  acquireGroupLock(group: string, holder: string, ttlMs: number): Promise<GroupLock>;
  /** Undefined when someone else holds it. */
  tryAcquireGroupLock(group: string, holder: string, ttlMs: number): Promise<GroupLock | undefined>;
  lockInfo(group: string): Promise<LockInfo | undefined>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Wait this long for another process's write (SQLITE_BUSY) before failing. Default 10 s. */
  busyTimeoutMs?: number;
  now?: () => number;
}

const enc = (s: string | number): string => encodeURIComponent(String(s));

/** Opens (creating when needed) the state file. */
export async function openStore(file: string, options: OpenStoreOptions = {}): Promise<Store> {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  const now = options.now ?? Date.now;
  const iso = (): string => new Date(now()).toISOString();
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: TABLE, busyTimeout: options.busyTimeoutMs ?? 10_000 });
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true });
  // keyv re-emits adapter errors; with throwOnErrors the calls reject, so the event itself needs no handler work
  keyv.on('error', () => undefined);
  const query = adapter.query.bind(adapter) as (sql: string, ...params: unknown[]) => Promise<Record<string, unknown>[]>;

  // WAL lets the bot read while a CLI writes; the lock table is ours, outside keyv's key/value shape.
  await query('PRAGMA journal_mode=WAL');
  await query(
    `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (grp TEXT PRIMARY KEY, holder TEXT NOT NULL, token TEXT NOT NULL, expires_at INTEGER NOT NULL)`,
  );
  // `owner` = host:pid of the process holding the lock, so a holder that died (SIGKILL, power cut) on this
  // host is taken over at once instead of blocking the group until its TTL runs out.
  await query(`ALTER TABLE ${LOCK_TABLE} ADD COLUMN owner TEXT`).catch(() => undefined);

  async function read<S extends z.ZodType>(schema: S, key: string): Promise<z.output<S> | undefined> {
    const raw: unknown = await keyv.get(key);
    if (raw === undefined || raw === null) return undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new StoreCorruptError(key, parsed.error);
    return parsed.data;
  }
  async function write<S extends z.ZodType>(schema: S, key: string, value: unknown): Promise<z.output<S>> {
    // parse before writing: the strict schemas refuse unknown keys, so a stray secret never reaches the file
    const parsed = schema.parse(value) as z.output<S>;
    await keyv.set(key, parsed);
    return parsed;
  }
  async function scan<S extends z.ZodType>(
    schema: S,
    prefix: string,
    o: { desc?: boolean; limit?: number } = {},
  ): Promise<z.output<S>[]> {
    const full = `${NAMESPACE}:${prefix}`;
    const order = o.desc ? 'DESC' : 'ASC';
    const limit = o.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(o.limit))}` : '';
    const rows = await query(
      `SELECT key, value FROM ${TABLE} WHERE key >= ? AND key < ? ORDER BY key ${order}${limit}`,
      full,
      `${full}\uffff`,
    );
    const out: z.output<S>[] = [];
    for (const row of rows) {
      const key = String(row.key);
      let data: unknown;
      try {
        const de = keyv.deserialize ?? ((text: string) => JSON.parse(text) as unknown);
        data = ((await de(String(row.value))) as { value?: unknown } | undefined)?.value;
      } catch (error) {
        throw new StoreCorruptError(key, error);
      }
      const parsed = schema.safeParse(data);
      if (!parsed.success) throw new StoreCorruptError(key, parsed.error);
      out.push(parsed.data);
    }
    return out;
  }

  // In-process serialisation of read-modify-write per key.
  const chains = new Map<string, Promise<unknown>>();
  function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    chains.set(key, tail);
    void tail.then(() => {
      if (chains.get(key) === tail) chains.delete(key);
    });
    return next;
  }

  const standKey = (group: string, userid: string): string => `stand:${enc(group)}/${enc(userid)}`;
  const journalKey = (cluster: string, kind: JournalKind, id: string | number): string =>
    `journal:${enc(cluster)}/${kind}/${enc(id)}`;
  const replicaKey = (cluster: string, sourceVmid: number, node: string): string =>
    `replica:${enc(cluster)}/${sourceVmid}/${enc(node)}`;

  const stands: Store['stands'] = {
    get: (group, userid) => read(StandRecord, standKey(group, userid)),
    put: (record) => write(StandRecord, standKey(record.group, record.userid), record),
    update: (group, userid, change) =>
      serial(standKey(group, userid), async () => {
        const current = await read(StandRecord, standKey(group, userid));
        if (!current) throw new Error(`no stand ${group}/${userid} in the state file`);
        const next = { ...change(current), updatedAt: iso() };
        return write(StandRecord, standKey(group, userid), next);
      }),
    addHistory: (group, userid, entry) =>
      stands.update(group, userid, (cur) => ({
        ...cur,
        history: [...cur.history, { ...entry, at: entry.at ?? iso() }].slice(-HISTORY_LIMIT),
      })),
    delete: async (group, userid) => {
      await keyv.delete(standKey(group, userid));
    },
    listByGroup: (group) => scan(StandRecord, `stand:${enc(group)}/`),
    list: async (filter) => {
      const all = await scan(StandRecord, 'stand:');
      return filter?.cluster ? all.filter((s) => s.cluster === filter.cluster) : all;
    },
  };

  const journal: Journal = {
    intend: (kind, id, meta) =>
      serial(journalKey(meta.cluster, kind, id), async () => {
        const key = journalKey(meta.cluster, kind, id);
        const existing = await read(JournalEntry, key);
        // a confirmed entry stays confirmed: intending again (a re-run) must not downgrade what we know we own
        if (existing?.state === 'confirmed') return existing;
        return write(JournalEntry, key, {
          cluster: meta.cluster,
          kind,
          id: String(id),
          state: 'intended',
          group: meta.group,
          user: meta.user,
          node: meta.node,
          job: meta.job,
          extra: meta.extra,
          intendedAt: existing?.intendedAt ?? iso(),
        });
      }),
    confirm: (kind, id, cluster) =>
      serial(journalKey(cluster, kind, id), async () => {
        const key = journalKey(cluster, kind, id);
        const existing = await read(JournalEntry, key);
        if (!existing) return undefined;
        return write(JournalEntry, key, { ...existing, state: 'confirmed', confirmedAt: iso() });
      }),
    forget: (kind, id, cluster) =>
      serial(journalKey(cluster, kind, id), async () => {
        await keyv.delete(journalKey(cluster, kind, id));
      }),
    get: (kind, id, cluster) => read(JournalEntry, journalKey(cluster, kind, id)),
    list: async (filter = {}) => {
      const prefix = filter.cluster
        ? filter.kind
          ? `journal:${enc(filter.cluster)}/${filter.kind}/`
          : `journal:${enc(filter.cluster)}/`
        : 'journal:';
      const all = await scan(JournalEntry, prefix);
      return all.filter(
        (e) =>
          (!filter.kind || e.kind === filter.kind) &&
          (!filter.group || e.group === filter.group) &&
          (!filter.user || e.user === filter.user),
      );
    },
  };

  const jobs: Store['jobs'] = {
    create: (job) => write(JobRecord, `job:${enc(job.id)}`, job),
    get: (id) => read(JobRecord, `job:${enc(id)}`),
    update: (id, patch) =>
      serial(`job:${enc(id)}`, async () => {
        const current = await read(JobRecord, `job:${enc(id)}`);
        if (!current) throw new Error(`no job ${id} in the state file`);
        return write(JobRecord, `job:${enc(id)}`, { ...current, ...patch, updatedAt: iso() });
      }),
    list: async (filter = {}) => {
      const all = await scan(JobRecord, 'job:');
      return all
        .filter((j) => (!filter.group || j.group === filter.group) && (!filter.status || filter.status.includes(j.status)))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },
    listRunning: () => jobs.list({ status: ['queued', 'running'] }),
  };

  const links: Store['links'] = {
    link: (discordId, userid, linkedBy) =>
      write(IdentityLink, `link:${enc(discordId)}`, { discordId, userid, linkedAt: iso(), linkedBy }),
    byDiscord: (discordId) => read(IdentityLink, `link:${enc(discordId)}`),
    byUserid: async (userid) => (await scan(IdentityLink, 'link:')).filter((l) => l.userid.toLowerCase() === userid.toLowerCase()),
    unlink: async (discordId) => {
      await keyv.delete(`link:${enc(discordId)}`);
    },
    list: () => scan(IdentityLink, 'link:'),
  };

  let auditSeq = 0;
  const audit: Store['audit'] = {
    append: (entry) => {
      const at = entry.at ?? iso();
      // time-ordered keys; the random part keeps two processes appending in the same millisecond apart
      const key = `audit:${at}:${String(auditSeq++).padStart(6, '0')}:${randomBytes(3).toString('hex')}`;
      return write(AuditEntry, key, { ...entry, at });
    },
    list: async (options = {}) => {
      // newest first straight from the index when no filter needs the whole log
      if (!options.group) return scan(AuditEntry, 'audit:', { desc: true, limit: options.limit });
      const all = (await scan(AuditEntry, 'audit:', { desc: true })).filter((e) => e.group === options.group);
      return options.limit === undefined ? all : all.slice(0, options.limit);
    },
  };

  const replicas: Store['replicas'] = {
    get: (cluster, sourceVmid, node) => read(ReplicaRecord, replicaKey(cluster, sourceVmid, node)),
    put: (record) => write(ReplicaRecord, replicaKey(record.cluster, record.sourceVmid, record.node), record),
    delete: async (cluster, sourceVmid, node) => {
      await keyv.delete(replicaKey(cluster, sourceVmid, node));
    },
    list: (cluster) => scan(ReplicaRecord, cluster ? `replica:${enc(cluster)}/` : 'replica:'),
  };

  async function lockRow(
    group: string,
  ): Promise<{ holder: string; token: string; expires_at: number; owner: string | undefined } | undefined> {
    const rows = await query(`SELECT holder, token, expires_at, owner FROM ${LOCK_TABLE} WHERE grp = ?`, group);
    const row = rows[0];
    if (!row) return undefined;
    const owner = row.owner == null ? undefined : String(row.owner);
    return { holder: String(row.holder), token: String(row.token), expires_at: Number(row.expires_at), owner };
  }

  function makeLock(group: string, holder: string, token: string, expiresAt: number): GroupLock {
    const lock: GroupLock = {
      group,
      holder,
      token,
      expiresAt: new Date(expiresAt).toISOString(),
      renew: async (ttlMs = 60_000) => {
        const until = now() + ttlMs;
        await query(`UPDATE ${LOCK_TABLE} SET expires_at = ? WHERE grp = ? AND token = ?`, until, group, token);
        const row = await lockRow(group);
        if (row?.token !== token) return false;
        lock.expiresAt = new Date(until).toISOString();
        return true;
      },
      release: async () => {
        await query(`DELETE FROM ${LOCK_TABLE} WHERE grp = ? AND token = ?`, group, token);
      },
    };
    return lock;
  }

  async function tryAcquireGroupLock(group: string, holder: string, ttlMs: number): Promise<GroupLock | undefined> {
    const token = randomBytes(12).toString('hex');
    const t = now();
    // One statement = atomic in SQLite: insert, or take over only an expired row. Then re-read who won.
    await query(
      `INSERT INTO ${LOCK_TABLE} (grp, holder, token, expires_at, owner) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at,
         owner = excluded.owner
       WHERE ${LOCK_TABLE}.expires_at <= ?`,
      group,
      holder,
      token,
      t + ttlMs,
      OWNER,
      t,
    );
    let row = await lockRow(group);
    if (row && row.token !== token && deadOwner(row.owner)) {
      // Take over only the row we saw (same token): two processes racing for a dead holder's lock cannot both win.
      await query(
        `UPDATE ${LOCK_TABLE} SET holder = ?, token = ?, expires_at = ?, owner = ? WHERE grp = ? AND token = ?`,
        holder,
        token,
        t + ttlMs,
        OWNER,
        group,
        row.token,
      );
      row = await lockRow(group);
    }
    if (row?.token !== token) return undefined;
    return makeLock(group, holder, token, t + ttlMs);
  }

  return {
    file: path,
    groups: {
      get: (name) => read(GroupRecord, `group:${enc(name)}`),
      put: (record) => write(GroupRecord, `group:${enc(record.name)}`, record),
      delete: async (name) => {
        await keyv.delete(`group:${enc(name)}`);
      },
      list: () => scan(GroupRecord, 'group:'),
    },
    stands,
    journal,
    jobs,
    links,
    audit,
    replicas,
    tryAcquireGroupLock,
    acquireGroupLock: async (group, holder, ttlMs) => {
      const lock = await tryAcquireGroupLock(group, holder, ttlMs);
      if (lock) return lock;
      const row = await lockRow(group);
      throw new GroupBusyError(group, row?.holder ?? 'another job', new Date(row?.expires_at ?? now()).toISOString());
    },
    lockInfo: async (group) => {
      const row = await lockRow(group);
      if (!row || row.expires_at <= now()) return undefined;
      return { group, holder: row.holder, expiresAt: new Date(row.expires_at).toISOString() };
    },
    close: async () => {
      await Promise.allSettled([...chains.values()]);
      await adapter.disconnect();
    },
  };
}
