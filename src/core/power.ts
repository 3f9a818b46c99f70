/**
 * reset (roll back to the `start` snapshot), start and stop, for a group or one user's stand. Only VMs the store
 * records for the stand AND the cluster tags as the group's are touched. Holds the group lock like any job.
 */
import type { Logger } from '../log.js';
import { ProxmoxApiError, TaskFailedError, isNotFound } from '../proxmox/errors.js';
import type { ClusterResource } from '../proxmox/types.js';
import type { JobKind, JobRecord, StandRecord } from '../store/schemas.js';
import { UserError } from '../errors.js';
import type { AppContext } from './context.js';
import { GROUP_LOCK_TTL_MS } from './deploy.js';
import { Lanes, Progress, newJobId, reasonOf, safeEmitter, throwIfAborted } from './executor.js';
import { hasGroupTag } from './ownership.js';
import type { EngineEvent, EngineEventHandler } from './types.js';
import { msg } from '../i18n/index.js';

export type PowerAction = 'reset' | 'start' | 'stop';

export interface PowerTarget {
  group: string;
  /** One user's stand only. */
  user?: string;
}

export interface PowerOptions {
  onEvent?: EngineEventHandler;
  signal?: AbortSignal;
  requestedBy?: JobRecord['requestedBy'];
  /** The caller holds the group lock already (lease expiry inside another job). */
  lockHeld?: boolean;
}

export interface PowerVmResult {
  vmid: number;
  name: string;
  outcome: 'done' | 'already' | 'skipped' | 'failed';
  message?: string;
}

export interface PowerStandResult {
  userid: string;
  status: 'ok' | 'failed';
  error?: string;
  vms: PowerVmResult[];
}

export interface PowerResult {
  job: string;
  action: PowerAction;
  group: string;
  status: 'succeeded' | 'partial' | 'failed';
  stands: PowerStandResult[];
}

export function resetStands(ctx: AppContext, target: PowerTarget, options: PowerOptions = {}): Promise<PowerResult> {
  return runPower(ctx, 'reset', target, options);
}
export function startStands(ctx: AppContext, target: PowerTarget, options: PowerOptions = {}): Promise<PowerResult> {
  return runPower(ctx, 'start', target, options);
}
export function stopStands(ctx: AppContext, target: PowerTarget, options: PowerOptions = {}): Promise<PowerResult> {
  return runPower(ctx, 'stop', target, options);
}

async function runPower(ctx: AppContext, action: PowerAction, target: PowerTarget, options: PowerOptions): Promise<PowerResult> {
  const stands = (await ctx.store.stands.listByGroup(target.group)).filter(
    (s) => (!target.user || s.userid === target.user) && s.status !== 'removed' && s.status !== 'removing',
  );
  if (!stands.length) {
    throw new UserError(target.user ? msg('stand.notFound', { user: target.user, group: target.group }) : msg('group.noStands', { group: target.group }));
  }
  const job = newJobId(action);
  const lock = options.lockHeld ? undefined : await ctx.store.acquireGroupLock(target.group, `job:${job}`, GROUP_LOCK_TTL_MS);
  const renew = lock ? setInterval(() => void lock.renew(GROUP_LOCK_TTL_MS).catch(() => undefined), GROUP_LOCK_TTL_MS / 3) : undefined;
  renew?.unref();
  const log = ctx.logger.child({ job, group: target.group, action });
  const emit = safeEmitter(options.onEvent, (err) => log.warn({ err }, 'event handler threw'));
  const now = new Date().toISOString();
  try {
    await ctx.store.jobs.create({
      id: job,
      kind: action as JobKind,
      group: target.group,
      cluster: stands[0]!.cluster,
      status: 'running',
      progress: { done: 0, total: 0 },
      requestedBy: options.requestedBy ?? { via: 'cli' },
      holder: `job:${job}`,
      createdAt: now,
      updatedAt: now,
    });
    emit({ type: 'job-started', job, total: stands.length, message: `${action} ${target.user ?? target.group}` });
    const progress = new Progress(job, emit);
    for (const s of stands) progress.plan(action, s.vms.length);
    const byCluster = new Map<string, StandRecord[]>();
    for (const s of stands) byCluster.set(s.cluster, [...(byCluster.get(s.cluster) ?? []), s]);
    const results: PowerStandResult[] = [];
    for (const [cluster, list] of byCluster) {
      const client = ctx.client(cluster);
      const vms = new Map<number, ClusterResource>();
      for (const r of await client.clusterResources('vm')) if (r.vmid !== undefined) vms.set(r.vmid, r);
      const lanes = new Lanes();
      results.push(
        ...(await Promise.all(list.map((s) => powerStand(ctx, action, s, vms, lanes, { job, emit, progress, log, signal: options.signal })))),
      );
    }
    const failed = results.filter((r) => r.status === 'failed').length;
    const status: PowerResult['status'] = failed === 0 ? 'succeeded' : failed === results.length ? 'failed' : 'partial';
    const result: PowerResult = { job, action, group: target.group, status, stands: results };
    await ctx.store.jobs.update(job, { status, result, finishedAt: new Date().toISOString(), progress: progress.counts }).catch(() => undefined);
    await ctx.store.audit
      .append({
        actor: options.requestedBy?.name ?? options.requestedBy?.via ?? 'cli',
        action,
        group: target.group,
        ...(target.user ? { user: target.user } : {}),
        job,
        outcome: status === 'succeeded' ? 'ok' : status === 'partial' ? 'partial' : 'failed',
      })
      .catch(() => undefined);
    progress.tick(true);
    emit({ type: 'job-finished', job, message: `${action}: ${results.length - failed} ok, ${failed} failed` });
    return result;
  } finally {
    if (renew) clearInterval(renew);
    await lock?.release().catch(() => undefined);
  }
}

async function powerStand(
  ctx: AppContext,
  action: PowerAction,
  s: StandRecord,
  live: Map<number, ClusterResource>,
  lanes: Lanes,
  o: { job: string; emit: (e: EngineEvent) => void; progress: Progress; log: Logger; signal: AbortSignal | undefined },
): Promise<PowerStandResult> {
  const client = ctx.client(s.cluster);
  const vms: PowerVmResult[] = [];
  await Promise.all(
    s.vms.map(async (vm) => {
      const r = live.get(vm.vmid);
      const res: PowerVmResult = { vmid: vm.vmid, name: vm.name, outcome: 'done' };
      vms.push(res);
      if (!r || !r.node) {
        res.outcome = 'failed';
        res.message = `VM ${vm.vmid} (${vm.name}) is not on the cluster`;
        o.progress.drop(action);
        return;
      }
      if (r.tags !== undefined && !hasGroupTag(r.tags, s.group)) {
        res.outcome = 'skipped';
        res.message = `VM ${vm.vmid} is not tagged as ${s.group}'s: left alone`;
        o.progress.drop(action);
        return;
      }
      const node = r.node;
      o.emit({ type: 'step-started', job: o.job, stand: s.userid, vm: vm.vmid, step: action });
      const t0 = Date.now();
      try {
        throwIfAborted(o.signal);
        const status = await client.vmStatus(node, vm.vmid);
        if (action === 'start' || action === 'stop') {
          const want = action === 'start' ? 'running' : 'stopped';
          if (status.status === want) res.outcome = 'already';
          else {
            const t = await lanes.node(node, () => (action === 'start' ? client.startVm(node, vm.vmid) : client.stopVm(node, vm.vmid)));
            await client.waitTask(t);
          }
        } else {
          const wasRunning = status.status === 'running';
          const t = await lanes.node(node, () => client.rollbackSnapshot(node, vm.vmid, 'start'));
          await client.waitTask(t);
          // a snapshot without RAM state leaves the VM stopped: bring back what was running
          const after = await client.vmStatus(node, vm.vmid);
          if (wasRunning && after.status !== 'running') {
            const st = await lanes.node(node, () => client.startVm(node, vm.vmid));
            await client.waitTask(st);
          }
        }
        o.emit({ type: 'step-finished', job: o.job, stand: s.userid, vm: vm.vmid, step: action, ...(res.outcome === 'already' ? { message: 'already done' } : {}) });
        o.progress.finish(action, Date.now() - t0);
      } catch (err) {
        res.outcome = 'failed';
        res.message =
          err instanceof ProxmoxApiError && /snapshot 'start' does not exist|does not exist/.test(err.fullText) && action === 'reset'
            ? `VM ${vm.vmid} has no 'start' snapshot`
            : err instanceof TaskFailedError && /already running/.test(err.exitstatus)
              ? undefined
              : reasonOf(err);
        if (err instanceof TaskFailedError && /already running/.test(err.exitstatus)) res.outcome = 'already';
        if (err instanceof ProxmoxApiError && isNotFound(err.fullText) && action !== 'reset') res.message = `VM ${vm.vmid} is gone`;
        o.progress.drop(action);
      }
    }),
  );
  vms.sort((a, b) => a.vmid - b.vmid);
  const failed = vms.filter((v) => v.outcome === 'failed');
  const result: PowerStandResult = {
    userid: s.userid,
    status: failed.length ? 'failed' : 'ok',
    ...(failed.length ? { error: failed.map((f) => f.message).join('; ') } : {}),
    vms,
  };
  o.emit(
    failed.length
      ? { type: 'stand-failed', job: o.job, stand: s.userid, message: result.error }
      : { type: 'stand-done', job: o.job, stand: s.userid, message: `${s.userid}: ${action} done` },
  );
  await ctx.store.stands.addHistory(s.group, s.userid, { event: action, job: o.job, ...(result.error ? { message: result.error } : {}) }).catch(() => undefined);
  return result;
}
