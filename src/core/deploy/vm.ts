/** Stage: one VM of a stand: clone (or find it from an earlier run), configure, start, and its record. */
import { msg } from '../../i18n/index.js';
import { ProxmoxApiError, TaskFailedError, isNotFound } from '../../proxmox/errors.js';
import type { Params, VmConfig } from '../../proxmox/types.js';
import type { StandVm } from '../../store/schemas.js';
import { isAbort, isTransientTaskFailure, reasonOf, throwIfAborted } from '../executor.js';
import { hasGroupTag, newVmMarker, parseVmDescription, vmMarkerOf, withVmMarker } from '../ownership.js';
import type { VmPlan } from '../types.js';
import { StandFailure, type StandState, sleep } from './context.js';
import { isolateVm } from './firewall.js';
import { replicaReady } from './replicas.js';
import { recordChange } from './records.js';
import type { DeployRun } from './run.js';

export async function updateVm(run: DeployRun, st: StandState, vmid: number, change: (v: StandVm) => StandVm): Promise<void> {
  await recordChange(run, st, (r) => ({ ...r, vms: r.vms.map((v) => (v.vmid === vmid ? change(v) : v)) }));
}

export async function markStep(run: DeployRun, st: StandState, vm: VmPlan, step: string, status?: StandVm['status']): Promise<void> {
  await updateVm(run, st, vm.vmid, (v) => ({
    ...v,
    node: vm.node,
    steps: v.steps.includes(step) ? v.steps : [...v.steps, step],
    ...(status ? { status } : {}),
  }));
}

/** Is this existing VM ours (this stand's)? The journal proves it; failing that, our tags/description. */
export async function isOurVm(run: DeployRun, st: StandState, vm: VmPlan, cfg: VmConfig): Promise<boolean> {
  const j = await run.ctx.store.journal.get('vm', vm.vmid, run.cluster);
  // a recorded creation marker must be the VM's own (a copy of one of ours under this VMID is not ours)
  if (j && typeof j.extra?.marker === 'string') return j.group === st.plan.group && j.user === st.plan.userid && vmMarkerOf(cfg.description) === j.extra.marker;
  if (j && j.group === st.plan.group && j.user === st.plan.userid) return true;
  const d = parseVmDescription(cfg.description);
  if (d && d.group === st.plan.group && d.userid === st.plan.userid) return true;
  return hasGroupTag(cfg.tags, st.plan.group) && cfg.name === vm.name;
}

export async function runVm(run: DeployRun, st: StandState, vm: VmPlan): Promise<void> {
  const s = st.plan;
  const rec = st.record?.vms.find((v) => v.vmid === vm.vmid);
  const steps = new Set(rec?.steps ?? []);
  let live = run.vmIndex.get(vm.vmid);
  let cfg: VmConfig | undefined;
  let preexisting = false;

  // A finished VM of an earlier run: leave it alone (no config rewrite, so MACs stay).
  const finished =
    live && rec?.status === 'ready' && !live.lock && (live.tags === undefined || hasGroupTag(live.tags, s.group)) && (!run.plan.start || steps.has('start'));
  if (finished) {
    for (const k of ['clone', 'config', 'snapshot', ...(run.plan.start ? ['start'] : [])]) {
      await run.step(st, k, vm.vmid, async () => 'skipped');
    }
    // isolation converges on every run: a rule deleted by hand is put back
    if (s.isolated) await run.step(st, 'firewall', vm.vmid, () => isolateVm(run, st, vm));
    st.vmDone.add(vm.vmid);
    return;
  }

  if (live) {
    const node = live.node ?? vm.node;
    cfg = await run.abortable(run.lanes.node(node, () => run.client.vmConfig(node, vm.vmid)));
    // a clone still running has only a placeholder config (`lock: clone`, no name or marker yet: qemu-server
    // clone_vm): ours if we journaled the intent to clone into this VMID, and proven ours once it ends (below)
    const cloning = cfg.lock === 'clone' && (await intendedByUs(run, st, vm));
    if (!cloning && !(await isOurVm(run, st, vm, cfg))) {
      run.fail(st, msg('fail.vmidTaken', { vmid: vm.vmid, ...(cfg.name !== undefined ? { name: cfg.name } : {}), node }));
    }
    if (cfg.lock === 'clone') {
      // a clone of an earlier run is still running: its config sits on the template's node until the clone ends,
      // then moves to vm.node and joins the pool; follow it there (a failed clone removes it: clone again)
      const done = await run.abortable(run.client.waitCloneDone(vm.vmid, vm.node, { pool: s.pool })).catch((err: unknown) => {
        if (err instanceof TaskFailedError) return undefined;
        throw err;
      });
      cfg = done ? await awaitUnlockedConfig(run, vm.node, vm.vmid) : undefined;
      if (!cfg) live = undefined;
      else if (!(await isOurVm(run, st, vm, cfg))) {
        run.fail(st, msg('fail.vmidTaken', { vmid: vm.vmid, ...(cfg.name !== undefined ? { name: cfg.name } : {}), node: vm.node }));
      }
    } else if (cfg.lock === 'destroyed') {
      // a destroy of an earlier run is still running on the server: let it end, then look again
      cfg = await awaitUnlockedConfig(run, node, vm.vmid);
      if (!cfg) live = undefined;
    } else if (cfg.lock) {
      // a snapshot, rollback or migration (ours, from an interrupted run) still running: wait for its task; a lock
      // with no task behind it fails the stand with the `qm unlock` hint (VmLockedError)
      const unlocked = await run.abortable(run.client.waitOwnLock(node, vm.vmid));
      cfg = await run.abortable(run.client.vmConfig(unlocked.node, vm.vmid));
    }
    preexisting = Boolean(cfg);
  }

  // clone
  await run.step(st, 'clone', vm.vmid, async () => {
    if (cfg) {
      await run.ctx.store.journal.confirm('vm', vm.vmid, run.cluster);
      return 'skipped';
    }
    await st.pool.promise;
    await replicaReady(run, vm);
    cfg = await cloneVm(run, st, vm);
    st.vmCreated.add(vm.vmid);
    run.counts.vms++;
    await markStep(run, st, vm, 'clone', 'cloned');
    return undefined;
  });

  // config: exactly the profile's NICs, resources, tags (one write)
  await run.step(st, 'config', vm.vmid, async () => {
    if (preexisting && cfg && hasGroupTag(cfg.tags, s.group)) {
      await markStep(run, st, vm, 'config', 'configured');
      return 'skipped';
    }
    await st.network.promise;
    const params: Params = { tags: vm.tags.join(';') };
    for (const nic of vm.nets) params[`net${nic.index}`] = nic.value;
    const planned = new Set(vm.nets.map((n) => n.index));
    const extra = new Set(vm.deleteNets);
    for (const k of Object.keys(cfg ?? {})) {
      const m = /^net(\d+)$/.exec(k);
      if (m && !planned.has(Number(m[1]))) extra.add(Number(m[1]));
    }
    if (extra.size) params.delete = [...extra].sort((a, b) => a - b).map((i) => `net${i}`).join(',');
    if (vm.cores !== undefined) params.cores = vm.cores;
    if (vm.memory !== undefined) params.memory = vm.memory;
    throwIfAborted(run.signal);
    // as a task (POST): the node's pvedaemon worker is free again at once, not held for the write
    const task = await run.abortable(run.lanes.node(vm.node, () => run.client.updateVmConfigTask(vm.node, vm.vmid, params)));
    await run.wait(task, run.expected({ kind: 'config' }));
    await markStep(run, st, vm, 'config', 'configured');
    return undefined;
  });

  // isolation: before the snapshot and the first start, so the VM never runs unfiltered
  if (s.isolated) await run.step(st, 'firewall', vm.vmid, () => isolateVm(run, st, vm));

  // snapshot `start` (reset goes back to it)
  await run.step(st, 'snapshot', vm.vmid, async () => {
    if (steps.has('snapshot')) return 'skipped';
    if (preexisting) {
      const snaps = await run.abortable(run.lanes.node(vm.node, () => run.client.listSnapshots(vm.node, vm.vmid)));
      if (snaps.some((x) => x.name === 'start')) {
        await markStep(run, st, vm, 'snapshot');
        return 'skipped';
      }
    }
    throwIfAborted(run.signal);
    const task = await run.abortable(
      run.lanes.node(vm.node, () => run.client.createSnapshot(vm.node, vm.vmid, 'start', 'state after deploy (stands reset returns here)')),
    );
    await run.wait(task, run.expected({ kind: 'snapshot' }));
    await markStep(run, st, vm, 'snapshot');
    return undefined;
  });

  if (run.plan.start) {
    await run.step(st, 'start', vm.vmid, async () => {
      await st.networkUp.promise;
      if (preexisting) {
        const status = await run.abortable(run.client.vmStatus(vm.node, vm.vmid));
        if (status.status === 'running') {
          await markStep(run, st, vm, 'start');
          return 'skipped';
        }
      }
      throwIfAborted(run.signal);
      const task = await run.abortable(run.lanes.node(vm.node, () => run.client.startVm(vm.node, vm.vmid)));
      try {
        await run.wait(task, run.expected({ kind: 'start' }));
      } catch (err) {
        if (!(err instanceof TaskFailedError && /already running/.test(err.exitstatus))) throw err;
      }
      await markStep(run, st, vm, 'start');
      return undefined;
    });
  }
  await updateVm(run, st, vm.vmid, (v) => ({ ...v, status: 'ready' }));
  st.vmDone.add(vm.vmid);
}

/** Did this stand journal the intent to create this VMID (the record written before every clone request)? */
async function intendedByUs(run: DeployRun, st: StandState, vm: VmPlan): Promise<boolean> {
  const j = await run.ctx.store.journal.get('vm', vm.vmid, run.cluster);
  return Boolean(j && j.group === st.plan.group && j.user === st.plan.userid);
}

/** Poll the config until its lock is gone; undefined when the VM vanished (a failed clone removes itself). */
export async function awaitUnlockedConfig(run: DeployRun, node: string, vmid: number): Promise<VmConfig | undefined> {
  try {
    await run.abortable(run.client.waitUnlocked(node, vmid));
    return await run.abortable(run.client.vmConfig(node, vmid));
  } catch (err) {
    if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) return undefined;
    throw err;
  }
}

/** Verify the VMID is free right before, journal, clone, wait; transient task failures are retried. */
export async function cloneVm(run: DeployRun, st: StandState, vm: VmPlan): Promise<VmConfig> {
  const s = st.plan;
  const tplStorage = run.templateStorage.get(vm.templateVmid);
  const storageKey =
    vm.full && vm.storage
      ? run.lockKey(vm.storage, vm.node)
      : tplStorage
        ? run.lockKey(tplStorage, vm.templateNode)
        : `${vm.templateNode}:tpl${vm.templateVmid}`;
  const attempts = run.lanes.limits.cloneAttempts;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(run.signal);
    try {
      await run.lanes.storage(storageKey, vm.full, async () => {
        const free = await run.abortable(run.client.isVmidFree(vm.vmid));
        if (!free) {
          // where is it? The cluster's resources may lag, and a clone still running (ours, from a run killed after
          // sending it) keeps its config on the template's node until it ends (qemu-server clone_vm): look there too
          const where = await run.client.findVm(vm.vmid);
          let node = where?.node || vm.node;
          let c: VmConfig | undefined;
          for (const n of new Set([node, vm.node, vm.templateNode])) {
            c = await run.client.vmConfig(n, vm.vmid).catch(() => undefined);
            if (c) {
              node = n;
              break;
            }
          }
          const cloning = c?.lock === 'clone' && (await intendedByUs(run, st, vm));
          if (!c || (!cloning && !(await isOurVm(run, st, vm, c)))) {
            run.fail(st, msg('fail.vmidTakenAfterPlan', { vmid: vm.vmid, ...(c?.name !== undefined ? { name: c.name } : {}) }));
          }
          // ours, cloning (an earlier attempt whose reply was lost): follow it to vm.node and its pool, then prove it
          if (c.lock === 'clone') {
            await run.abortable(run.client.waitCloneDone(vm.vmid, vm.node, { pool: s.pool }));
            const after = await awaitUnlockedConfig(run, vm.node, vm.vmid);
            if (!after || !(await isOurVm(run, st, vm, after))) {
              run.fail(st, msg('fail.vmidTakenAfterPlan', { vmid: vm.vmid, ...(after?.name !== undefined ? { name: after.name } : {}) }));
            }
          }
          else if (c.lock) await run.abortable(run.client.waitUnlocked(node, vm.vmid));
          return;
        }
        // the creation marker: recorded first, then written into the VM (ownership.ts). A fresh one per VM, except
        // that an intent of this stand still open (a run killed with its clone request in flight, which may land
        // after this one is sent) keeps its marker, so whichever of the two clones lands is provably ours.
        const prev = await run.ctx.store.journal.get('vm', vm.vmid, run.cluster);
        const openIntent = prev && prev.state !== 'confirmed' && prev.group === s.group && prev.user === s.userid && typeof prev.extra?.marker === 'string';
        const marker = openIntent ? String(prev.extra!.marker) : newVmMarker();
        // the VMID is free: a confirmed record of an earlier VM under it describes a VM that is gone
        if (prev?.state === 'confirmed') await run.ctx.store.journal.forget('vm', vm.vmid, run.cluster);
        await run.ctx.store.journal.intend('vm', vm.vmid, {
          cluster: run.cluster,
          group: s.group,
          user: s.userid,
          node: vm.node,
          job: run.job,
          extra: { name: vm.name, machine: vm.machine, marker, pool: s.pool },
        });
        throwIfAborted(run.signal);
        const task = await run.abortable(
          run.lanes.node(
            vm.templateNode,
            () =>
              run.client.cloneVm(vm.templateNode, vm.templateVmid, {
                newid: vm.vmid,
                name: vm.name,
                pool: s.pool,
                full: vm.full,
                ...(vm.node !== vm.templateNode ? { target: vm.node } : {}),
                ...(vm.full && vm.storage ? { storage: vm.storage } : {}),
                description: withVmMarker(vm.description, marker),
              }),
            1,
          ),
        );
        const diskGiB = run.templateDiskGiB.get(vm.templateVmid) ?? run.templateDiskGiB.get(vm.sourceTemplateVmid) ?? 0;
        await run.wait(task, run.expectedClone(storageKey, { full: vm.full, diskGiB }));
      });
      const cfg = await awaitUnlockedConfig(run, vm.node, vm.vmid);
      if (!cfg) throw new StandFailure(msg('fail.vmVanished', { vmid: vm.vmid }));
      await run.ctx.store.journal.confirm('vm', vm.vmid, run.cluster);
      return cfg;
    } catch (err) {
      if (!isAbort(err) && attempt < attempts && err instanceof ProxmoxApiError && /config file already exists/.test(err.fullText)) {
        // another clone into this VMID landed first (ours when its intent is journaled: a request of a killed run,
        // still in flight): not removed; the next attempt finds it, follows it and proves it ours or fails the stand
        continue;
      }
      if (isAbort(err) || err instanceof StandFailure || attempt >= attempts || !isTransientTaskFailure(err)) throw err;
      run.emit({
        type: 'retry',
        job: run.job,
        stand: s.userid,
        vm: vm.vmid,
        step: 'clone',
        message: `clone of ${vm.name} failed (${reasonOf(err)}); attempt ${attempt + 1} of ${attempts}`,
      });
      await removeFailedClone(run, vm);
      await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

/** PVE removes a failed clone's config itself; if anything is left (ours: the journal says so), destroy it. */
export async function removeFailedClone(run: Pick<DeployRun, 'client'>, vm: { vmid: number; node: string }): Promise<void> {
  if (await run.client.isVmidFree(vm.vmid)) return;
  const where = await run.client.findVm(vm.vmid);
  const node = where?.node || vm.node;
  try {
    await run.client.waitUnlocked(node, vm.vmid, { deadlineMs: 60_000 });
    const t = await run.client.destroyVm(node, vm.vmid, { purge: true });
    await run.client.waitTask(t);
  } catch (err) {
    if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) return;
    throw err;
  }
}
