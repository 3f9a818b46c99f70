import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupBusyError, openStore, StoreCorruptError, type Store } from '../../src/store/index.js';

let dir: string;
const opened: Store[] = [];
async function open(file = join(dir, 'state.sqlite'), now?: () => number): Promise<Store> {
  const s = await openStore(file, now ? { now } : {});
  opened.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stands-store-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

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

describe('stands', () => {
  it('survives a reopen of the file and lists a group by prefix only', async () => {
    const a = await open();
    await a.stands.put(stand('g1', 'ivanov@pve'));
    await a.stands.put(stand('g1', 'petrov@pve'));
    await a.stands.put(stand('g10', 'sidorov@pve'));
    await a.close();
    opened.pop();
    const b = await open();
    const g1 = await b.stands.listByGroup('g1');
    expect(g1.map((s) => s.userid)).toEqual(['ivanov@pve', 'petrov@pve']);
    expect((await b.stands.get('g10', 'sidorov@pve'))?.vms[0]?.steps).toEqual([]);
    expect(await b.stands.get('g1', 'nobody@pve')).toBeUndefined();
    expect((await b.stands.list()).length).toBe(3);
  });

  it('refuses to store a password (strict schema at write time)', async () => {
    const s = await open();
    await expect(s.stands.put({ ...stand('g', 'a@pve'), password: 'hunter2' } as never)).rejects.toThrow(
      /Unrecognized key.*password/,
    );
    expect(await s.stands.get('g', 'a@pve')).toBeUndefined();
  });

  it('serialises concurrent updates of one stand in a process (no lost write)', async () => {
    const s = await open();
    await s.stands.put(stand('g', 'a@pve'));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.stands.addHistory('g', 'a@pve', { event: `step-${i}` })),
    );
    const rec = await s.stands.get('g', 'a@pve');
    expect(rec?.history.map((h) => h.event).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `step-${i}`).sort());
  });

  it('names the key of a corrupt entry instead of guessing', async () => {
    const s = await open();
    const { KeyvSqlite } = await import('@keyv/sqlite');
    const raw = new KeyvSqlite({ uri: `sqlite://${s.file}` });
    await raw.query(`INSERT INTO keyv (key, value) VALUES ('stands:stand:g/x%40pve', '{"value":{"group":"g"}}')`);
    await raw.disconnect();
    const err = await s.stands.get('g', 'x@pve').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect((err as Error).message).toMatch(/^state file entry stand:g\/x%40pve is not valid/);
  });
});

describe('ownership journal', () => {
  it('keeps intended and confirmed entries per cluster and never downgrades a confirmed one', async () => {
    const s = await open();
    await s.journal.intend('vm', 10000, { cluster: 'lab', group: 'g', user: 'a@pve', node: 'pve1' });
    await s.journal.intend('vm', 10000, { cluster: 'other' });
    expect((await s.journal.get('vm', 10000, 'lab'))?.state).toBe('intended');
    await s.journal.confirm('vm', 10000, 'lab');
    await s.journal.intend('vm', 10000, { cluster: 'lab', group: 'g' });
    expect((await s.journal.get('vm', '10000', 'lab'))?.state).toBe('confirmed');
    expect((await s.journal.get('vm', 10000, 'other'))?.state).toBe('intended');
    await s.journal.intend('bridge', 'pve1/vmbr1000', { cluster: 'lab', group: 'g' });
    expect((await s.journal.list({ cluster: 'lab' })).map((e) => `${e.kind}:${e.id}:${e.state}`)).toEqual([
      'bridge:pve1/vmbr1000:intended',
      'vm:10000:confirmed',
    ]);
    await s.journal.forget('vm', 10000, 'lab');
    expect(await s.journal.get('vm', 10000, 'lab')).toBeUndefined();
    expect((await s.journal.list({ kind: 'vm' })).map((e) => e.cluster)).toEqual(['other']);
  });
});

describe('group lock', () => {
  it('is exclusive across two Store instances on one file, and free again after release', async () => {
    const file = join(dir, 'shared.sqlite');
    const a = await open(file);
    const b = await open(file);
    // race both stores many times: exactly one wins each round
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all([
        a.tryAcquireGroupLock(`g${round}`, 'cli:1', 60_000),
        b.tryAcquireGroupLock(`g${round}`, 'bot:2', 60_000),
        a.tryAcquireGroupLock(`g${round}`, 'cli:3', 60_000),
        b.tryAcquireGroupLock(`g${round}`, 'bot:4', 60_000),
      ]);
      expect(results.filter(Boolean).length).toBe(1);
    }
    const held = await a.acquireGroupLock('netlab', 'cli:100', 60_000);
    const err = await b.acquireGroupLock('netlab', 'bot:7', 60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupBusyError);
    expect((err as Error).message).toMatch(/^group netlab is busy: cli:100 is running a job on it \(lock held until /);
    expect((await b.lockInfo('netlab'))?.holder).toBe('cli:100');
    await held.release();
    const next = await b.acquireGroupLock('netlab', 'bot:7', 60_000);
    expect(next.holder).toBe('bot:7');
    expect(await held.renew()).toBe(false);
    expect(await next.renew(120_000)).toBe(true);
  });

  it('can be taken over once expired, and the old holder learns it lost it', async () => {
    let t = 1_000_000;
    const file = join(dir, 'exp.sqlite');
    const a = await open(file, () => t);
    const b = await open(file, () => t);
    const old = await a.acquireGroupLock('g', 'cli:dead', 1_000);
    expect(await b.tryAcquireGroupLock('g', 'bot', 1_000)).toBeUndefined();
    t += 1_001;
    const taken = await b.tryAcquireGroupLock('g', 'bot', 1_000);
    expect(taken?.holder).toBe('bot');
    expect(await old.renew()).toBe(false);
    await old.release(); // releasing a lost lock must not free the new holder's
    expect((await a.lockInfo('g'))?.holder).toBe('bot');
  });
});

describe('jobs, links, audit, replicas, groups', () => {
  it('round-trips each collection', async () => {
    const s = await open();
    await s.groups.put({
      name: 'netlab-class',
      cluster: 'lab',
      profile: { name: 'netlab', snapshot: { machines: [] } },
      createdAt: '2026-11-25T10:00:00.000Z',
    });
    expect((await s.groups.list()).map((g) => g.name)).toEqual(['netlab-class']);

    await s.jobs.create({
      id: 'j1',
      kind: 'deploy',
      group: 'netlab-class',
      status: 'running',
      progress: { done: 0, total: 10 },
      requestedBy: { via: 'discord', id: '123' },
      discord: { channelId: 'c', messageId: 'm' },
      createdAt: '2026-11-25T10:00:00.000Z',
      updatedAt: '2026-11-25T10:00:00.000Z',
    });
    await s.jobs.create({
      id: 'j2',
      kind: 'cleanup',
      status: 'succeeded',
      progress: { done: 1, total: 1 },
      requestedBy: { via: 'cli' },
      createdAt: '2026-11-25T11:00:00.000Z',
      updatedAt: '2026-11-25T11:00:00.000Z',
    });
    expect((await s.jobs.listRunning()).map((j) => j.id)).toEqual(['j1']);
    await s.jobs.update('j1', { status: 'partial', progress: { done: 9, total: 10 } });
    expect(await s.jobs.listRunning()).toEqual([]);
    expect((await s.jobs.get('j1'))?.progress.done).toBe(9);

    await s.links.link('555', 'Ivanov@pve', 'admin');
    expect((await s.links.byDiscord('555'))?.userid).toBe('Ivanov@pve');
    expect((await s.links.byUserid('ivanov@pve')).length).toBe(1);
    await s.links.unlink('555');
    expect(await s.links.byDiscord('555')).toBeUndefined();

    await s.audit.append({ actor: 'cli', action: 'deploy', group: 'g' });
    await s.audit.append({ actor: 'discord:1', action: 'cleanup', group: 'g', outcome: 'ok' });
    await s.audit.append({ actor: 'cli', action: 'reset', group: 'h' });
    expect((await s.audit.list({ limit: 1 }))[0]?.action).toBe('reset');
    expect((await s.audit.list()).map((e) => e.action)).toEqual(['reset', 'cleanup', 'deploy']);
    expect((await s.audit.list({ group: 'g' })).map((e) => e.action)).toEqual(['cleanup', 'deploy']);

    await s.replicas.put({ cluster: 'lab', sourceVmid: 9000, sourceNode: 'pve1', node: 'pve2', vmid: 9100, name: 'tpl-9000-pve2', createdAt: 'x' });
    expect((await s.replicas.get('lab', 9000, 'pve2'))?.vmid).toBe(9100);
    expect(await s.replicas.get('lab', 9000, 'pve3')).toBeUndefined();
    expect((await s.replicas.list('lab')).length).toBe(1);
  });
});

describe('group lock across processes', () => {
  it('lets exactly one of two processes take a group', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const file = join(dir, 'procs.sqlite');
    const parent = await open(file);
    const child = join(import.meta.dirname, 'fixtures', 'lock-child.ts');
    // the child and this process race for the same group; whichever order they run in, exactly one wins
    const [out, mine] = await Promise.all([
      run(process.execPath, ['--import', 'tsx', child, file, 'netlab', 'child'], { cwd: process.cwd() }),
      parent.tryAcquireGroupLock('netlab', 'parent', 60_000),
    ]);
    const theirs = JSON.parse(out.stdout.trim()) as { holder: string; got: boolean };
    expect(theirs.got).toBe(mine === undefined);
    expect((await parent.lockInfo('netlab'))?.holder).toBe(mine ? 'parent' : 'child');
  });

  it('takes over at once a lock whose holder process on this host has died, but never a live one', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const file = join(dir, 'dead.sqlite');
    const child = join(import.meta.dirname, 'fixtures', 'lock-child.ts');
    // the child takes the group for 60 s and exits without releasing it (as a SIGKILLed CLI would)
    const out = await run(process.execPath, ['--import', 'tsx', child, file, 'netlab', 'child'], { cwd: process.cwd() });
    expect(JSON.parse(out.stdout.trim())).toEqual({ holder: 'child', got: true });
    const parent = await open(file);
    expect((await parent.lockInfo('netlab'))?.holder).toBe('child');
    const taken = await parent.tryAcquireGroupLock('netlab', 'parent', 60_000);
    expect(taken?.holder).toBe('parent');
    // a holder that is alive (this very process, through another store) keeps its lock until it expires
    const other = await open(file);
    expect(await other.tryAcquireGroupLock('netlab', 'other', 60_000)).toBeUndefined();
    expect((await other.lockInfo('netlab'))?.holder).toBe('parent');
  });
});
