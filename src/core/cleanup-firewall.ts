/**
 * Cleanup's isolation step (the model: src/core/isolation.ts). Everything the product creates for isolation now
 * lives in the stand VMs' own firewall configs: PVE's destroy removes `<vmid>.fw` with the VM, and the VM's journal
 * entry goes with the stand's records, so nothing is left at cluster level.
 *
 * What this step still does is take back the cluster objects an older version created and journaled (security
 * group stands-isolation, cluster IPSets stands-deny and stands-allow-in, journal ids `group/…`, `ipset/…`): once
 * no isolated stand is left on the cluster (VMs deployed by that version named the group until re-deployed), and
 * only when the journal says we created them AND they still carry our comment; anything else is reported as
 * kept, never modified. Removing them takes Sys.Modify on `/`, which the README's grants do not give: without it
 * the step ends in a warning (the cleanup plan names the objects), for an admin to remove them.
 */
import type { Logger } from '../log.js';
import type { ProxmoxClient } from '../proxmox/client.js';
import { FirewallApi, isDigestConflict } from '../proxmox/firewall.js';
import type { AppContext } from './context.js';
import { FW_MARK } from './isolation.js';
import { msg, render } from '../i18n/index.js';
import { keptItem, type CleanupKept } from './kept.js';

export interface IsolationCleanupResult {
  /** Legacy cluster objects: `security group stands-isolation`, `IPSet stands-deny`… */
  removed: string[];
  kept: CleanupKept[];
}

const MAX_ROUNDS = 50;

/**
 * The legacy cluster objects of ours that are left when nothing isolated uses them any more; reads only. `removing`:
 * stands (`group/userid`) about to be removed, counted as gone (the cleanup plan's preview).
 */
export async function isolationLeftovers(
  ctx: AppContext,
  cluster: string,
  removing: ReadonlySet<string> = new Set(),
): Promise<{ kind: 'group' | 'ipset'; name: string }[]> {
  const gone = (group?: string, user?: string): boolean => removing.has(`${group}/${user}`);
  const journal = await ctx.store.journal.list({ cluster, kind: 'firewall' });
  const legacy = journal
    .map((e) => /^(group|ipset)\/(.+)$/.exec(e.id))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ kind: m[1] as 'group' | 'ipset', name: m[2]! }))
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'group' ? -1 : 1));
  if (!legacy.length) return [];
  // a VM's entry outlives its stand only when its cleanup failed: its rules may still name the group
  if (journal.some((e) => e.id.startsWith('vm/') && !gone(e.group, e.user))) return [];
  const stands = await ctx.store.stands.list({ cluster });
  if (stands.some((r) => r.isolation === 'stand' && !gone(r.group, r.userid))) return [];
  return legacy;
}

/** Run after the stands' records are settled (removed stands no longer count as isolated). */
export async function cleanupIsolation(ctx: AppContext, client: ProxmoxClient, cluster: string, log: Logger): Promise<IsolationCleanupResult> {
  const res: IsolationCleanupResult = { removed: [], kept: [] };
  const left = await isolationLeftovers(ctx, cluster);
  if (!left.length) return res;
  const fw = new FirewallApi(client);
  const scope = { kind: 'cluster' } as const;
  for (const o of left) {
    const whatMsg = o.kind === 'group' ? msg('kept.fwGroup', { name: o.name }) : msg('kept.fwIpset', { name: o.name });
    const what = render('en', whatMsg);
    const there =
      o.kind === 'group' ? (await fw.groups()).find((g) => g.group === o.name) : (await fw.ipsets(scope)).find((s) => s.name === o.name);
    if (there && there.comment !== FW_MARK) {
      res.kept.push(keptItem(whatMsg, msg('kept.noOurComment')));
    } else if (there && o.kind === 'group') {
      // a group with rules cannot be deleted: its rules first, highest position first, each with the list's digest
      for (let round = 0; ; round++) {
        if (round >= MAX_ROUNDS) throw new Error(`${what}: its rules did not settle (someone keeps editing them)`);
        const rules = await fw.rules({ kind: 'group', group: o.name });
        const last = rules.at(-1);
        if (!last) break;
        try {
          await fw.deleteRule({ kind: 'group', group: o.name }, last.pos, last.digest);
        } catch (err) {
          if (!isDigestConflict(err)) throw err;
        }
      }
      await fw.deleteGroup(o.name);
      res.removed.push(what);
    } else if (there) {
      await fw.deleteIpset(scope, o.name, true);
      res.removed.push(what);
    }
    await ctx.store.journal.forget('firewall', `${o.kind}/${o.name}`, cluster);
  }
  if (res.removed.length) log.info({ removed: res.removed }, 'isolation firewall objects removed');
  return res;
}
