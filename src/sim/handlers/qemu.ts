/**
 * qemu-server's API (PVE/API2/Qemu.pm): list, config GET/PUT/POST, status, power, snapshots, template, migrate,
 * clone and destroy, with PVE's early checks (sync 500s) and worker-side failures (task exitstatus).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  bool, checkLock, cloneFault, Envelope, forkTask, int, perm, type Req, type Sim, str, uniform, vmOn, withConfigLock,
} from '../context.js';
import { fail, paramError, permError, PveError } from '../errors.js';
import { cloneVmFirewall, removeVmFirewall } from '../firewall-state.js';
import { configLockName, configLockTimeoutMessage, LockTimeout, storageLock } from '../locks.js';
import { hasPriv, isRoot } from '../privileges.js';
import {
  cdromsOf, disksOf, DISK_KEY, formatNet, NET_KEY, normalizeNet, normalizeTags, parseNet, type VmConfig,
} from '../qemu-config.js';
import { newMac } from '../rng.js';
import type { Router } from '../router.js';
import { currentStats, type SimVm } from '../state.js';
import type { TaskContext } from '../tasks.js';

/** Parameters of config PUT/POST that are not config keys. */
const NON_CONFIG = new Set(['node', 'vmid', 'digest', 'skiplock', 'delete', 'revert', 'background_delay', 'force']);

export function configDigest(config: VmConfig): string {
  return createHash('sha1').update(JSON.stringify(config)).digest('hex');
}

/** Which VM.Config.* privilege a key needs (qemu-server check_vm_modify_config_perm). */
function privForKey(key: string): string {
  if (NET_KEY.test(key)) return 'VM.Config.Network';
  if (DISK_KEY.test(key) || /^unused\d+$/.test(key)) return 'VM.Config.Disk';
  if (/^(cores|sockets|cpu|cpulimit|cpuunits|vcpus|numa|affinity)$/.test(key)) return 'VM.Config.CPU';
  if (/^(memory|balloon|shares|hugepages)$/.test(key)) return 'VM.Config.Memory';
  if (/^(ipconfig\d+|ci\w+|nameserver|searchdomain|sshkeys)$/.test(key)) return 'VM.Config.Cloudinit';
  if (/^(name|description|onboot|tags|startup|protection|agent|ostype|boot|bootdisk|hotplug|lock|template)$/.test(key)) return 'VM.Config.Options';
  return 'VM.Config.HWType';
}

/** SDN.Use on the bridge (and VLAN) a NIC uses, for non-root users (GuestHelpers check_vnet_access). */
function checkBridgeAccess(r: Req, value: string): void {
  if (isRoot(r.who)) return;
  const nic = parseNet(value);
  if (!nic.bridge) return;
  const vnet = r.sim.state.sdn.vnets.get(nic.bridge);
  const base = vnet ? `/sdn/zones/${vnet.zone}/${vnet.vnet}` : `/sdn/zones/localnetwork/${nic.bridge}`;
  const path = nic.tag !== undefined ? `${base}/${nic.tag}` : base;
  perm(r, path, ['SDN.Use']);
}

/** The typed value as PVE stores it in the config file. */
function configValue(key: string, v: unknown, sim: Sim): string | number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (NET_KEY.test(key)) return normalizeNet(String(v), sim.rng);
  if (key === 'tags') return normalizeTags(String(v));
  if (key === 'memory') return String(v).replace(/^current=/, '');
  return typeof v === 'number' ? v : String(v);
}

function checkConfigPerms(r: Req): void {
  if (isRoot(r.who)) return;
  const path = `/vms/${int(r, 'vmid')}`;
  for (const [k, v] of Object.entries(r.params)) {
    if (NON_CONFIG.has(k)) continue;
    perm(r, path, [privForKey(k)]);
    if (NET_KEY.test(k)) checkBridgeAccess(r, String(v));
  }
  for (const k of String(r.params.delete ?? '').split(/[,;\s]+/).filter(Boolean)) perm(r, path, [privForKey(k)]);
}

function applyConfig(r: Req, vm: SimVm): void {
  const p = r.params;
  if (p.digest !== undefined && p.digest !== configDigest(vm.config))
    throw fail('detected modified configuration - file changed by other user? Try again.');
  const deletes = String(p.delete ?? '').split(/[,;\s]+/).filter(Boolean);
  for (const k of deletes) {
    if (k === 'lock' && !isRoot(r.who)) throw permError('only root can delete lock');
    delete vm.config[k];
  }
  for (const [k, v] of Object.entries(p)) {
    if (NON_CONFIG.has(k)) continue;
    if (deletes.includes(k)) throw paramError({ [k]: `unable to delete '${k}' - is used twice` });
    vm.config[k] = configValue(k, v, r.sim);
  }
}

function statusCurrent(r: Req, vm: SimVm): Record<string, unknown> {
  const s = currentStats(vm, r.sim.clock.now(), r.sim.rng);
  const out: Record<string, unknown> = {
    vmid: vm.vmid, name: s.name, status: s.status, qmpstatus: s.status, cpus: s.maxcpu, maxmem: s.maxmem, mem: s.mem,
    memhost: s.mem, maxdisk: s.maxdisk, disk: 0, uptime: s.uptime, cpu: s.cpu, ha: { managed: 0 }, agent: 0,
    netin: 0, netout: 0, diskread: 0, diskwrite: 0,
  };
  if (s.status === 'running') {
    out.pid = 100000 + (vm.vmid % 800000);
    out['running-machine'] = 'pc-q35-10.0+pve1';
    out['running-qemu'] = '10.0.2';
  }
  if (vm.config.template) out.template = 1;
  if (vm.config.lock) out.lock = vm.config.lock;
  if (vm.config.tags) out.tags = vm.config.tags;
  return out;
}

/** Linked clones whose disks sit on this template's base volumes. */
function linkedClonesOf(r: Req, template: SimVm): { volid: string; vmid: number } | undefined {
  const bases = disksOf(template.config).map((d) => `${d.storage}:${d.volname}`);
  for (const vm of r.sim.state.vms.values()) {
    if (vm.vmid === template.vmid) continue;
    for (const d of disksOf(vm.config)) {
      if (!d.volname.includes('/')) continue;
      const base = `${d.storage}:${d.volname.split('/')[0]}`;
      if (bases.includes(base)) return { volid: base, vmid: vm.vmid };
    }
  }
  return undefined;
}

async function lockOrFail(sim: Sim, name: string, exclusive: boolean, timeoutMs: number, message: string): Promise<() => void> {
  try {
    return await sim.locks.acquire(name, exclusive, timeoutMs, message);
  } catch (e) {
    if (e instanceof LockTimeout) throw fail(e.message);
    throw e;
  }
}

/** Start inside the worker: flock, template/lock/running checks, then qemu's tap_plug needs every bridge up. */
async function doStart(r: Req, vm: SimVm, ctx: TaskContext): Promise<void> {
  const { sim } = r;
  await withConfigLock(sim, vm.vmid, async () => {
    if (vm.config.template) throw fail("you can't start a vm if it's a template");
    checkLock(vm);
    if (vm.status === 'running') throw fail(`VM ${vm.vmid} already running`);
    await ctx.sleep(sim.timing.startMs / 3);
    for (const [k, v] of Object.entries(vm.config)) {
      const m = NET_KEY.exec(k);
      if (!m) continue;
      const nic = parseNet(String(v));
      if (nic.bridge && !sim.state.bridgeUp(vm.node, nic.bridge)) {
        ctx.log(`bridge '${nic.bridge}' does not exist`);
        ctx.log(
          `kvm: -netdev type=tap,id=net${m[1]},ifname=tap${vm.vmid}i${m[1]},script=/usr/libexec/qemu-server/pve-bridge,downscript=/usr/libexec/qemu-server/pve-bridgedown,vhost=on: network script /usr/libexec/qemu-server/pve-bridge failed with status 512`,
        );
        throw fail('start failed: QEMU exited with code 1');
      }
    }
    await ctx.sleep((sim.timing.startMs * 2) / 3);
    vm.status = 'running';
    vm.startedAtMs = sim.clock.now();
  });
}

async function doStop(r: Req, vm: SimVm, ctx: TaskContext, ms: number, skiplock: boolean): Promise<void> {
  await withConfigLock(r.sim, vm.vmid, async () => {
    if (!skiplock) checkLock(vm);
    if (vm.status !== 'running') return;
    await ctx.sleep(ms);
    vm.status = 'stopped';
    delete vm.startedAtMs;
  });
}

/**
 * `POST …/status/shutdown` as qemu-server does it (API2/Qemu.pm `vm_shutdown` → QemuServer.pm `vm_stop` →
 * `_do_vm_stop` with $shutdown = 1): under the config lock, lock checked unless skiplock; a VM that is not
 * running ends the task OK at once (`return if !$pid`); otherwise the ACPI power button (`system_powerdown`),
 * then up to `timeout` seconds (default 60) for the guest to power off. Still running then: with `forceStop`,
 * "VM still running - terminating now with SIGTERM" (a warning: the task ends WARNINGS) and the process goes;
 * without it the task fails "VM quit/powerdown failed - got timeout" and the VM keeps running. A guest reacts
 * to the button after `timing.shutdownMs` unless ACPI is off in its config (`acpi: 0`) or it ignores it
 * (`SimVm.ignoresAcpi`: a hung guest, no OS). Not modelled: the guest agent's `guest-shutdown`, paused VMs.
 */
async function doShutdown(r: Req, vm: SimVm, ctx: TaskContext, o: { timeoutS: number | undefined; forceStop: boolean; skiplock: boolean }): Promise<void> {
  await withConfigLock(r.sim, vm.vmid, async () => {
    if (!o.skiplock) checkLock(vm);
    if (vm.status !== 'running') return;
    const timeoutMs = (o.timeoutS ?? 60) * 1000;
    const reacts = !vm.ignoresAcpi && String(vm.config.acpi ?? '1') !== '0';
    if (reacts && r.sim.timing.shutdownMs <= timeoutMs) {
      await ctx.sleep(r.sim.timing.shutdownMs);
    } else {
      await ctx.sleep(timeoutMs);
      if (!o.forceStop) throw fail('VM quit/powerdown failed - got timeout');
      ctx.warn('VM still running - terminating now with SIGTERM');
      await ctx.sleep(r.sim.timing.stopMs);
    }
    vm.status = 'stopped';
    delete vm.startedAtMs;
  });
}

export function registerQemu(router: Router): void {
  router.add('GET', '/nodes/{node}/qemu', (r: Req) => {
    const { state } = r.sim;
    const node = state.nodes.get(str(r, 'node')!)!;
    const now = r.sim.clock.now();
    const out = [];
    for (const vmid of node.vmids) {
      const vm = state.vms.get(vmid)!;
      if (!hasPriv(state, r.who, `/vms/${vmid}`, ['VM.Audit'])) continue;
      const s = currentStats(vm, now, r.sim.rng);
      out.push({
        vmid, name: s.name, status: s.status, cpus: s.maxcpu, maxmem: s.maxmem, mem: s.mem, maxdisk: s.maxdisk, disk: 0,
        cpu: s.cpu, uptime: s.uptime, netin: 0, netout: 0, diskread: 0, diskwrite: 0,
        ...(vm.config.template ? { template: 1 } : {}),
        ...(vm.config.lock ? { lock: vm.config.lock } : {}),
        ...(vm.config.tags ? { tags: vm.config.tags } : {}),
      });
    }
    return out;
  });

  router.add('GET', '/nodes/{node}/qemu/{vmid}/config', (r: Req) => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const snapname = str(r, 'snapshot');
    if (snapname) {
      const snap = vm.snapshots.find((s) => s.name === snapname);
      if (!snap) throw fail(`snapshot '${snapname}' does not exist`);
      return { ...snap.config, digest: configDigest(vm.config) };
    }
    return { ...vm.config, digest: configDigest(vm.config) };
  });

  const earlyConfigChecks = (r: Req): SimVm => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const skiplock = bool(r, 'skiplock');
    if (skiplock && r.who.userid !== 'root@pam') throw permError('Only root may use this option.');
    checkConfigPerms(r);
    // check_lock runs before the flock is taken: immediate "VM is locked (clone)"
    if (!skiplock) checkLock(vm);
    return vm;
  };

  router.add('PUT', '/nodes/{node}/qemu/{vmid}/config', async (r: Req) => {
    const { sim } = r;
    const vm = earlyConfigChecks(r);
    await withConfigLock(sim, vm.vmid, async () => {
      if (!bool(r, 'skiplock')) checkLock(vm);
      await sim.clock.sleep(uniform(sim, sim.timing.configWriteMinMs, sim.timing.configWriteMaxMs));
      if (!sim.state.vms.has(vm.vmid)) throw fail(`Configuration file 'nodes/${vm.node}/qemu-server/${vm.vmid}.conf' does not exist`);
      applyConfig(r, vm);
    });
    return null;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/config', async (r: Req) => {
    const { sim } = r;
    const vm = earlyConfigChecks(r);
    const task = forkTask(r, vm.node, 'qmconfig', String(vm.vmid), async (ctx) => {
      await withConfigLock(sim, vm.vmid, async () => {
        if (!bool(r, 'skiplock')) checkLock(vm);
        await ctx.sleep(uniform(sim, sim.timing.configWriteMinMs, sim.timing.configWriteMaxMs));
        applyConfig(r, vm);
        ctx.log(`update VM ${vm.vmid}: ${Object.keys(r.params).filter((k) => !NON_CONFIG.has(k)).map((k) => `-${k}`).join(' ')}`);
      });
    });
    const delay = int(r, 'background_delay');
    if (delay) {
      await Promise.race([task.done, sim.clock.sleep(delay * 1000)]);
      if (task.status === 'stopped') {
        if (task.exitstatus === 'OK') return null;
        throw fail(`failed to update VM ${vm.vmid}: ${task.exitstatus}`);
      }
    }
    return task.upid;
  });

  router.add('GET', '/nodes/{node}/qemu/{vmid}/status/current', (r: Req) =>
    statusCurrent(r, vmOn(r, str(r, 'node')!, int(r, 'vmid')!)),
  );

  router.add('POST', '/nodes/{node}/qemu/{vmid}/status/start', (r: Req) => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    return forkTask(r, vm.node, 'qmstart', String(vm.vmid), (ctx) => doStart(r, vm, ctx)).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/status/stop', (r: Req) => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const skiplock = bool(r, 'skiplock') ?? false;
    if (skiplock && r.who.userid !== 'root@pam') throw permError('Only root may use this option.');
    return forkTask(r, vm.node, 'qmstop', String(vm.vmid), (ctx) => doStop(r, vm, ctx, r.sim.timing.stopMs, skiplock)).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/status/shutdown', (r: Req) => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const skiplock = bool(r, 'skiplock') ?? false;
    if (skiplock && r.who.userid !== 'root@pam') throw paramError({ skiplock: 'Only root may use this option.' });
    const timeoutS = int(r, 'timeout');
    const forceStop = bool(r, 'forceStop') ?? false;
    return forkTask(r, vm.node, 'qmshutdown', String(vm.vmid), (ctx) => doShutdown(r, vm, ctx, { timeoutS, forceStop, skiplock })).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/status/reboot', (r: Req) => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    if (vm.status !== 'running') throw fail(`VM ${vm.vmid} not running`);
    return forkTask(r, vm.node, 'qmreboot', String(vm.vmid), async (ctx) => {
      await withConfigLock(r.sim, vm.vmid, async () => {
        checkLock(vm);
        await ctx.sleep(r.sim.timing.rebootMs);
        vm.startedAtMs = r.sim.clock.now();
      });
    }).upid;
  });

  // snapshots
  router.add('GET', '/nodes/{node}/qemu/{vmid}/snapshot', (r: Req) => {
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const list: Record<string, unknown>[] = vm.snapshots.map((s) => ({
      name: s.name, description: s.description, snaptime: s.snaptime, vmstate: 0, ...(s.parent ? { parent: s.parent } : {}),
    }));
    list.push({
      name: 'current', description: 'You are here!', digest: configDigest(vm.config), running: vm.status === 'running' ? 1 : 0,
      ...(vm.config.parent ? { parent: vm.config.parent } : {}),
    });
    return list;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/snapshot', (r: Req) => {
    const { sim } = r;
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const name = str(r, 'snapname')!;
    if (name === 'current') throw paramError({ snapname: "invalid configuration ID 'current'" });
    return forkTask(r, vm.node, 'qmsnapshot', String(vm.vmid), async (ctx) => {
      await withConfigLock(sim, vm.vmid, async () => {
        checkLock(vm);
        if (vm.snapshots.some((s) => s.name === name)) throw fail(`snapshot name '${name}' already used`);
        if (vm.config.template) throw fail("you can't take a snapshot if it's a template");
        vm.config.lock = 'snapshot';
      });
      ctx.log(`snapshotting 'drive-scsi0' (${String(vm.config.scsi0 ?? '').split(',')[0]})`);
      await ctx.sleep(uniform(sim, sim.timing.snapshotMinMs, sim.timing.snapshotMaxMs));
      await withConfigLock(sim, vm.vmid, async () => {
        const { lock: _l, parent, ...rest } = vm.config;
        vm.snapshots.push({
          name, description: str(r, 'description') ?? '', snaptime: Math.floor(sim.clock.now() / 1000),
          ...(parent !== undefined ? { parent: String(parent) } : {}), config: { ...rest, ...(parent !== undefined ? { parent } : {}) },
        });
        delete vm.config.lock;
        vm.config.parent = name;
      });
    }).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback', (r: Req) => {
    const { sim } = r;
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const name = str(r, 'snapname')!;
    return forkTask(r, vm.node, 'qmrollback', String(vm.vmid), async (ctx) => {
      let snapConfig: VmConfig | undefined;
      await withConfigLock(sim, vm.vmid, async () => {
        checkLock(vm);
        const snap = vm.snapshots.find((s) => s.name === name);
        if (!snap) throw fail(`snapshot '${name}' does not exist`);
        snapConfig = snap.config;
        vm.config.lock = 'rollback';
      });
      if (vm.status === 'running') {
        ctx.log('stopping VM');
        await ctx.sleep(sim.timing.stopMs);
        vm.status = 'stopped';
        delete vm.startedAtMs;
      }
      await ctx.sleep(uniform(sim, sim.timing.snapshotMinMs, sim.timing.snapshotMaxMs));
      await withConfigLock(sim, vm.vmid, async () => {
        const { parent: _p, ...rest } = snapConfig!;
        vm.config = { ...rest, parent: name };
      });
      if (bool(r, 'start')) await doStart(r, vm, ctx);
    }).upid;
  });

  router.add('DELETE', '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}', (r: Req) => {
    const { sim } = r;
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const name = str(r, 'snapname')!;
    return forkTask(r, vm.node, 'qmdelsnapshot', String(vm.vmid), async (ctx) => {
      await withConfigLock(sim, vm.vmid, async () => {
        checkLock(vm);
        if (!vm.snapshots.some((s) => s.name === name)) throw fail(`snapshot '${name}' does not exist`);
        vm.config.lock = 'snapshot-delete';
      });
      await ctx.sleep(uniform(sim, sim.timing.snapshotMinMs, sim.timing.snapshotMaxMs));
      await withConfigLock(sim, vm.vmid, async () => {
        const snap = vm.snapshots.find((s) => s.name === name)!;
        vm.snapshots = vm.snapshots.filter((s) => s !== snap);
        for (const s of vm.snapshots) if (s.parent === name) s.parent = snap.parent;
        if (vm.config.parent === name) {
          if (snap.parent) vm.config.parent = snap.parent;
          else delete vm.config.parent;
        }
        delete vm.config.lock;
      });
    }).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/template', (r: Req) => {
    const { sim } = r;
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    if (vm.status === 'running') throw fail("you can't convert a VM to template if VM is running");
    checkLock(vm);
    return forkTask(r, vm.node, 'qmtemplate', String(vm.vmid), async (ctx) => {
      await withConfigLock(sim, vm.vmid, async () => {
        checkLock(vm);
        if (vm.config.template) throw fail(`VM ${vm.vmid} is already a template`);
        await ctx.sleep(sim.timing.templateMs);
        for (const d of disksOf(vm.config)) {
          if (d.volname.includes('/')) continue;
          vm.config[d.key] = String(vm.config[d.key]).replace(`${d.storage}:vm-`, `${d.storage}:base-`);
        }
        vm.config.template = 1;
      });
    }).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/migrate', (r: Req) => {
    const { sim, state } = { sim: r.sim, state: r.sim.state };
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const target = str(r, 'target')!;
    if (target === vm.node) throw paramError({ target: 'target is local node.' });
    const tn = state.nodes.get(target);
    if (!tn) throw fail(`no such cluster node '${target}'`);
    if (!tn.online) throw fail(`target node '${target}' is not online`);
    if (vm.status === 'running' && !bool(r, 'online')) throw fail("can't migrate running VM without --online");
    if (vm.status === 'running') throw fail('online migration is not supported by the simulator');
    checkLock(vm);
    return forkTask(r, vm.node, 'qmigrate', String(vm.vmid), async (ctx) => {
      await withConfigLock(sim, vm.vmid, async () => {
        checkLock(vm);
        vm.config.lock = 'migrate';
      });
      try {
        // QemuMigrate.pm scan_local_volumes: the host's drive and an ISO on node-local storage cannot move; each
        // is logged, then the migration aborts (AbstractMigrate.pm migrate: "migration aborted")
        const problems: string[] = [];
        for (const c of cdromsOf(vm.config)) {
          if (c.volid === 'cdrom') problems.push("can't migrate local cdrom drive");
          else if (!c.cloudinit && c.storage && !state.storages.get(c.storage)?.shared)
            problems.push(`can't migrate local disk '${c.volid}': local cdrom image`);
        }
        if (problems.length) {
          ctx.log(`starting migration of VM ${vm.vmid} to node '${target}'`);
          for (const p of problems) ctx.log(`${p}`);
          ctx.log("ERROR: migration aborted (duration 00:00:00): can't migrate VM - check log");
          throw fail('migration aborted');
        }
        let localGiB = 0;
        for (const d of disksOf(vm.config)) {
          const st = state.storages.get(d.storage);
          if (!st || st.shared) continue;
          if (d.volname.includes('/'))
            throw fail(`can't migrate '${d.storage}:${d.volname}' as it's a clone of '${d.volname.split('/')[0]}'`);
          if (!st.nodes.includes(target)) throw fail(`storage '${d.storage}' is not available on node '${target}'`);
          localGiB += d.sizeGiB;
        }
        ctx.log(`starting migration of VM ${vm.vmid} to node '${target}'`);
        await ctx.sleep(localGiB ? localGiB * sim.timing.migrateMsPerGiB : sim.timing.migrateSharedMs);
        state.moveVm(vm, target);
        ctx.log('migration finished successfully');
      } finally {
        delete vm.config.lock;
      }
    }).upid;
  });

  router.add('POST', '/nodes/{node}/qemu/{vmid}/clone', (r: Req) => cloneVm(r));

  router.add('DELETE', '/nodes/{node}/qemu/{vmid}', (r: Req) => {
    const { sim } = r;
    const vm = vmOn(r, str(r, 'node')!, int(r, 'vmid')!);
    const skiplock = bool(r, 'skiplock') ?? false;
    if (skiplock && r.who.userid !== 'root@pam') throw permError('Only root may use this option.');
    if (vm.config.protection) throw fail(`can't remove VM ${vm.vmid} - protection mode enabled`);
    if (vm.status === 'running') throw fail(`VM ${vm.vmid} is running - destroy failed`);
    return forkTask(r, vm.node, 'qmdestroy', String(vm.vmid), async (ctx) => {
      await withConfigLock(sim, vm.vmid, async () => {
        if (!skiplock) checkLock(vm);
        if (vm.status === 'running') throw fail(`VM ${vm.vmid} is running - destroy failed`);
        if (vm.config.template) {
          const used = linkedClonesOf(r, vm);
          if (used) throw fail(`base volume '${used.volid}' is still in use by linked cloned`);
        }
        const disks = disksOf(vm.config);
        // the config stays as a zombie with lock: destroyed until the disks are gone (nextid must not reuse it)
        vm.config = { lock: 'destroyed' };
        for (const d of disks) ctx.log(`Removing image: 100% complete...done. (${d.storage}:${d.volname})`);
        await ctx.sleep(sim.timing.destroyMs);
        sim.state.removeVm(vm.vmid);
        removeVmFirewall(sim.state.firewall, vm.vmid); // destroy_vm: PVE::Firewall::remove_vmfw_conf
        if (bool(r, 'purge')) ctx.log(`purging VM ${vm.vmid} from related configurations..`);
      });
    }).upid;
  });
}

function cloneVm(r: Req): string {
  const { sim } = r;
  const { state, timing } = sim;
  const node = str(r, 'node')!;
  const src = vmOn(r, node, int(r, 'vmid')!);
  const newid = int(r, 'newid')!;
  const target = str(r, 'target');
  const poolid = str(r, 'pool');
  const storageId = str(r, 'storage');
  const snapname = str(r, 'snapname');
  const isTemplate = Boolean(src.config.template);
  const full = bool(r, 'full') ?? !isTemplate;

  if (poolid !== undefined && !state.pools.has(poolid)) throw permError(`pool '${poolid}' does not exist`);
  if (target !== undefined && !state.nodes.has(target)) throw fail(`no such cluster node '${target}'`);
  const targetNode = target ?? node;
  let storage = storageId === undefined ? undefined : state.storages.get(storageId);
  if (storageId !== undefined) {
    if (!storage) throw fail(`storage '${storageId}' does not exist`);
    if (!storage.content.split(',').includes('images')) throw paramError({ storage: `storage '${storageId}' does not support vm images` });
  }
  checkLock(src);
  if (snapname !== undefined && !src.snapshots.some((s) => s.name === snapname)) throw fail(`snapshot '${snapname}' does not exist`);
  if (!full) {
    if (storageId !== undefined) throw fail("parameter 'storage' not allowed for linked clones");
    if (r.params.format !== undefined) throw fail("parameter 'format' not allowed for linked clones");
  }
  const disks = disksOf(src.config);
  // qemu-server PVE/API2/Qemu.pm clone_vm, $check_storage_access_clone: every volume counts, ISOs and cloud-init
  // drives (media=cdrom) included; one on non-shared storage makes the VM local, and a local VM cannot be cloned
  // with `target`, whatever `storage` says. The host's drive (`cdrom`) needs Sys.Console on /.
  const cdroms = cdromsOf(src.config);
  if (cdroms.some((c) => c.volid === 'cdrom') && !isRoot(r.who)) perm(r, '/', ['Sys.Console']);
  const volumeStorages = [...disks.map((d) => d.storage), ...cdroms.flatMap((c) => (c.storage ? [c.storage] : []))];
  const sharedVm = volumeStorages.every((id) => state.storages.get(id)?.shared === true);
  if (target !== undefined && target !== node) {
    if (storage && !storage.shared) throw fail(`can't clone to non-shared storage '${storage.id}'`);
    if (!sharedVm) throw fail(`can't clone VM to node '${target}' (VM uses local storage)`);
  }
  const existing = state.vms.get(newid);
  if (existing && existing.node === targetNode) throw fail(`unable to create VM ${newid}: config file already exists`);
  for (const d of disks) {
    if (!full && !isTemplate) throw fail(`Linked clone feature is not supported for '${d.storage}:${d.volname}' (${d.key})`);
    const st = state.storages.get(storage?.id ?? d.storage);
    if (!isRoot(r.who) && st) perm(r, `/storage/${st.id}`, ['Datastore.AllocateSpace']);
  }
  for (const [k, v] of Object.entries(src.config)) if (NET_KEY.test(k)) checkBridgeAccess(r, String(v));

  const task = forkTask(r, node, 'qmclone', String(src.vmid), async (ctx) => {
    // drawn in the worker: a clone that never started (task-start-failure) cannot fail, nor use up the rule
    const fault = cloneFault(r);
    const releaseSrc = await lockOrFail(sim, configLockName(src.vmid), src.status === 'running', timing.cloneFlockTimeoutMs, configLockTimeoutMessage(src.vmid));
    let created = false;
    try {
      const releaseNew = await lockOrFail(sim, configLockName(newid), true, timing.cloneFlockTimeoutMs, configLockTimeoutMessage(newid));
      try {
        if (state.vms.has(newid)) throw fail(`unable to create VM ${newid}: config file already exists`);
        // The worker writes "# qmclone temporary file\nlock: clone" to the config path of the node it runs on — the
        // SOURCE node — and renames it to the target node only at the end (qemu-server API2/Qemu.pm clone_vm).
        const vm: SimVm = { vmid: newid, node, config: { lock: 'clone' }, status: 'stopped', snapshots: [] };
        state.addVm(vm);
        created = true;
        cloneVmFirewall(state.firewall, src.vmid, newid); // clone_vm: PVE::Firewall::clone_vmfw_conf
        ctx.log(`create ${full ? 'full' : 'linked'} clone of drive scsi0 (${disks[0] ? `${disks[0].storage}:${disks[0].volname}` : 'none'})`);
        const totalGiB = disks.reduce((a, d) => a + d.sizeGiB, 0);
        const lockMs = full ? totalGiB * timing.fullCloneLockMsPerGiB : timing.linkedCloneLockMs;
        const totalMs = full ? totalGiB * timing.fullCloneMsPerGiB : timing.linkedCloneMs;
        const diskStorage = state.storages.get(storage?.id ?? disks[0]?.storage ?? '');
        // a failing clone may first run a while (`latencyMs`), outside the storage lock
        if (fault?.latencyMs) await ctx.sleep(fault.latencyMs);
        if (diskStorage) {
          const sl = storageLock(diskStorage, targetNode);
          const release = await lockOrFail(sim, sl.name, true, timing.storageLockTimeoutMs, sl.message);
          try {
            await ctx.sleep(lockMs);
            if (fault) throw fail(fault.message ?? `lvcreate 'pve/vm-${newid}-disk-0' error:   Volume group "pve" has insufficient free space (2047 extents): 2048 required.`);
          } finally {
            release();
          }
        }
        await ctx.sleep(Math.max(0, totalMs - lockMs));
        const source = snapname ? src.snapshots.find((s) => s.name === snapname)!.config : src.config;
        const config: VmConfig = {};
        for (const [k, v] of Object.entries(source)) {
          if (k === 'template' || k === 'lock' || k === 'parent' || /^unused\d+$/.test(k)) continue;
          if (NET_KEY.test(k)) {
            const nic = parseNet(String(v));
            nic.mac = newMac(sim.rng);
            config[k] = formatNet(nic);
          } else if (DISK_KEY.test(k) && cdroms.some((c) => c.key === k && c.cloudinit)) {
            // the cloud-init drive is regenerated for the new VM (clone_vm: drive_is_cloudinit → full clone);
            // ISOs are copied as they are
            const c = cdroms.find((x) => x.key === k)!;
            config[k] = String(v).replace(/^[^,]+/, `${storage?.id ?? c.storage}:vm-${newid}-cloudinit`);
          } else if (DISK_KEY.test(k) && disks.some((d) => d.key === k)) {
            const d = disks.find((x) => x.key === k)!;
            const st = storage?.id ?? d.storage;
            const idx = disks.indexOf(d);
            const vol = full ? `vm-${newid}-disk-${idx}` : `${d.volname.split('/')[0]}/vm-${newid}-disk-${idx}`;
            config[k] = String(v).replace(/^[^,]+/, `${st}:${vol}`);
          } else config[k] = v;
        }
        config.name = str(r, 'name') ?? `Copy-of-VM-${String(source.name ?? src.vmid)}`;
        if (r.params.description !== undefined) config.description = String(r.params.description);
        config.smbios1 = `uuid=${randomUUID()}`;
        if (source.vmgenid) config.vmgenid = randomUUID();
        vm.config = { ...config, lock: 'clone' };
        // clone_vm's end, in its order: `delete $newconf->{lock}` + write_config (still on the source node); with
        // a target, deactivate the volumes and `rename($conffile, $newconffile)` to the target node; only then
        // `add_vm_to_pool($newid, $pool)`. Between these steps the VM is unlocked on the source node, outside
        // its pool.
        delete vm.config.lock;
        if (targetNode !== node) {
          await ctx.sleep(timing.cloneMoveMs);
          state.moveVm(vm, targetNode);
        }
        if (poolid !== undefined && state.pools.has(poolid)) state.setPool(newid, poolid);
        created = false;
      } finally {
        releaseNew();
      }
    } catch (e) {
      if (created) {
        state.removeVm(newid);
        removeVmFirewall(state.firewall, newid);
      }
      const msg = e instanceof Error ? e.message : String(e);
      throw new PveError(500, msg.startsWith('unable to create VM') || msg.startsWith("can't lock file '/var/lock/qemu-server") ? msg : `clone failed: ${msg}`);
    } finally {
      releaseSrc();
    }
  });
  return task.upid;
}

