import path from 'node:path';
import { copyState } from '../../store/copy.js';
import { isStateUrl } from '../../store/index.js';
import { EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';

export interface StateCopyOptions {
  from: string;
  to: string;
  json?: boolean;
}

/** `stands state copy --from A --to B`: SQLite ↔ PostgreSQL/Redis, verified by reading everything back. */
export async function stateCopyCommand(opts: StateCopyOptions, env: CommandEnv): Promise<number> {
  const where = (s: string): string => (isStateUrl(s) ? s.trim() : path.resolve(env.io.cwd, s));
  const r = await copyState(where(opts.from), where(opts.to));
  if (opts.json) {
    printJson(env.io, r);
    return EXIT_OK;
  }
  const parts = Object.entries(r.collections).map(([k, n]) => `${n} ${k}`);
  print(env.io, `copied ${r.records} record(s) from ${r.from} to ${r.to} and verified each (${parts.join(', ') || 'nothing to copy'})`);
  print(env.io, `point STANDS_STATE (or --state) at ${r.to} for every instance`);
  return EXIT_OK;
}
