/** Spawns bench/lib/sim-child.ts and talks to it over stdin/stdout (one JSON line per answer). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StartSimulatorOptions, TimingModel } from '../../src/sim/index.js';
import type { SimCredentials } from './fixture.js';

export interface SimProcessStats {
  requests: number;
  taskStatusPolls: number;
  byRoute: Record<string, number>;
  rss: number;
  maxRSS: number;
  cpu: { user: number; system: number };
  vms: number;
}

export interface SimProcess extends SimCredentials {
  timing: TimingModel;
  pid: number;
  stats(): Promise<SimProcessStats>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./sim-child.ts', import.meta.url));

export async function spawnSimulator(opts: StartSimulatorOptions): Promise<SimProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'stands-bench-sim-'));
  const file = join(dir, 'options.json');
  writeFileSync(file, JSON.stringify(opts));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, file], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const rl: Interface = createInterface({ input: child.stdout! });
  const waiters: ((line: string) => void)[] = [];
  rl.on('line', (line) => waiters.shift()?.(line));
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      waiters.push(resolve);
      child.once('exit', (code) => reject(new Error(`simulator process exited (${code})`)));
    });
  const first = JSON.parse(await next()) as SimCredentials & { timing: TimingModel; pid: number };
  const ask = async (cmd: string): Promise<string> => {
    const p = next();
    child.stdin!.write(`${cmd}\n`);
    return p;
  };
  return {
    ...first,
    stats: async () => JSON.parse(await ask('stats')) as SimProcessStats,
    resetStats: async () => void (await ask('reset')),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end('exit\n');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
