import { mkdtemp, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

/** connections.yml for a running simulator: its token, its certificate fingerprint pinned. */
export function simConnectionsYaml(sim: Pick<RunningSimulator, 'url' | 'tokenId' | 'tokenSecret' | 'fingerprint'>): string {
  return [
    'clusters:',
    '  sim:',
    `    url: ${sim.url}`,
    `    token_id: "${sim.tokenId}"`,
    `    token_secret: "${sim.tokenSecret}"`,
    '    tls:',
    `      fingerprint: "${sim.fingerprint}"`,
    'default: sim',
    '',
  ].join('\n');
}

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
