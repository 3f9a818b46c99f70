/**
 * Stand isolation with the Proxmox VE firewall (profiles with `isolation: stand`). The model, kept small so a
 * re-run converges and cleanup can take it all back. Every object lives in the stand VM's own firewall config
 * (`<vmid>.fw`), written with VM.Config.Network on /vms/<vmid>; nothing is created at cluster level (cluster
 * IPSets and security groups need Sys.Modify on `/`, which would also let the token change the datacenter
 * firewall options), and the VM's config goes with the VM. On every VM of an isolated stand:
 *
 * - `firewall=1` on every NIC; VM options `enable=1 policy_in=DROP policy_out=ACCEPT dhcp=1`;
 * - VM IPSet `stands-deny`: stands.yml `isolation.deny` plus every cluster node's own addresses (read from
 *   `/cluster/status` and the nodes' interfaces at plan time, never configured);
 * - VM IPSet `stands-allow-in`: `isolation.allow_in`;
 * - exactly these rules: `out DROP → +guest/stands-deny`, `in ACCEPT ← +guest/stands-allow-in`, and
 *   `in ACCEPT iface netK` for each NIC on one of the stand's private segments (those carry this stand only).
 *
 * The rules name the sets with the `guest/` scope, so they resolve to the VM's own IPSet and never to a cluster
 * IPSet of the same name (pve-firewall src/PVE/Firewall.pm `ipt_gen_src_or_dst_match`: an unscoped `+name`
 * also tries the VM's set first, then the cluster's; `guest/` tries only the VM's).
 *
 * What that enforces: nothing the stand's VMs send reaches a node address or a deny CIDR; nothing reaches a stand
 * VM's shared-bridge NIC unless it comes from allow_in (so another stand's VM, isolated or not, cannot open a
 * connection to it); the stand's private segments work as before. The stand VMs' own addresses (DHCP) are never
 * needed. Limits: VMs of the same stand do not reach each other over the shared bridge (only over their private
 * segments), and a stand VM may open connections to shared-LAN hosts that are not isolated stands unless their
 * addresses are in `isolation.deny`.
 *
 * Reading the datacenter firewall state (GET /cluster/firewall/options) takes Sys.Audit on `/` (granted without
 * propagation, src/proxmox/check.ts deployerGrants).
 *
 * Sources: pve-firewall src/PVE/Firewall.pm (`ruleset_generate_vm_rules`, `generate_tap_rules_direction`,
 * `ruleset_create_vm_chain` for dhcp, `ipt_gen_src_or_dst_match` for IPSet scopes); the simulator's evaluator
 * (src/sim/firewall-eval.ts) follows them.
 */
import { msg, type Msg } from '../i18n/index.js';
import { z } from 'zod';
import { hostAddress } from '../config/cidr.js';
import type { Settings } from '../config/settings.js';
import type { FwRule, FwRuleInput } from '../proxmox/firewall.js';
import { FirewallApi } from '../proxmox/firewall.js';
import type { ProxmoxClient } from '../proxmox/client.js';
import { reasonOf } from './executor.js';
import type { RefusalRow } from './types.js';

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
}

export interface IsolationPlan {
  /** The IPSet names in each stand VM's own firewall config. */
  denyIpset: string;
  allowInIpset: string;
  /** VM IPSet stands-deny: the deny CIDRs, then the node addresses (deduplicated). */
  deny: string[];
  denyFromSettings: string[];
  nodeAddresses: { node: string; address: string }[];
  allowIn: string[];
  /** Human lines: the firewall objects the deploy will create or converge on each stand VM. */
  objects: string[];
}

const ClusterStatusEntry = z.looseObject({ type: z.string(), name: z.string().optional(), ip: z.string().optional(), online: z.unknown().optional() });

/** Reads only: the datacenter firewall options (Sys.Audit on `/`) and the node addresses. */
export async function loadIsolationFacts(client: ProxmoxClient): Promise<IsolationFacts> {
  const fw = new FirewallApi(client);
  try {
    const [options, status] = await Promise.all([fw.clusterOptions(), client.get('/cluster/status', z.array(ClusterStatusEntry))]);
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
    return { enabled: options.enable === 1, nodeAddresses };
  } catch (err) {
    return { enabled: false, error: reasonOf(err), nodeAddresses: [] };
  }
}

/** The isolation part of a plan, or the rows of a refusal. */
export function planIsolation(facts: IsolationFacts | undefined, settings: Settings): { plan: IsolationPlan } | { summary: Msg; rows: RefusalRow[] } {
  if (!facts || facts.error) {
    return {
      summary: msg('plan.isolationUnread'),
      rows: [{ subject: 'GET /cluster/firewall/options', problem: facts?.error ?? 'not read' }],
    };
  }
  if (!facts.enabled) {
    return {
      summary: msg('plan.isolationFirewallOff'),
      rows: [{ subject: 'datacenter firewall', problem: 'off: no VM firewall rule takes effect while it is off' }, ...ENABLE_HOWTO],
    };
  }
  const rows: RefusalRow[] = [];
  if (facts.nodeAddresses.length === 0) rows.push({ subject: 'node addresses', problem: 'no node address could be read from /cluster/status or the nodes\' networks' });
  if (rows.length) return { summary: msg('plan.isolationImpossible'), rows };
  const deny = [...new Set([...settings.isolation.deny, ...facts.nodeAddresses.map((n) => n.address)])];
  const allowIn = [...settings.isolation.allowIn];
  const objects = [
    `every stand VM: firewall=1 on each NIC; firewall on, policy in DROP, out ACCEPT, DHCP allowed`,
    `every stand VM: IPSet ${DENY_IPSET}: ${deny.join(', ')}`,
    `every stand VM: IPSet ${ALLOW_IN_IPSET}: ${allowIn.join(', ') || '(empty: nothing outside a stand may connect in)'}`,
    `every stand VM: rules out DROP to +guest/${DENY_IPSET}; in ACCEPT from +guest/${ALLOW_IN_IPSET}; in ACCEPT on each private-segment NIC`,
    'nothing at cluster level (no security group, no cluster IPSet)',
  ];
  return {
    plan: {
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

/**
 * A VM's rules: out DROP to its deny set, in ACCEPT from its allow-in set, and an in ACCEPT on each NIC of a
 * private segment (`privateNics`: the K of netK). Order does not matter: an out DROP and in ACCEPTs never compete.
 */
export function vmRules(privateNics: readonly number[]): FwRuleInput[] {
  return [
    { type: 'out', action: 'DROP', dest: `+guest/${DENY_IPSET}`, enable: true, comment: FW_MARK },
    { type: 'in', action: 'ACCEPT', source: `+guest/${ALLOW_IN_IPSET}`, enable: true, comment: FW_MARK },
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
