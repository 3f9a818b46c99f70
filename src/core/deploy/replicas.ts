/** Stage: template replicas for nodes whose storage cannot see the template (full clones, made once per node, or once on shared storage). */
import { msg } from '../../i18n/index.js';
import { ProxmoxApiError } from '../../proxmox/errors.js';
import { isAbort, isTransientTaskFailure, reasonOf, throwIfAborted } from '../executor.js';
import type { ReplicaPlan, VmPlan } from '../types.js';
import { StandFailure, sleep } from './context.js';
import { removeFailedClone } from './vm.js';
import type { DeployRun } from './run.js';

/**
 * What the replica stage needs of a run: the deploy's DeployRun, or `stands templates --prepare` (core/prepare.ts),
 * which makes replicas ahead of class with this same code.
 */
export type ReplicaRun = Pick<
  DeployRun,
  'ctx' | 'cluster' | 'job' | 'client' | 'lanes' | 'vmIndex' | 'signal' | 'replicaGate' | 'replicaPriority' | 'emit' | 'lockKey' | 'abortable' | 'wait' | 'expected' | 'templateDiskGiB'
> & { counts: Pick<DeployRun['counts'], 'replicas'> };

export function replicaFor(run: DeployRun, vm: VmPlan): ReplicaPlan | undefined {
  return run.plan.replicas.find((r) => r.vmid === vm.templateVmid && r.targetNode === vm.templateNode && !r.exists);
}

export function replicaReady(run: DeployRun, vm: VmPlan): Promise<void> {
  const r = replicaFor(run, vm);
  if (!r) return Promise.resolve();
  const key = `${r.sourceVmid}/${r.targetNode}`;
  let p = run.replicaPromises.get(key);
  if (!p) {
    p = makeReplica(run, r);
    p.catch(() => undefined);
    run.replicaPromises.set(key, p);
  }
  return p;
}

/**
 * Full clone of the template on its node → template → migrate to the target node (as the seed did); a shared
 * replica (`r.shared`) is cloned onto the shared storage and stays on the template's node: no migration. Each
 * attempt starts from what the cluster shows, so an ambiguous or failed step (596 after a migrate, a failed
 * clone task) is simply looked at again and carried on.
 */
export async function makeReplica(run: ReplicaRun, r: ReplicaPlan): Promise<void> {
  const meta = {
    cluster: run.cluster,
    node: r.targetNode,
    job: run.job,
    extra: { sourceVmid: r.sourceVmid, sourceNode: r.sourceNode, targetNode: r.targetNode, name: r.name },
  };
  // one after another up to the full-clone lane, so the lane sees them in the order they were started
  const gate = run.replicaGate;
  let open!: () => void;
  run.replicaGate = new Promise<void>((res) => (open = res));
  try {
    await gate;
    await run.ctx.store.journal.intend('replica', r.vmid, meta);
  } finally {
    open();
  }
  // A replica that cannot be made fails every stand waiting for it on that node: it gets two more tries than a VM.
  const attempts = run.lanes.limits.cloneAttempts + 2;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(run.signal);
    try {
      const where = attempt === 1 ? run.vmIndex.get(r.vmid)?.node : (await run.client.findVm(r.vmid))?.node || undefined;
      await replicaOnce(run, r, where);
      break;
    } catch (err) {
      const retryable = isTransientTaskFailure(err) || (err instanceof ProxmoxApiError && (err.ambiguous || err.status >= 500));
      if (isAbort(err) || err instanceof StandFailure || attempt >= attempts || !retryable) throw err;
      run.emit({ type: 'retry', job: run.job, vm: r.vmid, step: 'replica', message: `replica ${r.name}: ${reasonOf(err)}; attempt ${attempt + 1} of ${attempts}` });
      await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
  await run.ctx.store.replicas.put({
    cluster: run.cluster,
    sourceVmid: r.sourceVmid,
    sourceNode: r.sourceNode,
    node: r.targetNode,
    vmid: r.vmid,
    name: r.name,
    storage: r.storage,
    ...(r.shared ? { shared: true } : {}),
    createdAt: new Date().toISOString(),
  });
  await run.ctx.store.journal.confirm('replica', r.vmid, run.cluster);
  run.counts.replicas++;
}

export async function replicaOnce(run: ReplicaRun, r: ReplicaPlan, found: string | undefined): Promise<void> {
  let where = found;
  if (where) {
    const cfg = await run.client.vmConfig(where, r.vmid);
    if (cfg.name !== r.name) throw new StandFailure(msg('fail.replicaTaken', { vmid: r.vmid, replica: r.name, ...(cfg.name !== undefined ? { name: cfg.name } : {}) }));
    if (cfg.lock) await run.abortable(run.client.waitUnlocked(where, r.vmid));
  } else {
    await run.lanes.storage(run.lockKey(r.storage, r.sourceNode), true, async () => {
      const task = await run.abortable(
        run.lanes.node(
          r.sourceNode,
          () =>
            run.client.cloneVm(r.sourceNode, r.sourceVmid, {
              newid: r.vmid,
              name: r.name,
              full: true,
              storage: r.storage,
              ...(r.format ? { format: r.format } : {}),
              description: r.shared
                ? `Template replica of ${r.sourceVmid} on shared storage ${r.storage} for every node, made by pve-stands`
                : `Template replica of ${r.sourceVmid} for ${r.targetNode}, made by pve-stands`,
            }),
          2,
        ),
      );
      try {
        await run.wait(task, run.expected({ kind: 'clone', full: true, diskGiB: run.templateDiskGiB.get(r.sourceVmid) ?? 0 }));
      } catch (err) {
        if (!isAbort(err)) await removeFailedClone(run, { vmid: r.vmid, node: r.sourceNode }).catch(() => undefined);
        throw err;
      }
    }, run.replicaPriority.get(r.vmid) ?? 1);
    where = r.sourceNode;
  }
  const node = where;
  const cfg = await run.client.vmConfig(node, r.vmid);
  if (!cfg.template) {
    throwIfAborted(run.signal);
    const t = await run.abortable(run.lanes.node(node, () => run.client.convertToTemplate(node, r.vmid), 2));
    await run.wait(t, run.expected({ kind: 'template' }));
  }
  if (node !== r.targetNode) {
    throwIfAborted(run.signal);
    const t = await run.abortable(
      run.lanes.node(node, () => run.client.migrateVm(node, r.vmid, r.targetNode, { withLocalDisks: true }), 2),
    );
    await run.wait(t, run.expected({ kind: 'migrate', localGiB: run.templateDiskGiB.get(r.sourceVmid) ?? 0 }));
  }
}
