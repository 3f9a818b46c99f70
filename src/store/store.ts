/**
 * The store: records (stands, groups, journal, jobs, links, audit, replicas) through keyv, and leases (group
 * locks, VMID/bridge/VNet reservations, the bot's leader lease, claims of scheduled actions) through the
 * backend's own atomic operation. The backend is a SQLite file by default, or PostgreSQL / Redis when several
 * hosts share one installation (backend.ts). Keys are prefixed per collection (`stand:`, `group:`, …) so a
 * prefix is an ordered range scan. Values are zod-parsed on read and on write.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { openBackend, redactUrl, type Backend, type BackendKind, type LeaseClaim } from './backend.js';
import { redactDeep } from '../secrets.js';
import { deadOwner, INSTANCE_ID } from './instance.js';
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

export { deadOwner, INSTANCE_ID } from './instance.js';
export { isStateUrl, redactUrl, type BackendKind } from './backend.js';

const HISTORY_LIMIT = 100;

function causeText(cause: unknown): string {
  const issues = (cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues;
  if (Array.isArray(issues) && issues.length) {
    return issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || 'value'}: ${i.message}`).join('; ');
  }
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * The state holds a record we cannot read: never guess. Names the record and the file (or server) and says what
 * to do; lists skip the record (reporting it through `onCorrupt`), so one bad record does not stop every command.
 */
export class StoreCorruptError extends UserError {
  override readonly name = 'StoreCorruptError';
  constructor(
    readonly key: string,
    cause: unknown,
    readonly file = '',
  ) {
    super(
      `state file entry ${key} is not valid: ${causeText(cause)}` +
        (file ? ` (in ${file})` : '') +
        '. Other records are not affected. Delete this record, or restore the state file from a backup; ' +
        '`stands recover` rebuilds stand records from what the cluster marks as ours.',
      { cause, exitCode: 1 },
    );
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

/** A held lease: renew it well within its TTL; release it when done. */
export interface Lease {
  name: string;
  holder: string;
  token: string;
  expiresAt: string;
  /** Extends the lease; false when it was lost (expired and taken by someone else). */
  renew(ttlMs?: number): Promise<boolean>;
  release(): Promise<void>;
}

export interface LeaseInfo {
  name: string;
  holder: string;
  /** Instance id of the holding process. */
  owner?: string;
  expiresAt: string;
}

/** A VMID, bridge or VNet promised to a group between planning and journaling. */
export interface Reservation {
  cluster: string;
  kind: 'vm' | 'bridge' | 'vnet';
  /** vm: the vmid; bridge: `<node>/<iface>`; vnet: its id. */
  id: string;
  group: string;
  expiresAt: string;
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
  /** The state file, or the server URL without its password. */
  readonly file: string;
  readonly kind: BackendKind;
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
  /**
   * Any named lease (leader election, job ownership). Taken when free, expired, or held by a process of this
   * host that is gone; undefined while someone else holds it.
   */
  tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  leaseInfo(name: string): Promise<LeaseInfo | undefined>;
  /**
   * Claims a one-time action (a lease-warning DM, an expiry): true for exactly one caller across every process
   * sharing the state until `ttlMs` has passed. Never released: a claimed action is not run again.
   */
  claimOnce(name: string, holder: string, ttlMs: number): Promise<boolean>;
  reservations: {
    /** Live reservations on a cluster (every group's). */
    list(cluster: string): Promise<Reservation[]>;
    /**
     * Reserves ids for `group` in one atomic step per id (ids the same group already holds are renewed).
     * Returns the ids another group holds (nothing is taken for those).
     */
    claim(
      cluster: string,
      group: string,
      items: readonly { kind: Reservation['kind']; id: string | number }[],
      ttlMs: number,
    ): Promise<{ kind: Reservation['kind']; id: string; holder: string }[]>;
    /** Drops the group's reservations on the cluster (its journal now records what it created). */
    release(cluster: string, group: string): Promise<void>;
  };
  /** The backend underneath (state copy, benchmarks). */
  readonly backend: Backend;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Wait this long for another process's write (SQLITE_BUSY) before failing. Default 10 s. */
  busyTimeoutMs?: number;
  /** SQLite only: the clock of lease expiry and record times (tests). */
  now?: () => number;
  /** The instance id written as lock owner (tests pose as another process); default this process's. */
  instanceId?: string;
  /** A record a list skipped because it cannot be read (default: a process warning). */
  onCorrupt?: (err: StoreCorruptError) => void;
}

const enc = (s: string | number): string => encodeURIComponent(String(s));

/** Opens (creating when needed) the state: a SQLite file path, or a postgres:// or redis:// URL. */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  const now = options.now ?? Date.now;
  const iso = (): string => new Date(now()).toISOString();
  const owner = options.instanceId ?? INSTANCE_ID;
  const backend = await openBackend(location, {
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const keyv = backend.keyv;
  const where = backend.kind === 'sqlite' ? backend.location : redactUrl(backend.location);
  const onCorrupt = options.onCorrupt ?? ((err: StoreCorruptError) => process.emitWarning(err.message, 'StoreCorruptWarning'));

  async function read<S extends z.ZodType>(schema: S, key: string): Promise<z.output<S> | undefined> {
    let raw: unknown;
    try {
      raw = await keyv.get(key);
    } catch (err) {
      if (err instanceof SyntaxError) throw new StoreCorruptError(key, err, where);
      throw err;
    }
    if (raw === undefined || raw === null) return undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new StoreCorruptError(key, parsed.error, where);
    return parsed.data;
  }
  async function write<S extends z.ZodType>(schema: S, key: string, value: unknown): Promise<z.output<S>> {
    // parse before writing: the strict schemas refuse unknown keys, so a stray secret never reaches the file,
    // and live secrets (src/secrets.ts) are redacted by value, wherever a message or error carried them in
    const parsed = redactDeep(schema.parse(value) as z.output<S>);
    await keyv.set(key, parsed);
    return parsed;
  }
  async function scan<S extends z.ZodType>(
    schema: S,
    prefix: string,
    o: { desc?: boolean; limit?: number } = {},
  ): Promise<z.output<S>[]> {
    const rows = await backend.scan(prefix, o);
    const out: z.output<S>[] = [];
    for (const row of rows) {
      let data: unknown;
      try {
        const de = keyv.deserialize ?? ((text: string) => JSON.parse(text) as unknown);
        data = ((await de(row.value)) as { value?: unknown } | undefined)?.value;
      } catch (error) {
        onCorrupt(new StoreCorruptError(row.key, error, where));
        continue;
      }
      const parsed = schema.safeParse(data);
      if (!parsed.success) {
        // one bad record must not make every list (and every command) fail: skip it, and say so
        onCorrupt(new StoreCorruptError(row.key, parsed.error, where));
        continue;
      }
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

  const newToken = (): string => randomBytes(12).toString('hex');

  function makeLease(name: string, holder: string, token: string, expiresAt: number): Lease {
    const lease: Lease = {
      name,
      holder,
      token,
      expiresAt: new Date(expiresAt).toISOString(),
      renew: async (ttlMs = 60_000) => {
        if (!(await backend.renew(name, token, ttlMs))) return false;
        lease.expiresAt = new Date((await backend.now()) + ttlMs).toISOString();
        return true;
      },
      release: async () => {
        await backend.release(name, token);
      },
    };
    return lease;
  }

  async function tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const claim: LeaseClaim = { name, holder, token: newToken(), owner, ttlMs };
    // one atomic step: insert, or take over only an expired lease
    if ((await backend.claim([claim])).has(name)) return makeLease(name, holder, claim.token, (await backend.now()) + ttlMs);
    const row = await backend.get(name);
    if (row && deadOwner(row.owner, owner)) {
      // its holder ran on this host, in our pid namespace, and is gone: take over only the lease we saw (same
      // token), so two processes racing for a dead holder's lease cannot both win
      if (await backend.replace(name, row.token, claim)) return makeLease(name, holder, claim.token, (await backend.now()) + ttlMs);
    }
    return undefined;
  }

  async function leaseInfo(name: string): Promise<LeaseInfo | undefined> {
    const row = await backend.get(name);
    if (!row || row.expiresAt <= (await backend.now())) return undefined;
    return { name, holder: row.holder, ...(row.owner ? { owner: row.owner } : {}), expiresAt: new Date(row.expiresAt).toISOString() };
  }

  const groupLease = (group: string): string => `group:${group}`;
  const resPrefix = (cluster: string): string => `res:${enc(cluster)}/`;
  const resName = (cluster: string, kind: string, id: string | number): string => `${resPrefix(cluster)}${kind}/${enc(id)}`;
  const resHolder = (group: string): string => `group:${group}`;

  async function tryAcquireGroupLock(group: string, holder: string, ttlMs: number): Promise<GroupLock | undefined> {
    const lease = await tryAcquireLease(groupLease(group), holder, ttlMs);
    if (!lease) return undefined;
    return {
      group,
      holder,
      token: lease.token,
      get expiresAt() {
        return lease.expiresAt;
      },
      set expiresAt(v: string) {
        lease.expiresAt = v;
      },
      renew: (ttl) => lease.renew(ttl),
      release: () => lease.release(),
    };
  }

  const reservations: Store['reservations'] = {
    list: async (cluster) => {
      const rows = await backend.list(resPrefix(cluster));
      const out: Reservation[] = [];
      for (const r of rows) {
        const [kind, id] = r.name.slice(resPrefix(cluster).length).split('/') as [string, string | undefined];
        if ((kind !== 'vm' && kind !== 'bridge' && kind !== 'vnet') || id === undefined) continue;
        out.push({ cluster, kind, id: decodeURIComponent(id), group: r.holder.replace(/^group:/, ''), expiresAt: new Date(r.expiresAt).toISOString() });
      }
      return out;
    },
    claim: async (cluster, group, items, ttlMs) => {
      const holder = resHolder(group);
      // one row per id (PostgreSQL refuses an upsert that touches the same row twice in one statement), in name
      // order: two claims of overlapping ids then lock their rows in the same order and cannot deadlock
      const unique = [...new Map(items.map((it) => [resName(cluster, it.kind, it.id), it])).entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, it]) => it);
      items = unique;
      const claims = unique.map((it) => ({ name: resName(cluster, it.kind, it.id), holder, token: newToken(), owner, ttlMs }));
      const won = await backend.claim(claims, { reentrant: true });
      const refused: { kind: Reservation['kind']; id: string; holder: string }[] = [];
      for (const [i, c] of claims.entries()) {
        if (won.has(c.name)) continue;
        const row = await backend.get(c.name);
        const it = items[i]!;
        refused.push({ kind: it.kind, id: String(it.id), holder: row?.holder.replace(/^group:/, '') ?? 'another group' });
      }
      return refused;
    },
    release: async (cluster, group) => {
      const holder = resHolder(group);
      for (const r of await backend.list(resPrefix(cluster))) if (r.holder === holder) await backend.release(r.name, r.token);
    },
  };

  return {
    file: backend.location,
    kind: backend.kind,
    backend,
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
      const info = await leaseInfo(groupLease(group));
      throw new GroupBusyError(group, info?.holder ?? 'another job', info?.expiresAt ?? new Date(await backend.now()).toISOString());
    },
    lockInfo: async (group) => {
      const info = await leaseInfo(groupLease(group));
      return info ? { group, holder: info.holder, expiresAt: info.expiresAt } : undefined;
    },
    tryAcquireLease,
    leaseInfo,
    claimOnce: async (name, holder, ttlMs) =>
      (await backend.claim([{ name: `once:${name}`, holder, token: newToken(), owner, ttlMs }])).has(`once:${name}`),
    reservations,
    close: async () => {
      await Promise.allSettled([...chains.values()]);
      await backend.close();
    },
  };
}
