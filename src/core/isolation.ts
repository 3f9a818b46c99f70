/**
 * Stand isolation with the Proxmox VE firewall (profiles with `isolation: stand`). The model, kept small so a
 * re-run converges and cleanup can take it all back:
 *
 * - cluster IPSet `stands-deny`: stands.yml `isolation.deny` plus every cluster node's own addresses (read from
 *   `/cluster/status` and the nodes' interfaces at plan time, never configured);
 * - cluster IPSet `stands-allow-in`: `isolation.allow_in`;
 * - cluster security group `stands-isolation`: `out DROP → +stands-deny`, `in ACCEPT ← +stands-allow-in`;
 * - on every VM of an isolated stand: `firewall=1` on every NIC, VM options `enable=1 policy_in=DROP
 *   policy_out=ACCEPT dhcp=1`, and exactly these rules: `group stands-isolation`, plus `in ACCEPT iface netK` for
 *   each NIC on one of the stand's private segments (those bridges/VNets carry this stand only).
 *
 * What that enforces: nothing the stand's VMs send reaches a node address or a deny CIDR; nothing reaches a stand
 * VM's shared-bridge NIC unless it comes from allow_in (so another stand's VM, isolated or not, cannot open a
 * connection to it); the stand's private segments work as before. The stand VMs' own addresses (DHCP) are never
 * needed. Limits: VMs of the same stand do not reach each other over the shared bridge (only over their private
 * segments), and a stand VM may open connections to shared-LAN hosts that are not isolated stands unless their
 * addresses are in `isolation.deny`.
 *
 * Sources: pve-firewall src/PVE/Firewall.pm (`ruleset_generate_vm_rules`, `generate_tap_rules_direction`,
 * `ruleset_create_vm_chain` for dhcp); the simulator's evaluator (src/sim/firewall-eval.ts) follows them.
 */
import { z } from 'zod';
import { hostAddress } from '../config/cidr.js';
import type { Settings } from '../config/settings.js';
import type { FwIpset, FwGroup, FwRule, FwRuleInput } from '../proxmox/firewall.js';
import { FirewallApi } from '../proxmox/firewall.js';
import type { ProxmoxClient } from '../proxmox/client.js';
import { reasonOf } from './executor.js';
import type { RefusalRow } from './types.js';

export const ISOLATION_GROUP = 'stands-isolation';
export const DENY_IPSET = 'stands-deny';
export const ALLOW_IN_IPSET = 'stands-allow-in';
/** The comment that marks a firewall object or rule as ours (the journal is the other half of the proof). */
export const FW_MARK = 'stands:isolation (managed by pve-stands)';

/** The Proxmox docs on enabling the datacenter firewall without locking yourself out. */
export const PVE_FIREWALL_DOCS = 'https://pve.proxmox.com/pve-docs/chapter-pve-firewall.html';

/** The refusal's how-to: what an admin does to turn the datacenter firewall on without locking anyone out. */
export const ENABLE_HOWTO: readonly RefusalRow[] = [
  { subject: 'to enable it safely', problem: '1. add datacenter rules accepting TCP 8006 and 22 from the admin network (Datacenter → Firewall → Add)' },
  { subject: '', problem: '2. then set Datacenter → Firewall → Options → Firewall: Yes' },
  { subject: 'docs', problem: `${PVE_FIREWALL_DOCS} (the built-in management rules only allow the local network)` },
  { subject: 'then', problem: 're-run the deploy; pve-stands never turns the datacenter firewall on itself' },
];

/** What the planner reads from the cluster for isolation. */
export interface IsolationFacts {
  /** The datacenter firewall is on (`enable: 1` in /cluster/firewall/options). */
  enabled: boolean;
  /** Why the state could not be read (permissions, an old node): the plan is refused. */
  error?: string;
  /** Each node's own addresses (cluster/status `ip` and its interfaces' addresses), normalised. */
  nodeAddresses: { node: string; address: string }[];
  groups: FwGroup[];
  ipsets: FwIpset[];
}

export interface IsolationPlan {
  group: string;
  denyIpset: string;
  allowInIpset: string;
  /** IPSet stands-deny: the deny CIDRs, then the node addresses (deduplicated). */
  deny: string[];
  denyFromSettings: string[];
  nodeAddresses: { node: string; address: string }[];
  allowIn: string[];
  /** Human lines: the firewall objects the deploy will create or converge. */
  objects: string[];
}

const ClusterStatusEntry = z.looseObject({ type: z.string(), name: z.string().optional(), ip: z.string().optional(), online: z.unknown().optional() });

/** Reads only: datacenter firewall options, node addresses, existing groups and IPSets. */
export async function loadIsolationFacts(client: ProxmoxClient): Promise<IsolationFacts> {
  const fw = new FirewallApi(client);
  try {
    const [options, status, groups, ipsets] = await Promise.all([
      fw.clusterOptions(),
      client.get('/cluster/status', z.array(ClusterStatusEntry)),
      fw.groups(),
      fw.ipsets({ kind: 'cluster' }),
    ]);
    const nodeAddresses: { node: string; address: string }[] = [];
    const add = (node: string, a: string | undefined): void => {
      const h = hostAddress(a);
      if (h && !/^127\.|^::1$/.test(h) && !nodeAddresses.some((x) => x.address === h)) nodeAddresses.push({ node, address: h });
    };
    const nodes = status.filter((e) => e.type === 'node' && e.name);
    for (const n of nodes) add(n.name!, n.ip);
    await Promise.all(
      nodes
        .filter((n) => n.online === undefined || n.online === 1 || n.online === true)
        .map(async (n) => {
          // an unreadable node keeps its cluster/status address only
          const list = await client.listNetwork(n.name!).catch(() => undefined);
          for (const i of list?.ifaces ?? []) {
            const x = i as Record<string, unknown>;
            for (const k of ['cidr', 'address', 'cidr6', 'address6']) add(n.name!, typeof x[k] === 'string' ? (x[k] as string) : undefined);
          }
        }),
    );
    nodeAddresses.sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }) || a.address.localeCompare(b.address, 'en', { numeric: true }));
    return { enabled: options.enable === 1, nodeAddresses, groups, ipsets };
  } catch (err) {
    return { enabled: false, error: reasonOf(err), nodeAddresses: [], groups: [], ipsets: [] };
  }
}

/** The isolation part of a plan, or the rows of a refusal. */
export function planIsolation(facts: IsolationFacts | undefined, settings: Settings): { plan: IsolationPlan } | { summary: string; rows: RefusalRow[] } {
  if (!facts || facts.error) {
    return {
      summary: 'isolation: stand needs the datacenter firewall state, and it could not be read',
      rows: [{ subject: 'GET /cluster/firewall/options', problem: facts?.error ?? 'not read' }],
    };
  }
  if (!facts.enabled) {
    return {
      summary: 'the profile asks for isolation: stand, and the datacenter firewall is off (nothing was created)',
      rows: [{ subject: 'datacenter firewall', problem: 'off: no VM firewall rule takes effect while it is off' }, ...ENABLE_HOWTO],
    };
  }
  const rows: RefusalRow[] = [];
  for (const name of [ISOLATION_GROUP]) {
    const g = facts.groups.find((x) => x.group === name);
    if (g && g.comment !== FW_MARK) rows.push({ subject: `security group ${name}`, problem: `exists and is not ours (comment: ${g.comment ?? 'none'}); rename it or remove it` });
  }
  for (const name of [DENY_IPSET, ALLOW_IN_IPSET]) {
    const s = facts.ipsets.find((x) => x.name === name);
    if (s && s.comment !== FW_MARK) rows.push({ subject: `IPSet ${name}`, problem: `exists and is not ours (comment: ${s.comment ?? 'none'}); rename it or remove it` });
  }
  if (facts.nodeAddresses.length === 0) rows.push({ subject: 'node addresses', problem: 'no node address could be read from /cluster/status or the nodes\' networks' });
  if (rows.length) return { summary: 'stand isolation cannot be set up', rows };
  const deny = [...new Set([...settings.isolation.deny, ...facts.nodeAddresses.map((n) => n.address)])];
  const allowIn = [...settings.isolation.allowIn];
  const exists = (kind: 'group' | 'ipset', name: string): string =>
    (kind === 'group' ? facts.groups.some((g) => g.group === name) : facts.ipsets.some((s) => s.name === name)) ? 'converge' : 'create';
  const objects = [
    `${exists('ipset', DENY_IPSET)} cluster IPSet ${DENY_IPSET}: ${deny.join(', ')}`,
    `${exists('ipset', ALLOW_IN_IPSET)} cluster IPSet ${ALLOW_IN_IPSET}: ${allowIn.join(', ') || '(empty: nothing outside a stand may connect in)'}`,
    `${exists('group', ISOLATION_GROUP)} security group ${ISOLATION_GROUP}: out DROP to +${DENY_IPSET}; in ACCEPT from +${ALLOW_IN_IPSET}`,
    `every stand VM: firewall=1 on each NIC; firewall on, policy in DROP, out ACCEPT, DHCP allowed; rules: group ${ISOLATION_GROUP}, in ACCEPT on each private-segment NIC`,
  ];
  return {
    plan: {
      group: ISOLATION_GROUP,
      denyIpset: DENY_IPSET,
      allowInIpset: ALLOW_IN_IPSET,
      deny,
      denyFromSettings: [...settings.isolation.deny],
      nodeAddresses: facts.nodeAddresses,
      allowIn,
      objects,
    },
  };
}

/** The security group's rules (order does not matter: an out DROP and an in ACCEPT never compete). */
export function groupRules(): FwRuleInput[] {
  return [
    { type: 'out', action: 'DROP', dest: `+${DENY_IPSET}`, enable: true, comment: FW_MARK },
    { type: 'in', action: 'ACCEPT', source: `+${ALLOW_IN_IPSET}`, enable: true, comment: FW_MARK },
  ];
}

/** A VM's rules: the group, and an in ACCEPT on each NIC of a private segment (`privateNics`: the K of netK). */
export function vmRules(privateNics: readonly number[]): FwRuleInput[] {
  return [
    { type: 'group', action: ISOLATION_GROUP, enable: true, comment: FW_MARK },
    ...[...privateNics].sort((a, b) => a - b).map((k): FwRuleInput => ({ type: 'in', action: 'ACCEPT', iface: `net${k}`, enable: true, comment: FW_MARK })),
  ];
}

/** What makes two rules the same for convergence (the comment does not). */
export function ruleKey(r: FwRuleInput | FwRule): string {
  const enable = typeof r.enable === 'boolean' ? (r.enable ? 1 : 0) : (r.enable ?? 0);
  return [r.type, r.action, r.iface ?? '', r.source ?? '', r.dest ?? '', r.proto ?? '', r.dport ?? '', r.sport ?? '', r.macro ?? '', enable].join('|');
}

/** The NIC indexes of a planned VM that sit on one of the stand's private segments. */
export function privateNicsOf(nets: readonly { index: number; value: string }[], segmentIfaces: ReadonlySet<string>): number[] {
  return nets.filter((n) => segmentIfaces.has(/(?:^|,)bridge=([^,]+)/.exec(n.value)?.[1] ?? '')).map((n) => n.index);
}

/** `virtio,bridge=vmbr0` → `virtio,bridge=vmbr0,firewall=1` (an existing `firewall=0` is replaced). */
export function withNicFirewall(value: string): string {
  if (/(?:^|,)firewall=1(?:,|$)/.test(value)) return value;
  const parts = value.split(',').filter((p) => !/^firewall=/.test(p));
  return [...parts, 'firewall=1'].join(',');
}
