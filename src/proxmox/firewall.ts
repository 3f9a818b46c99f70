/**
 * The Proxmox VE firewall API (pve-firewall): datacenter options, security groups and their rules, cluster and
 * VM IPSets and aliases, VM options and rules. Typed and zod-parsed, over the one ProxmoxClient.
 *
 * What callers must know (proxmox/pve-firewall src/PVE/API2/Firewall/*.pm, src/PVE/Firewall.pm):
 * - A new rule always goes to position 0 (`pos` is ignored) and is stored disabled unless `enable` is sent:
 *   `addRule` requires `enable`.
 * - `digest` (from any list read) is checked on options PUT, rule PUT/DELETE, IPSet entry PUT/DELETE, alias
 *   PUT/DELETE and renames; a mismatch fails with "detected modified configuration" (`isDigestConflict`): read
 *   again and redo. Rule POST ignores it.
 * - Group and IPSet names are lower-cased by PVE when it re-reads the file: only lower-case names are accepted here.
 * - Deleting a security group that still has rules fails; IPSets and aliases are deleted even when rules use them.
 */
import { z } from 'zod';
import type { ProxmoxClient } from './client.js';
import { ProxmoxApiError } from './errors.js';
import type { Params } from './types.js';

const str = z.union([z.string(), z.number()]).transform(String);
const num = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);
const flag = z.union([z.number(), z.boolean(), z.string()]).transform((v) => v === true || v === 1 || v === '1');

export const FwRule = z.object({
  pos: num,
  type: z.string(),
  action: z.string(),
  enable: num.optional(),
  source: z.string().optional(),
  dest: z.string().optional(),
  proto: str.optional(),
  dport: str.optional(),
  sport: str.optional(),
  macro: z.string().optional(),
  iface: z.string().optional(),
  log: z.string().optional(),
  'icmp-type': z.string().optional(),
  comment: z.string().optional(),
  ipversion: num.optional(),
  digest: z.string(),
});
export type FwRule = z.infer<typeof FwRule>;

export const FwClusterOptions = z.looseObject({
  enable: num.optional(),
  policy_in: z.string().optional(),
  policy_out: z.string().optional(),
  policy_forward: z.string().optional(),
  ebtables: num.optional(),
  log_ratelimit: z.string().optional(),
  digest: z.string(),
});
export type FwClusterOptions = z.infer<typeof FwClusterOptions>;

export const FwVmOptions = z.looseObject({
  enable: num.optional(),
  policy_in: z.string().optional(),
  policy_out: z.string().optional(),
  dhcp: num.optional(),
  ndp: num.optional(),
  radv: num.optional(),
  macfilter: num.optional(),
  ipfilter: num.optional(),
  log_level_in: z.string().optional(),
  log_level_out: z.string().optional(),
  digest: z.string(),
});
export type FwVmOptions = z.infer<typeof FwVmOptions>;

export const FwGroup = z.object({ group: z.string(), comment: z.string().optional(), digest: z.string() });
export type FwGroup = z.infer<typeof FwGroup>;
export const FwIpset = z.object({ name: z.string(), comment: z.string().optional(), digest: z.string() });
export type FwIpset = z.infer<typeof FwIpset>;
export const FwIpsetEntry = z.object({ cidr: z.string(), nomatch: flag.optional(), comment: z.string().optional(), digest: z.string() });
export type FwIpsetEntry = z.infer<typeof FwIpsetEntry>;
export const FwAlias = z.object({ name: z.string(), cidr: z.string(), ipversion: num.optional(), comment: z.string().optional(), digest: z.string() });
export type FwAlias = z.infer<typeof FwAlias>;

/** Where IPSets and aliases live: cluster.fw or a VM's <vmid>.fw. */
export type FwScope = { kind: 'cluster' } | { kind: 'vm'; node: string; vmid: number };
/** Where rules live: the datacenter, a security group, or a VM. */
export type FwRuleTarget = FwScope | { kind: 'group'; group: string };

export interface FwRuleInput {
  type: 'in' | 'out' | 'group';
  /** ACCEPT/DROP/REJECT, or the security group's name for `type: 'group'` */
  action: string;
  /** required: PVE stores a rule created without it as disabled */
  enable: boolean;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  macro?: string;
  iface?: string;
  comment?: string;
  log?: string;
}

/** PVE::Tools::assert_if_modified's refusal: someone changed the file since the digest was read. */
export function isDigestConflict(err: unknown): boolean {
  return err instanceof ProxmoxApiError && /detected modified configuration - file changed by other user/.test(err.fullText);
}

const enc = (s: string | number): string => encodeURIComponent(String(s));

function base(s: FwScope): string {
  return s.kind === 'cluster' ? '/cluster/firewall' : `/nodes/${enc(s.node)}/qemu/${s.vmid}/firewall`;
}

function rulesPath(t: FwRuleTarget): string {
  return t.kind === 'group' ? `/cluster/firewall/groups/${enc(t.group)}` : `${base(t)}/rules`;
}

function lowerName(kind: string, name: string): string {
  if (name !== name.toLowerCase()) throw new Error(`${kind} name '${name}' must be lower-case (Proxmox lower-cases it when it re-reads the file)`);
  return name;
}

function ruleParams(r: Partial<FwRuleInput>): Params {
  const { enable, ...rest } = r;
  return { ...rest, ...(enable !== undefined ? { enable: enable ? 1 : 0 } : {}) };
}

export class FirewallApi {
  constructor(private readonly client: ProxmoxClient) {}

  private async send(method: 'POST' | 'PUT' | 'DELETE', path: string, body: Params, o: { idempotent?: boolean; alreadyDone?: () => Promise<true | undefined> } = {}): Promise<void> {
    // DELETE parameters go in the query string (the client sends a body only with POST/PUT)
    await this.client.write(method, path, () => true as const, method === 'DELETE' ? { query: body, ...o } : { body, ...o });
  }

  // ---- options ----

  clusterOptions(): Promise<FwClusterOptions> {
    return this.client.get('/cluster/firewall/options', FwClusterOptions);
  }

  /**
   * Sys.Modify on /. The product reads this; it never turns the datacenter firewall on. An `enable` above 1 is
   * PVE's anti-lockout form (a timestamp that reads as off after 60 s unless confirmed with enable=1).
   */
  setClusterOptions(opts: { enable?: boolean | number; policy_in?: string; policy_out?: string }, digest?: string): Promise<void> {
    return this.send('PUT', '/cluster/firewall/options', { ...opts, digest }, { idempotent: true });
  }

  vmOptions(node: string, vmid: number): Promise<FwVmOptions> {
    return this.client.get(`${base({ kind: 'vm', node, vmid })}/options`, FwVmOptions);
  }

  /** VM.Config.Network on /vms/{vmid}. `delete` names options to unset. */
  setVmOptions(
    node: string,
    vmid: number,
    opts: { enable?: boolean; policy_in?: 'ACCEPT' | 'DROP' | 'REJECT'; policy_out?: 'ACCEPT' | 'DROP' | 'REJECT'; dhcp?: boolean; ipfilter?: boolean; delete?: string[] },
    digest?: string,
  ): Promise<void> {
    const { delete: del, ...rest } = opts;
    return this.send('PUT', `${base({ kind: 'vm', node, vmid })}/options`, { ...rest, ...(del?.length ? { delete: del.join(',') } : {}), digest }, { idempotent: true });
  }

  // ---- rules ----

  rules(t: FwRuleTarget): Promise<FwRule[]> {
    return this.client.get(rulesPath(t), z.array(FwRule));
  }

  /** Inserts at position 0. Not repeated after an ambiguous failure: re-read and converge instead. */
  addRule(t: FwRuleTarget, rule: FwRuleInput): Promise<void> {
    return this.send('POST', rulesPath(t), ruleParams(rule));
  }

  /** Change a rule's fields ('' clears one); `digest` from the rules list guards against concurrent edits. */
  updateRule(t: FwRuleTarget, pos: number, patch: Partial<FwRuleInput> & { delete?: string[] }, digest: string): Promise<void> {
    const { delete: del, ...rest } = patch;
    return this.send('PUT', `${rulesPath(t)}/${pos}`, { ...ruleParams(rest), ...(del?.length ? { delete: del.join(',') } : {}), digest });
  }

  /** Move the rule at `pos` in front of the rule now at `moveto` (PVE's update_rule). */
  moveRule(t: FwRuleTarget, pos: number, moveto: number, digest: string): Promise<void> {
    return this.send('PUT', `${rulesPath(t)}/${pos}`, { moveto, digest });
  }

  deleteRule(t: FwRuleTarget, pos: number, digest: string): Promise<void> {
    return this.send('DELETE', `${rulesPath(t)}/${pos}`, { digest });
  }

  // ---- security groups ----

  groups(): Promise<FwGroup[]> {
    return this.client.get('/cluster/firewall/groups', z.array(FwGroup));
  }

  createGroup(group: string, comment?: string): Promise<void> {
    lowerName('security group', group);
    return this.send('POST', '/cluster/firewall/groups', { group, comment }, {
      alreadyDone: async () => ((await this.groups()).some((g) => g.group === group) ? true : undefined),
    });
  }

  /** Fails while the group has rules ("Security group '…' is not empty"). */
  deleteGroup(group: string): Promise<void> {
    return this.send('DELETE', `/cluster/firewall/groups/${enc(group)}`, {}, {
      alreadyDone: async () => ((await this.groups()).some((g) => g.group === group) ? undefined : true),
    });
  }

  // ---- IPSets ----

  ipsets(s: FwScope): Promise<FwIpset[]> {
    return this.client.get(`${base(s)}/ipset`, z.array(FwIpset));
  }

  createIpset(s: FwScope, name: string, comment?: string): Promise<void> {
    lowerName('IPSet', name);
    return this.send('POST', `${base(s)}/ipset`, { name, comment }, {
      alreadyDone: async () => ((await this.ipsets(s)).some((x) => x.name === name) ? true : undefined),
    });
  }

  /** `force` deletes a non-empty set; rules that reference it are not checked by PVE. */
  deleteIpset(s: FwScope, name: string, force = false): Promise<void> {
    return this.send('DELETE', `${base(s)}/ipset/${enc(name)}`, force ? { force: 1 } : {}, {
      alreadyDone: async () => ((await this.ipsets(s)).some((x) => x.name === name) ? undefined : true),
    });
  }

  ipsetEntries(s: FwScope, name: string): Promise<FwIpsetEntry[]> {
    return this.client.get(`${base(s)}/ipset/${enc(name)}`, z.array(FwIpsetEntry));
  }

  /** PVE normalises the address (host bits cleared, /32 dropped); compare entries in that form. */
  addIpsetEntry(s: FwScope, name: string, cidr: string, o: { nomatch?: boolean; comment?: string } = {}): Promise<void> {
    return this.send('POST', `${base(s)}/ipset/${enc(name)}`, { cidr, ...(o.nomatch ? { nomatch: 1 } : {}), comment: o.comment });
  }

  removeIpsetEntry(s: FwScope, name: string, cidr: string, digest?: string): Promise<void> {
    return this.send('DELETE', `${base(s)}/ipset/${enc(name)}/${enc(cidr)}`, { digest }, { idempotent: true });
  }

  // ---- aliases ----

  aliases(s: FwScope): Promise<FwAlias[]> {
    return this.client.get(`${base(s)}/aliases`, z.array(FwAlias));
  }

  createAlias(s: FwScope, name: string, cidr: string, comment?: string): Promise<void> {
    return this.send('POST', `${base(s)}/aliases`, { name, cidr, comment }, {
      alreadyDone: async () => ((await this.aliases(s)).some((a) => a.name.toLowerCase() === name.toLowerCase()) ? true : undefined),
    });
  }

  updateAlias(s: FwScope, name: string, cidr: string, digest: string, comment?: string): Promise<void> {
    return this.send('PUT', `${base(s)}/aliases/${enc(name)}`, { cidr, comment, digest });
  }

  deleteAlias(s: FwScope, name: string, digest?: string): Promise<void> {
    return this.send('DELETE', `${base(s)}/aliases/${enc(name)}`, { digest }, { idempotent: true });
  }
}
