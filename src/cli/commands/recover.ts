import { recover } from '../../core/recover.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { writeLine } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { count } from '../../i18n/index.js';

const nn = (n: number, one: string, other: string): string => count('en', n, { one, other });

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
      `recovered from ${r.cluster} into ${ctx.store.file}: ${nn(r.stands, 'stand', 'stands')} in ${nn(r.groups.length, 'group', 'groups')}` +
        `${r.groups.length ? ` (${r.groups.join(', ')})` : ''}, ${nn(r.vms, 'VM', 'VMs')}, ${nn(r.bridges, 'bridge', 'bridges')}, ${nn(r.users, 'user', 'users')}, ` +
        `${nn(r.replicas, 'template replica', 'template replicas')}; ${r.known === 1 ? '1 stand was' : `${r.known} stands were`} already recorded`,
    );
    for (const w of r.warnings) writeLine(env.io.stderr, `warning: ${w}`);
    return EXIT_OK;
  });
}
