/**
 * Rule checks and normalisation as pve-firewall does them when a rule is created or changed
 * (proxmox/pve-firewall src/PVE/Firewall.pm: copy_rule_data, delete_rule_properties, verify_rule,
 * parse_address_list, parse_port_name_number_or_range, $apply_macro; then parse_fw_rule when the saved file is
 * read back). The first problem raises a 400 for that parameter (raise_param_exc), as verify_rule does without
 * `noerr`.
 */
import { isIP } from 'node:net';
import { fail, paramError } from './errors.js';
import { FW_MACROS } from './firewall-macros.js';
import type { ClusterFwConf, FwConf, FwRule } from './firewall-state.js';

export type RuleEnv = 'cluster' | 'group' | 'vm';

/** $rule_properties: what copy_rule_data copies from the request. */
export const RULE_KEYS = ['action', 'comment', 'dest', 'dport', 'enable', 'icmp-type', 'iface', 'log', 'macro', 'proto', 'source', 'sport', 'type'] as const;

const DIRECTIONS: Record<RuleEnv, string[]> = { vm: ['in', 'out', 'group'], group: ['in', 'out', 'forward'], cluster: ['in', 'out', 'forward', 'group'] };
const NAME = '[A-Za-z][A-Za-z0-9\\-_]+';
const PORT_PROTOS = new Set(['udp', '17', 'udplite', '136', 'tcp', '6', 'dccp', '33', 'sctp', '132']);
/** /etc/protocols names pve-firewall accepts (pve_fw_verify_protocol_spec), besides numbers. */
const PROTOCOLS = new Set([
  'ip', 'icmp', 'igmp', 'ggp', 'ipencap', 'st', 'tcp', 'egp', 'igp', 'pup', 'udp', 'hmp', 'xns-idp', 'rdp', 'iso-tp4', 'dccp',
  'xtp', 'ddp', 'idpr-cmtp', 'ipv6', 'ipv6-route', 'ipv6-frag', 'idrp', 'rsvp', 'gre', 'esp', 'ah', 'skip', 'ipv6-icmp', 'icmpv6',
  'ipv6-nonxt', 'ipv6-opts', 'rspf', 'vmtp', 'eigrp', 'ospf', 'ax.25', 'ipip', 'etherip', 'encap', 'pim', 'ipcomp', 'vrrp', 'l2tp',
  'isis', 'sctp', 'fc', 'mobility-header', 'udplite', 'mpls-in-ip', 'manet', 'hip', 'shim6', 'wesp', 'rohc', 'ethernet',
]);
/** A few /etc/services names (parse_port_name_number_or_range looks names up there). */
const SERVICES: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, http: 80, pop3: 110, ntp: 123, imap2: 143, snmp: 161, ldap: 389,
  https: 443, microsoft_ds: 445, submission: 587, imaps: 993, pop3s: 995, mysql: 3306, postgresql: 5432, 'ms-wbt-server': 3389,
};
const ICMP_TYPES = new Set(['any', 'echo-reply', 'destination-unreachable', 'source-quench', 'redirect', 'echo-request', 'router-advertisement',
  'router-solicitation', 'time-exceeded', 'parameter-problem', 'timestamp-request', 'timestamp-reply', 'address-mask-request',
  'address-mask-reply', 'network-unreachable', 'host-unreachable', 'protocol-unreachable', 'port-unreachable', 'fragmentation-needed',
  'source-route-failed', 'network-unknown', 'host-unknown', 'network-prohibited', 'host-prohibited', 'TOS-network-unreachable',
  'TOS-host-unreachable', 'communication-prohibited', 'host-precedence-violation', 'precedence-cutoff', 'network-redirect',
  'host-redirect', 'TOS-network-redirect', 'TOS-host-redirect', 'ttl-zero-during-transit', 'ttl-zero-during-reassembly',
  'ip-header-bad', 'required-option-missing']);

const macroByLc = new Map(Object.keys(FW_MACROS).map((k) => [k.toLowerCase(), k]));
export const macroRules = (name: string): readonly { proto: string; dport?: string; sport?: string }[] | undefined => {
  const k = macroByLc.get(name.toLowerCase());
  return k ? FW_MACROS[k] : undefined;
};

export const servicePort = (name: string): number | undefined => SERVICES[name];

/** copy_rule_data: '' or '-' removes a property. */
export function copyRuleData(rule: FwRule, params: Record<string, unknown>): void {
  for (const k of RULE_KEYS) {
    const v = params[k];
    if (v === undefined || v === null) continue;
    const s = typeof v === 'number' ? v : String(v);
    if (s === '' || s === '-') delete rule[k];
    else rule[k] = s;
  }
}

/** delete_rule_properties */
export function deleteRuleProperties(rule: FwRule, del: string): void {
  for (const opt of del.split(/[,;\s]+/).filter(Boolean)) {
    if (!(RULE_KEYS as readonly string[]).includes(opt)) throw paramError({ delete: `no such property ('${opt}')` });
    if (opt === 'type' || opt === 'action') throw paramError({ delete: `unable to delete required property '${opt}'` });
    delete rule[opt];
  }
}

/** parse_port_name_number_or_range */
function checkPorts(str: string, dport: boolean): string | undefined {
  const items = str.split(',');
  if (items.some((i) => i === '')) return 'extraneous commas in list';
  let count = 0;
  let icmp = false;
  for (const item of items) {
    const range = /^(\d+):(\d+)$/.exec(item);
    if (range) {
      count += 2;
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > 65535) return `invalid port '${range[1]}'`;
      if (b > 65535) return `invalid port '${range[2]}'`;
      if (a > b) return `backwards range '${a}:${b}' not allowed, did you mean '${b}:${a}'?`;
    } else if (/^\d+$/.test(item)) {
      count += 1;
      if (Number(item) > 65535) return `invalid port '${item}'`;
    } else if (dport && ICMP_TYPES.has(item)) icmp = true;
    else if (SERVICES[item] === undefined) return `invalid port '${item}'`;
  }
  if (icmp && count > 0) return 'ICMP ports not allowed in port range';
  if (count > 15) return 'too many entries in port list (> 15 numbers)';
  return undefined;
}

/** parse_address_list: an IP version for literal addresses, undefined for IPSet/alias references. */
function addressListVersion(str: string): 4 | 6 | undefined {
  if (/^\+\S+$/.test(str)) {
    if (str.length > 65) throw new Error('ipset name too long');
    return undefined;
  }
  if (new RegExp(`^(dc/|guest/)?${NAME}$`).test(str)) {
    if (str.length > 64) throw new Error('alias name too long');
    return undefined;
  }
  const items = str.split(',');
  if (items.some((i) => i === '')) throw new Error('extraneous commas in list');
  let version: 4 | 6 | undefined;
  let range = false;
  for (const e of items) {
    const r = /^([^-]+)-([^-]+)$/.exec(e);
    const v = r ? (isIP(r[1]!) === isIP(r[2]!) ? isIP(r[1]!) : 0) : ipVersionOf(e);
    if (v !== 4 && v !== 6) throw new Error(`invalid IP address: Invalid IP ${e}`);
    if (r) range = true;
    if (version && v !== version) throw new Error(`detected mixed ipv4/ipv6 addresses in address list '${str}'`);
    version = v;
  }
  if (range && items.length > 1) throw new Error("you can't use a range in a list");
  return version;
}

function ipVersionOf(e: string): number {
  const [ip, len, extra] = e.split('/');
  const v = isIP(ip ?? '');
  if (extra !== undefined || !v) return 0;
  if (len !== undefined && (!/^\d+$/.test(len) || Number(len) > (v === 4 ? 32 : 128))) return 0;
  return v;
}

/**
 * verify_rule for the API (errors raise), then the normalisation a save and re-read gives the rule
 * (parse_fw_rule: `enable` 0/1, lower-case type, preferred macro name, `ipversion`).
 * `cluster` is cluster.fw; `local` is the VM's own file (for rule_env 'vm').
 */
export function verifyRule(rule: FwRule, env: RuleEnv, cluster: ClusterFwConf, local?: FwConf): void {
  const err = (k: string, msg: string): never => {
    throw paramError({ [k]: msg });
  };
  let ipversion: 4 | 6 | undefined;
  const setVersion = (v: 4 | 6 | undefined): void => {
    if (!v) return;
    // a plain die (a 500 under the cfs lock) unless it happens inside the address check's eval
    if (ipversion && v !== ipversion) throw fail('detected mixed ipv4/ipv6 addresses in rule');
    ipversion = v;
  };
  const checkRef = (k: 'source' | 'dest'): void => {
    const value = String(rule[k] ?? '');
    if (!value) return;
    if (value.startsWith('+')) {
      const m = new RegExp(`^\\+(guest/|dc/|sdn/)?(${NAME})$`).exec(value);
      if (!m) err(k, `invalid ipset name '${value}'`);
      // the lookup is by the exact name; names are stored lower-cased
      if (!cluster.ipsets.has(m![2]!) && !local?.ipsets.has(m![2]!)) err(k, `no such ipset '${m![2]}'`);
      return;
    }
    const m = new RegExp(`^(dc/|guest/)?(${NAME})$`).exec(value);
    if (!m) return;
    const scope = m[1] ?? '';
    const alias = m[2]!.toLowerCase();
    if (!cluster.aliases.has(alias) && !local?.aliases.has(alias)) err(k, `no such alias '${value}'`);
    let e = scope !== 'dc/' ? local?.aliases.get(alias) : undefined;
    if (scope !== 'guest/' && !e) e = cluster.aliases.get(alias);
    setVersion(e?.ipversion);
  };

  const type = rule.type === undefined ? undefined : String(rule.type);
  const action = rule.action === undefined ? undefined : String(rule.action);
  if (!type) err('type', 'missing property');
  if (!action) err('action', 'missing property');
  if (!DIRECTIONS[env].includes(type!)) err('type', `invalid rule type '${type}' for rule_env '${env}'`);
  if (type === 'in' || type === 'out' || type === 'forward') {
    if (type === 'forward' && action === 'REJECT') err('action', 'cannot define REJECT rules on forward chain');
    if (!/^(ACCEPT|DROP|REJECT)$/.test(action!)) err('action', `unknown action '${action}'`);
  } else if (type === 'group') {
    // an unknown group name is accepted: only the name's characters are checked
    if (!new RegExp(`^${NAME}$`).test(action!)) err('action', 'invalid characters in security group name');
  }
  if (rule.iface !== undefined) {
    if (env === 'group') err('type', 'parameter -i not allowed for this rule type');
    if (env === 'vm' && !/^net\d+$/.test(String(rule.iface))) err('iface', "value does not match the regex pattern 'net\\d+'");
  }
  if (rule.macro !== undefined) {
    const k = macroByLc.get(String(rule.macro).toLowerCase());
    if (!k) err('macro', `unknown macro '${rule.macro}'`);
    rule.macro = k!;
  }
  const proto = rule.proto === undefined ? undefined : String(rule.proto);
  const isIcmp = proto === 'icmp' || proto === 'icmpv6' || proto === 'ipv6-icmp';
  if (proto !== undefined) {
    if (!/^\d+$/.test(proto) && !PROTOCOLS.has(proto)) err('proto', `unknown protocol '${proto}'`);
    if (proto === 'icmp') setVersion(4);
    if (proto === 'icmpv6' || proto === 'ipv6-icmp') setVersion(6);
  }
  if (rule.dport !== undefined) {
    const e = checkPorts(String(rule.dport), isIcmp);
    if (e) err('dport', e);
    if (!proto) err('proto', "missing property - 'dport' requires this property");
    if (!PORT_PROTOS.has(proto!) && !isIcmp) err('dport', `protocol '${proto}' does not support ports`);
  }
  if (rule['icmp-type'] !== undefined) {
    if (!isIcmp) err('proto', "missing property - 'icmp-type' requires this property");
    if (rule.dport !== undefined) err('icmp-type', "'icmp-type' cannot be specified together with 'dport'");
  }
  if (rule.sport !== undefined) {
    const e = checkPorts(String(rule.sport), false);
    if (e) err('sport', e);
    if (!proto) err('proto', "missing property - 'sport' requires this property");
    if (!PORT_PROTOS.has(proto!)) err('sport', `protocol '${proto}' does not support ports`);
  }
  for (const k of ['source', 'dest'] as const) {
    if (rule[k] === undefined) continue;
    try {
      setVersion(addressListVersion(String(rule[k])));
    } catch (e) {
      // parse_address_list and set_ip_version run in an eval whose error becomes this parameter's
      err(k, e instanceof Error ? e.message : String(e));
    }
    checkRef(k);
  }
  if (ipversion) rule.ipversion = ipversion;
  else delete rule.ipversion;
  if (rule.macro !== undefined) {
    // $apply_macro: explicit values must agree with the macro's
    for (const t of macroRules(String(rule.macro))!) {
      for (const k of ['proto', 'dport', 'sport'] as const) {
        const v = t[k];
        if (v !== undefined && rule[k] !== undefined && String(rule[k]) !== v) err(k, `parameter '${k}' already define in macro (value = '${v}')`);
      }
    }
  }
  // what the re-read file gives back
  rule.type = type!.toLowerCase();
  rule.enable = rule.enable === undefined || rule.enable === 0 || rule.enable === '0' ? 0 : 1;
  if (rule.comment !== undefined) {
    const c = String(rule.comment).trim();
    if (c) rule.comment = c;
    else delete rule.comment;
  }
}
