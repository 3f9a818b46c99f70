/**
 * `stands templates [--prune]`: the per-node template replicas we made (deploy keeps them for later classes and
 * cleanup never removes them), who uses them, and removal of unused ones. PVE itself refuses to destroy a
 * template whose base volume linked clones still use, which backs up the "unused" check.
 */
import { ProxmoxApiError, TaskFailedError, isNotFound } from '../proxmox/errors.js';
import type { AppContext } from './context.js';
import { reasonOf } from './executor.js';
import { listReplicaUsage, replicasToPrune, type TemplateListEntry } from './templates.js';

export async function listTemplates(ctx: AppContext, o: { cluster?: string } = {}): Promise<TemplateListEntry[]> {
  const cluster = o.cluster ?? ctx.defaultCluster;
  const [replicas, stands, vms] = await Promise.all([
    ctx.store.replicas.list(cluster),
    ctx.store.stands.list({ cluster }),
    ctx.client(cluster).clusterResources('vm'),
  ]);
  const vmById = new Map(
    vms.filter((v) => v.vmid !== undefined).map((v) => [v.vmid!, { node: v.node ?? '', template: Boolean(v.template) }]),
  );
  return listReplicaUsage(replicas, stands, { vmById } as never);
}

export interface PruneResult {
  removed: TemplateListEntry[];
  kept: { entry: TemplateListEntry; reason: string }[];
}

export async function pruneTemplates(ctx: AppContext, o: { cluster?: string; dryRun?: boolean } = {}): Promise<PruneResult> {
  const cluster = o.cluster ?? ctx.defaultCluster;
  const client = ctx.client(cluster);
  const entries = await listTemplates(ctx, { cluster });
  const prune = replicasToPrune(entries);
  const result: PruneResult = { removed: [], kept: entries.filter((e) => !prune.includes(e)).map((entry) => ({ entry, reason: `used by ${entry.usedBy.join(', ')}` })) };
  for (const e of prune) {
    if (o.dryRun) {
      result.removed.push(e);
      continue;
    }
    try {
      if (e.present) {
        const cfg = await client.vmConfig(e.node, e.vmid);
        if (cfg.name !== e.name || !cfg.template) {
          result.kept.push({ entry: e, reason: `VM ${e.vmid} is no longer our replica (${cfg.name ?? 'unnamed'})` });
          continue;
        }
        await client.waitTask(await client.destroyVm(e.node, e.vmid, { purge: true }));
      }
      await ctx.store.replicas.delete(cluster, e.sourceVmid, e.node);
      await ctx.store.journal.forget('replica', e.vmid, cluster);
      result.removed.push(e);
    } catch (err) {
      if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) {
        await ctx.store.replicas.delete(cluster, e.sourceVmid, e.node);
        await ctx.store.journal.forget('replica', e.vmid, cluster);
        result.removed.push(e);
        continue;
      }
      result.kept.push({ entry: e, reason: err instanceof TaskFailedError ? err.exitstatus : reasonOf(err) });
    }
  }
  return result;
}
