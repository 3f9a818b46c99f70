import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { envValue } from '../io.js';
import { print } from '../output.js';
import type { CommandEnv } from '../program.js';

export interface DemoOptions {
  timeScale?: string;
  profile: string;
  keep?: boolean;
}

/** The project's data/ directory (example profiles and user lists), found from this file upwards. */
export function exampleDataDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'data');
    if (existsSync(path.join(candidate, 'users.example.txt'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new UserError('cannot find the example data/ directory (data/users.example.txt) next to the program');
}

/**
 * `stands demo` (npm run demo): a simulated 3-node cluster in this process, a temporary config pointing at it,
 * a deploy of the example profile for data/users.example.txt with the live progress display, the status, and
 * what cleaning up would remove. Needs nothing but `npm ci`.
 */
export async function demoCommand(opts: DemoOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const scaleText = opts.timeScale ?? envValue(io.env, 'STANDS_DEMO_TIME_SCALE') ?? '0.5';
  const timeScale = Number(scaleText);
  if (!Number.isFinite(timeScale) || timeScale <= 0 || timeScale > 10) {
    throw new UserError(`--time-scale ${scaleText}: expected a number such as 0.1 (0 < x ≤ 10)`);
  }
  const data = exampleDataDir();
  const [{ startSimulator }, { simConnectionsYaml }] = await Promise.all([
    import('../../sim/index.js'),
    import('./demo-config.js'),
  ]);
  const dir = await mkdtemp(path.join(tmpdir(), 'stands-demo-'));
  const sim = await startSimulator({ timeScale, rngSeed: 1 });
  try {
    const configDir = path.join(dir, 'config');
    await mkdir(path.join(configDir, 'profiles'), { recursive: true });
    await writeFile(path.join(configDir, 'connections.yml'), simConnectionsYaml(sim));
    const profileFile = path.join(configDir, 'profiles', `${opts.profile}.yml`);
    await copyFile(path.join(data, 'profiles', `${opts.profile}.yml`), profileFile);
    const users = path.join(dir, 'users.example.txt');
    await copyFile(path.join(data, 'users.example.txt'), users);
    const statePath = path.join(dir, 'state.sqlite');
    const sub: CommandEnv = {
      ...env,
      paths: { configDir, statePath },
      clientOptions: { timeScale },
    };

    print(io, `pve-stands demo: a simulated Proxmox VE cluster (3 nodes, time ×${timeScale}) at ${sim.url}`);
    print(io, `Config: ${configDir} (connections.yml pins the simulator's certificate ${sim.fingerprint.slice(0, 23)}…)`);
    print(io, `Deploying profile ${opts.profile} (data/profiles/${opts.profile}.yml) for data/users.example.txt:\n`);

    const group = `${opts.profile}-demo`;
    const { deployCommand } = await import('./deploy.js');
    const code = await deployCommand({ profile: opts.profile, users, group, yes: true, start: true }, sub);

    print(io, '\nStatus (`stands status`):\n');
    const { statusCommand } = await import('./status.js');
    await statusCommand({}, sub);

    print(io, `\nCleaning up is one command: \`stands cleanup --group ${group}\`. What it would remove here (--dry-run):\n`);
    const { cleanupCommand } = await import('./cleanup.js');
    await cleanupCommand({ group, dryRun: true }, sub);

    print(io, '\nOn your own cluster: put it in data/connections.yml, then');
    print(io, `  npx stands deploy --profile ${opts.profile} --users data/users.example.txt --dry-run`);
    if (opts.keep && io.signal) {
      print(io, `\nKeeping the simulator running (Ctrl+C to stop). Try: npx stands status --config ${configDir} --state ${statePath}`);
      await new Promise<void>((resolve) => io.signal!.addEventListener('abort', () => resolve(), { once: true }));
    } else {
      print(io, 'See README.md. The simulator stops now; `npx stands sim` runs one you can point the CLI at.');
    }
    return code;
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
