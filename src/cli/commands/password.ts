import { setPassword } from '../../core/credentials.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';

export interface PasswordOptions {
  user: string;
  cluster?: string;
  json?: boolean;
}

/** `stands password --user U`: a new generated password for a user pve-stands created, printed once. */
export async function passwordCommand(opts: PasswordOptions, env: CommandEnv): Promise<number> {
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const r = await setPassword(ctx, opts.user, opts.cluster ? { cluster: opts.cluster } : {});
    if (opts.json) printJson(env.io, r);
    else print(env.io, `new password for ${r.userid} (shown only now, not stored): ${r.password}`);
    return EXIT_OK;
  });
}
