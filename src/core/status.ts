/**
 * `stands status` / the bot's /status: nodes, groups, stands, running jobs, console links. One API request on
 * the hot path (`GET /cluster/resources`, all types); the last hour of CPU/memory comes from the background
 * rrddata cache (rrd-cache.ts). Stand state comes from the store, VM state from the cluster.
 */
import type { ClusterResource } from '../proxmox/types.js';
import type { JobRecord, StandRecord } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { consoleUrl } from './credentials.js';
import { consoleBaseFor } from './deploy.js';
import { rrdCacheFor, type NodeRrd } from './rrd-cache.js';

export interface StorageUsage {
  storage: string;
  shared: boolean;
  used: number;
  total: number;
}

export interface NodeReport {
  node: string;
  status: string;
  /** 0..1 of maxcpu */
  cpu: number;
  maxcpu: number;
  /** bytes */
  memUsed: number;
  memTotal: number;
  /** configured memory of every non-template VM on the node (running or not), bytes */
  memAllocated: number;
  coresAllocated: number;
  vms: number;
  running: number;
  storage: StorageUsage[];
  /** last hour from the rrddata cache; undefined until its first refresh */
  rrd?: Pick<NodeRrd, 'cpuAvg' | 'cpuPeak' | 'memAvg' | 'memPeak' | 'memTotal' | 'samples' | 'fetchedAt'>;
}

export type VmState = 'running' | 'stopped' | 'missing' | 'unknown' | string;

export interface StandVmReport {
  vmid: number;
  name: string;
  node: string;
  machine: string;
  state: VmState;
  lock?: string;
  consoleUrl: string;
}

export interface StandReport {
  group: string;
  userid: string;
  pool: string;
  node: string;
  status: StandRecord['status'];
  /** In English; `errorMsg` is the same as a code (as recorded; render with `stored`). */
  error?: string;
  errorMsg?: StandRecord['errorMsg'];
  leaseExpiresAt?: string;
  vms: StandVmReport[];
  consoleUrl?: string;
}

export interface GroupReport {
  name: string;
  cluster: string;
  profile: string;
  stands: number;
  ready: number;
  failed: number;
  vmsRunning: number;
  vms: number;
  lockedBy?: string;
}

export interface StatusReport {
  cluster: string;
  generatedAt: string;
  nodes: NodeReport[];
  groups: GroupReport[];
  stands: StandReport[];
  jobs: JobRecord[];
  /** age of the oldest rrd sample set used, ms (undefined: cache still empty) */
  rrdAgeMs?: number;
}

export interface StatusQuery {
  cluster?: string;
  group?: string;
  node?: string;
  /** Leave out stands (a student's view shows node load only). */
  nodesOnly?: boolean;
  /** Accept a cluster/resources answer this old (real ms) from the client's cache. Default 2 s. */
  maxAgeMs?: number;
}

export async function getStatus(ctx: AppContext, q: StatusQuery = {}): Promise<StatusReport> {
  const cluster = q.cluster ?? ctx.defaultCluster;
  const client = ctx.client(cluster);
  const cache = rrdCacheFor(ctx, cluster);
  cache.start();
  const [resources, records, jobs] = await Promise.all([
    client.clusterResources(undefined, { maxAgeMs: q.maxAgeMs ?? 2000 }),
    q.nodesOnly ? Promise.resolve([] as StandRecord[]) : ctx.store.stands.list({ cluster }),
    ctx.store.jobs.listRunning(),
  ]);
  const nodes = buildNodes(resources, cache, q.node);
  // a job whose process died keeps status "running" in the store; its group lock expires, so that tells the truth
  const live: JobRecord[] = [];
  for (const j of jobs) {
    if (!j.group) continue;
    const lock = await ctx.store.lockInfo(j.group);
    if (lock?.holder === `job:${j.id}`) live.push(j);
  }
  const vmById = new Map<number, ClusterResource>();
  for (const r of resources) if ((r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined) vmById.set(r.vmid, r);
  const base = consoleBaseFor(ctx, cluster);
  const stands: StandReport[] = [];
  for (const s of records) {
    if (q.group && s.group !== q.group) continue;
    if (q.node && s.node !== q.node) continue;
    const vms = s.vms.map((v): StandVmReport => {
      const live = vmById.get(v.vmid);
      return {
        vmid: v.vmid,
        name: v.name,
        node: live?.node ?? v.node,
        machine: v.machine,
        state: live ? (live.status ?? 'unknown') : 'missing',
        ...(live?.lock ? { lock: live.lock } : {}),
        consoleUrl: consoleUrl(base, v.vmid),
      };
    });
    stands.push({
      group: s.group,
      userid: s.userid,
      pool: s.pool,
      node: s.node,
      status: s.status,
      ...(s.error ? { error: s.error } : {}),
      ...(s.error && s.errorMsg ? { errorMsg: s.errorMsg } : {}),
      ...(s.leaseExpiresAt ? { leaseExpiresAt: s.leaseExpiresAt } : {}),
      vms,
      ...(vms[0] ? { consoleUrl: vms[0].consoleUrl } : {}),
    });
  }
  stands.sort((a, b) => a.group.localeCompare(b.group) || a.userid.localeCompare(b.userid));
  const groups = q.nodesOnly ? [] : await groupReports(ctx, cluster, stands, q.group);
  const ages = nodes.map((n) => n.rrd?.fetchedAt).filter((t): t is number => t !== undefined);
  return {
    cluster,
    generatedAt: new Date().toISOString(),
    nodes,
    groups,
    stands: q.nodesOnly ? [] : stands,
    jobs: live.filter((j) => !j.cluster || j.cluster === cluster).filter((j) => !q.group || j.group === q.group),
    ...(ages.length ? { rrdAgeMs: Date.now() - Math.min(...ages) } : {}),
  };
}

function buildNodes(resources: ClusterResource[], cache: ReturnType<typeof rrdCacheFor>, only?: string): NodeReport[] {
  const nodes = new Map<string, NodeReport>();
  for (const r of resources) {
    if (r.type !== 'node' || !r.node) continue;
    if (only && r.node !== only) continue;
    const rrd = cache.get(r.node);
    nodes.set(r.node, {
      node: r.node,
      status: r.status ?? 'unknown',
      cpu: r.cpu ?? 0,
      maxcpu: r.maxcpu ?? 0,
      memUsed: r.mem ?? 0,
      memTotal: r.maxmem ?? 0,
      memAllocated: 0,
      coresAllocated: 0,
      vms: 0,
      running: 0,
      storage: [],
      ...(rrd
        ? {
            rrd: {
              samples: rrd.samples,
              fetchedAt: rrd.fetchedAt,
              ...(rrd.cpuAvg === undefined ? {} : { cpuAvg: rrd.cpuAvg }),
              ...(rrd.cpuPeak === undefined ? {} : { cpuPeak: rrd.cpuPeak }),
              ...(rrd.memAvg === undefined ? {} : { memAvg: rrd.memAvg }),
              ...(rrd.memPeak === undefined ? {} : { memPeak: rrd.memPeak }),
              ...(rrd.memTotal === undefined ? {} : { memTotal: rrd.memTotal }),
            },
          }
        : {}),
    });
  }
  for (const r of resources) {
    const n = r.node ? nodes.get(r.node) : undefined;
    if (!n) continue;
    if ((r.type === 'qemu' || r.type === 'lxc') && !r.template) {
      n.vms++;
      n.memAllocated += r.maxmem ?? 0;
      n.coresAllocated += r.maxcpu ?? 0;
      if (r.status === 'running') n.running++;
    } else if (r.type === 'storage' && r.storage) {
      n.storage.push({ storage: r.storage, shared: Boolean(r.shared), used: r.disk ?? 0, total: r.maxdisk ?? 0 });
    }
  }
  for (const n of nodes.values()) n.storage.sort((a, b) => a.storage.localeCompare(b.storage));
  return [...nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
}

async function groupReports(ctx: AppContext, cluster: string, stands: StandReport[], only?: string): Promise<GroupReport[]> {
  const groups = (await ctx.store.groups.list()).filter((g) => g.cluster === cluster && (!only || g.name === only));
  const out: GroupReport[] = [];
  for (const g of groups) {
    const mine = stands.filter((s) => s.group === g.name);
    const lock = await ctx.store.lockInfo(g.name);
    out.push({
      name: g.name,
      cluster: g.cluster,
      profile: g.profile.name,
      stands: mine.length,
      ready: mine.filter((s) => s.status === 'ready').length,
      failed: mine.filter((s) => s.status === 'failed').length,
      vms: mine.reduce((a, s) => a + s.vms.length, 0),
      vmsRunning: mine.reduce((a, s) => a + s.vms.filter((v) => v.state === 'running').length, 0),
      ...(lock ? { lockedBy: lock.holder } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface GroupListEntry {
  name: string;
  cluster: string;
  profile: string;
  stands: number;
  ready: number;
  failed: number;
  createdAt: string;
  lockedBy?: string;
}

/** `stands list` and the bot's group autocomplete: from the store only (no API request). */
export async function listGroups(ctx: AppContext, o: { cluster?: string } = {}): Promise<GroupListEntry[]> {
  const groups = await ctx.store.groups.list();
  const out: GroupListEntry[] = [];
  for (const g of groups) {
    if (o.cluster && g.cluster !== o.cluster) continue;
    const stands = await ctx.store.stands.listByGroup(g.name);
    const lock = await ctx.store.lockInfo(g.name);
    out.push({
      name: g.name,
      cluster: g.cluster,
      profile: g.profile.name,
      stands: stands.length,
      ready: stands.filter((s) => s.status === 'ready').length,
      failed: stands.filter((s) => s.status === 'failed').length,
      createdAt: g.createdAt,
      ...(lock ? { lockedBy: lock.holder } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The VMs of a few stands as their nodes see them right now: `GET /nodes/{node}/qemu` once per node (qemu-server
 * API2/Qemu.pm `vmlist` → QemuServer.pm `vmstatus`, which checks the VM's process on the spot), not
 * `/cluster/resources`, which shows pvestatd's last broadcast and lags a fresh clone or start by up to its 10 s
 * interval (sim/timing.ts `pvestatdIntervalMs`). For a member's own stand right after it was made. A VM not on its recorded node is `missing`; a node that does not answer leaves its VMs `unknown`.
 */
export async function liveStandVms(ctx: AppContext, stands: StandRecord[]): Promise<Map<StandRecord, StandVmReport[]>> {
  const byNode = new Map<string, Promise<Map<number, { status: string; lock?: string }> | undefined>>();
  const list = (cluster: string, node: string) => {
    const key = `${cluster}\u0000${node}`;
    let p = byNode.get(key);
    if (!p) {
      p = ctx
        .client(cluster)
        .vmList(node)
        .then((vms) => new Map(vms.map((v) => [v.vmid, { status: v.status, ...(v.lock ? { lock: v.lock } : {}) }])))
        .catch(() => undefined);
      byNode.set(key, p);
    }
    return p;
  };
  const out = new Map<StandRecord, StandVmReport[]>();
  for (const s of stands) {
    const base = consoleBaseFor(ctx, s.cluster);
    out.set(
      s,
      await Promise.all(
        s.vms.map(async (v): Promise<StandVmReport> => {
          const seen = await list(s.cluster, v.node);
          const live = seen?.get(v.vmid);
          return {
            vmid: v.vmid,
            name: v.name,
            node: v.node,
            machine: v.machine,
            state: seen ? (live?.status ?? 'missing') : 'unknown',
            ...(live?.lock ? { lock: live.lock } : {}),
            consoleUrl: consoleUrl(base, v.vmid),
          };
        }),
      ),
    );
  }
  return out;
}
