/**
 * The baseline of benchmark 1: the same plan carried out strictly one operation at a time, as the seed tool did
 * (one student after another, each request and each task waited for before the next starts). It uses the
 * project's real client, so requests, retries and task polling cost what they cost the engine; only the
 * scheduling differs. It is a bench driver, not a deployer: no journal, no resume.
 */
import type { DeployPlan } from '../src/core/types.js';
import type { ProxmoxClient } from '../src/proxmox/client.js';

export interface SequentialResult {
  operations: number;
  tasks: number;
}

export async function runSequential(client: ProxmoxClient, plan: DeployPlan): Promise<SequentialResult> {
  let operations = 0;
  let tasks = 0;
  const wait = async (t: Promise<{ node: string; upid: string; type: string; id: string }>): Promise<void> => {
    operations++;
    tasks++;
    await client.waitTask(await t);
  };
  const sync = async (p: Promise<unknown>): Promise<void> => {
    operations++;
    await p;
  };

  for (const r of plan.replicas) {
    if (r.exists) continue;
    await wait(client.cloneVm(r.sourceNode, r.sourceVmid, { newid: r.vmid, name: r.name, full: true, storage: r.storage }));
    await wait(client.convertToTemplate(r.sourceNode, r.vmid));
    if (r.targetNode !== r.sourceNode) await wait(client.migrateVm(r.sourceNode, r.vmid, r.targetNode, { withLocalDisks: true }));
  }

  const byNodePending = new Set<string>();
  for (const stand of plan.stands) {
    if (!stand.userExists) await sync(client.createUser({ userid: stand.userid, password: `Seq-${stand.slug}-pw-0001!`, comment: stand.key }));
    await sync(client.createPool(stand.pool, stand.key));
    await sync(client.updateAcl({ path: `/pool/${stand.pool}`, roles: [plan.aclRole], users: [stand.userid], propagate: true }));
    for (const seg of stand.segments) {
      if (seg.kind !== 'bridge') continue;
      await sync(client.createBridge(seg.node ?? stand.node, { iface: seg.iface, autostart: true, bridge_vlan_aware: seg.vlanAware, comments: seg.comment }));
      byNodePending.add(seg.node ?? stand.node);
    }
    for (const node of byNodePending) await wait(client.applyNetwork(node));
    byNodePending.clear();
    for (const vm of stand.vms) {
      await wait(
        client.cloneVm(vm.templateNode, vm.templateVmid, {
          newid: vm.vmid,
          name: vm.name,
          pool: stand.pool,
          full: vm.full,
          ...(vm.templateNode !== vm.node ? { target: vm.node } : {}),
          ...(vm.full && vm.storage ? { storage: vm.storage } : {}),
          description: vm.description,
        }),
      );
      const params: Record<string, string | number> = { tags: vm.tags.join(';') };
      for (const nic of vm.nets) params[`net${nic.index}`] = nic.value;
      if (vm.deleteNets.length) params.delete = vm.deleteNets.map((i) => `net${i}`).join(',');
      if (vm.cores !== undefined) params.cores = vm.cores;
      if (vm.memory !== undefined) params.memory = vm.memory;
      await sync(client.updateVmConfig(vm.node, vm.vmid, params));
      await wait(client.createSnapshot(vm.node, vm.vmid, 'start'));
      if (plan.start) await wait(client.startVm(vm.node, vm.vmid));
    }
  }
  return { operations, tasks };
}
