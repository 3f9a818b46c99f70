/**
 * The store contract, run against every backend: a SQLite file, PostgreSQL and Redis (real servers; see
 * test/support/state-servers.ts for how a machine without them skips). Each test opens a fresh namespace.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { parseInstanceId } from '../../src/store/instance.js';
import { GroupBusyError, INSTANCE_ID, openStore, StoreCorruptError, type Store } from '../../src/store/index.js';
import { freshLocation, serverStatus, type BackendName, type Location } from '../support/state-servers.js';

const statuses = await Promise.all((['sqlite', 'postgres', 'redis'] as BackendName[]).map((n) => serverStatus(n)));

/** A pid that surely ran and ended (a child we waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

function stand(group: string, userid: string) {
  return {
    cluster: 'lab',
    group,
    user: userid.split('@')[0] ?? userid,
    userid,
    profile: 'netlab',
    pool: `st-${group}-${userid.split('@')[0]}`,
    node: 'pve1',
    vms: [{ machine: 'gw', vmid: 10000, node: 'pve1', name: 'ivanov-gw', status: 'planned' as const }],
    segments: [{ alias: 'hq', kind: 'bridge' as const, iface: 'vmbr1000', node: 'pve1', vlanAware: false }],
    vlans: [],
    createdUser: true,
    poolCreated: false,
    status: 'planned' as const,
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:00.000Z',
  };
}

/** Polls `fn` until it returns a value (state, not a fixed sleep); the wide deadline only guards a hang. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const st of statuses) {
  describe.skipIf(!st.up)(`store contract on ${st.name}${st.up ? '' : ` (${st.why})`}`, () => {
    let loc: Location | undefined;
    const opened: Store[] = [];
    async function open(o: { instanceId?: string; onCorrupt?: (err: StoreCorruptError) => void } = {}): Promise<Store> {
      loc ??= freshLocation(st.name);
      const s = await openStore(loc.url, o);
      opened.push(s);
      return s;
    }
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await loc?.drop();
      loc = undefined;
    });

    it('keeps records across a reopen, lists a group by prefix only, refuses a password', async () => {
      const a = await open();
      expect(a.kind).toBe(st.name);
      await a.stands.put(stand('g1', 'ivanov@pve'));
      await a.stands.put(stand('g1', 'petrov@pve'));
      await a.stands.put(stand('g10', 'sidorov@pve'));
      await expect(a.stands.put({ ...stand('g', 'a@pve'), password: 'hunter2' } as never)).rejects.toThrow(/Unrecognized key.*password/);
      const b = await open();
      expect((await b.stands.listByGroup('g1')).map((s) => s.userid)).toEqual(['ivanov@pve', 'petrov@pve']);
      expect((await b.stands.list()).length).toBe(3);
      expect(await b.stands.get('g', 'a@pve')).toBeUndefined();
      await Promise.all(Array.from({ length: 20 }, (_, i) => b.stands.addHistory('g1', 'ivanov@pve', { event: `step-${i}` })));
      expect((await a.stands.get('g1', 'ivanov@pve'))?.history.length).toBe(20);
      await a.stands.delete('g10', 'sidorov@pve');
      expect((await b.stands.list()).map((s) => s.group)).toEqual(['g1', 'g1']);
    });

    it('round-trips the journal, jobs, links, audit (newest first), replicas and groups', async () => {
      const s = await open();
      await s.journal.intend('vm', 10000, { cluster: 'lab', group: 'g', user: 'a@pve', node: 'pve1' });
      await s.journal.intend('vm', 10000, { cluster: 'other' });
      await s.journal.confirm('vm', 10000, 'lab');
      await s.journal.intend('vm', 10000, { cluster: 'lab', group: 'g' });
      await s.journal.intend('bridge', 'pve1/vmbr1000', { cluster: 'lab', group: 'g' });
      expect((await s.journal.list({ cluster: 'lab' })).map((e) => `${e.kind}:${e.id}:${e.state}`)).toEqual([
        'bridge:pve1/vmbr1000:intended',
        'vm:10000:confirmed',
      ]);
      await s.journal.forget('vm', 10000, 'lab');
      expect((await s.journal.list({ kind: 'vm' })).map((e) => e.cluster)).toEqual(['other']);

      const t0 = '2026-11-25T10:00:00.000Z';
      await s.jobs.create({ id: 'j1', kind: 'deploy', group: 'g', status: 'running', progress: { done: 0, total: 2 }, requestedBy: { via: 'cli' }, createdAt: t0, updatedAt: t0 });
      await s.jobs.create({ id: 'j2', kind: 'cleanup', status: 'succeeded', progress: { done: 1, total: 1 }, requestedBy: { via: 'cli' }, createdAt: t0, updatedAt: t0 });
      expect((await s.jobs.listRunning()).map((j) => j.id)).toEqual(['j1']);
      await s.jobs.update('j1', { status: 'failed' });
      expect(await s.jobs.listRunning()).toEqual([]);

      await s.links.link('555', 'Ivanov@pve', 'admin');
      expect((await s.links.byUserid('ivanov@pve')).length).toBe(1);
      await s.audit.append({ actor: 'cli', action: 'deploy', group: 'g' });
      await s.audit.append({ actor: 'cli', action: 'cleanup', group: 'g' });
      await s.audit.append({ actor: 'cli', action: 'reset', group: 'h' });
      expect((await s.audit.list({ limit: 1 }))[0]?.action).toBe('reset');
      expect((await s.audit.list({ group: 'g' })).map((e) => e.action)).toEqual(['cleanup', 'deploy']);
      await s.replicas.put({ cluster: 'lab', sourceVmid: 9000, sourceNode: 'pve1', node: 'pve2', vmid: 9100, name: 'r', createdAt: t0 });
      expect((await s.replicas.list('lab')).map((r) => r.vmid)).toEqual([9100]);
      await s.groups.put({ name: 'g', cluster: 'lab', profile: { name: 'p', snapshot: { a: 1 } }, createdAt: t0 });
      expect((await s.groups.get('g'))?.profile.snapshot).toEqual({ a: 1 });
    });

    it('names the key of a corrupt record instead of guessing; a list skips it, reports it and keeps the others', async () => {
      const corrupt: StoreCorruptError[] = [];
      const s = await open({ onCorrupt: (e) => corrupt.push(e) });
      await s.stands.put(stand('g', 'y@pve'));
      await s.backend.keyv.set('stand:g/x%40pve', { group: 'g' });
      const err = await s.stands.get('g', 'x@pve').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreCorruptError);
      expect((err as Error).message).toMatch(/^state file entry stand:g\/x%40pve is not valid/);
      const listed = await s.stands.listByGroup('g');
      expect(listed.map((r) => r.userid)).toEqual(['y@pve']);
      expect(corrupt.map((e) => e.key)).toEqual(['stand:g/x%40pve']);
    });

    it('gives a group lock to exactly one of many racing holders, names the holder, and token-checks renew/release', async () => {
      const a = await open();
      const b = await open();
      for (let round = 0; round < 8; round++) {
        const got = await Promise.all([
          a.tryAcquireGroupLock(`g${round}`, 'job:1', 60_000),
          b.tryAcquireGroupLock(`g${round}`, 'job:2', 60_000),
          a.tryAcquireGroupLock(`g${round}`, 'job:3', 60_000),
          b.tryAcquireGroupLock(`g${round}`, 'job:4', 60_000),
        ]);
        expect(got.filter(Boolean).length).toBe(1);
      }
      const held = await a.acquireGroupLock('netlab', 'job:first', 60_000);
      const err = await b.acquireGroupLock('netlab', 'job:second', 60_000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GroupBusyError);
      expect((err as Error).message).toMatch(/^group netlab is busy: job:first is running a job on it \(lock held until /);
      expect((await b.lockInfo('netlab'))?.holder).toBe('job:first');
      expect((await b.leaseInfo('group:netlab'))?.owner).toBe(INSTANCE_ID);
      await held.release();
      const next = await b.acquireGroupLock('netlab', 'job:second', 60_000);
      expect(await held.renew()).toBe(false);
      await held.release(); // a stale holder's release must not free the new holder's lock
      expect((await a.lockInfo('netlab'))?.holder).toBe('job:second');
      expect(await next.renew(120_000)).toBe(true);
    });

    it('frees an unrenewed lock when its TTL runs out; the old holder learns it lost it', async () => {
      const a = await open();
      const b = await open();
      const old = await a.acquireGroupLock('g', 'job:old', 400);
      expect(await b.tryAcquireGroupLock('g', 'job:new', 60_000)).toBeUndefined();
      const taken = await until('the expired lock to be taken', () => b.tryAcquireGroupLock('g', 'job:new', 60_000));
      expect(taken.holder).toBe('job:new');
      expect(await old.renew()).toBe(false);
      await old.release();
      expect((await a.lockInfo('g'))?.holder).toBe('job:new');
    });

    it('takes over at once from a dead process of this host and pid namespace, never from another container with the same hostname', async () => {
      const me = parseInstanceId(INSTANCE_ID)!;
      const pid = deadPid();
      const deadHere = `${hostname()}:${pid}:${me.scope}:${me.start}:00000000`;
      const otherContainer = `${hostname()}:${pid}:0123456789abcdef:${me.start}:11111111`;
      const oldFormat = `${hostname()}:${pid}`;
      const ghost = await open({ instanceId: deadHere });
      const foreign = await open({ instanceId: otherContainer });
      const legacy = await open({ instanceId: oldFormat });
      const live = await open();
      await ghost.acquireGroupLock('a', 'job:ghost', 60_000);
      await foreign.acquireGroupLock('b', 'job:foreign', 60_000);
      await legacy.acquireGroupLock('c', 'job:legacy', 60_000);
      expect((await live.tryAcquireGroupLock('a', 'job:live', 60_000))?.holder).toBe('job:live');
      // the same hostname and a pid that is gone here: the holder may be alive in its own pid namespace
      expect(await live.tryAcquireGroupLock('b', 'job:live', 60_000)).toBeUndefined();
      expect(await live.tryAcquireGroupLock('c', 'job:live', 60_000)).toBeUndefined();
      // a live holder (this process, through another store) keeps its lock
      const other = await open();
      expect(await other.tryAcquireGroupLock('a', 'job:other', 60_000)).toBeUndefined();
      expect((await other.lockInfo('b'))?.holder).toBe('job:foreign');
    });

    it('reserves ids atomically per group: racing groups get disjoint sets, a group renews its own, release frees them', async () => {
      const a = await open();
      const b = await open();
      const ids = Array.from({ length: 40 }, (_, i) => ({ kind: 'vm' as const, id: 10000 + i }));
      const [refusedA, refusedB] = await Promise.all([
        a.reservations.claim('lab', 'ga', ids, 60_000),
        b.reservations.claim('lab', 'gb', [...ids].reverse(), 60_000),
      ]);
      const list = await a.reservations.list('lab');
      expect(list.length).toBe(40);
      const ofA = new Set(list.filter((r) => r.group === 'ga').map((r) => r.id));
      const ofB = new Set(list.filter((r) => r.group === 'gb').map((r) => r.id));
      expect(ofA.size + ofB.size).toBe(40);
      expect(refusedA.map((r) => r.id).sort()).toEqual([...ofB].sort());
      expect(refusedB.map((r) => r.id).sort()).toEqual([...ofA].sort());
      expect(refusedA.every((r) => r.holder === 'gb')).toBe(true);
      // the same group again: its own are renewed, not refused
      expect(await a.reservations.claim('lab', 'ga', [...ofA].map((id) => ({ kind: 'vm' as const, id })), 60_000)).toEqual([]);
      await a.reservations.claim('lab', 'ga', [{ kind: 'bridge', id: 'pve1/vmbr1007' }, { kind: 'vnet', id: 'sv1234' }], 60_000);
      expect((await b.reservations.list('lab')).filter((r) => r.kind !== 'vm').map((r) => `${r.kind}:${r.id}`)).toEqual([
        'bridge:pve1/vmbr1007',
        'vnet:sv1234',
      ]);
      expect(await b.reservations.list('other')).toEqual([]);
      await a.reservations.release('lab', 'ga');
      expect((await b.reservations.list('lab')).every((r) => r.group === 'gb')).toBe(true);
      expect(await b.reservations.claim('lab', 'gb', ids, 60_000)).toEqual([]);
    });

    it('lets exactly one caller claim a one-time action, across stores', async () => {
      const a = await open();
      const b = await open();
      const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimOnce('warn:g/u@pve/2026-12-01', `p${i}`, 60_000)));
      expect(got.filter(Boolean).length).toBe(1);
      expect(await a.claimOnce('warn:g/u@pve/2026-12-02', 'p', 60_000)).toBe(true);
    });
  });
}
