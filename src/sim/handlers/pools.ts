/** Pools (pve-manager API2/Pool.pm): the 8.1+ `/pools?poolid=` forms and the deprecated `/pools/{poolid}` ones. */
import { bool, listOf, type Req, str, userCfgWrite } from '../context.js';
import { fail } from '../errors.js';
import { hasPriv, requirePriv } from '../privileges.js';
import type { Router } from '../router.js';
import type { SimPool } from '../state.js';

function members(r: Req, pool: SimPool, type?: string): Record<string, unknown>[] {
  if (type && type !== 'qemu') return [];
  const { state } = r.sim;
  const out = [];
  for (const vmid of [...pool.vmids].sort((a, b) => a - b)) {
    const vm = state.vms.get(vmid);
    if (!vm) continue;
    out.push({
      id: `qemu/${vmid}`, vmid, node: vm.node, type: 'qemu', status: vm.status, name: String(vm.config.name ?? ''),
      ...(vm.config.template ? { template: 1 } : { template: 0 }),
    });
  }
  return out;
}

function getPool(r: Req, poolid: string): SimPool {
  const p = r.sim.state.pools.get(poolid);
  if (!p) throw fail(`pool '${poolid}' does not exist`);
  return p;
}

async function updatePool(r: Req, poolid: string): Promise<null> {
  const { state } = r.sim;
  const pool = getPool(r, poolid);
  const vms = listOf(r.params.vms).map(Number);
  const del = bool(r, 'delete') ?? false;
  const allowMove = bool(r, 'allow-move') ?? false;
  for (const vmid of vms) requirePriv(state, r.who, `/vms/${vmid}`, ['Permissions.Modify', 'VM.Allocate'], true);
  await userCfgWrite(r.sim, () => {
    if (r.params.comment !== undefined) pool.comment = str(r, 'comment');
    for (const vmid of vms) {
      const vm = state.vms.get(vmid);
      if (del) {
        if (vm?.pool !== poolid) throw fail(`VM ${vmid} is not a pool member`);
        state.setPool(vmid, undefined);
        continue;
      }
      if (!vm) throw fail(`no such VM ID '${vmid}'`);
      if (vm.pool === poolid) throw fail(`VM ${vmid} is already a pool member`);
      if (vm.pool && !allowMove) throw fail(`VM ${vmid} belongs already to pool '${vm.pool}' and 'allow-move' is not set`);
      state.setPool(vmid, poolid);
    }
  });
  return null;
}

async function deletePool(r: Req, poolid: string): Promise<null> {
  const { state } = r.sim;
  await userCfgWrite(r.sim, () => {
    const pool = getPool(r, poolid);
    const first = [...pool.vmids][0];
    if (first !== undefined) throw fail(`pool '${poolid}' is not empty (contains VM ${first})`);
    state.pools.delete(poolid);
    state.acl = state.acl.filter((e) => e.path !== `/pool/${poolid}`);
  });
  return null;
}

export function registerPools(router: Router): void {
  router.add('GET', '/pools', (r: Req) => {
    const { state } = r.sim;
    const poolid = str(r, 'poolid');
    if (poolid !== undefined) {
      const p = getPool(r, poolid);
      requirePriv(state, r.who, `/pool/${poolid}`, ['Pool.Audit']);
      return [{ poolid, ...(p.comment !== undefined ? { comment: p.comment } : {}), members: members(r, p, str(r, 'type')) }];
    }
    return [...state.pools.values()]
      .filter((p) => hasPriv(state, r.who, `/pool/${p.poolid}`, ['Pool.Audit']))
      .map((p) => ({ poolid: p.poolid, ...(p.comment !== undefined ? { comment: p.comment } : {}) }));
  });

  router.add('GET', '/pools/{poolid}', (r: Req) => {
    const p = getPool(r, str(r, 'poolid')!);
    return { ...(p.comment !== undefined ? { comment: p.comment } : {}), members: members(r, p, str(r, 'type')) };
  });

  router.add('POST', '/pools', async (r: Req) => {
    const { state } = r.sim;
    const poolid = str(r, 'poolid')!;
    if (!/^[A-Za-z]/.test(poolid)) throw fail('pool name must start with a letter');
    const parent = poolid.includes('/') ? poolid.slice(0, poolid.lastIndexOf('/')) : undefined;
    await userCfgWrite(r.sim, () => {
      if (state.pools.has(poolid)) throw fail(`pool '${poolid}' already exists`);
      if (parent && !state.pools.has(parent)) throw fail(`parent '${parent}' of pool '${poolid}' does not exist`);
      state.pools.set(poolid, { poolid, ...(r.params.comment !== undefined ? { comment: str(r, 'comment') } : {}), vmids: new Set() });
    });
    return null;
  });

  router.add('PUT', '/pools', (r: Req) => updatePool(r, str(r, 'poolid')!));
  router.add('PUT', '/pools/{poolid}', (r: Req) => updatePool(r, str(r, 'poolid')!));
  router.add('DELETE', '/pools', (r: Req) => deletePool(r, str(r, 'poolid')!));
  router.add('DELETE', '/pools/{poolid}', (r: Req) => deletePool(r, str(r, 'poolid')!));
}
