/**
 * Stage: stand isolation with the Proxmox firewall (the model: src/core/isolation.ts). Once per run the cluster
 * objects (IPSets stands-deny / stands-allow-in, security group stands-isolation) are created or converged; then
 * each VM of an isolated stand gets firewall=1 on every NIC, its firewall options and exactly our rules.
 *
 * Convergent: every step reads first and writes only the difference, so a re-run writes nothing, a rule deleted
 * by hand is put back and a duplicate is removed. Edits that PVE guards with `digest` (rule/IPSet-entry deletes,
 * options, VM config) send the digest of the read they are based on and start over on a conflict. Each object is
 * journaled (kind `firewall`) before it is created; objects that exist without our comment are never touched.
 */
import { FirewallApi, isDigestConflict, type FwRuleInput, type FwRuleTarget } from '../../proxmox/firewall.js';
import { normalizeCidr } from '../../config/cidr.js';
import { throwIfAborted } from '../executor.js';
import {
  ALLOW_IN_IPSET,
  DENY_IPSET,
  FW_MARK,
  ISOLATION_GROUP,
  groupRules,
  privateNicsOf,
  ruleKey,
  vmRules,
  withNicFirewall,
} from '../isolation.js';
import type { VmPlan } from '../types.js';
import type { StandState } from './context.js';
import type { DeployRun } from './run.js';

/** Rounds of read-and-fix before giving up (each conflict or hand edit in between costs one). */
const MAX_ROUNDS = 12;

const clusterWork = new WeakMap<DeployRun, Promise<void>>();

/** The cluster objects, once per run (every isolated VM waits for them: its group rule names them). */
export function isolationReady(run: DeployRun): Promise<void> {
  let p = clusterWork.get(run);
  if (!p) {
    p = ensureClusterObjects(run);
    p.catch(() => undefined);
    clusterWork.set(run, p);
  }
  return p;
}

async function ensureClusterObjects(run: DeployRun): Promise<void> {
  const iso = run.plan.isolation;
  if (!iso) throw new Error('internal: an isolated stand in a plan without isolation');
  const fw = new FirewallApi(run.client);
  const options = await run.abortable(fw.clusterOptions());
  if (options.enable !== 1) {
    run.warnings.push(
      'the datacenter firewall was turned off after planning: the isolation rules are written but do nothing until an admin turns it back on',
    );
  }
  await ensureIpset(run, fw, DENY_IPSET, iso.deny);
  await ensureIpset(run, fw, ALLOW_IN_IPSET, iso.allowIn);
  const groups = await run.abortable(fw.groups());
  const g = groups.find((x) => x.group === ISOLATION_GROUP);
  if (g && g.comment !== FW_MARK) throw new Error(`security group ${ISOLATION_GROUP} exists and is not ours; isolation not set up`);
  const id = `group/${ISOLATION_GROUP}`;
  // journaled before it is created; one that carries our comment is (re)journaled as ours, as bridges are
  await run.ctx.store.journal.intend('firewall', id, { cluster: run.cluster, job: run.job });
  if (!g) {
    throwIfAborted(run.signal);
    await run.abortable(fw.createGroup(ISOLATION_GROUP, FW_MARK));
  }
  await run.ctx.store.journal.confirm('firewall', id, run.cluster);
  await convergeRules(run, fw, { kind: 'group', group: ISOLATION_GROUP }, groupRules());
}

async function ensureIpset(run: DeployRun, fw: FirewallApi, name: string, want: readonly string[]): Promise<void> {
  const scope = { kind: 'cluster' } as const;
  const existing = (await run.abortable(fw.ipsets(scope))).find((s) => s.name === name);
  if (existing && existing.comment !== FW_MARK) throw new Error(`IPSet ${name} exists and is not ours; isolation not set up`);
  const id = `ipset/${name}`;
  await run.ctx.store.journal.intend('firewall', id, { cluster: run.cluster, job: run.job });
  if (!existing) {
    throwIfAborted(run.signal);
    await run.abortable(fw.createIpset(scope, name, FW_MARK));
  }
  await run.ctx.store.journal.confirm('firewall', id, run.cluster);
  const wanted = new Set(want.map((c) => normalizeCidr(c) ?? c));
  for (let round = 0; ; round++) {
    if (round >= MAX_ROUNDS) throw new Error(`IPSet ${name} did not settle after ${MAX_ROUNDS} rounds (someone keeps editing it)`);
    const entries = await run.abortable(fw.ipsetEntries(scope, name));
    // ours entirely: anything not wanted (or a nomatch entry) goes
    const extra = entries.find((e) => !wanted.has(e.cidr) || e.nomatch);
    if (extra) {
      throwIfAborted(run.signal);
      try {
        await run.abortable(fw.removeIpsetEntry(scope, name, extra.cidr, extra.digest));
      } catch (err) {
        if (!isDigestConflict(err)) throw err;
      }
      continue;
    }
    const have = new Set(entries.map((e) => e.cidr));
    const missing = [...wanted].filter((c) => !have.has(c));
    if (!missing.length) return;
    for (const c of missing) {
      throwIfAborted(run.signal);
      await run.abortable(fw.addIpsetEntry(scope, name, c, { comment: FW_MARK }));
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
    if (round >= MAX_ROUNDS + want.length * 2) throw new Error(`firewall rules of ${describe(target)} did not settle (someone keeps editing them)`);
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

function describe(t: FwRuleTarget): string {
  return t.kind === 'group' ? `security group ${t.group}` : t.kind === 'vm' ? `VM ${t.vmid}` : 'the datacenter';
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
    if (round >= MAX_ROUNDS) throw new Error(`VM ${vm.vmid}: its NICs' firewall flags did not settle`);
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
    if (round >= MAX_ROUNDS) throw new Error(`VM ${vm.vmid}: its firewall options did not settle`);
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

  const segments = new Set(s.segments.map((g) => g.iface));
  writes += await convergeRules(run, fw, { kind: 'vm', node, vmid: vm.vmid }, vmRules(privateNicsOf(vm.nets, segments)), lane);
  await run.ctx.store.journal.confirm('firewall', id, run.cluster);
  return writes ? undefined : 'skipped';
}
