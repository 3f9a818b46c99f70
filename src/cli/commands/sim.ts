import path from 'node:path';
import { UserError } from '../../errors.js';
import type { CommandEnv } from '../program.js';

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
 * `stands sim`: the Proxmox VE simulator over HTTPS until interrupted (src/sim/cli-sim.ts). Prints the URL, the
 * certificate's fingerprint and credentials — readable lines, or with --json one JSON object on one line.
 */
export async function simCommand(opts: SimOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const port = number('--port', opts.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const timeScale = number('--time-scale', opts.timeScale, (n) => n > 0 && n <= 100);
  const { runSimCommand } = await import('../../sim/cli-sim.js');
  await runSimCommand(
    {
      port,
      host: opts.host,
      timeScale,
      ...(opts.seed ? { seed: path.resolve(io.cwd, opts.seed) } : {}),
      ...(opts.faults ? { faults: path.resolve(io.cwd, opts.faults) } : {}),
      ...(opts.json ? { json: true } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    },
    io.stdout,
  );
  return 0;
}
