/**
 * `stands recover`: the state file was lost; rebuild it from what the cluster says is ours.
 * - pools with comment `stands:<group>:<userid>` → one stand each (group, userid, pool);
 * - VMs tagged `stands-<group>` (description names group, user and machine) → the stand's VMs;
 * - bridges whose comment is `stands:<group>:<slug>:<alias>` → the stand whose VM names start with `<slug>-`;
 * - users whose comment says we created them → createdUser, journal entry;
 * - template replicas (`tpl-<vmid>-<node>`, `tpl-<vmid>-shared-<storage>`, description "Template replica of …") →
 *   replica records.
 * Records that already exist are left as they are. Nothing on the cluster is changed.
 */
import type { NetworkList, VmConfig } from '../proxmox/types.js';
import type { StandRecordInput, StandVm } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { reasonOf } from './executor.js';
import { msg, render, type Msg } from '../i18n/index.js';
import { parseSegmentMarker, userName } from './naming.js';
import { aclId, groupsFromTags, isOurUserComment, parsePoolComment, parseVmDescription } from './ownership.js';

export interface RecoverReport {
  cluster: string;
  groups: string[];
  stands: number;
  vms: number;
  bridges: number;
  users: number;
  replicas: number;
  /** Stands already in the store (left untouched). */
  known: number;
  /** In English; `warningMsgs` holds the same, index for index, as codes. */
  warnings: string[];
  warningMsgs?: Msg[];
}

interface Found {
  group: string;
  userid: string;
  pool: string;
  vms: StandVm[];
  segments: StandRecordInput['segments'];
  slugs: Set<string>;
  profile?: string;
}

export async function recover(ctx: AppContext, o: { cluster?: string } = {}): Promise<RecoverReport> {
  const cluster = o.cluster ?? ctx.defaultCluster;
  const client = ctx.client(cluster);
  const warnings: string[] = [];
  const warningMsgs: Msg[] = [];
  const warn = (m: Msg): void => {
    warnings.push(render('en', m));
    warningMsgs.push(m);
  };
  const [resources, pools, users, acl] = await Promise.all([
    client.clusterResources(),
    client.listPools(),
    client.listUsers(),
    client.listAcl(),
  ]);
  const now = new Date().toISOString();
  const stands = new Map<string, Found>();
  const key = (g: string, u: string): string => `${g}\u0000${u}`;
  for (const p of pools) {
    const m = parsePoolComment(p.comment);
    if (!m) continue;
    stands.set(key(m.group, m.userid), { group: m.group, userid: m.userid, pool: p.poolid, vms: [], segments: [], slugs: new Set(), ...(m.profile ? { profile: m.profile } : {}) });
  }

  // VMs: tagged with a group, the description says whose
  let replicaCount = 0;
  const vms = resources.filter((r) => r.type === 'qemu' && r.vmid !== undefined && r.node);
  for (const r of vms) {
    const tagged = groupsFromTags(r.tags);
    const maybeReplica = Boolean(r.template) && /^tpl-\d+-/.test(r.name ?? '');
    if (!tagged.length && !maybeReplica && !r.pool) continue;
    let cfg: VmConfig;
    try {
      cfg = await client.vmConfig(r.node!, r.vmid!);
    } catch (err) {
      warn(msg('rec.vm', { vmid: r.vmid!, reason: reasonOf(err) }));
      continue;
    }
    if (maybeReplica) {
      // per node: "… of 9000 for pve2, made by pve-stands"; shared: "… of 9000 on shared storage ceph for every node, …"
      const m = /Template replica of (\d+) (?:for (\S+)|on shared storage (\S+) for every node), made by pve-stands/.exec(cfg.description ?? '');
      if (m) {
        const sourceVmid = Number(m[1]);
        const sharedOn = m[3];
        const known = await ctx.store.replicas.get(cluster, sourceVmid, r.node!);
        if (!known) {
          const src = resources.find((x) => x.vmid === sourceVmid);
          await ctx.store.replicas.put({
            cluster,
            sourceVmid,
            sourceNode: src?.node ?? '',
            node: r.node!,
            vmid: r.vmid!,
            name: cfg.name ?? `tpl-${sourceVmid}-${r.node}`,
            ...(sharedOn ? { storage: sharedOn, shared: true } : {}),
            createdAt: now,
          });
          await ctx.store.journal.intend('replica', r.vmid!, { cluster, node: r.node!, extra: { sourceVmid, targetNode: r.node! } });
          await ctx.store.journal.confirm('replica', r.vmid!, cluster);
          replicaCount++;
        }
      }
      continue;
    }
    const d = parseVmDescription(cfg.description);
    const group = d?.group ?? tagged[0];
    if (!group || !(d || tagged.length)) continue;
    let found = d ? stands.get(key(group, d.userid)) : undefined;
    if (!found && r.pool) found = [...stands.values()].find((s) => s.pool === r.pool && s.group === group);
    if (!found) {
      if (!d) {
        warn(msg('rec.vmNoUser', { vmid: r.vmid!, name: String(cfg.name), group }));
        continue;
      }
      found = { group, userid: d.userid, pool: r.pool ?? '', vms: [], segments: [], slugs: new Set() };
      stands.set(key(group, d.userid), found);
    }
    const machine = d?.machine ?? (cfg.name ?? '').split('-').slice(-1)[0] ?? 'vm';
    const name = cfg.name ?? String(r.vmid);
    if (name.endsWith(`-${machine}`)) found.slugs.add(name.slice(0, -machine.length - 1));
    const configured = groupsFromTags(cfg.tags).includes(group);
    found.vms.push({
      machine,
      vmid: r.vmid!,
      node: r.node!,
      name,
      // not 'ready': a later deploy re-checks the snapshot instead of trusting a guess
      status: configured ? 'configured' : 'cloned',
      steps: configured ? ['clone', 'config'] : ['clone'],
    });
  }

  // bridges
  const nodes = resources.filter((r) => r.type === 'node' && r.node && r.status === 'online').map((r) => r.node!);
  let bridgeCount = 0;
  for (const node of nodes) {
    let list: NetworkList;
    try {
      list = await client.listNetwork(node);
    } catch (err) {
      warn(msg('rec.network', { node, reason: reasonOf(err) }));
      continue;
    }
    for (const i of list.ifaces) {
      const m = parseSegmentMarker(i.comments);
      if (!m) continue;
      const owner = [...stands.values()].find((s) => s.group === m.group && (s.slugs.has(m.user) || userName(s.userid) === m.user));
      if (!owner) {
        warn(msg('rec.bridge', { bridge: i.iface, node, comment: String(i.comments) }));
        continue;
      }
      owner.segments.push({ alias: m.alias, kind: 'bridge', iface: i.iface, node, vlanAware: Boolean(i.bridge_vlan_aware) });
      bridgeCount++;
    }
  }

  // records
  const userIndex = new Map(users.map((u) => [u.userid, u]));
  let created = 0;
  let known = 0;
  let vmCount = 0;
  let userCount = 0;
  const groups = new Set<string>();
  for (const s of stands.values()) {
    groups.add(s.group);
    if (await ctx.store.stands.get(s.group, s.userid)) {
      known++;
      continue;
    }
    const u = userIndex.get(s.userid);
    const createdUser = Boolean(u && isOurUserComment(u.comment));
    const nodeCount = new Map<string, number>();
    for (const v of s.vms) nodeCount.set(v.node, (nodeCount.get(v.node) ?? 0) + 1);
    const node = [...nodeCount.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? s.segments[0]?.node ?? '';
    const aclEntries = acl.filter((a) => a.path === `/pool/${s.pool}` && a.ugid === s.userid && a.type === 'user');
    await ctx.store.stands.put({
      cluster,
      group: s.group,
      user: userName(s.userid),
      userid: s.userid,
      profile: s.profile ?? (await ctx.store.groups.get(s.group))?.profile.name ?? 'recovered',
      pool: s.pool,
      node,
      mode: 'bridges',
      vms: s.vms.sort((a, b) => a.vmid - b.vmid),
      segments: s.segments,
      vlans: [],
      createdUser,
      poolCreated: Boolean(s.pool),
      aclCreated: aclEntries.length > 0,
      status: s.vms.length ? 'ready' : 'failed',
      ...(s.vms.length ? {} : { error: 'recovered without VMs' }),
      createdAt: now,
      updatedAt: now,
      history: [{ at: now, event: 'recovered' }],
    });
    const meta = { cluster, group: s.group, user: s.userid };
    const journal = async (kind: 'vm' | 'pool' | 'user' | 'acl' | 'bridge', id: string | number, node?: string): Promise<void> => {
      await ctx.store.journal.intend(kind, id, { ...meta, ...(node ? { node } : {}) });
      await ctx.store.journal.confirm(kind, id, cluster);
    };
    for (const v of s.vms) await journal('vm', v.vmid, v.node);
    if (s.pool) await journal('pool', s.pool);
    for (const a of aclEntries) await journal('acl', aclId(a.path, a.ugid, a.roleid));
    for (const g of s.segments) await journal('bridge', `${g.node}/${g.iface}`, g.node);
    if (createdUser && !(await ctx.store.journal.get('user', s.userid, cluster))) {
      await journal('user', s.userid);
      userCount++;
    }
    vmCount += s.vms.length;
    created++;
  }
  for (const g of groups) {
    if (await ctx.store.groups.get(g)) continue;
    const profile = [...stands.values()].find((s) => s.group === g && s.profile)?.profile ?? 'recovered';
    await ctx.store.groups.put({ name: g, cluster, profile: { name: profile, snapshot: null }, mode: 'bridges', createdAt: now });
  }
  return {
    cluster,
    groups: [...groups].sort(),
    stands: created,
    vms: vmCount,
    bridges: bridgeCount,
    users: userCount,
    replicas: replicaCount,
    known,
    warnings,
    warningMsgs,
  };
}
