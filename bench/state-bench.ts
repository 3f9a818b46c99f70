/**
 * `npx tsx bench/state-bench.ts [--stands 500] [--write-readme]`: the state backends side by side.
 * 1. Group lock acquire + release latency (one store, sequential; p50/p95 of 300 rounds), and a contended
 *    round (two stores racing for one group).
 * 2. The store overhead of a 500-stand deploy: the store calls a deploy of the 4-VM benchmark profile makes
 *    (plan scans and reservations; per stand: user/pool/ACL/2 bridges/4 VMs journaled intend+confirm, the stand
 *    record written once and updated per VM step, job progress), replayed with 16 stands in flight as the
 *    executor runs them, without the cluster. Wall time and store calls per second.
 * PostgreSQL/Redis: STANDS_TEST_PG_URL / STANDS_TEST_REDIS_URL (default the 127.0.0.1 test servers); a
 * backend that does not answer is reported as skipped. Each backend runs in a fresh namespace, dropped after.
 */
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../src/store/index.js';
import { freshLocation, serverStatus, type BackendName } from '../test/support/state-servers.js';

const args = process.argv.slice(2);
const STANDS = Number(args[args.indexOf('--stands') + 1] ?? 500) || 500;
const VMS = 4;
const INFLIGHT = 16;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const ms = (n: number): string => `${n.toFixed(2)} ms`;

async function lockBench(s: Store, t: Store): Promise<{ p50: number; p95: number; contendedP50: number }> {
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const l = await s.acquireGroupLock(`bench-${i % 10}`, 'job:bench', 30_000);
    await l.release();
    times.push(performance.now() - t0);
  }
  const contended: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    const [a, b] = await Promise.all([s.tryAcquireGroupLock('race', 'job:a', 30_000), t.tryAcquireGroupLock('race', 'job:b', 30_000)]);
    contended.push(performance.now() - t0);
    await (a ?? b)?.release();
  }
  return { p50: pct(times, 50), p95: pct(times, 95), contendedP50: pct(contended, 50) };
}

async function deployReplay(s: Store): Promise<{ wallMs: number; calls: number }> {
  let calls = 0;
  const c = <T>(p: Promise<T>): Promise<T> => {
    calls++;
    return p;
  };
  const t0 = performance.now();
  const cluster = 'bench';
  const group = 'bench-class';
  const now = new Date().toISOString();
  // planning: scans, then one reservation claim for every id of the plan
  await Promise.all([c(s.stands.list({ cluster })), c(s.journal.list({ cluster })), c(s.replicas.list(cluster)), c(s.reservations.list(cluster))]);
  const items = Array.from({ length: STANDS }, (_, i) => [
    ...Array.from({ length: VMS }, (_, v) => ({ kind: 'vm' as const, id: 10000 + i * VMS + v })),
    { kind: 'bridge' as const, id: `pve${(i % 3) + 1}/vmbr${1000 + i * 2}` },
    { kind: 'bridge' as const, id: `pve${(i % 3) + 1}/vmbr${1001 + i * 2}` },
  ]).flat();
  await c(s.reservations.claim(cluster, group, items, 3_600_000));
  const lock = await c(s.acquireGroupLock(group, 'job:bench-deploy', 30_000));
  await c(s.jobs.create({ id: 'bench-deploy', kind: 'deploy', group, cluster, status: 'running', progress: { done: 0, total: STANDS }, requestedBy: { via: 'cli' }, createdAt: now, updatedAt: now }));
  let next = 0;
  let done = 0;
  async function stand(i: number): Promise<void> {
    const user = `u${i}@pve`;
    const node = `pve${(i % 3) + 1}`;
    const meta = { cluster, group, user, job: 'bench-deploy' };
    await c(s.stands.put({
      cluster, group, user: `u${i}`, userid: user, profile: 'bench4', pool: `${group}_u${i}`, node,
      vms: Array.from({ length: VMS }, (_, v) => ({ machine: `m${v}`, vmid: 10000 + i * VMS + v, node, name: `u${i}-m${v}`, status: 'planned' as const })),
      segments: [0, 1].map((k) => ({ alias: `n${k}`, kind: 'bridge' as const, iface: `vmbr${1000 + i * 2 + k}`, node, vlanAware: false })),
      vlans: [], createdUser: true, poolCreated: true, status: 'deploying', createdAt: now, updatedAt: now,
    }));
    for (const [kind, id] of [['user', user], ['pool', `${group}_u${i}`], ['acl', `/pool/${group}_u${i}|${user}|PVEVMUser`], ['bridge', `${node}/vmbr${1000 + i * 2}`], ['bridge', `${node}/vmbr${1001 + i * 2}`]] as const) {
      await c(s.journal.intend(kind, id, { ...meta, node }));
      await c(s.journal.confirm(kind, id, cluster));
    }
    for (let v = 0; v < VMS; v++) {
      const vmid = 10000 + i * VMS + v;
      await c(s.journal.get('vm', vmid, cluster));
      await c(s.journal.intend('vm', vmid, { ...meta, node }));
      await c(s.journal.confirm('vm', vmid, cluster));
      for (const step of ['clone', 'config', 'snapshot', 'start']) {
        await c(s.stands.update(group, user, (r) => ({ ...r, vms: r.vms.map((x) => (x.vmid === vmid ? { ...x, steps: [...x.steps, step] } : x)) })));
      }
    }
    await c(s.stands.update(group, user, (r) => ({ ...r, status: 'ready' })));
    done++;
    if (done % 25 === 0) await c(s.jobs.update('bench-deploy', { progress: { done, total: STANDS } }));
  }
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < STANDS) await stand(next++);
    }),
  );
  await c(s.jobs.update('bench-deploy', { status: 'succeeded', finishedAt: new Date().toISOString() }));
  await c(s.reservations.release(cluster, group));
  await c(lock.release());
  return { wallMs: performance.now() - t0, calls };
}

const rows: string[] = [];
for (const name of ['sqlite', 'postgres', 'redis'] as BackendName[]) {
  const st = await serverStatus(name);
  if (!st.up) {
    rows.push(`| ${name} | skipped: ${st.why} | | | | |`);
    continue;
  }
  const loc = freshLocation(name);
  const s = await openStore(loc.url);
  const t = await openStore(loc.url);
  try {
    const l = await lockBench(s, t);
    const d = await deployReplay(s);
    rows.push(`| ${name} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.contendedP50)} | ${(d.wallMs / 1000).toFixed(1)} s (${d.calls} calls) | ${Math.round(d.calls / (d.wallMs / 1000))} |`);
    process.stderr.write(`[state-bench] ${rows.at(-1)}\n`);
  } finally {
    await s.close();
    await t.close();
    await loc.drop();
  }
}

const table = [
  `Machine: ${cpus().length}× ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${STANDS} stands × ${VMS} VMs, ${INFLIGHT} in flight.`,
  '',
  '| backend | lock acquire+release p50 | p95 | two stores racing, p50 | 500-stand deploy, store calls only | calls/s |',
  '|---|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
if (args.includes('--write-readme')) {
  const file = join(import.meta.dirname, 'README.md');
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- state-bench:begin -->';
  const end = '<!-- state-bench:end -->';
  if (text.includes(begin)) writeFileSync(file, text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n${end}`));
}
