/**
 * The firewall API: /cluster/firewall (options, aliases, IPSets, security groups, datacenter rules) and
 * /nodes/{node}/qemu/{vmid}/firewall (options, aliases, IPSets, rules). Permissions are the schema's `check`
 * (done by the server before a handler runs). Sources, proxmox/pve-firewall src/PVE/API2/Firewall/:
 * Cluster.pm (get_options, set_options), Groups.pm (list/create/delete_security_group), Rules.pm (RulesBase
 * get_rules, create_rule, update_rule, delete_rule), IPSet.pm (ipset_index, create_ipset, delete_ipset, get_ipset,
 * create_ip, read_ip, update_ip, remove_ip), Aliases.pm (get_aliases, create_alias, read_alias, update_alias,
 * remove_alias), VM.pm (get_options, set_options).
 */
import { int, type Req, str } from '../context.js';
import { fail, paramError, PveError } from '../errors.js';
import {
  clusterOptions, type ClusterFwConf, type FwConf, type FwIpset, type FwRule, ipOrCidrVersion, listWithDigest, normaliseCidr, objectDigest,
  saveVmConf, sortIpset, vmConf,
} from '../firewall-state.js';
import { copyRuleData, deleteRuleProperties, type RuleEnv, verifyRule } from '../firewall-verify.js';
import type { Router } from '../router.js';

const NAME_RE = /^[A-Za-z][A-Za-z0-9\-_]+$/;

/**
 * A config-changing call under cfs_lock_firewall(<scope>): a plain `die` inside comes out as
 * "error during cfs-locked 'firewall-<scope>' operation: …" (PVE::Cluster cfs_lock); a PVE::Exception (raise_param_exc)
 * is re-raised as it is. The handler body is synchronous, so it runs atomically like the locked section.
 */
function locked<T>(lockid: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PveError && e.status === 500) throw fail(`error during cfs-locked '${lockid}' operation: ${e.message}`);
    throw e;
  }
}

/** PVE::Tools::assert_if_modified */
function assertDigest(current: string, given: unknown): void {
  if (given !== undefined && given !== null && String(given) !== '' && String(given) !== current)
    throw fail('detected modified configuration - file changed by other user? Try again.');
}

/** Where a request's objects live: cluster.fw, or the VM's <vmid>.fw. */
interface Scope {
  lockid: string;
  /** the file to change (a VM's is created on first write) */
  conf(create: boolean): FwConf;
  save(c: FwConf): void;
  cluster: ClusterFwConf;
  env: RuleEnv;
  local?: FwConf;
}

function clusterScope(r: Req): Scope {
  const cluster = r.sim.state.firewall.cluster;
  return { lockid: 'firewall-cluster', conf: () => cluster, save: () => undefined, cluster, env: 'cluster' };
}

/** The VM API does not check that the VM exists (load_vmfw_conf of a missing file is an empty config). */
function vmScope(r: Req): Scope {
  const fw = r.sim.state.firewall;
  const vmid = int(r, 'vmid')!;
  const c = vmConf(fw, vmid, false);
  return {
    lockid: `firewall-vm-${vmid}`,
    conf: () => c,
    save: (x) => saveVmConf(fw, vmid, x),
    cluster: fw.cluster,
    env: 'vm',
    local: c,
  };
}

// ---- options --------------------------------------------------------------------------------------------------

const CLUSTER_OPTIONS = new Set(['enable', 'ebtables', 'policy_in', 'policy_out', 'policy_forward', 'log_ratelimit']);
const VM_OPTIONS = new Set(['enable', 'dhcp', 'ndp', 'radv', 'macfilter', 'ipfilter', 'log_level_in', 'log_level_out', 'policy_in', 'policy_out']);

function setOptions(r: Req, s: Scope, known: Set<string>, cluster: boolean): null {
  return locked(s.lockid, () => {
    const c = s.conf(true);
    if (cluster) c.options = clusterOptions(c.options, r.sim.clock.now());
    assertDigest(objectDigest(c.options), r.params.digest);
    for (const opt of String(r.params.delete ?? '').split(/[,;\s]+/).filter(Boolean)) {
      if (!known.has(opt)) throw paramError({ delete: `no such option '${opt}'` });
      delete c.options[opt];
    }
    for (const k of known) {
      const v = r.params[k];
      if (v === undefined) continue;
      if (typeof v === 'boolean') c.options[k] = v ? 1 : 0;
      else if (k === 'enable' && cluster) {
        // enable > 1 is the anti-lockout form: stored as the current time, read as 0 after 60 s (parse_clusterfw_option)
        const n = Number(v);
        c.options[k] = n > 1 ? Math.floor(r.sim.clock.now() / 1000) : n;
      } else c.options[k] = typeof v === 'number' ? v : String(v);
    }
    s.save(c);
    return null;
  });
}

// ---- rules ----------------------------------------------------------------------------------------------------

interface RuleList {
  scope: Scope;
  env: RuleEnv;
  /** the rules, or a plain error (e.g. "no such security group") */
  load(): FwRule[];
  store(rules: FwRule[]): void;
}

function groupRules(r: Req): RuleList {
  const scope = clusterScope(r);
  const group = str(r, 'group')!;
  return {
    scope,
    env: 'group',
    load: () => {
      const g = scope.cluster.groups.get(group);
      if (!g) throw fail(`no such security group '${group}'`);
      return g.rules;
    },
    store: (rules) => {
      scope.cluster.groups.get(group)!.rules = rules;
    },
  };
}

function confRules(s: Scope): RuleList {
  return {
    scope: s,
    env: s.env,
    load: () => s.conf(false).rules,
    store: (rules) => {
      const c = s.conf(true);
      c.rules = rules;
      s.save(c);
    },
  };
}

function registerRules(router: Router, base: string, list: (r: Req) => RuleList): void {
  router.add('GET', base, (r) => {
    const { list: out } = listWithDigest(list(r).load());
    return out.map((rule, pos) => ({ ...rule, pos }));
  });
  router.add('GET', `${base}/{pos}`, (r) => {
    const { list: out } = listWithDigest(list(r).load());
    const pos = int(r, 'pos')!;
    if (pos >= out.length) throw fail(`no rule at position ${pos}`);
    return { ...out[pos], pos };
  });
  // create_rule: always unshift (position 0; `pos` is not used), stored disabled unless `enable` is given
  router.add('POST', base, (r) => {
    const l = list(r);
    return locked(l.scope.lockid, () => {
      const rules = l.load();
      const rule: FwRule = {};
      copyRuleData(rule, r.params);
      verifyRule(rule, l.env, l.scope.cluster, l.scope.local);
      if (r.params.enable === undefined) rule.enable = 0;
      l.store([rule, ...rules]);
      return null;
    });
  });
  router.add('PUT', `${base}/{pos}`, (r) => {
    const l = list(r);
    return locked(l.scope.lockid, () => {
      let rules = l.load().map((x) => ({ ...x }));
      assertDigest(listWithDigest(rules).digest, r.params.digest);
      const pos = int(r, 'pos')!;
      if (pos >= rules.length) throw fail(`no rule at position ${pos}`);
      const rule = rules[pos]!;
      const moveto = int(r, 'moveto');
      if (moveto !== undefined && moveto !== pos) {
        // the rule goes in front of the one now at `moveto` (or last)
        const out: FwRule[] = [];
        rules.forEach((x, i) => {
          if (i === pos) return;
          if (i === moveto) out.push(rule);
          out.push(x);
        });
        if (moveto >= rules.length) out.push(rule);
        rules = out;
      } else {
        copyRuleData(rule, r.params);
        if (r.params.delete !== undefined) deleteRuleProperties(rule, String(r.params.delete));
        verifyRule(rule, l.env, l.scope.cluster, l.scope.local);
      }
      l.store(rules);
      return null;
    });
  });
  router.add('DELETE', `${base}/{pos}`, (r) => {
    const l = list(r);
    return locked(l.scope.lockid, () => {
      const rules = [...l.load()];
      assertDigest(listWithDigest(rules).digest, r.params.digest);
      const pos = int(r, 'pos')!;
      if (pos >= rules.length) throw fail(`no rule at position ${pos}`);
      rules.splice(pos, 1);
      l.store(rules);
      return null;
    });
  });
}

// ---- IPSets ---------------------------------------------------------------------------------------------------

function ipsetList(c: FwConf): { list: Record<string, unknown>[]; digest: string } {
  const names = [...c.ipsets.keys()].sort();
  return listWithDigest(names.map((name) => ({ name, ...(c.ipsets.get(name)!.comment ? { comment: c.ipsets.get(name)!.comment } : {}) })));
}

function getIpset(c: FwConf, name: string): FwIpset {
  const s = c.ipsets.get(name);
  if (!s) throw fail(`no such IPSet '${name}'`);
  return s;
}

/** resolve_alias: VM scope first (unless dc/), then the cluster's (unless guest/). */
function aliasExists(s: Scope, name: string, scope: string): boolean {
  const a = name.toLowerCase();
  if (scope !== 'dc/' && s.local?.aliases.has(a)) return true;
  if (scope !== 'guest/' && s.cluster.aliases.has(a)) return true;
  return false;
}

function registerIpsets(router: Router, base: string, scopeOf: (r: Req) => Scope): void {
  router.add('GET', base, (r) => ipsetList(scopeOf(r).conf(false)).list);
  router.add('POST', base, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      // names are lower-cased when the file is read back (generic_fw_config_parser)
      const name = str(r, 'name')!.toLowerCase();
      const rename = str(r, 'rename')?.toLowerCase();
      const comment = str(r, 'comment');
      if (rename) {
        assertDigest(ipsetList(c).digest, r.params.digest);
        if (!c.ipsets.has(rename)) throw paramError({ name: `IPSet '${str(r, 'rename')}' does not exist` });
        if (c.ipsets.has(name) && name !== rename) throw paramError({ name: `IPSet '${str(r, 'name')}' does already exist` });
        const data = c.ipsets.get(rename)!;
        c.ipsets.delete(rename);
        if (comment !== undefined) data.comment = comment || undefined;
        c.ipsets.set(name, data);
      } else {
        if (c.ipsets.has(name)) throw paramError({ name: `IPSet '${name}' already exists` });
        c.ipsets.set(name, { entries: [], ...(comment ? { comment } : {}) });
      }
      s.save(c);
      return null;
    });
  });
  router.add('DELETE', `${base}/{name}`, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      const name = str(r, 'name')!;
      const set = getIpset(c, name);
      // rules that reference it are not looked at
      if (set.entries.length && !r.params.force) throw fail(`IPSet '${name}' is not empty`);
      c.ipsets.delete(name);
      s.save(c);
      return null;
    });
  });
  router.add('GET', `${base}/{name}`, (r) => listWithDigest(getIpset(scopeOf(r).conf(false), str(r, 'name')!).entries).list);
  router.add('POST', `${base}/{name}`, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      const set = getIpset(c, str(r, 'name')!);
      let cidr = str(r, 'cidr')!;
      const alias = /^(dc\/|guest\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(cidr);
      if (alias) {
        if (!aliasExists(s, alias[2]!, alias[1] ?? '')) throw fail(`no such alias '${alias[2]}'`);
      } else cidr = normaliseCidr(cidr);
      if (set.entries.some((e) => e.cidr === cidr)) throw paramError({ cidr: `address '${cidr}' already exists` });
      if (/\/0+$/.test(cidr)) throw paramError({ cidr: 'a zero prefix is not allowed in ipset entries' });
      const comment = str(r, 'comment');
      set.entries = sortIpset([{ cidr, ...(r.params.nomatch ? { nomatch: 1 as const } : {}), ...(comment ? { comment } : {}) }, ...set.entries]);
      s.save(c);
      return null;
    });
  });
  router.add('GET', `${base}/{name}/{cidr}`, (r) => {
    const { list } = listWithDigest(getIpset(scopeOf(r).conf(false), str(r, 'name')!).entries);
    const e = list.find((x) => x.cidr === str(r, 'cidr'));
    if (!e) throw paramError({ cidr: 'no such IP/Network' });
    return e;
  });
  router.add('PUT', `${base}/{name}/{cidr}`, (r) => {
    const s = scopeOf(r);
    const found = locked(s.lockid, () => {
      const c = s.conf(true);
      const set = getIpset(c, str(r, 'name')!);
      assertDigest(listWithDigest(set.entries).digest, r.params.digest);
      const e = set.entries.find((x) => x.cidr === str(r, 'cidr'));
      if (!e) return false;
      // update_ip sets both from the request: omitted ones are cleared
      if (r.params.nomatch) e.nomatch = 1;
      else delete e.nomatch;
      const comment = str(r, 'comment');
      if (comment) e.comment = comment;
      else delete e.comment;
      s.save(c);
      return true;
    });
    if (!found) throw paramError({ cidr: 'no such IP/Network' });
    return null;
  });
  router.add('DELETE', `${base}/{name}/{cidr}`, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      const set = getIpset(c, str(r, 'name')!);
      assertDigest(listWithDigest(set.entries).digest, r.params.digest);
      // a missing entry is not an error
      set.entries = set.entries.filter((x) => x.cidr !== str(r, 'cidr'));
      s.save(c);
      return null;
    });
  });
}

// ---- aliases --------------------------------------------------------------------------------------------------

function aliasList(c: FwConf): { list: Record<string, unknown>[]; digest: string } {
  return listWithDigest([...c.aliases.keys()].sort().map((k) => ({ ...c.aliases.get(k)! })));
}

function registerAliases(router: Router, base: string, scopeOf: (r: Req) => Scope): void {
  router.add('GET', base, (r) => aliasList(scopeOf(r).conf(false)).list);
  router.add('GET', `${base}/{name}`, (r) => {
    const a = scopeOf(r).conf(false).aliases.get(str(r, 'name')!.toLowerCase());
    if (!a) throw paramError({ name: 'no such alias' });
    return { ...a }; // read_alias returns the entry without a digest
  });
  const entry = (r: Req, name: string): { name: string; cidr: string; ipversion: 4 | 6; comment?: string } => {
    const raw = str(r, 'cidr')!;
    const comment = str(r, 'comment');
    // parse_alias keeps the address as given; only a /32 (/128) prefix is dropped (parse_ip_or_cidr)
    const ipversion = ipOrCidrVersion(raw)!;
    const cidr = raw.replace(ipversion === 4 ? /\/32$/ : /\/128$/, '');
    return { name, cidr, ipversion, ...(comment ? { comment } : {}) };
  };
  router.add('POST', base, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      const name = str(r, 'name')!;
      if (c.aliases.has(name.toLowerCase())) throw paramError({ name: `alias '${name}' already exists` });
      c.aliases.set(name.toLowerCase(), entry(r, name));
      s.save(c);
      return null;
    });
  });
  router.add('PUT', `${base}/{name}`, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      assertDigest(aliasList(c).digest, r.params.digest);
      const name = str(r, 'name')!;
      const key = name.toLowerCase();
      if (!c.aliases.has(key)) throw paramError({ name: 'no such alias' });
      c.aliases.set(key, entry(r, name));
      const rename = str(r, 'rename');
      if (rename && rename.toLowerCase() !== key) {
        if (c.aliases.has(rename.toLowerCase())) throw paramError({ name: `alias '${rename}' already exists` });
        const a = c.aliases.get(key)!;
        a.name = rename;
        c.aliases.delete(key);
        c.aliases.set(rename.toLowerCase(), a);
      }
      s.save(c);
      return null;
    });
  });
  router.add('DELETE', `${base}/{name}`, (r) => {
    const s = scopeOf(r);
    return locked(s.lockid, () => {
      const c = s.conf(true);
      assertDigest(aliasList(c).digest, r.params.digest);
      // rules and IPSets that use it are not looked at; a missing alias is not an error
      c.aliases.delete(str(r, 'name')!.toLowerCase());
      s.save(c);
      return null;
    });
  });
}

// ---- security groups ------------------------------------------------------------------------------------------

function groupList(c: ClusterFwConf): { list: Record<string, unknown>[]; digest: string } {
  return listWithDigest([...c.groups.keys()].sort().map((group) => ({ group, ...(c.groups.get(group)!.comment ? { comment: c.groups.get(group)!.comment } : {}) })));
}

/** Groups.pm $rename_fw_rules: `group` rules naming the old group are pointed at the new one. */
function renameGroupRefs(rules: FwRule[], from: string, to: string): void {
  for (const rule of rules) if (rule.type === 'group' && rule.action === from) rule.action = to;
}

function registerGroups(router: Router): void {
  router.add('GET', '/cluster/firewall/groups', (r) => groupList(r.sim.state.firewall.cluster).list);
  router.add('POST', '/cluster/firewall/groups', (r) => {
    const fw = r.sim.state.firewall;
    const c = fw.cluster;
    return locked('firewall-cluster', () => {
      const group = str(r, 'group')!.toLowerCase();
      const rename = str(r, 'rename')?.toLowerCase();
      const comment = str(r, 'comment');
      if (rename) {
        assertDigest(groupList(c).digest, r.params.digest);
        if (!c.groups.has(rename)) throw paramError({ group: `Security group '${str(r, 'rename')}' does not exist` });
        if (c.groups.has(group) && group !== rename) throw paramError({ group: `Security group '${str(r, 'group')}' does already exist` });
        const g = c.groups.get(rename)!;
        if (comment !== undefined) g.comment = comment || undefined;
        if (group !== rename) {
          c.groups.delete(rename);
          c.groups.set(group, g);
          for (const [vmid, conf] of fw.vms) {
            renameGroupRefs(conf.rules, rename, group);
            saveVmConf(fw, vmid, conf);
          }
          renameGroupRefs(c.rules, rename, group);
        }
        return null;
      }
      if (c.groups.has(group)) throw paramError({ group: `Security group '${group}' already exists` });
      c.groups.set(group, { rules: [], ...(comment ? { comment } : {}) });
      return null;
    });
  });
  router.add('DELETE', '/cluster/firewall/groups/{group}', (r) => {
    const c = r.sim.state.firewall.cluster;
    return locked('firewall-cluster', () => {
      const group = str(r, 'group')!;
      const g = c.groups.get(group);
      if (!g) throw fail(`no such security group '${group}'`);
      // only the group's own rules count; `group` rules elsewhere that name it are not looked at
      if (g.rules.length) throw fail(`Security group '${group}' is not empty`);
      c.groups.delete(group);
      return null;
    });
  });
  registerRules(router, '/cluster/firewall/groups/{group}', groupRules);
}

export function registerFirewall(router: Router): void {
  router.add('GET', '/cluster/firewall/options', (r) => {
    const o = clusterOptions(r.sim.state.firewall.cluster.options, r.sim.clock.now());
    return { ...o, digest: objectDigest(o) };
  });
  router.add('PUT', '/cluster/firewall/options', (r) => setOptions(r, clusterScope(r), CLUSTER_OPTIONS, true));
  registerGroups(router);
  registerRules(router, '/cluster/firewall/rules', (r) => confRules(clusterScope(r)));
  registerIpsets(router, '/cluster/firewall/ipset', clusterScope);
  registerAliases(router, '/cluster/firewall/aliases', clusterScope);

  const vm = '/nodes/{node}/qemu/{vmid}/firewall';
  router.add('GET', `${vm}/options`, (r) => {
    const o = vmScope(r).conf(false).options;
    return { ...o, digest: objectDigest(o) };
  });
  router.add('PUT', `${vm}/options`, (r) => setOptions(r, vmScope(r), VM_OPTIONS, false));
  registerRules(router, `${vm}/rules`, (r) => confRules(vmScope(r)));
  registerIpsets(router, `${vm}/ipset`, vmScope);
  registerAliases(router, `${vm}/aliases`, vmScope);
}
