/** Inventory and load: /version, /nodes, node status and rrddata, /cluster/resources (lagged), nextid, storage. */
import { createHash } from 'node:crypto';
import { int, RawJson, type Req, str } from '../context.js';
import { fail, paramError } from '../errors.js';
import { hasPriv } from '../privileges.js';
import type { Router } from '../router.js';
import { currentStats, type SimNode, type SimState, type SimStorage, type SimTask, vmCpus } from '../state.js';

const GiB = 1024 ** 3;

/** Background CPU load: wanders around the node's `load` (seeded phase) plus what its running VMs use. */
export function nodeCpu(state: SimState, node: SimNode, atMs: number): number {
  const phase = (node.name.length * 7 + node.name.charCodeAt(node.name.length - 1)) % 17;
  const t = atMs / 1000;
  const wave = node.load * (1 + 0.5 * Math.sin((2 * Math.PI * t) / 900 + phase) + 0.2 * Math.sin(t / 37 + phase));
  let vmLoad = 0;
  for (const vmid of node.vmids) {
    const vm = state.vms.get(vmid);
    if (vm?.status === 'running') vmLoad += vmCpus(vm) * 0.04;
  }
  return Math.round(Math.min(1, Math.max(0, wave + vmLoad / node.cores)) * 1e4) / 1e4;
}

/** A node's cluster address: the address of its first configured interface with one (the management bridge). */
export function nodeIp(state: SimState, node: string): string | undefined {
  for (const i of state.network.get(node)?.current.values() ?? []) if (i.cidr) return i.cidr.split('/')[0];
  return undefined;
}

export function nodeUptime(node: SimNode, now: number): number {
  return Math.floor((now - node.bootEpochMs) / 1000);
}

function nodeEntry(state: SimState, n: SimNode, now: number, full: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { id: `node/${n.name}`, type: 'node', node: n.name, status: n.online ? 'online' : 'offline' };
  if (!n.online || !full) return base;
  return {
    ...base,
    cpu: nodeCpu(state, n, now),
    maxcpu: n.cores,
    mem: Math.round(state.nodeMemUsed(n)),
    maxmem: n.memoryBytes,
    disk: Math.round(n.diskBytes * 0.18),
    maxdisk: n.diskBytes,
    uptime: nodeUptime(n, now),
    level: '',
  };
}

export function registerCluster(router: Router): void {
  router.add('GET', '/version', (r: Req) => {
    const v = r.sim.state.version;
    return {
      version: v,
      release: v.split('.').slice(0, 2).join('.'),
      repoid: createHash('sha1').update(v).digest('hex').slice(0, 16),
      console: 'html5',
    };
  });

  router.add('GET', '/nodes', (r: Req) => {
    const now = r.sim.clock.now();
    return [...r.sim.state.nodes.values()].map((n) => ({
      ...nodeEntry(r.sim.state, n, now, hasPriv(r.sim.state, r.who, `/nodes/${n.name}`, ['Sys.Audit'])),
      ssl_fingerprint: r.sim.fingerprint,
    }));
  });

  // pve-manager PVE/API2/APT.pm versions: the important packages; optional ones such as ifupdown2 are listed only
  // when installed (CurrentState ne 'NotInstalled')
  router.add('GET', '/nodes/{node}/apt/versions', (r: Req) => {
    const n = r.sim.state.nodes.get(str(r, 'node')!)!;
    const v = r.sim.state.version;
    const pkg = (Package: string, Version: string, extra: Record<string, string> = {}) => ({
      Package, Title: Package, Description: Package, Version, OldVersion: Version, Arch: 'amd64', Origin: 'Proxmox', Priority: 'optional', Section: 'admin', CurrentState: 'Installed', ...extra,
    });
    const major = Number(v.split('.')[0]);
    return [
      pkg('proxmox-ve', `${major}.0.0`, { RunningKernel: major >= 9 ? '6.14.8-2-pve' : '6.8.12-4-pve' }),
      pkg('pve-manager', v, { ManagerVersion: v }),
      ...(n.ifupdown2 ? [pkg('ifupdown2', '3.2.0-1+pmx11')] : []),
      pkg('qemu-server', `${major}.0.0`),
    ];
  });

  router.add('GET', '/nodes/{node}/status', (r: Req) => {
    const { state } = r.sim;
    const n = state.nodes.get(str(r, 'node')!)!;
    const now = r.sim.clock.now();
    const cpu = nodeCpu(state, n, now);
    const used = Math.round(state.nodeMemUsed(n));
    const la = (x: number): string => (x * n.cores).toFixed(2);
    return {
      cpu,
      wait: 0.0012,
      idle: 0,
      loadavg: [la(cpu), la(cpu * 0.95), la(cpu * 0.9)],
      uptime: nodeUptime(n, now),
      memory: { total: n.memoryBytes, used, free: n.memoryBytes - used, available: n.memoryBytes - used },
      swap: { total: 8 * GiB, used: 0, free: 8 * GiB },
      ksm: { shared: 0 },
      rootfs: { total: n.diskBytes, used: Math.round(n.diskBytes * 0.18), free: Math.round(n.diskBytes * 0.82), avail: Math.round(n.diskBytes * 0.77) },
      cpuinfo: { model: 'AMD EPYC 7313P 16-Core Processor', cpus: n.cores, cores: n.cores, sockets: 1, mhz: '3000.000', hvm: '1', flags: '', user_hz: 100 },
      kversion: 'Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)',
      'current-kernel': { sysname: 'Linux', release: '6.17.2-1-pve', version: '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1', machine: 'x86_64' },
      'boot-info': { mode: 'efi', secureboot: 0 },
      pveversion: `pve-manager/${state.version}/d31a5a7ed0a1b8c4`,
    };
  });

  router.add('GET', '/nodes/{node}/rrddata', (r: Req) => {
    const { state } = r.sim;
    const n = state.nodes.get(str(r, 'node')!)!;
    const now = r.sim.clock.now();
    const step = { hour: 60, day: 1800, week: 10800, month: 43200, year: 604800, decade: 6048000 }[str(r, 'timeframe') ?? 'hour'] ?? 60;
    const last = Math.floor(now / 1000 / step) * step;
    const used = state.nodeMemUsed(n);
    const points = [];
    for (let i = 59; i >= 0; i--) {
      const t = last - i * step;
      const cpu = nodeCpu(state, n, t * 1000);
      points.push({
        time: t,
        cpu,
        iowait: Math.round(cpu * 0.02 * 1e4) / 1e4,
        loadavg: Math.round(cpu * n.cores * 100) / 100,
        maxcpu: n.cores,
        memtotal: n.memoryBytes,
        memused: Math.round(used * (0.97 + 0.03 * Math.sin(t / 300))),
        memavailable: Math.round(n.memoryBytes - used),
        netin: Math.round(20000 + cpu * 5e6),
        netout: Math.round(15000 + cpu * 4e6),
        roottotal: n.diskBytes,
        rootused: Math.round(n.diskBytes * 0.18),
        swaptotal: 8 * GiB,
        swapused: 0,
        arcsize: 0,
      });
    }
    return points;
  });

  router.add('GET', '/nodes/{node}/qemu/{vmid}/rrddata', (r: Req) => {
    const { state } = r.sim;
    const vm = state.vms.get(int(r, 'vmid')!);
    if (!vm || vm.node !== str(r, 'node')) throw fail(`Configuration file 'nodes/${str(r, 'node')}/qemu-server/${int(r, 'vmid')}.conf' does not exist`);
    const now = r.sim.clock.now();
    const last = Math.floor(now / 60000) * 60;
    const s = currentStats(vm, now, r.sim.rng);
    return Array.from({ length: 60 }, (_, i) => ({
      time: last - (59 - i) * 60,
      cpu: s.cpu,
      maxcpu: s.maxcpu,
      mem: s.mem,
      maxmem: s.maxmem,
      disk: 0,
      maxdisk: s.maxdisk,
      netin: s.status === 'running' ? 1200 : 0,
      netout: s.status === 'running' ? 900 : 0,
      diskread: 0,
      diskwrite: 0,
    }));
  });

  router.add('GET', '/cluster/resources', (r: Req) => {
    const { state, timing, clock } = r.sim;
    const now = clock.now();
    if (now - state.lastStatTickMs >= timing.pvestatdIntervalMs) state.refreshStats(now);
    const type = str(r, 'type');
    const root = r.who.userid === 'root@pam' && (!r.who.tokenid || !r.who.privsep);
    const out: Record<string, unknown>[] = [];
    if (!type || type === 'node')
      for (const n of state.nodes.values())
        out.push(nodeEntry(state, n, now, root || hasPriv(state, r.who, `/nodes/${n.name}`, ['Sys.Audit'])));
    // VM entries are assembled from pre-serialized pvestatd stats: a 3000-VM cluster answers in a few ms
    const vmJson: string[] = [];
    if (!type || type === 'vm') {
      for (const vm of state.vms.values()) {
        if (!root && !hasPriv(state, r.who, `/vms/${vm.vmid}`, ['VM.Audit'])) continue;
        const online = state.nodes.get(vm.node)?.online ?? false;
        let e = `{"id":"qemu/${vm.vmid}","vmid":${vm.vmid},"node":${JSON.stringify(vm.node)},"type":"qemu",`;
        e += vm.statsJson && online ? vm.statsJson : '"status":"unknown"';
        // lock, tags and pool are read live from the config and user.cfg, not from pvestatd
        if (vm.config.lock) e += `,"lock":${JSON.stringify(String(vm.config.lock))}`;
        if (vm.config.tags) e += `,"tags":${JSON.stringify(String(vm.config.tags))}`;
        if (vm.pool) e += `,"pool":${JSON.stringify(vm.pool)}`;
        vmJson.push(e + '}');
      }
    }
    if (!type || type === 'storage') {
      // storage usage is pvestatd data too
      const usage = state.storageUsageSnap;
      for (const s of state.storages.values()) {
        if (!root && !hasPriv(state, r.who, `/storage/${s.id}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true)) continue;
        for (const node of s.nodes) {
          const online = state.nodes.get(node)?.online ?? false;
          out.push({
            id: `storage/${node}/${s.id}`, storage: s.id, node, type: 'storage', plugintype: s.type,
            status: online ? 'available' : 'unknown', shared: s.shared ? 1 : 0, content: s.content,
            ...(online ? { disk: state.storageUsed(s, node, usage), maxdisk: s.capacity[node] } : {}),
          });
        }
      }
    }
    if (!type)
      for (const p of state.pools.values())
        if (root || hasPriv(state, r.who, `/pool/${p.poolid}`, ['Pool.Audit'])) out.push({ id: `/pool/${p.poolid}`, type: 'pool', pool: p.poolid });
    if (!type || type === 'sdn')
      for (const z of state.sdn.zones.values())
        for (const n of state.nodes.values())
          out.push({ id: `sdn/${n.name}/${z.zone}`, type: 'sdn', sdn: z.zone, node: n.name, status: n.online ? 'ok' : 'unknown', 'zone-type': z.type });
    // guests first, as PVE lists them
    return new RawJson(`[${[...vmJson, ...out.map((e) => JSON.stringify(e))].join(',')}]`);
  });

  router.add('GET', '/cluster/nextid', (r: Req) => {
    const { state } = r.sim;
    const want = int(r, 'vmid');
    if (want !== undefined) {
      if (state.vms.has(want)) throw paramError({ vmid: `VM ${want} already exists` });
      return String(want);
    }
    for (let id = 100; id < 1_000_000; id++) if (!state.vms.has(id)) return String(id);
    throw fail('unable to get any free VMID in range [100, 1000000]');
  });

  router.add('GET', '/cluster/status', (r: Req) => {
    const { state } = r.sim;
    const nodes = [...state.nodes.values()];
    return [
      { type: 'cluster', id: 'cluster', name: state.clusterName, version: nodes.length + 2, nodes: nodes.length, quorate: 1 },
      ...nodes.map((n, i) => ({
        type: 'node', id: `node/${n.name}`, name: n.name, nodeid: i + 1, ip: nodeIp(state, n.name) ?? `10.0.0.${i + 11}`,
        online: n.online ? 1 : 0, local: i === 0 ? 1 : 0, level: '',
      })),
    ];
  });

  router.add('GET', '/cluster/tasks', (r: Req) => {
    const out = [];
    for (const list of r.sim.state.tasksByNode.values()) for (const t of list.slice(-50)) out.push(taskEntry(t));
    return out.sort((a, b) => b.starttime - a.starttime);
  });

  router.add('GET', '/storage', (r: Req) =>
    [...r.sim.state.storages.values()].map((s) => ({
      storage: s.id, type: s.type, content: s.content, shared: s.shared ? 1 : 0, nodes: s.nodes.join(','),
      digest: createHash('sha1').update(s.id).digest('hex'),
    })),
  );

  const storageEntry = (state: SimState, s: SimStorage, node: string): Record<string, unknown> => {
    const total = s.capacity[node]!;
    const used = state.storageUsed(s, node);
    return {
      storage: s.id, type: s.type, content: s.content, active: 1, enabled: 1, shared: s.shared ? 1 : 0,
      total, used, avail: total - used, used_fraction: Math.round((used / total) * 1e6) / 1e6,
    };
  };

  router.add('GET', '/nodes/{node}/storage', (r: Req) => {
    const { state } = r.sim;
    const node = str(r, 'node')!;
    const content = str(r, 'content');
    return [...state.storages.values()]
      .filter((s) => s.nodes.includes(node))
      .filter((s) => !content || s.content.split(',').includes(content))
      .filter((s) => !str(r, 'storage') || s.id === str(r, 'storage'))
      .filter((s) => hasPriv(state, r.who, `/storage/${s.id}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true))
      .map((s) => storageEntry(state, s, node));
  });

  router.add('GET', '/nodes/{node}/storage/{storage}/status', (r: Req) => {
    const { state } = r.sim;
    const node = str(r, 'node')!;
    const s = state.storages.get(str(r, 'storage')!);
    if (!s) throw fail(`storage '${str(r, 'storage')}' does not exist`);
    if (!s.nodes.includes(node)) throw fail(`storage '${s.id}' is not available on node '${node}'`);
    return storageEntry(state, s, node);
  });
}

export function taskEntry(t: SimTask): {
  upid: string; node: string; pid: number; pstart: number; starttime: number; type: string; id: string; user: string;
  tokenid?: string; status?: string; endtime?: number;
} {
  const [user, tokenid] = t.user.split('!') as [string, string | undefined];
  return {
    upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user,
    ...(tokenid ? { tokenid } : {}),
    ...(t.status === 'stopped' ? { status: t.exitstatus ?? 'unknown', endtime: t.endtime ?? t.starttime } : {}),
  };
}
