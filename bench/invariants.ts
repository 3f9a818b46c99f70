/**
 * The end-state checker of the fault drills (and reusable by any test): after a deploy — faulty, killed,
 * resumed — the cluster and the store must agree:
 *  - every stand is complete (status ready, its VMs present, configured, snapshotted, in its pool) or cleanly
 *    reported failed (status failed with a reason);
 *  - nothing of ours is duplicated or orphaned: every VM, pool, user and bridge that did not exist before is
 *    recorded in the store (a stand, or a template replica), no two of our VMs share a name, no edit of ours
 *    is left pending;
 *  - nothing pre-existing was touched: VMs (config, status, pool, snapshots), pools, users, ACLs, bridges,
 *    someone else's pending network edits, SDN.
 */
import type { SimState } from '../src/sim/state.js';
import type { Store, StandRecord } from '../src/store/index.js';

export interface PreexistingSnapshot {
  vms: Map<number, string>;
  pools: Map<string, string>;
  users: Map<string, string>;
  acl: Set<string>;
  /** node → iface → JSON, for /etc/network/interfaces */
  netCurrent: Map<string, Map<string, string>>;
  /** node → iface → JSON, for someone else's pending edits (interfaces.new entries that differ from current) */
  netPending: Map<string, Map<string, string>>;
  sdn: string;
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Set) return [...x].sort();
    if (x instanceof Map) return Object.fromEntries([...x.entries()].sort());
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
    }
    return x;
  });

const aclKey = (e: { path: string; type: string; ugid: string; roleid: string; propagate: boolean }): string =>
  `${e.path}|${e.type}|${e.ugid}|${e.roleid}|${e.propagate ? 1 : 0}`;

function vmFingerprint(sim: SimState, vmid: number): string {
  const vm = sim.vms.get(vmid)!;
  return stable({ node: vm.node, config: vm.config, status: vm.status, pool: vm.pool ?? null, snaps: vm.snapshots.map((s) => s.name) });
}

function userFingerprint(sim: SimState, userid: string): string {
  const { tokens, ...rest } = sim.users.get(userid)!;
  return stable({ ...rest, tokens: [...tokens.keys()].sort() });
}

function pendingOnly(sim: SimState, node: string): Map<string, string> {
  const net = sim.network.get(node)!;
  const out = new Map<string, string>();
  if (!net.pending) return out;
  for (const [iface, v] of net.pending) {
    const cur = net.current.get(iface);
    if (!cur || stable(cur) !== stable(v)) out.set(iface, stable(v));
  }
  for (const iface of net.current.keys()) if (!net.pending.has(iface)) out.set(iface, 'deleted');
  return out;
}

/** Take this BEFORE the deploy. */
export function snapshotPreexisting(sim: SimState): PreexistingSnapshot {
  const vms = new Map<number, string>();
  for (const vmid of sim.vms.keys()) vms.set(vmid, vmFingerprint(sim, vmid));
  const pools = new Map<string, string>();
  for (const [id, p] of sim.pools) pools.set(id, stable(p));
  const users = new Map<string, string>();
  for (const id of sim.users.keys()) users.set(id, userFingerprint(sim, id));
  const netCurrent = new Map<string, Map<string, string>>();
  const netPending = new Map<string, Map<string, string>>();
  for (const [node, net] of sim.network) {
    netCurrent.set(node, new Map([...net.current].map(([k, v]) => [k, stable(v)])));
    netPending.set(node, pendingOnly(sim, node));
  }
  return {
    vms,
    pools,
    users,
    acl: new Set(sim.acl.map(aclKey)),
    netCurrent,
    netPending,
    sdn: stable({ zones: sim.sdn.zones, vnets: sim.sdn.vnets }),
  };
}

export interface InvariantReport {
  ok: boolean;
  violations: string[];
  /** inconsistencies that are not violations of the invariants (e.g. a record lagging the journal) */
  notes: string[];
  stands: { ready: number; failed: number; other: number; missing: number };
  ours: { vms: number; pools: number; users: number; bridges: number; replicas: number };
}

export interface CheckOptions {
  cluster?: string;
  group: string;
  /** userids that must each end with a stand record (ready or failed) */
  expectedUsers?: string[];
  /** nodes that went offline: their pending edits cannot be applied, so they are not held against us */
  unreachableNodes?: string[];
}

export async function checkInvariants(
  sim: SimState,
  store: Store,
  pre: PreexistingSnapshot,
  options: CheckOptions,
): Promise<InvariantReport> {
  const v: string[] = [];
  const notes: string[] = [];
  const allStands = await store.stands.list(options.cluster ? { cluster: options.cluster } : undefined);
  const stands = allStands.filter((s) => s.status !== 'removed');
  const groupStands = stands.filter((s) => s.group === options.group);
  const replicas = await store.replicas.list(options.cluster);

  // --- nothing pre-existing touched
  for (const [vmid, fp] of pre.vms) {
    if (!sim.vms.has(vmid)) v.push(`pre-existing VM ${vmid} was removed`);
    else if (vmFingerprint(sim, vmid) !== fp) v.push(`pre-existing VM ${vmid} was modified`);
  }
  for (const [id, fp] of pre.pools) {
    const p = sim.pools.get(id);
    if (!p) v.push(`pre-existing pool ${id} was removed`);
    else if (stable(p) !== fp) v.push(`pre-existing pool ${id} was modified (members or comment)`);
  }
  for (const [id, fp] of pre.users) {
    if (!sim.users.has(id)) v.push(`pre-existing user ${id} was removed`);
    else if (userFingerprint(sim, id) !== fp) v.push(`pre-existing user ${id} was modified`);
  }
  const aclNow = new Set(sim.acl.map(aclKey));
  for (const k of pre.acl) if (!aclNow.has(k)) v.push(`pre-existing ACL ${k} was removed`);
  for (const e of sim.acl) {
    if (pre.acl.has(aclKey(e))) continue;
    const target = /^\/(vms|pool)\/(.+)$/.exec(e.path);
    const touchesPre =
      e.path === '/' ||
      pre.users.has(e.ugid) ||
      (target?.[1] === 'vms' && pre.vms.has(Number(target[2]))) ||
      (target?.[1] === 'pool' && pre.pools.has(target[2]!));
    if (touchesPre) v.push(`new ACL ${aclKey(e)} touches a pre-existing object`);
  }
  for (const [node, ifaces] of pre.netCurrent) {
    const net = sim.network.get(node);
    for (const [iface, fp] of ifaces) {
      const cur = net?.current.get(iface);
      if (!cur) v.push(`pre-existing interface ${node}/${iface} was removed`);
      else if (stable(cur) !== fp) v.push(`pre-existing interface ${node}/${iface} was modified`);
    }
  }
  for (const [node, edits] of pre.netPending) {
    const now = pendingOnly(sim, node);
    for (const [iface, fp] of edits) {
      if (now.get(iface) !== fp) v.push(`someone else's pending edit ${node}/${iface} was applied, reverted or changed`);
    }
  }
  const sdnNow = stable({ zones: sim.sdn.zones, vnets: sim.sdn.vnets });
  if (pre.sdn !== sdnNow) {
    // new VNets of ours are allowed; pre-existing ones must be unchanged
    const before = JSON.parse(pre.sdn) as { zones: Record<string, unknown>; vnets: Record<string, unknown> };
    for (const [z, val] of Object.entries(before.zones)) if (stable(sim.sdn.zones.get(z)) !== stable(val)) v.push(`pre-existing SDN zone ${z} changed`);
    for (const [n, val] of Object.entries(before.vnets)) if (stable(sim.sdn.vnets.get(n)) !== stable(val)) v.push(`pre-existing VNet ${n} changed`);
  }

  // --- ours: everything new is recorded, nothing twice
  const recordedVm = new Map<number, StandRecord>();
  for (const s of stands) {
    for (const vm of s.vms) {
      if (vm.status === 'removed') continue;
      const other = recordedVm.get(vm.vmid);
      if (other && other !== s) v.push(`VM ${vm.vmid} recorded in two stands (${other.group}/${other.userid}, ${s.group}/${s.userid})`);
      recordedVm.set(vm.vmid, s);
    }
  }
  const replicaIds = new Set(replicas.map((r) => r.vmid));
  const journalVms = new Set((await store.journal.list({ kind: 'replica' })).map((j) => Number(j.id)));
  const names = new Map<string, number>();
  let ourVms = 0;
  let ourReplicas = 0;
  for (const [vmid, vm] of sim.vms) {
    if (pre.vms.has(vmid)) continue;
    if (replicaIds.has(vmid) || journalVms.has(vmid)) {
      ourReplicas++;
      if (vm.config.lock) v.push(`replica ${vmid} left locked (${String(vm.config.lock)})`);
      continue;
    }
    ourVms++;
    const owner = recordedVm.get(vmid);
    if (!owner) v.push(`orphaned VM ${vmid} (${String(vm.config.name ?? '')}) on ${vm.node}: not recorded in the store`);
    const name = String(vm.config.name ?? '');
    const dup = names.get(name);
    if (dup !== undefined) v.push(`duplicate VM name ${name}: ${dup} and ${vmid}`);
    names.set(name, vmid);
    if (vm.config.lock) v.push(`VM ${vmid} left locked (${String(vm.config.lock)})`);
  }
  const recordedPools = new Map<string, StandRecord>();
  for (const s of stands) recordedPools.set(s.pool, s);
  let ourPools = 0;
  for (const id of sim.pools.keys()) {
    if (pre.pools.has(id)) continue;
    ourPools++;
    if (!recordedPools.has(id)) v.push(`orphaned pool ${id}: not recorded in the store`);
  }
  const createdUsers = new Set(stands.filter((s) => s.createdUser).map((s) => s.userid));
  // the journal is the ownership record cleanup goes by (an intent is written before the user is created)
  const journalUsers = new Set((await store.journal.list({ kind: 'user' })).map((j) => j.id));
  let ourUsers = 0;
  for (const id of sim.users.keys()) {
    if (pre.users.has(id)) continue;
    ourUsers++;
    if (!createdUsers.has(id) && !journalUsers.has(id)) v.push(`orphaned user ${id}: not recorded as created by us`);
    else if (!createdUsers.has(id)) notes.push(`user ${id}: journaled as ours, but its stand record says createdUser=false`);
  }
  const recordedBridges = new Set<string>();
  for (const s of stands) for (const seg of s.segments) if (seg.kind === 'bridge') recordedBridges.add(`${seg.node ?? s.node}/${seg.iface}`);
  let ourBridges = 0;
  for (const [node, net] of sim.network) {
    const preCur = pre.netCurrent.get(node) ?? new Map<string, string>();
    const prePend = pre.netPending.get(node) ?? new Map<string, string>();
    for (const [iface, val] of net.current) {
      if (preCur.has(iface) || val.type !== 'bridge') continue;
      ourBridges++;
      if (!recordedBridges.has(`${node}/${iface}`)) v.push(`orphaned bridge ${node}/${iface}: not recorded in the store`);
    }
    if (options.unreachableNodes?.includes(node)) continue;
    for (const [iface] of pendingOnly(sim, node)) {
      if (!prePend.has(iface)) v.push(`edit of ours left pending (not applied): ${node}/${iface}`);
    }
  }

  // --- every stand complete or cleanly failed
  const counts = { ready: 0, failed: 0, other: 0, missing: 0 };
  for (const s of groupStands) {
    if (s.status === 'failed') {
      counts.failed++;
      if (!s.error) v.push(`stand ${s.userid} failed without a reason`);
      continue;
    }
    if (s.status !== 'ready') {
      counts.other++;
      v.push(`stand ${s.userid} ended in status ${s.status} (neither ready nor failed)`);
      continue;
    }
    counts.ready++;
    if (!sim.pools.has(s.pool)) v.push(`ready stand ${s.userid}: pool ${s.pool} missing`);
    if (!sim.users.has(s.userid)) v.push(`ready stand ${s.userid}: user missing`);
    for (const rec of s.vms) {
      const vm = sim.vms.get(rec.vmid);
      if (!vm) {
        v.push(`ready stand ${s.userid}: VM ${rec.vmid} missing`);
        continue;
      }
      if (vm.node !== rec.node) v.push(`ready stand ${s.userid}: VM ${rec.vmid} on ${vm.node}, recorded on ${rec.node}`);
      if (vm.pool !== s.pool) v.push(`ready stand ${s.userid}: VM ${rec.vmid} not in pool ${s.pool}`);
      if (!vm.snapshots.some((x) => x.name === 'start')) v.push(`ready stand ${s.userid}: VM ${rec.vmid} has no 'start' snapshot`);
      const tags = String(vm.config.tags ?? '').split(/[;, ]/);
      if (!tags.includes('stands')) v.push(`ready stand ${s.userid}: VM ${rec.vmid} not tagged stands`);
      for (const [k, val] of Object.entries(vm.config)) {
        const m = /^net\d+$/.test(k) ? /bridge=([^,]+)/.exec(String(val)) : null;
        if (m && m[1] === 'vmbr0' && s.segments.length > 0) v.push(`ready stand ${s.userid}: VM ${rec.vmid} ${k} still on vmbr0`);
      }
    }
    for (const seg of s.segments) {
      if (seg.kind === 'bridge' && !sim.bridgeUp(seg.node ?? s.node, seg.iface)) v.push(`ready stand ${s.userid}: bridge ${seg.iface} not active`);
    }
  }
  if (options.expectedUsers) {
    const have = new Set(groupStands.map((s) => s.userid));
    for (const u of options.expectedUsers) {
      if (!have.has(u)) {
        counts.missing++;
        v.push(`no stand record for ${u}`);
      }
    }
  }
  return {
    ok: v.length === 0,
    violations: v,
    notes,
    stands: counts,
    ours: { vms: ourVms, pools: ourPools, users: ourUsers, bridges: ourBridges, replicas: ourReplicas },
  };
}

/**
 * After a cleanup: what of ours is still on the cluster (template replicas excepted: cleanup keeps them on
 * purpose), and any pre-existing object that changed. Empty = clean.
 */
export async function leftovers(sim: SimState, store: Store, pre: PreexistingSnapshot): Promise<string[]> {
  const out: string[] = [];
  // cleanup keeps template replicas on purpose (`stands templates --prune` removes them): recorded or journaled
  const replicaIds = new Set((await store.replicas.list()).map((r) => r.vmid));
  for (const j of await store.journal.list({ kind: 'replica' })) replicaIds.add(Number(j.id));
  for (const [vmid, vm] of sim.vms) if (!pre.vms.has(vmid) && !replicaIds.has(vmid)) out.push(`VM ${vmid} (${String(vm.config.name ?? '')})`);
  for (const id of sim.pools.keys()) if (!pre.pools.has(id)) out.push(`pool ${id}`);
  for (const id of sim.users.keys()) if (!pre.users.has(id)) out.push(`user ${id}`);
  for (const [node, net] of sim.network) {
    const preCur = pre.netCurrent.get(node) ?? new Map<string, string>();
    for (const [iface, val] of net.current) if (!preCur.has(iface) && val.type === 'bridge') out.push(`bridge ${node}/${iface}`);
  }
  for (const [vmid, fp] of pre.vms) if (!sim.vms.has(vmid) || vmFingerprint(sim, vmid) !== fp) out.push(`pre-existing VM ${vmid} changed`);
  for (const [id, fp] of pre.pools) if (stable(sim.pools.get(id)) !== fp) out.push(`pre-existing pool ${id} changed`);
  for (const [id, fp] of pre.users) if (!sim.users.has(id) || userFingerprint(sim, id) !== fp) out.push(`pre-existing user ${id} changed`);
  return out;
}
