import { recover } from '../../core/recover.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { writeLine } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';

export interface RecoverOptions {
  cluster?: string;
  json?: boolean;
}

/** `stands recover`: the state file was lost; rebuild it from the tags and comments on the cluster (reads only). */
export async function recoverCommand(opts: RecoverOptions, env: CommandEnv): Promise<number> {
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const r = await recover(ctx, opts.cluster ? { cluster: opts.cluster } : {});
    if (opts.json) {
      printJson(env.io, r);
      return EXIT_OK;
    }
    print(
      env.io,
      `recovered from ${r.cluster} into ${ctx.store.file}: ${r.stands} stand(s) in ${r.groups.length} group(s)` +
        `${r.groups.length ? ` (${r.groups.join(', ')})` : ''}, ${r.vms} VM(s), ${r.bridges} bridge(s), ${r.users} user(s), ` +
        `${r.replicas} template replica(s); ${r.known} stand(s) were already recorded`,
    );
    for (const w of r.warnings) writeLine(env.io.stderr, `warning: ${w}`);
    return EXIT_OK;
  });
}
