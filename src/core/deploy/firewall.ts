/**
 * Stage: stand isolation with the Proxmox firewall (the model: src/core/isolation.ts). Each VM of an isolated
 * stand gets firewall=1 on every NIC, its firewall options, its own IPSets stands-deny / stands-allow-in and
 * exactly our rules, all in the VM's own firewall config (VM.Config.Network on /vms/<vmid>). Nothing is written
 * at cluster level; the datacenter firewall options are only read, once per run.
 *
 * Convergent: every step reads first and writes only the difference, so a re-run writes nothing, a rule or IPSet
 * entry deleted by hand is put back and a duplicate is removed. Edits that PVE guards with `digest` (rule/IPSet-
 * entry deletes, options, VM config) send the digest of the read they are based on and start over on a conflict.
 * The VM is journaled (kind `firewall`, id `vm/<vmid>`) before its firewall config is written. The VM is ours
 * (proven before this stage), so its firewall config is too: an IPSet of our name copied from a template without
 * our comment is replaced.
 */
import { msg } from '../../i18n/index.js';
import { FirewallApi, isDigestConflict, type FwRuleInput, type FwRuleTarget, type FwScope } from '../../proxmox/firewall.js';
import { normalizeCidr } from '../../config/cidr.js';
import { throwIfAborted } from '../executor.js';
import { ALLOW_IN_IPSET, DENY_IPSET, FW_MARK, privateNicsOf, ruleKey, vmRules, withNicFirewall } from '../isolation.js';
import type { VmPlan } from '../types.js';
import { StandFailure, type StandState } from './context.js';
import type { DeployRun } from './run.js';

/** Rounds of read-and-fix before giving up (each conflict or hand edit in between costs one). */
const MAX_ROUNDS = 12;

const clusterCheck = new WeakMap<DeployRun, Promise<void>>();

/** Once per run: is the datacenter firewall still on (it was at plan time)? Reads only (Sys.Audit on `/`). */
export function isolationReady(run: DeployRun): Promise<void> {
  let p = clusterCheck.get(run);
  if (!p) {
    p = checkDatacenterFirewall(run);
    p.catch(() => undefined);
    clusterCheck.set(run, p);
  }
  return p;
}

async function checkDatacenterFirewall(run: DeployRun): Promise<void> {
  if (!run.plan.isolation) throw new Error('internal: an isolated stand in a plan without isolation');
  const options = await run.abortable(new FirewallApi(run.client).clusterOptions());
  if (options.enable !== 1) {
    run.warn(msg('warn.firewallOff'));
  }
}

/** Make the VM IPSet `name` exist with our comment and exactly the entries `want`. Returns the number of writes. */
async function ensureIpset(
  run: DeployRun,
  fw: FirewallApi,
  scope: FwScope,
  name: string,
  want: readonly string[],
  lane: <T>(f: () => Promise<T>) => Promise<T>,
): Promise<number> {
  let writes = 0;
  const existing = (await run.abortable(lane(() => fw.ipsets(scope)))).find((s) => s.name === name);
  if (existing && existing.comment !== FW_MARK) {
    // copied from the template by the clone: the VM is ours, so is its config; replaced, not merged
    throwIfAborted(run.signal);
    await run.abortable(lane(() => fw.deleteIpset(scope, name, true)));
    writes++;
  }
  if (!existing || existing.comment !== FW_MARK) {
    throwIfAborted(run.signal);
    await run.abortable(lane(() => fw.createIpset(scope, name, FW_MARK)));
    writes++;
  }
  const wanted = new Set(want.map((c) => normalizeCidr(c) ?? c));
  // one entry removed or a batch added per round: room for every entry there is and every one wanted
  let limit = MAX_ROUNDS + wanted.size;
  for (let round = 0; ; round++) {
    if (round >= limit) throw new StandFailure(msg('fail.ipsetUnsettled', { name, rounds: round }));
    const entries = await run.abortable(lane(() => fw.ipsetEntries(scope, name)));
    if (round === 0) limit += entries.length;
    // ours entirely: anything not wanted (or a nomatch entry) goes
    const extra = entries.find((e) => !wanted.has(e.cidr) || e.nomatch);
    if (extra) {
      throwIfAborted(run.signal);
      try {
        await run.abortable(lane(() => fw.removeIpsetEntry(scope, name, extra.cidr, extra.digest)));
        writes++;
      } catch (err) {
        if (!isDigestConflict(err)) throw err;
      }
      continue;
    }
    const have = new Set(entries.map((e) => e.cidr));
    const missing = [...wanted].filter((c) => !have.has(c));
    if (!missing.length) return writes;
    for (const c of missing) {
      throwIfAborted(run.signal);
      await run.abortable(lane(() => fw.addIpsetEntry(scope, name, c, { comment: FW_MARK })));
      writes++;
    }
  }
}

/**
 * Make the rules of `target` exactly `want` (as a multiset: order does not matter for these rules). Extra and
 * duplicate rules are deleted highest position first with the list's digest; missing ones are added. Returns
 * the number of writes.
 */
export async function convergeRules(
  run: DeployRun,
  fw: FirewallApi,
  target: FwRuleTarget,
  want: readonly FwRuleInput[],
  lane: <T>(f: () => Promise<T>) => Promise<T> = (f) => f(),
): Promise<number> {
  let writes = 0;
  for (let round = 0; ; round++) {
    if (round >= MAX_ROUNDS + want.length * 2) throw new StandFailure(msg('fail.rulesUnsettled', describe(target)));
    const rules = await run.abortable(lane(() => fw.rules(target)));
    const remaining = want.map(ruleKey);
    const extra = rules.filter((r) => {
      const i = remaining.indexOf(ruleKey(r));
      if (i < 0) return true;
      remaining.splice(i, 1);
      return false;
    });
    const last = extra.at(-1);
    if (last) {
      throwIfAborted(run.signal);
      try {
        await run.abortable(lane(() => fw.deleteRule(target, last.pos, last.digest)));
        writes++;
      } catch (err) {
        if (!isDigestConflict(err)) throw err;
      }
      continue;
    }
    if (!remaining.length) return writes;
    for (const key of remaining) {
      throwIfAborted(run.signal);
      // POST always inserts at position 0 and ignores the digest; the next round verifies
      await run.abortable(lane(() => fw.addRule(target, want.find((r) => ruleKey(r) === key)!)));
      writes++;
    }
  }
}

function describe(t: FwRuleTarget): { kind: 'group' | 'vm' | 'cluster'; name: string } {
  return t.kind === 'group' ? { kind: 'group', name: t.group } : t.kind === 'vm' ? { kind: 'vm', name: String(t.vmid) } : { kind: 'cluster', name: '' };
}

/** One VM of an isolated stand: NIC flags, firewall options, rules. Returns 'skipped' when nothing was written. */
export async function isolateVm(run: DeployRun, st: StandState, vm: VmPlan): Promise<'skipped' | undefined> {
  await isolationReady(run);
  const s = st.plan;
  const node = run.vmIndex.get(vm.vmid)?.node || vm.node;
  const fw = new FirewallApi(run.client);
  // the VM firewall endpoints run on the VM's node (proxyto) and hold one of its pvedaemon workers
  const lane = <T>(f: () => Promise<T>): Promise<T> => run.lanes.node(node, f);
  const id = `vm/${vm.vmid}`;
  await run.ctx.store.journal.intend('firewall', id, { cluster: run.cluster, group: s.group, user: s.userid, node, job: run.job });
  let writes = 0;

  // firewall=1 on every NIC (the config stage writes it; this puts back a flag removed by hand)
  for (let round = 0; ; round++) {
    if (round >= MAX_ROUNDS) throw new StandFailure(msg('fail.nicFlagsUnsettled', { vmid: vm.vmid }));
    const cfg = await run.abortable(lane(() => run.client.vmConfig(node, vm.vmid)));
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(cfg)) {
      if (/^net\d+$/.test(k) && typeof v === 'string' && withNicFirewall(v) !== v) params[k] = withNicFirewall(v);
    }
    if (!Object.keys(params).length) break;
    throwIfAborted(run.signal);
    try {
      const digest = typeof cfg.digest === 'string' ? { digest: cfg.digest } : {};
      await run.abortable(lane(() => run.client.updateVmConfig(node, vm.vmid, { ...params, ...digest })));
      writes++;
      break;
    } catch (err) {
      if (!isDigestConflict(err)) throw err;
    }
  }

  // options: on, inbound DROP, outbound ACCEPT, DHCP allowed (stand VMs get their addresses by DHCP)
  for (let round = 0; ; round++) {
    if (round >= MAX_ROUNDS) throw new StandFailure(msg('fail.vmFirewallUnsettled', { vmid: vm.vmid }));
    const o = await run.abortable(lane(() => fw.vmOptions(node, vm.vmid)));
    if (o.enable === 1 && o.policy_in === 'DROP' && o.policy_out === 'ACCEPT' && o.dhcp === 1) break;
    throwIfAborted(run.signal);
    try {
      await run.abortable(lane(() => fw.setVmOptions(node, vm.vmid, { enable: true, policy_in: 'DROP', policy_out: 'ACCEPT', dhcp: true }, o.digest)));
      writes++;
      break;
    } catch (err) {
      if (!isDigestConflict(err)) throw err;
    }
  }

  // the IPSets before the rules that name them (PVE refuses a rule naming an unknown IPSet)
  const iso = run.plan.isolation!;
  const scope = { kind: 'vm', node, vmid: vm.vmid } as const;
  writes += await ensureIpset(run, fw, scope, DENY_IPSET, iso.deny, lane);
  writes += await ensureIpset(run, fw, scope, ALLOW_IN_IPSET, iso.allowIn, lane);

  const segments = new Set(s.segments.map((g) => g.iface));
  writes += await convergeRules(run, fw, { kind: 'vm', node, vmid: vm.vmid }, vmRules(privateNicsOf(vm.nets, segments)), lane);
  await run.ctx.store.journal.confirm('firewall', id, run.cluster);
  return writes ? undefined : 'skipped';
}
