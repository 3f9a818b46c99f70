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
import { msg, say, stored } from '../../i18n/index.js';
import { head, langOf } from '../lang.js';

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
  if (!opts.profile) throw new UserError(msg('opt.prepareNeedsProfile'));
  const nodes = opts.nodes?.split(',').map((n) => n.trim()).filter(Boolean);
  if (opts.nodes !== undefined && !nodes?.length) throw new UserError(msg('opt.nodesList'));
  const profile = await loadProfile(env.paths.configDir, profileArg(opts.profile, io.cwd));
  const lang = langOf(env);
  return withContext(env, { cluster: opts.cluster }, async (ctx) => {
    const plan = await planPrepare(ctx, { profile, ...(opts.cluster ? { cluster: opts.cluster } : {}), ...(nodes ? { nodes } : {}) });
    const out = opts.json ? io.stderr : io.stdout;
    const toMake = plan.replicas.filter((r) => !r.exists);
    writeLine(
      out,
      say(lang, 'out.prepareHead', {
        profile: plan.profile,
        cluster: plan.cluster,
        nodes: plan.nodes.join(', ') || '-',
        needed: plan.replicas.length,
        present: plan.replicas.length - toMake.length,
        toMake: toMake.length,
      }),
    );
    for (const s of plan.skipped) writeLine(out, say(lang, 'out.skipped', { node: s.node, reason: s.reason }));
    const progress = createProgress(io, { label: 'replicas', lang });
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
          [head(lang, 'replica'), head(lang, 'node'), head(lang, 'ofTemplate'), head(lang, 'status')],
          result.items.map((i) => [
            `${i.replica.vmid} ${i.replica.name}`,
            i.replica.shared ? say(lang, 'out.replicaSharedNode', { node: i.replica.targetNode, storage: i.replica.storage }) : i.replica.targetNode,
            `${i.replica.sourceVmid} (${i.replica.sourceNode})`,
            i.status === 'failed'
              ? say(lang, 'out.replicaFailed', { error: stored(lang, i.errorMsg, i.error) })
              : i.status === 'made'
                ? say(lang, 'out.replicaMade', { secs: (i.ms / 1000).toFixed(1) })
                : say(lang, 'out.replicaPresent'),
          ]),
        ),
      );
      print(io, say(lang, 'out.prepareDone', { made: result.made, present: result.present, failed: result.failed }));
    }
    return result.failed > 0 ? EXIT_PARTIAL : EXIT_OK;
  });
}

/** `stands templates [--prune]`: our per-node template replicas, who uses them; --prune removes unused ones. */
export async function templatesCommand(opts: TemplatesOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const lang = langOf(env);
  if (opts.prepare && opts.prune) throw new UserError(msg('opt.prepareAndPrune'));
  if (opts.prepare) return prepareCommand(opts, env);
  if (opts.profile || opts.nodes) throw new UserError(msg('opt.profileNeedsPrepare'));
  // listing reads the state file, and asks the cluster whether each replica is there only when it has the secrets
  return withContext(env, { secrets: opts.prune ? true : 'optional', ...(opts.cluster ? { cluster: opts.cluster } : {}) }, async (ctx) => {
    if (!opts.prune) {
      const cluster = pickCluster(ctx.connections, ctx.defaultCluster);
      const canAsk = Boolean(cluster.tokenSecret || cluster.password);
      const entries = canAsk
        ? await listTemplates(ctx)
        : listReplicaUsage(await ctx.store.replicas.list(cluster.name), await ctx.store.stands.list({ cluster: cluster.name }));
      if (!canAsk) writeLine(io.stderr, say(lang, 'out.noSecrets', { cluster: cluster.name }));
      if (opts.json) printJson(io, { templates: canAsk ? entries : entries.map(({ present: _, ...e }) => e), presenceChecked: canAsk });
      else if (entries.length === 0) print(io, say(lang, 'out.noReplicas'));
      else {
        print(
          io,
          table(
            io,
            (['replica', 'node', 'ofTemplate', 'present', 'usedBy'] as const).map((h) => head(lang, h)),
            entries.map((e) => [
              `${e.vmid} ${e.name}`,
              e.shared ? say(lang, 'out.replicaSharedNode', { node: e.node, storage: e.storage ?? '' }) : e.node,
              `${e.sourceVmid} (${e.sourceNode})`,
              !canAsk ? '?' : e.present ? say(lang, 'out.yes') : say(lang, 'out.no'),
              e.usedBy.join('\n') || '-',
            ]),
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
      else print(io, say(lang, 'out.noUnused'));
      return EXIT_OK;
    }
    const onNode = (e: { vmid: number; name: string; node: string }): string => say(lang, 'out.onNode', { vmid: e.vmid, name: e.name, node: e.node });
    out.write(`${say(lang, 'out.unused', { list: unused.map(onNode).join(', ') })}\n`);
    if (!(await confirm(io, say(lang, 'out.confirmPrune', { count: unused.length }), opts.yes, lang))) cancelled();
    const result = await pruneTemplates(ctx);
    if (opts.json) printJson(io, result);
    else {
      for (const e of result.removed) print(io, say(lang, 'out.removedReplica', { what: onNode(e) }));
      for (const k of result.kept) print(io, say(lang, 'out.keptReplica', { what: onNode(k.entry), reason: lang === 'en' ? k.reason : `«${k.reason}»` }));
    }
    return result.kept.some((k) => k.entry.usedBy.length === 0) ? EXIT_PARTIAL : EXIT_OK;
  });
}
