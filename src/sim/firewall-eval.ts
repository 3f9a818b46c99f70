/**
 * "Does this packet pass?": the decision pve-firewall's compiled iptables rules make for the first packet of a new
 * IPv4 connection through a guest NIC, read from the simulator's state. Sources, proxmox/pve-firewall
 * src/PVE/Firewall.pm:
 * - nothing is filtered unless cluster.fw has `enable: 1` (update / compile; parse_clusterfw_option);
 * - a NIC is filtered only with `firewall=1` on it (the tap is plugged into a fwbr bridge);
 * - with the VM's `enable` off the tap chain just accepts (generate_tap_rules_direction, policy 'ACCEPT');
 * - otherwise the VM's rules in order (ruleset_generate_vm_rules): disabled rules, rules for another NIC (`iface`)
 *   and rules of the other IP version skipped; a `group` rule runs the security group's rules of that direction
 *   (ruleset_add_group_rule, generate_group_rules; an unknown group is an empty chain); a macro rule is its
 *   macro's rules; the first ACCEPT/DROP/REJECT decides (an OUT accept is `-g PVEFW-SET-ACCEPT-MARK`, final too);
 * - then the policy: policy_in default DROP, policy_out default ACCEPT.
 * Addresses: literal lists (IP, CIDR, a-b range), aliases (guest scope before dc), IPSets (VM scope before the
 * cluster's) whose entries may be aliases; in an IPSet the most specific matching entry decides, a `nomatch`
 * (`!cidr`) entry excludes (hash:net semantics).
 * Not modelled (out of scope for "may a new connection be opened"): conntrack state (replies of an accepted
 * connection pass), the DHCP/NDP/RA helper rules, ipfilter/macfilter, IPv6, logging, host (node) rules.
 */
import { isIP } from 'node:net';
import { clusterOptions, type FwConf, type FwRule, ip4, ip4In, prefixLen } from './firewall-state.js';
import { macroRules, servicePort } from './firewall-verify.js';
import { parseNet } from './qemu-config.js';
import type { SimState } from './state.js';

export interface Packet {
  /** the guest whose NIC the packet passes */
  vmid: number;
  /** the NIC (config key), default net0 */
  nic?: string;
  /** 'in' = towards the guest, 'out' = from it */
  direction: 'in' | 'out';
  source: string;
  dest: string;
  /** 'tcp', 'udp', 'icmp' or a protocol number */
  proto: string;
  dport?: number;
  sport?: number;
}

export interface Verdict {
  action: 'ACCEPT' | 'DROP' | 'REJECT';
  /** why: 'cluster-disabled', 'nic-firewall-off', 'vm-disabled', 'rule', 'policy' */
  by: 'cluster-disabled' | 'nic-firewall-off' | 'vm-disabled' | 'rule' | 'policy';
  /** the deciding rule (for 'rule'), with the security group it came from */
  rule?: FwRule & { group?: string; pos: number };
}

const PROTO_NUM: Record<string, string> = { tcp: '6', udp: '17', icmp: '1', udplite: '136', sctp: '132', dccp: '33', gre: '47', esp: '50', ah: '51' };
const protoId = (p: string): string => PROTO_NUM[p.toLowerCase()] ?? p;

function portsMatch(spec: string, port: number | undefined): boolean {
  if (port === undefined) return false;
  for (const item of spec.split(',')) {
    const r = /^(\d+):(\d+)$/.exec(item);
    if (r ? port >= Number(r[1]) && port <= Number(r[2]) : (/^\d+$/.test(item) ? Number(item) : servicePort(item)) === port) return true;
  }
  return false;
}

interface Ctx {
  state: SimState;
  vm: FwConf | undefined;
}

function alias(ctx: Ctx, name: string, scope: string, vmScope: boolean): string | undefined {
  const k = name.toLowerCase();
  const local = vmScope && scope !== 'dc/' ? ctx.vm?.aliases.get(k) : undefined;
  return (local ?? (scope !== 'guest/' ? ctx.state.firewall.cluster.aliases.get(k) : undefined))?.cidr;
}

/** hash:net lookup: the longest matching prefix decides; a nomatch entry means "not in the set". */
function inIpset(ctx: Ctx, addr: number, entries: { cidr: string; nomatch?: 1 }[], vmScope: boolean): boolean {
  let best: { len: number; nomatch: boolean } | undefined;
  for (const e of entries) {
    const m = /^(dc\/|guest\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(e.cidr);
    const cidr = m ? alias(ctx, m[2]!, m[1] ?? '', vmScope) : e.cidr;
    if (!cidr || isIP(cidr.split('/')[0]!) !== 4 || !ip4In(addr, cidr)) continue;
    const len = prefixLen(cidr);
    if (!best || len > best.len) best = { len, nomatch: Boolean(e.nomatch) };
  }
  return best !== undefined && !best.nomatch;
}

function addrMatch(ctx: Ctx, spec: string, address: string): boolean {
  const addr = ip4(address);
  if (addr === undefined) throw new Error(`firewall evaluator: '${address}' is not an IPv4 address (only IPv4 is modelled)`);
  const set = /^\+(guest\/|dc\/|sdn\/)?(\S+)$/.exec(spec);
  if (set) {
    const scope = set[1] ?? '';
    const name = set[2]!;
    const local = scope !== 'dc/' ? ctx.vm?.ipsets.get(name) : undefined;
    if (local) return inIpset(ctx, addr, local.entries, true);
    const cl = scope !== 'guest/' ? ctx.state.firewall.cluster.ipsets.get(name) : undefined;
    return cl ? inIpset(ctx, addr, cl.entries, false) : false;
  }
  const a = /^(dc\/|guest\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(spec);
  if (a) {
    const cidr = alias(ctx, a[2]!, a[1] ?? '', true);
    return cidr !== undefined && ip4In(addr, cidr);
  }
  return spec.split(',').some((s) => ip4In(addr, s));
}

/** One rule (already expanded from its macro) against the packet. */
function ruleMatches(ctx: Ctx, rule: FwRule, p: Packet): boolean {
  if (rule.proto !== undefined && protoId(String(rule.proto)) !== protoId(p.proto)) return false;
  if (rule.dport !== undefined && !portsMatch(String(rule.dport), p.dport)) return false;
  if (rule.sport !== undefined && !portsMatch(String(rule.sport), p.sport)) return false;
  if (rule.source !== undefined && !addrMatch(ctx, String(rule.source), p.source)) return false;
  if (rule.dest !== undefined && !addrMatch(ctx, String(rule.dest), p.dest)) return false;
  return true;
}

/** A macro rule is its macro's rules with the rule's addresses and action (ruleset_generate_rule / $apply_macro). */
function expand(rule: FwRule): FwRule[] {
  if (rule.macro === undefined) return [rule];
  return (macroRules(String(rule.macro)) ?? []).map((t) => ({ ...rule, ...t }));
}

function runRules(ctx: Ctx, rules: FwRule[], p: Packet, nic: string, group?: string): Verdict | undefined {
  for (const [pos, rule] of rules.entries()) {
    if (rule.iface !== undefined && rule.iface !== nic) continue;
    if (!rule.enable) continue;
    if (rule.ipversion !== undefined && Number(rule.ipversion) !== 4) continue;
    if (rule.type === 'group') {
      if (group !== undefined) continue;
      const g = ctx.state.firewall.cluster.groups.get(String(rule.action));
      const v = g ? runRules(ctx, g.rules, p, nic, String(rule.action)) : undefined;
      if (v) return v;
      continue;
    }
    if (rule.type !== p.direction) continue;
    for (const r of expand(rule))
      if (ruleMatches(ctx, r, p)) return { action: String(rule.action) as Verdict['action'], by: 'rule', rule: { ...rule, pos, ...(group ? { group } : {}) } };
  }
  return undefined;
}

/** The verdict for one packet on one guest NIC. */
export function evaluate(state: SimState, p: Packet, nowMs = state.clock.now()): Verdict {
  const nic = p.nic ?? 'net0';
  if (!clusterOptions(state.firewall.cluster.options, nowMs).enable) return { action: 'ACCEPT', by: 'cluster-disabled' };
  const vm = state.vms.get(p.vmid);
  if (!vm) throw new Error(`firewall evaluator: no VM ${p.vmid}`);
  const net = vm.config[nic];
  if (net === undefined) throw new Error(`firewall evaluator: VM ${p.vmid} has no ${nic}`);
  const fw = parseNet(String(net)).rest.find(([k]) => k === 'firewall')?.[1];
  if (fw !== '1') return { action: 'ACCEPT', by: 'nic-firewall-off' };
  const conf = state.firewall.vms.get(p.vmid);
  const opts = conf?.options ?? {};
  if (!opts.enable) return { action: 'ACCEPT', by: 'vm-disabled' };
  const v = runRules({ state, vm: conf }, conf?.rules ?? [], p, nic);
  if (v) return v;
  const policy = p.direction === 'in' ? (opts.policy_in ?? 'DROP') : (opts.policy_out ?? 'ACCEPT');
  return { action: String(policy) as Verdict['action'], by: 'policy' };
}

/**
 * A new connection from `from` to `to` (each a guest NIC or a bare address): it must leave the source guest
 * (its OUT chain) and enter the destination guest (its IN chain). Returns whether it passes and each verdict.
 */
export function connectionPasses(
  state: SimState,
  c: {
    from: { vmid: number; nic?: string; ip: string } | { ip: string };
    to: { vmid: number; nic?: string; ip: string } | { ip: string };
    proto: string;
    dport?: number;
    sport?: number;
  },
  nowMs = state.clock.now(),
): { pass: boolean; out?: Verdict; in?: Verdict } {
  const base = { source: c.from.ip, dest: c.to.ip, proto: c.proto, dport: c.dport, sport: c.sport };
  const out = 'vmid' in c.from ? evaluate(state, { ...base, vmid: c.from.vmid, nic: c.from.nic, direction: 'out' }, nowMs) : undefined;
  const inn = 'vmid' in c.to ? evaluate(state, { ...base, vmid: c.to.vmid, nic: c.to.nic, direction: 'in' }, nowMs) : undefined;
  const pass = (out?.action ?? 'ACCEPT') === 'ACCEPT' && (inn?.action ?? 'ACCEPT') === 'ACCEPT';
  return { pass, ...(out ? { out } : {}), ...(inn ? { in: inn } : {}) };
}
