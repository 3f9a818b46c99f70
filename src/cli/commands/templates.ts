import { pickCluster } from '../../config/connections.js';
import { loadProfile } from '../../config/profile.js';
import { planPrepare, runPrepare, type PrepareResult } from '../../core/prepare.js';
import { listTemplates, pruneTemplates } from '../../core/replicas.js';
import { listReplicaUsage } from '../../core/templates.js';
import { UserError } from '../../errors.js';
import { writeLine } from '../io.js';
import { cancelled, confirm } from '../confirm.js';
import { withContext } from '../engine.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { print, printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { profileArg } from './deploy.js';
import type { CommandEnv } from '../program.js';
import { table } from '../tables.js';
import { count } from '../../i18n/index.js';

export interface TemplatesOptions {
  prune?: boolean;
  prepare?: boolean;
  profile?: string;
  cluster?: string;
  /** comma-separated node names */
  nodes?: string;
  yes?: boolean;
  json?: boolean;
}

/**
 * `stands templates --prepare --profile P [--cluster C] [--nodes a,b]`: make (or verify) every template replica a
 * deploy of P would need, with a progress display. Idempotent: present replicas are only verified. Exit 0 when
 * every replica is there afterwards, 3 when some could not be made.
 */
async function prepareCommand(opts: TemplatesOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  if (!opts.profile) throw new UserError('--prepare needs --profile <name or file>');
  const nodes = opts.nodes?.split(',').map((n) => n.trim()).filter(Boolean);
  if (opts.nodes !== undefined && !nodes?.length) throw new UserError('--nodes: expected node names separated by commas, e.g. pve2,pve3');
  const profile = await loadProfile(env.paths.configDir, profileArg(opts.profile, io.cwd));
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const plan = await planPrepare(ctx, { profile, ...(opts.cluster ? { cluster: opts.cluster } : {}), ...(nodes ? { nodes } : {}) });
    const out = opts.json ? io.stderr : io.stdout;
    const toMake = plan.replicas.filter((r) => !r.exists);
    writeLine(
      out,
      `profile ${plan.profile} on ${plan.cluster}, nodes ${plan.nodes.join(', ') || '-'}: ${plan.replicas.length} template replica(s) needed, ` +
        `${plan.replicas.length - toMake.length} present, ${toMake.length} to make`,
    );
    for (const s of plan.skipped) writeLine(out, `  skipped ${s.node}: ${s.reason}`);
    const progress = createProgress(io, { label: 'replicas' });
    let result: PrepareResult;
    try {
      result = await runPrepare(ctx, plan, { onEvent: (e) => progress.onEvent(e), ...(io.signal ? { signal: io.signal } : {}) });
    } finally {
      progress.stop();
    }
    if (opts.json) printJson(io, result);
    else {
      print(
        io,
        table(
          io,
          ['replica', 'node', 'of template', 'status'],
          result.items.map((i) => [
            `${i.replica.vmid} ${i.replica.name}`,
            i.replica.shared ? `${i.replica.targetNode} (shared ${i.replica.storage})` : i.replica.targetNode,
            `${i.replica.sourceVmid} (${i.replica.sourceNode})`,
            i.status === 'failed' ? `failed: ${i.error ?? ''}` : i.status === 'made' ? `made in ${(i.ms / 1000).toFixed(1)} s` : 'present',
          ]),
        ),
      );
      print(io, `${result.made} made, ${result.present} present, ${result.failed} failed`);
    }
    return result.failed > 0 ? EXIT_PARTIAL : EXIT_OK;
  });
}

/** `stands templates [--prune]`: our per-node template replicas, who uses them; --prune removes unused ones. */
export async function templatesCommand(opts: TemplatesOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  if (opts.prepare && opts.prune) throw new UserError('--prepare and --prune do not go together');
  if (opts.prepare) return prepareCommand(opts, env);
  if (opts.profile || opts.nodes) throw new UserError('--profile and --nodes go with --prepare');
  // listing reads the state file, and asks the cluster whether each replica is there only when it has the secrets
  return withContext(env, { secrets: opts.prune ? true : 'optional', ...(opts.cluster ? { cluster: opts.cluster } : {}) }, async (ctx) => {
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
            entries.map((e) => [`${e.vmid} ${e.name}`, e.shared ? `${e.node} (shared ${e.storage ?? ''})` : e.node, `${e.sourceVmid} (${e.sourceNode})`, !canAsk ? '?' : e.present ? 'yes' : 'no', e.usedBy.join('\n') || '-']),
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
