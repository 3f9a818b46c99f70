/**
 * The Proxmox VE API simulator: a faithful local cluster for tests, benchmarks and the demo, served over real
 * HTTPS on loopback under /api2/json (issue 3; behaviour per ../shared/pve-api/BEHAVIOUR.md).
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import selfsigned from 'selfsigned';
import { Auth } from './auth.js';
import { createClock, type SimClock } from './clock.js';
import type { Sim, SimStats } from './context.js';
import { DEFAULT_SEED } from './default-seed.js';
import { type FaultRule, type FaultRuleInput, Faults, loadFaultsFile } from './faults.js';
import { LockTable, Workers } from './locks.js';
import { createRng } from './rng.js';
import { createRouter } from './handlers/index.js';
import { loadSeedFile, parseSeed, type SimSeed, type SimSeedInput } from './seed.js';
import { createHandler } from './server.js';
import { SimState } from './state.js';
import { TaskManager } from './tasks.js';
import { DEFAULT_TIMING, type TimingModel } from './timing.js';

export { bigSeed } from './big-seed.js';
export { DEFAULT_SEED } from './default-seed.js';
export { FaultRule, loadFaultsFile } from './faults.js';
export { connectionPasses, evaluate as evaluateFirewall } from './firewall-eval.js';
export { snapshotFirewall } from './firewall-state.js';
export type { Packet as FirewallPacket, Verdict as FirewallVerdict } from './firewall-eval.js';
export type { FaultRuleInput } from './faults.js';
export { loadSeedFile, parseSeed, SimSeed } from './seed.js';
export type { SimSeedInput } from './seed.js';
export { SimState } from './state.js';
export type { SimClock } from './clock.js';
export { DEFAULT_TIMING } from './timing.js';
export type { TimingModel } from './timing.js';

export interface StartSimulatorOptions {
  /** 0 (default) = random free port */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /** object, or path to a YAML/JSON seed file; default = DEFAULT_SEED */
  seed?: SimSeedInput | SimSeed | string;
  faults?: (FaultRuleInput | FaultRule)[] | string;
  /** 1 = real PVE speed (default); tests use 0.01–0.05 */
  timeScale?: number;
  /** delay of 401 replies in real ms (default 3000 * timeScale) */
  authFailDelayMs?: number;
  /** seeded randomness (faults, MACs, durations, background load) */
  rngSeed?: number;
  /** override parts of the timing model (simulated ms) */
  timing?: Partial<TimingModel>;
}

export interface RunningSimulator {
  /** 'https://127.0.0.1:PORT' (no /api2/json) */
  url: string;
  /** sha256 of the certificate, 'AB:CD:…' uppercase with colons, as PVE shows it */
  fingerprint: string;
  /** the self-signed certificate (PEM) */
  caPem: string;
  user: 'root@pam';
  password: string;
  /** 'root@pam!stands' (privsep=0, full root rights) */
  tokenId: string;
  tokenSecret: string;
  state: SimState;
  clock: SimClock;
  faults: { add(rule: FaultRuleInput | FaultRule): void; clear(): void; list(): FaultRule[] };
  stats: SimStats;
  timing: TimingModel;
  /** pvedaemon requests in work and queued on a node */
  load(node: string): { inWork: number; queued: number };
  stop(): Promise<void>;
}

let certPromise: Promise<{ cert: string; key: string }> | undefined;
/** One certificate per process: generating keys is the slowest part of a start, and tests start many sims. */
function certificate(): Promise<{ cert: string; key: string }> {
  certPromise ??= selfsigned
    .generate([{ name: 'commonName', value: 'pve1.sim.local' }, { name: 'organizationName', value: 'PVE Cluster Node' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 2 * 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
      ],
    })
    .then((p) => ({ cert: p.cert, key: p.private }));
  return certPromise;
}

export async function startSimulator(o: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const timeScale = o.timeScale ?? 1;
  const rngSeed = o.rngSeed ?? 1;
  const rng = createRng(rngSeed);
  const clock = createClock(timeScale);
  const timing: TimingModel = { ...DEFAULT_TIMING, ...o.timing };
  const seed = typeof o.seed === 'string' ? await loadSeedFile(o.seed) : parseSeed(o.seed ?? DEFAULT_SEED);
  const faultRules = typeof o.faults === 'string' ? await loadFaultsFile(o.faults) : (o.faults ?? []);

  const password = seed.rootPassword ?? randomBytes(12).toString('base64url');
  const tokenSecret = seed.tokenSecret ?? randomUUID();
  const state = new SimState(seed, clock, rng, { rootPassword: password, tokenSecret });
  for (const node of state.nodes.keys()) for (const v of state.sdn.vnets.keys()) state.network.get(node)!.active.add(v);

  const { cert, key } = await certificate();
  const fingerprint = new X509Certificate(cert).fingerprint256;
  const authFailDelayMs = o.authFailDelayMs ?? 3000 * timeScale;

  const stats: SimStats = {
    requests: 0,
    byRoute: {},
    taskStatusPolls: 0,
    reset() {
      this.requests = 0;
      this.byRoute = {};
      this.taskStatusPolls = 0;
    },
  };
  const faults = new Faults(rng, (rule) => {
    const node = rule.node ? state.nodes.get(rule.node) : undefined;
    if (!node) return;
    if (rule.atMs) setTimeout(() => (node.online = false), clock.toReal(rule.atMs)).unref();
    else node.online = false;
  });
  const workers = new Map<string, Workers>();
  for (const n of state.nodes.keys()) workers.set(n, new Workers(timing.workersPerNode));
  const sim: Sim = {
    state, clock, rng, timing, stats, faults, workers, fingerprint, authFailDelayMs,
    locks: new LockTable(clock),
    tasks: new TaskManager(state, clock),
    auth: new Auth(state, clock, timing.ticketLifetimeMs),
  };
  for (const f of faultRules) faults.add(f);

  const router = createRouter();

  const entry = [...state.nodes.keys()][0]!;
  const server: Server = createServer({ cert, key, keepAliveTimeout: 5000 }, createHandler({ sim, router, authFailDelayMs, entryNode: () => entry }));
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    fingerprint,
    caPem: cert,
    user: 'root@pam',
    password,
    tokenId: 'root@pam!stands',
    tokenSecret,
    state,
    clock,
    timing,
    faults: { add: (r) => faults.add(r), clear: () => faults.clear(), list: () => faults.list() },
    stats,
    load: (node) => {
      const w = workers.get(node);
      return { inWork: w?.inWork ?? 0, queued: w?.queued ?? 0 };
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
