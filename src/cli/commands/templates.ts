import { pickCluster } from '../../config/connections.js';
import { listTemplates, pruneTemplates } from '../../core/replicas.js';
import { listReplicaUsage } from '../../core/templates.js';
import { writeLine } from '../io.js';
import { cancelled, confirm } from '../confirm.js';
import { withContext } from '../engine.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { table } from '../tables.js';
import { count } from '../../i18n/index.js';

export interface TemplatesOptions {
  prune?: boolean;
  yes?: boolean;
  json?: boolean;
}

/** `stands templates [--prune]`: our per-node template replicas, who uses them; --prune removes unused ones. */
export async function templatesCommand(opts: TemplatesOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  // listing reads the state file, and asks the cluster whether each replica is there only when it has the secrets
  return withContext(env, { secrets: opts.prune ? true : 'optional' }, async (ctx) => {
    if (!opts.prune) {
      const cluster = pickCluster(ctx.connections, ctx.defaultCluster);
      const canAsk = Boolean(cluster.tokenSecret || cluster.password);
      const entries = canAsk
        ? await listTemplates(ctx)
        : listReplicaUsage(await ctx.store.replicas.list(cluster.name), await ctx.store.stands.list({ cluster: cluster.name }));
      if (!canAsk) writeLine(io.stderr, `note: no Proxmox secrets for cluster ${cluster.name}: listed from the state file, presence not checked`);
      if (opts.json) printJson(io, { templates: canAsk ? entries : entries.map(({ present: _, ...e }) => e), presenceChecked: canAsk });
      else if (entries.length === 0) print(io, 'no template replicas recorded');
      else {
        print(
          io,
          table(
            io,
            ['replica', 'node', 'of template', 'present', 'used by'],
            entries.map((e) => [`${e.vmid} ${e.name}`, e.node, `${e.sourceVmid} (${e.sourceNode})`, !canAsk ? '?' : e.present ? 'yes' : 'no', e.usedBy.join('\n') || '-']),
          ),
        );
      }
      return EXIT_OK;
    }
    const entries = await listTemplates(ctx);
    const unused = entries.filter((e) => e.usedBy.length === 0);
    const out = opts.json ? io.stderr : io.stdout;
    if (unused.length === 0) {
      if (opts.json) printJson(io, { removed: [], kept: entries.map((entry) => ({ entry, reason: 'in use' })) });
      else print(io, 'no unused template replicas');
      return EXIT_OK;
    }
    out.write(`Unused replicas: ${unused.map((e) => `${e.vmid} ${e.name} on ${e.node}`).join(', ')}\n`);
    if (!(await confirm(io, `Remove ${count('en', unused.length, { one: 'unused template replica', other: 'unused template replicas' })}?`, opts.yes))) cancelled();
    const result = await pruneTemplates(ctx);
    if (opts.json) printJson(io, result);
    else {
      for (const e of result.removed) print(io, `removed ${e.vmid} ${e.name} on ${e.node}`);
      for (const k of result.kept) print(io, `kept ${k.entry.vmid} ${k.entry.name} on ${k.entry.node}: ${k.reason}`);
    }
    return result.kept.some((k) => k.entry.usedBy.length === 0) ? EXIT_PARTIAL : EXIT_OK;
  });
}
