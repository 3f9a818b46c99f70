/** The stands' records: written at the start, then step marks coalesced per stand and flushed. */
import type { StandRecord, StandVm } from '../../store/schemas.js';
import { userName } from '../naming.js';
import type { SegmentPlan } from '../types.js';
import type { StandState } from './context.js';
import type { DeployRun } from './run.js';

/**
 * How long a stand's step marks may wait before they are written. They only save work on a re-run (each step
 * looks at the cluster first), so a crash losing them costs a few requests, never an object: what proves
 * ownership is the journal, written before each create. The store rewrites the whole stand record per write.
 */
const STAND_FLUSH_MS = 2000;

/** Stand records before anything is created (status deploying), merged with what an earlier run recorded. */
export async function recordStands(run: DeployRun): Promise<void> {
  const now = new Date().toISOString();
  for (const s of run.plan.stands) {
    const st = run.stands.get(s.userid)!;
    const prev = await run.ctx.store.stands.get(s.group, s.userid);
    st.createdUser = prev?.createdUser ?? false;
    const vms: StandVm[] = s.vms.map((vm) => {
      const old = prev?.vms.find((v) => v.vmid === vm.vmid);
      return old
        ? { ...old, template: old.template ?? vm.templateVmid }
        : { machine: vm.machine, vmid: vm.vmid, node: vm.node, name: vm.name, status: 'planned' as const, steps: [], template: vm.templateVmid };
    });
    // VMs an earlier run recorded that are not in this plan stay recorded (cleanup must still find them)
    for (const old of prev?.vms ?? []) if (!vms.some((v) => v.vmid === old.vmid)) vms.push(old);
    st.record = await run.ctx.store.stands.put({
      cluster: run.cluster,
      group: s.group,
      user: userName(s.userid),
      userid: s.userid,
      profile: run.plan.profile.name,
      pool: s.pool,
      node: s.node,
      mode: run.plan.mode,
      vms,
      segments: mergeSegments(prev?.segments ?? [], s.segments),
      vlans: s.vlans,
      createdUser: st.createdUser,
      ...(prev?.passwordShownAt ? { passwordShownAt: prev.passwordShownAt } : {}),
      poolCreated: prev?.poolCreated ?? false,
      aclCreated: prev?.aclCreated ?? false,
      status: 'deploying',
      discord: s.discord ?? prev?.discord,
      leaseExpiresAt: run.plan.leaseExpiresAt ?? prev?.leaseExpiresAt,
      ...(s.isolated ? { isolation: 'stand' as const } : prev?.isolation ? { isolation: prev.isolation } : {}),
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
      history: [...(prev?.history ?? []), { at: now, event: 'deploy-started', job: run.job }].slice(-100),
    });
  }
}

/**
 * Change the stand's record: with `now`, written before this returns (with every change still pending);
 * otherwise within STAND_FLUSH_MS, together with whatever else the stand changed meanwhile.
 */
export function recordChange(run: DeployRun, st: StandState, change: (r: StandRecord) => StandRecord, now = false): Promise<void> {
  st.pending.push(change);
  if (now) return flush(run, st);
  st.flushTimer ??= setTimeout(() => {
    st.flushTimer = undefined;
    void flush(run, st).catch((err: unknown) => run.log.warn({ err, stand: st.plan.userid }, 'stand record not saved'));
  }, STAND_FLUSH_MS);
  return Promise.resolve();
}

/** Write the stand's pending changes (one read-modify-write: the store serialises it per stand). */
export async function flush(run: DeployRun, st: StandState): Promise<void> {
  if (st.flushTimer) clearTimeout(st.flushTimer);
  st.flushTimer = undefined;
  const changes = st.pending.splice(0);
  if (!changes.length) return;
  await run.ctx.store.stands.update(st.plan.group, st.plan.userid, (r) => changes.reduce((acc, f) => f(acc), r));
}

export function mergeSegments(prev: StandRecord['segments'], planned: SegmentPlan[]): StandRecord['segments'] {
  const out = [...prev];
  for (const g of planned) {
    if (out.some((x) => x.iface === g.iface && x.node === g.node)) continue;
    out.push({
      alias: g.alias,
      kind: g.kind,
      iface: g.iface,
      ...(g.node ? { node: g.node } : {}),
      vlanAware: g.vlanAware,
      ...(g.tag === undefined ? {} : { tag: g.tag }),
      ...(g.zone ? { zone: g.zone } : {}),
    });
  }
  return out;
}
