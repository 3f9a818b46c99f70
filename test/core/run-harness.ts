/**
 * Shared set-up of the run-side engine tests: a simulator over HTTPS (DEFAULT_SEED, small time scale), a real
 * SQLite state file in a tmp dir, and an AppContext built the way the CLI builds it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connections } from '../../src/config/connections.js';
import { loadProfile, type Profile } from '../../src/config/profile.js';
import { defaultSettings, type Settings } from '../../src/config/settings.js';
import { parseUserList, type UserList } from '../../src/config/user-list.js';
import { createContext, type AppContext } from '../../src/core/context.js';
import { silentLogger } from '../../src/log.js';
import { startSimulator, type FaultRuleInput, type RunningSimulator, type SimSeedInput } from '../../src/sim/index.js';

export interface RunEnv {
  sim: RunningSimulator;
  ctx: AppContext;
  dir: string;
  statePath: string;
  /** A second context on the same state file (a "new process" after a crash). */
  reopen(): Promise<AppContext>;
  close(): Promise<void>;
}

export const DATA_DIR = join(import.meta.dirname, '..', '..', 'data');

export async function startRunEnv(
  o: { timeScale?: number; faults?: FaultRuleInput[]; settings?: Partial<Settings>; rngSeed?: number; seed?: SimSeedInput } = {},
): Promise<RunEnv> {
  const timeScale = o.timeScale ?? 0.01;
  const sim = await startSimulator({ timeScale, rngSeed: o.rngSeed ?? 7, ...(o.faults ? { faults: o.faults } : {}), ...(o.seed ? { seed: o.seed } : {}) });
  const dir = await mkdtemp(join(tmpdir(), 'stands-run-'));
  const statePath = join(dir, 'state.sqlite');
  const connections: Connections = {
    clusters: {
      sim: {
        name: 'sim',
        url: sim.url,
        tokenId: sim.tokenId,
        tokenSecret: sim.tokenSecret,
        user: sim.user,
        password: sim.password,
        tls: { fingerprint: sim.fingerprint, insecure: false },
        maxInFlight: 6,
      },
    },
    default: 'sim',
    file: join(dir, 'connections.yml'),
  };
  const settings: Settings = { ...defaultSettings(), ...o.settings };
  const make = (): Promise<AppContext> =>
    createContext({
      configDir: dir,
      statePath,
      logger: silentLogger(),
      connections,
      settings,
      clientOptions: { timeScale, now: () => sim.clock.now() },
    });
  const ctx = await make();
  const opened: AppContext[] = [ctx];
  return {
    sim,
    ctx,
    dir,
    statePath,
    reopen: async () => {
      const c = await make();
      opened.push(c);
      return c;
    },
    close: async () => {
      for (const c of opened) await c.close().catch(() => undefined);
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function netlabProfile(): Promise<Profile> {
  return loadProfile(DATA_DIR, 'netlab');
}

export function users(n: number, prefix = 'student'): UserList {
  const text = Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}@pve`).join('\n');
  return parseUserList(text, 'class.txt');
}

/** Everything in the sim that is not ours, as plain data, for before/after deep comparison. */
export function foreignSnapshot(sim: RunningSimulator): unknown {
  const s = sim.state;
  const vms = [...s.vms.values()]
    .filter((v) => v.vmid < 10000)
    .map((v) => ({ vmid: v.vmid, node: v.node, status: v.status, pool: v.pool, config: v.config, snapshots: v.snapshots.map((x) => x.name) }));
  const pools = [...s.pools.values()]
    .filter((p) => !/^stands:/.test(p.comment ?? ''))
    .map((p) => ({ poolid: p.poolid, comment: p.comment, vmids: [...p.vmids].sort() }));
  const users = [...s.users.values()]
    .filter((u) => !/^stands:/.test(u.comment ?? ''))
    .map((u) => ({ userid: u.userid, comment: u.comment, email: u.email, password: u.password, enable: u.enable }));
  const net = [...s.network.entries()].map(([node, n]) => ({
    node,
    current: [...n.current.values()].filter((i) => !/^stands:/.test(i.comments ?? '')),
    pending: n.pending ? [...n.pending.values()].filter((i) => !/^stands:/.test(i.comments ?? '')) : null,
  }));
  const acl = s.acl.filter((a) => !/^\/pool\/.*_/.test(a.path));
  return { vms, pools, users, net, acl };
}

/** Everything of ours still on the simulated cluster (replicas excepted: cleanup keeps them). */
export function leftovers(env: RunEnv): string[] {
  const st = env.sim.state;
  const out: string[] = [];
  for (const v of st.vms.values()) if (v.vmid >= 10000 && v.vmid < 100000) out.push(`vm ${v.vmid}`);
  for (const p of st.pools.values()) if (/^stands:/.test(p.comment ?? '')) out.push(`pool ${p.poolid}`);
  for (const u of st.users.values()) if (/^stands:/.test(u.comment ?? '')) out.push(`user ${u.userid}`);
  for (const [node, n] of st.network) {
    for (const i of n.current.values()) if (/^stands:/.test(i.comments ?? '')) out.push(`bridge ${node}/${i.iface}`);
    for (const i of n.pending?.values() ?? []) if (/^stands:/.test(i.comments ?? '')) out.push(`pending bridge ${node}/${i.iface}`);
  }
  for (const a of st.acl) if (/^\/pool\/net/.test(a.path)) out.push(`acl ${a.path} ${a.ugid}`);
  return out;
}

