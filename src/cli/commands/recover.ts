import { recover } from '../../core/recover.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { writeLine } from '../io.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { say, text } from '../../i18n/index.js';
import { langOf } from '../lang.js';

export interface RecoverOptions {
  cluster?: string;
  json?: boolean;
}

/** `stands recover`: the state file was lost; rebuild it from the tags and comments on the cluster (reads only). */
export async function recoverCommand(opts: RecoverOptions, env: CommandEnv): Promise<number> {
  const lang = langOf(env);
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const r = await recover(ctx, opts.cluster ? { cluster: opts.cluster } : {});
    if (opts.json) {
      printJson(env.io, r);
      return EXIT_OK;
    }
    print(
      env.io,
      say(lang, 'out.recovered', {
        cluster: r.cluster,
        file: ctx.store.file,
        stands: r.stands,
        groups: r.groups.length,
        list: r.groups.join(', '),
        vms: r.vms,
        bridges: r.bridges,
        users: r.users,
        replicas: r.replicas,
        known: r.known,
      }),
    );
    const coded = r.warningMsgs?.length === r.warnings.length ? r.warningMsgs : r.warnings;
    for (const w of coded) writeLine(env.io.stderr, say(lang, 'cli.warning', { message: text(lang, w) }));
    return EXIT_OK;
  });
}
