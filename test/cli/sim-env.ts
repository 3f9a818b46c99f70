import { mkdtemp, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simConnectionsYaml } from '../../src/cli/commands/demo-config.js';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '../../src/sim/index.js';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface SimEnv {
  sim: RunningSimulator;
  dir: string;
  configDir: string;
  statePath: string;
  /** Global options for `main()`: --config DIR --state FILE. */
  globals: string[];
  close(): Promise<void>;
}

export { simConnectionsYaml };

/** A simulator (default seed) plus a temporary config dir with connections.yml, the example profiles and lists. */
export async function startSimEnv(o: StartSimulatorOptions = {}): Promise<SimEnv> {
  const sim = await startSimulator({ timeScale: 0.01, rngSeed: 7, ...o });
  const dir = await mkdtemp(path.join(tmpdir(), 'stands-cli-'));
  const configDir = path.join(dir, 'config');
  await mkdir(path.join(configDir, 'profiles'), { recursive: true });
  await writeFile(path.join(configDir, 'connections.yml'), simConnectionsYaml(sim));
  for (const p of ['netlab.yml', 'basic.yml']) {
    await copyFile(path.join(REPO, 'data/profiles', p), path.join(configDir, 'profiles', p));
  }
  const statePath = path.join(dir, 'state.sqlite');
  return {
    sim,
    dir,
    configDir,
    statePath,
    globals: ['--config', configDir, '--state', statePath],
    async close() {
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What a user could see on the cluster, in a comparable form (VMs, pools, users, ACLs, bridges incl. pending). */
export function clusterSnapshot(sim: RunningSimulator): Record<string, unknown> {
  const s = sim.state;
  return {
    vms: [...s.vms.values()]
      .map((v) => ({ vmid: v.vmid, node: v.node, name: v.config.name, tags: v.config.tags, pool: v.pool, status: v.status }))
      .sort((a, b) => a.vmid - b.vmid),
    pools: [...s.pools.values()].map((p) => ({ poolid: p.poolid, vmids: [...p.vmids].sort() })).sort((a, b) => a.poolid.localeCompare(b.poolid)),
    users: [...s.users.keys()].sort(),
    acl: s.acl.map((a) => `${a.path}|${a.ugid}|${a.roleid}`).sort(),
    network: [...s.network.entries()].map(([node, n]) => ({
      node,
      current: [...n.current.keys()].sort(),
      pending: n.pending ? [...n.pending.keys()].sort() : null,
    })),
  };
}

/** Objects of ours on the cluster: VMs tagged `stands`, pools/users/bridges other than the seed's. */
export function oursOnCluster(sim: RunningSimulator): { vms: number[]; bridges: string[] } {
  const vms = [...sim.state.vms.values()]
    .filter((v) => String(v.config.tags ?? '').split(/[;,\s]+/).includes('stands'))
    .map((v) => v.vmid);
  const bridges: string[] = [];
  for (const [node, n] of sim.state.network) {
    for (const [iface, i] of n.current) if (String(i.comments ?? '').includes('stands')) bridges.push(`${node}/${iface}`);
    for (const [iface, i] of n.pending ?? new Map()) if (String(i.comments ?? '').includes('stands')) bridges.push(`${node}/${iface} (pending)`);
  }
  return { vms, bridges: [...new Set(bridges)] };
}
