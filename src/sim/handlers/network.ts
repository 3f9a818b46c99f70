/**
 * Node network (pve-manager API2/Network.pm) and SDN (pve-network). Edits go to interfaces.new (pending) and
 * the envelope of GET carries the `changes` diff; applying runs ifreload for ALL pending edits of the node, and
 * only autostart interfaces come up. Applying SDN reloads every node's network, pending edits included (§2.10).
 */
import { bool, Envelope, forkTask, int, listOf, perm, type Req, type Sim, str, taskUser } from '../context.js';
import { fail, paramError } from '../errors.js';
import { hasPriv } from '../privileges.js';
import type { Router } from '../router.js';
import type { NetIface, SdnConfig, SdnVnet, SdnZone } from '../state.js';

const IFACE_KEYS = ['bridge_ports', 'bridge_vlan_aware', 'bridge_vids', 'autostart', 'comments', 'cidr', 'gateway', 'mtu'] as const;

function renderInterfaces(ifaces: Map<string, NetIface>): string[] {
  const lines = ['auto lo', 'iface lo inet loopback', ''];
  for (const i of ifaces.values()) {
    if (i.autostart) lines.push(`auto ${i.iface}`);
    lines.push(`iface ${i.iface} inet ${i.cidr ? 'static' : 'manual'}`);
    if (i.cidr) lines.push(`\taddress ${i.cidr}`);
    if (i.gateway) lines.push(`\tgateway ${i.gateway}`);
    if (i.type === 'bridge') {
      lines.push(`\tbridge-ports ${i.bridge_ports || 'none'}`, '\tbridge-stp off', '\tbridge-fd 0');
      if (i.bridge_vlan_aware) lines.push('\tbridge-vlan-aware yes', `\tbridge-vids ${i.bridge_vids ?? '2-4094'}`);
    }
    if (i.mtu) lines.push(`\tmtu ${i.mtu}`);
    if (i.comments) for (const c of i.comments.split('\n')) lines.push(`#${c}`);
    lines.push('');
  }
  lines.push('source /etc/network/interfaces.d/*');
  return lines;
}

/**
 * `diff -b -N -u interfaces interfaces.new` as pve-common computes the pending changes (src/PVE/INotify.pm
 * ccache_compute_diff, shown by pve-manager PVE/API2/Network.pm index as `changes`): hunks with 3 lines of context,
 * neighbouring hunks merged when their contexts touch (GNU diff's rule). Line LCS; the files are small.
 */
export function unifiedDiff(a: string[], b: string[], context = 3): string {
  const n = a.length;
  const m = b.length;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  // the edit script: one entry per output line, with the line numbers (0-based) in both files
  const ops: { kind: ' ' | '+' | '-'; text: string; ai: number; bj: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ kind: ' ', text: a[i]!, ai: i++, bj: j++ });
    else if (i < n && (j >= m || dp[i + 1]![j]! >= dp[i]![j + 1]!)) ops.push({ kind: '-', text: a[i]!, ai: i++, bj: j });
    else ops.push({ kind: '+', text: b[j]!, ai: i, bj: j++ });
  }
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  // group changes whose context windows overlap or touch
  const groups: [number, number][] = [];
  for (const k of changed) {
    const last = groups[groups.length - 1];
    if (last && k - last[1] <= 2 * context + 1) last[1] = k;
    else groups.push([k, k]);
  }
  const out = ['--- /etc/network/interfaces', '+++ /etc/network/interfaces.new'];
  for (const [first, lastChange] of groups) {
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, lastChange + context);
    const slice = ops.slice(from, to + 1);
    const aLines = slice.filter((o) => o.kind !== '+').length;
    const bLines = slice.filter((o) => o.kind !== '-').length;
    const aStart = aLines ? slice.find((o) => o.kind !== '+')!.ai + 1 : slice[0]!.ai;
    const bStart = bLines ? slice.find((o) => o.kind !== '-')!.bj + 1 : slice[0]!.bj;
    const range = (start: number, len: number): string => (len === 1 ? `${start}` : `${start},${len}`);
    out.push(`@@ -${range(aStart, aLines)} +${range(bStart, bLines)} @@`);
    for (const o of slice) out.push(`${o.kind}${o.text}`);
  }
  return `${out.join('\n')}\n`;
}

function ifaceEntry(i: NetIface, active: boolean, priority: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    iface: i.iface, type: i.type, method: i.cidr ? 'static' : 'manual', method6: 'manual', families: ['inet'], priority,
  };
  if (active) out.active = 1;
  if (i.autostart) out.autostart = 1;
  if (i.type === 'eth') out.exists = 1;
  if (i.type === 'bridge') {
    out.bridge_ports = i.bridge_ports ?? '';
    out.bridge_stp = 'off';
    out.bridge_fd = '0';
    if (i.bridge_vlan_aware) {
      out.bridge_vlan_aware = 1;
      out.bridge_vids = i.bridge_vids ?? '2-4094';
    }
  }
  if (i.cidr) {
    out.cidr = i.cidr;
    const [addr, bits] = i.cidr.split('/');
    out.address = addr;
    out.netmask = bits;
  }
  if (i.gateway) out.gateway = i.gateway;
  if (i.mtu) out.mtu = i.mtu;
  // PVE keeps the comment lines with their newline
  if (i.comments) out.comments = `${i.comments}\n`;
  return out;
}

/** The node's interfaces lock (/var/lock/pve-network.lck, 10 s) and a short write. */
async function networkWrite<T>(sim: Sim, node: string, fn: () => T): Promise<T> {
  const release = await sim.locks
    .acquire(`${node}:/var/lock/pve-network.lck`, true, 10_000, "can't lock file '/var/lock/pve-network.lck' - got timeout")
    .catch((e: Error) => {
      throw fail(e.message);
    });
  try {
    await sim.clock.sleep(sim.timing.clusterWriteMs);
    return fn();
  } finally {
    release();
  }
}

function setIfaceFields(i: NetIface, r: Req): void {
  for (const k of IFACE_KEYS) {
    const v = r.params[k];
    if (v === undefined) continue;
    if (k === 'autostart' || k === 'bridge_vlan_aware') i[k] = Boolean(v);
    else if (k === 'mtu') i.mtu = Number(v);
    else i[k] = String(v);
  }
  for (const k of listOf(r.params.delete)) delete (i as unknown as Record<string, unknown>)[k];
}

/** Apply a node's pending network (ifreload -a) inside a task. */
export async function reloadNetwork(sim: Sim, node: string): Promise<void> {
  await sim.clock.sleep(sim.timing.networkReloadMs);
  sim.state.applyNetwork(node);
}

const sdnView = (sim: Sim): SdnConfig => sim.state.sdnPending ?? sim.state.sdn;

function sdnState<T>(applied: Map<string, T>, pending: Map<string, T> | undefined, id: string): string | undefined {
  if (!pending) return undefined;
  const a = applied.get(id);
  const p = pending.get(id);
  if (a && !p) return 'deleted';
  if (!a && p) return 'new';
  if (JSON.stringify(a) !== JSON.stringify(p)) return 'changed';
  return undefined;
}

export function registerNetwork(router: Router): void {
  router.add('GET', '/nodes/{node}/network', (r: Req) => {
    const { state } = r.sim;
    const node = str(r, 'node')!;
    const net = state.network.get(node)!;
    const view = net.pending ?? net.current;
    const type = str(r, 'type');
    let prio = 0;
    const list = [...view.values()]
      .filter((i) => !type || i.type === type || (type.startsWith('any_') && i.type === 'bridge'))
      .map((i) => ifaceEntry(i, net.active.has(i.iface), ++prio));
    if (type === 'any_bridge' || type === 'include_sdn')
      for (const v of state.sdn.vnets.values()) list.push({ iface: v.vnet, type: 'vnet', active: 1, priority: ++prio });
    const extra: Record<string, unknown> = {};
    if (net.pending) {
      const diff = unifiedDiff(renderInterfaces(net.current), renderInterfaces(net.pending));
      if (diff) extra.changes = diff;
    }
    return new Envelope(list, extra);
  });

  router.add('GET', '/nodes/{node}/network/{iface}', (r: Req) => {
    const net = r.sim.state.network.get(str(r, 'node')!)!;
    const i = (net.pending ?? net.current).get(str(r, 'iface')!);
    if (!i) throw paramError({ iface: 'interface does not exist' });
    return ifaceEntry(i, net.active.has(i.iface), 0);
  });

  router.add('POST', '/nodes/{node}/network', async (r: Req) => {
    const { sim } = r;
    const node = str(r, 'node')!;
    const iface = str(r, 'iface')!;
    await networkWrite(sim, node, () => {
      const pending = sim.state.networkWritable(node);
      if (pending.has(iface)) throw paramError({ iface: 'interface already exists' });
      const type = str(r, 'type')!;
      const ports = listOf(r.params.bridge_ports);
      for (const p of ports) {
        const user = [...pending.values()].find((i) => i.type === 'bridge' && listOf(i.bridge_ports).includes(p));
        if (user) throw paramError({ bridge_ports: `interface '${p}' is already used on interface '${user.iface}'` });
      }
      const i: NetIface = { iface, type, autostart: false };
      setIfaceFields(i, r);
      pending.set(iface, i);
    });
    return null;
  });

  router.add('PUT', '/nodes/{node}/network/{iface}', async (r: Req) => {
    const { sim } = r;
    const node = str(r, 'node')!;
    await networkWrite(sim, node, () => {
      const net = sim.state.network.get(node)!;
      if (!(net.pending ?? net.current).has(str(r, 'iface')!)) throw paramError({ iface: 'interface does not exist' });
      const i = sim.state.networkWritable(node).get(str(r, 'iface')!)!;
      if (str(r, 'type') !== i.type) throw paramError({ type: `interface type '${str(r, 'type')}' does not match '${i.type}'` });
      setIfaceFields(i, r);
    });
    return null;
  });

  router.add('DELETE', '/nodes/{node}/network/{iface}', async (r: Req) => {
    const { sim } = r;
    const node = str(r, 'node')!;
    await networkWrite(sim, node, () => {
      const net = sim.state.network.get(node)!;
      if (!(net.pending ?? net.current).has(str(r, 'iface')!)) throw paramError({ iface: 'interface does not exist' });
      sim.state.networkWritable(node).delete(str(r, 'iface')!);
    });
    return null;
  });

  router.add('PUT', '/nodes/{node}/network', (r: Req) => {
    const node = str(r, 'node')!;
    // pve-manager PVE/API2/Network.pm reload_network_config → assert_ifupdown2_installed, before the worker
    if (r.sim.state.nodes.get(node)?.ifupdown2 === false) throw fail('you need ifupdown2 to reload network configuration');
    return forkTask(r, node, 'srvreload', 'networking', async (ctx) => {
      ctx.log('reloading network config');
      await reloadNetwork(r.sim, node);
    }).upid;
  });

  router.add('DELETE', '/nodes/{node}/network', async (r: Req) => {
    const node = str(r, 'node')!;
    await networkWrite(r.sim, node, () => {
      r.sim.state.network.get(node)!.pending = null;
    });
    return null;
  });

  // SDN
  router.add('GET', '/cluster/sdn', () => [
    { id: 'vnets' }, { id: 'zones' }, { id: 'controllers' }, { id: 'ipams' }, { id: 'dns' }, { id: 'fabrics' },
  ]);

  router.add('PUT', '/cluster/sdn', (r: Req) => {
    const { sim } = r;
    const { state } = sim;
    const entry = [...state.nodes.keys()][0]!;
    return forkTask(r, entry, 'reloadnetworkall', '', async (ctx) => {
      if (state.sdnPending) {
        state.sdn = state.sdnPending;
        state.sdnPending = null;
      }
      // the per-node reloads run as their own tasks; this one does not wait for them ("FIXME: … monitor the tasks")
      for (const n of state.nodes.values()) {
        if (!n.online) {
          ctx.warn(`node ${n.name} is offline`);
          continue;
        }
        // pve-network API2/Network/SDN.pm reload: print "<node>: reloading network config", run
        // `pvesh set /nodes/<node>/network`; a failing leg is only warned about (`warn $@ if $@`) and the loop
        // goes on. The simulator counts that warning, so the task ends `WARNINGS: n`.
        ctx.log(`${n.name}: reloading network config`);
        const [f] = sim.faults.empty ? [] : sim.faults.draw(['sdn-reload-failure'], 'PUT', `/nodes/${n.name}/network`);
        if (f) {
          ctx.log(f.message ?? 'you need ifupdown2 to reload network configuration');
          ctx.warn(`command 'pvesh set /nodes/${n.name}/network --regenerate-frr 0' failed: exit code 255`);
          continue;
        }
        sim.tasks.fork(n.name, 'srvreload', 'networking', taskUser(r), async (c) => {
          c.log('reloading network config');
          await reloadNetwork(sim, n.name);
        });
      }
      await ctx.sleep(sim.timing.sdnApplyMs);
    }).upid;
  });

  const zoneEntry = (z: SdnZone, st?: string): Record<string, unknown> => ({
    zone: z.zone, type: z.type, ...(z.bridge ? { bridge: z.bridge } : {}), ...(z.nodes ? { nodes: z.nodes } : {}),
    ...(z.mtu ? { mtu: z.mtu } : {}), ...(st ? { state: st } : {}),
  });
  const vnetEntry = (v: SdnVnet, st?: string): Record<string, unknown> => ({
    vnet: v.vnet, zone: v.zone, type: 'vnet', ...(v.tag !== undefined ? { tag: v.tag } : {}), ...(v.alias ? { alias: v.alias } : {}),
    ...(v.vlanaware ? { vlanaware: 1 } : {}), ...(st ? { state: st } : {}),
  });

  router.add('GET', '/cluster/sdn/zones', (r: Req) => {
    const { state } = r.sim;
    const pending = bool(r, 'pending') ? state.sdnPending : null;
    const ids = new Set([...state.sdn.zones.keys(), ...(pending?.zones.keys() ?? [])]);
    const out = [];
    for (const id of ids) {
      if (!hasPriv(state, r.who, `/sdn/zones/${id}`, ['SDN.Audit', 'SDN.Allocate'], true)) continue;
      const z = pending?.zones.get(id) ?? state.sdn.zones.get(id)!;
      out.push(zoneEntry(z, sdnState(state.sdn.zones, pending?.zones, id)));
    }
    return out;
  });

  router.add('GET', '/cluster/sdn/zones/{zone}', (r: Req) => {
    const z = sdnView(r.sim).zones.get(str(r, 'zone')!);
    if (!z) throw fail(`sdn zone object ID '${str(r, 'zone')}' does not exist`);
    return zoneEntry(z);
  });

  router.add('POST', '/cluster/sdn/zones', (r: Req) => {
    const { state } = r.sim;
    const id = str(r, 'zone')!;
    const cfg = state.sdnWritable();
    if (cfg.zones.has(id)) throw fail(`sdn zone object ID '${id}' already defined`);
    const type = str(r, 'type')!;
    if ((type === 'vlan' || type === 'qinq') && !str(r, 'bridge')) throw paramError({ bridge: 'property is missing and it is not optional' });
    cfg.zones.set(id, {
      zone: id, type, ...(str(r, 'bridge') ? { bridge: str(r, 'bridge') } : {}), ...(str(r, 'nodes') ? { nodes: str(r, 'nodes') } : {}),
      ...(int(r, 'mtu') ? { mtu: int(r, 'mtu') } : {}),
    });
    return null;
  });

  router.add('DELETE', '/cluster/sdn/zones/{zone}', (r: Req) => {
    const { state } = r.sim;
    const id = str(r, 'zone')!;
    const cfg = state.sdnWritable();
    if (!cfg.zones.has(id)) throw fail(`sdn zone object ID '${id}' does not exist`);
    const used = [...cfg.vnets.values()].find((v) => v.zone === id);
    if (used) throw fail(`Can't delete zone ${id}, vnet ${used.vnet} is using it`);
    cfg.zones.delete(id);
    return null;
  });

  router.add('GET', '/cluster/sdn/vnets', (r: Req) => {
    const { state } = r.sim;
    const pending = bool(r, 'pending') ? state.sdnPending : null;
    const ids = new Set([...state.sdn.vnets.keys(), ...(pending?.vnets.keys() ?? [])]);
    const out = [];
    for (const id of ids) {
      const v = pending?.vnets.get(id) ?? state.sdn.vnets.get(id)!;
      if (!hasPriv(state, r.who, `/sdn/zones/${v.zone}/${id}`, ['SDN.Audit', 'SDN.Allocate'], true)) continue;
      out.push(vnetEntry(v, sdnState(state.sdn.vnets, pending?.vnets, id)));
    }
    return out;
  });

  router.add('GET', '/cluster/sdn/vnets/{vnet}', (r: Req) => {
    const v = sdnView(r.sim).vnets.get(str(r, 'vnet')!);
    if (!v) throw fail(`sdn vnet object ID '${str(r, 'vnet')}' does not exist`);
    perm(r, `/sdn/zones/${v.zone}/${v.vnet}`, ['SDN.Audit', 'SDN.Allocate'], true);
    return vnetEntry(v);
  });

  router.add('POST', '/cluster/sdn/vnets', (r: Req) => {
    const { state } = r.sim;
    const id = str(r, 'vnet')!;
    const zoneId = str(r, 'zone')!;
    const cfg = state.sdnWritable();
    if (cfg.vnets.has(id)) throw fail(`sdn vnet object ID '${id}' already defined`);
    const zone = cfg.zones.get(zoneId);
    if (!zone) throw fail(`zone '${zoneId}' does not exist`);
    const tag = int(r, 'tag');
    if (zone.type === 'vlan' || zone.type === 'qinq') {
      if (tag === undefined) throw fail('missing vlan tag');
      if (tag > 4096) throw fail('vlan tag max value is 4096');
    }
    if ((zone.type === 'vxlan' || zone.type === 'evpn') && tag === undefined) throw fail('missing vxlan tag');
    if (zone.type === 'simple' && tag !== undefined) throw fail("vlan tag is not supported in zone of type 'simple'");
    if (tag !== undefined)
      for (const v of cfg.vnets.values()) if (v.zone === zoneId && v.tag === tag) throw fail(`tag ${tag} already exist in vnet ${v.vnet}`);
    cfg.vnets.set(id, {
      vnet: id, zone: zoneId, ...(tag !== undefined ? { tag } : {}), ...(str(r, 'alias') ? { alias: str(r, 'alias') } : {}),
      ...(bool(r, 'vlanaware') ? { vlanaware: true } : {}),
    });
    return null;
  });

  router.add('DELETE', '/cluster/sdn/vnets/{vnet}', (r: Req) => {
    const { state } = r.sim;
    const id = str(r, 'vnet')!;
    const cfg = state.sdnWritable();
    const v = cfg.vnets.get(id);
    if (!v) throw fail(`sdn vnet object ID '${id}' does not exist`);
    perm(r, `/sdn/zones/${v.zone}/${id}`, ['SDN.Allocate']);
    cfg.vnets.delete(id);
    return null;
  });
}
