import { UserError } from '../../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import path from 'node:path';

export interface SimOptions {
  port: string;
  host: string;
  seed?: string;
  faults?: string;
  timeScale: string;
  json?: boolean;
}

function number(name: string, value: string, ok: (n: number) => boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UserError(`${name} ${value}: not a valid value`);
  return n;
}

/**
 * `stands sim`: the Proxmox VE simulator over HTTPS until interrupted. Prints the URL, the certificate's
 * fingerprint and credentials — readable lines, or with --json one JSON object on one line.
 */
export async function simCommand(opts: SimOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const port = number('--port', opts.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const timeScale = number('--time-scale', opts.timeScale, (n) => n > 0 && n <= 100);
  const { startSimulator } = await import('../../sim/index.js');
  const sim = await startSimulator({
    port,
    host: opts.host,
    timeScale,
    ...(opts.seed ? { seed: path.resolve(io.cwd, opts.seed) } : {}),
    ...(opts.faults ? { faults: path.resolve(io.cwd, opts.faults) } : {}),
  });
  try {
    if (opts.json) {
      printJson(io, {
        url: sim.url,
        fingerprint: sim.fingerprint,
        user: sim.user,
        password: sim.password,
        token_id: sim.tokenId,
        token_secret: sim.tokenSecret,
      });
    } else {
      print(io, `Proxmox VE simulator on ${sim.url} (time scale ${timeScale})`);
      print(io, `  fingerprint  ${sim.fingerprint}`);
      print(io, `  user         ${sim.user}   password ${sim.password}`);
      print(io, `  API token    ${sim.tokenId}   secret ${sim.tokenSecret}`);
      print(io, '');
      print(io, 'connections.yml for it:');
      print(io, '  clusters:');
      print(io, '    sim:');
      print(io, `      url: ${sim.url}`);
      print(io, `      token_id: "${sim.tokenId}"`);
      print(io, `      token_secret: "${sim.tokenSecret}"`);
      print(io, `      tls: { fingerprint: "${sim.fingerprint}" }`);
      print(io, '  default: sim');
      print(io, '');
      print(io, 'Press Ctrl+C to stop.');
    }
    await new Promise<void>((resolve) => {
      const signal = io.signal;
      if (!signal || signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await sim.stop();
  }
  return 0;
}
