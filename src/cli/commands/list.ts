import { listGroups } from '../../core/status.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { table } from '../tables.js';
import { say } from '../../i18n/index.js';
import { head, langOf } from '../lang.js';

export interface ListOptions {
  json?: boolean;
}

/** `stands list`: groups and their stands from the state file (no request to the cluster). */
export async function listCommand(opts: ListOptions, env: CommandEnv): Promise<number> {
  // the state file only: no Proxmox secrets needed (their variables may be unset)
  const lang = langOf(env);
  return withContext(env, { secrets: false }, async (ctx) => {
    const groups = await listGroups(ctx);
    if (opts.json) {
      printJson(env.io, { groups });
      return EXIT_OK;
    }
    if (groups.length === 0) {
      print(env.io, say(lang, 'out.noGroups', { file: ctx.store.file }));
      return EXIT_OK;
    }
    print(
      env.io,
      table(
        env.io,
        (['group', 'cluster', 'profile', 'stands', 'created', 'job'] as const).map((h) => head(lang, h)),
        groups.map((g) => [
          g.name,
          g.cluster,
          g.profile,
          say(lang, 'out.standsCell', { stands: g.stands, ready: g.ready, failed: g.failed }),
          g.createdAt.slice(0, 16).replace('T', ' '),
          g.lockedBy ?? '',
        ]),
      ),
    );
    return EXIT_OK;
  });
}
