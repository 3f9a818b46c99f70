/**
 * reset (roll back to the `start` snapshot: the CLI's `rollback`), start, stop and shutdown (ACPI, then stop
 * after a timeout), for a group or one user's stand. Only VMs the store records for the stand AND that are still
 * the VMs we created (ownership.ts vmOwnership) are touched. Holds the group lock like any job.
 */
import type { Logger } from '../log.js';
import { ProxmoxApiError, TaskFailedError, isNotFound } from '../proxmox/errors.js';
import type { ClusterResource } from '../proxmox/types.js';
import type { JobKind, JobRecord, StandRecord } from '../store/schemas.js';
import { UserError } from '../errors.js';
import type { AppContext } from './context.js';
import { GROUP_LOCK_TTL_MS } from './deploy.js';
import { Lanes, Progress, newJobId, reasonOf, safeEmitter, throwIfAborted } from './executor.js';
import { vmOwnership } from './ownership.js';
import type { EngineEvent, EngineEventHandler } from './types.js';
import { msg, render, type Msg } from '../i18n/index.js';
import { failureMsg } from './failure.js';

/** A VM's result message: English text and its code. */
function note(res: PowerVmResult, m: Msg): void {
  res.message = render('en', m);
  res.messageMsg = m;
}

export type PowerAction = 'reset' | 'start' | 'stop' | 'shutdown';

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
  /** shutdown: how long a guest gets after the ACPI button before it is stopped (default leases.shutdown_timeout). */
  shutdownTimeoutMs?: number;
}

export interface PowerVmResult {
  vmid: number;
  name: string;
  outcome: 'done' | 'already' | 'skipped' | 'failed';
  /** In English; `messageMsg` is the same as a code. */
  message?: string;
  messageMsg?: Msg;
}

export interface PowerStandResult {
  userid: string;
  status: 'ok' | 'failed';
  error?: string;
  errorMsg?: Msg;
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
/** ACPI shutdown; a guest still running after the timeout is stopped (PVE `forceStop`, then a stop if need be). */
export function shutdownStands(ctx: AppContext, target: PowerTarget, options: PowerOptions = {}): Promise<PowerResult> {
  return runPower(ctx, 'shutdown', target, options);
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
      const shutdownTimeoutMs = options.shutdownTimeoutMs ?? ctx.settings?.leases?.shutdownTimeoutMs ?? 60_000;
      results.push(
        ...(await Promise.all(list.map((s) => powerStand(ctx, action, s, vms, lanes, { job, emit, progress, log, signal: options.signal, shutdownTimeoutMs })))),
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

/** Is the VM under a recorded VMID still the one this stand's deploy created? */
async function ownVm(ctx: AppContext, s: StandRecord, vm: StandRecord['vms'][number], r: ClusterResource): Promise<{ ours: true } | { ours: false; reason: string }> {
  const cfg = await ctx.client(s.cluster).vmConfig(r.node!, vm.vmid);
  const j = await ctx.store.journal.get('vm', vm.vmid, s.cluster);
  if (j && (j.group !== s.group || j.user !== s.userid)) return { ours: false, reason: `the journal records VMID ${vm.vmid} for ${j.user ?? '?'} in ${j.group ?? '?'}` };
  const marker = typeof j?.extra?.marker === 'string' ? j.extra.marker : undefined;
  return vmOwnership(
    { vmid: vm.vmid, group: s.group, userid: s.userid, name: vm.name, node: vm.node, pool: s.pool, ...(marker ? { marker } : {}) },
    { node: r.node, ...(r.pool ? { pool: r.pool } : {}), ...(cfg.name !== undefined ? { name: cfg.name } : {}), tags: cfg.tags, description: cfg.description, template: cfg.template },
  );
}

async function powerStand(
  ctx: AppContext,
  action: PowerAction,
  s: StandRecord,
  live: Map<number, ClusterResource>,
  lanes: Lanes,
  o: { job: string; emit: (e: EngineEvent) => void; progress: Progress; log: Logger; signal: AbortSignal | undefined; shutdownTimeoutMs: number },
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
        note(res, msg('pw.notOnCluster', { vmid: vm.vmid, name: vm.name }));
        o.progress.drop(action);
        return;
      }
      let node = r.node;
      // everything recorded at creation must match (ownership.ts vmOwnership), not a tag alone: a VM that took a
      // freed VMID, or a copy of a stand VM, is left alone
      const verdict = await ownVm(ctx, s, vm, r).catch((err: unknown) => ({
        ours: false as const,
        reason: render('en', msg('pw.cannotReadConfig', { reason: reasonOf(err) })),
        reasonMsg: msg('pw.cannotReadConfig', { reason: reasonOf(err) }),
      }));
      if (!verdict.ours) {
        res.outcome = 'skipped';
        note(res, msg('pw.leftAlone', { vmid: vm.vmid, reason: 'reasonMsg' in verdict ? verdict.reasonMsg : msg('txt.quoted', { text: verdict.reason }) }));
        o.log.warn({ vmid: vm.vmid, reason: verdict.reason }, 'recorded VM is not the one we created');
        o.progress.drop(action);
        return;
      }
      o.emit({ type: 'step-started', job: o.job, stand: s.userid, vm: vm.vmid, step: action });
      o.progress.start(action);
      const t0 = Date.now();
      try {
        throwIfAborted(o.signal);
        let status = await client.vmStatus(node, vm.vmid);
        if (status.lock === 'clone' || status.lock === 'destroyed') status = await client.waitUnlocked(node, vm.vmid);
        else if (status.lock) {
          // a snapshot, rollback or migration still running (e.g. of an interrupted reset): wait for its task
          ({ node, status } = await client.waitOwnLock(node, vm.vmid));
        }
        if (action === 'shutdown') {
          if (status.status !== 'running') res.outcome = 'already';
          else await shutdownVm(client, lanes, node, vm.vmid, o.shutdownTimeoutMs, o.log);
        } else if (action === 'start' || action === 'stop') {
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
        if (err instanceof ProxmoxApiError && /snapshot 'start' does not exist|does not exist/.test(err.fullText) && action === 'reset') {
          note(res, msg('pw.noStartSnapshot', { vmid: vm.vmid }));
        } else if (!(err instanceof TaskFailedError && /already running/.test(err.exitstatus))) note(res, failureMsg(err));
        if (err instanceof TaskFailedError && /already running/.test(err.exitstatus)) res.outcome = 'already';
        if (err instanceof ProxmoxApiError && isNotFound(err.fullText) && action !== 'reset') note(res, msg('pw.gone', { vmid: vm.vmid }));
        o.progress.drop(action);
      }
    }),
  );
  vms.sort((a, b) => a.vmid - b.vmid);
  const failed = vms.filter((v) => v.outcome === 'failed');
  const result: PowerStandResult = {
    userid: s.userid,
    status: failed.length ? 'failed' : 'ok',
    ...(failed.length
      ? { error: failed.map((f) => f.message).join('; '), errorMsg: msg('pw.errors', { list: failed.map((f) => f.messageMsg ?? f.message ?? '') }) }
      : {}),
    vms,
  };
  o.emit(
    failed.length
      ? { type: 'stand-failed', job: o.job, stand: s.userid, message: result.error, ...(result.errorMsg ? { msg: result.errorMsg } : {}) }
      : { type: 'stand-done', job: o.job, stand: s.userid, message: `${s.userid}: ${action} done` },
  );
  await ctx.store.stands.addHistory(s.group, s.userid, { event: action, job: o.job, ...(result.error ? { message: result.error } : {}) }).catch(() => undefined);
  return result;
}

/**
 * ACPI shutdown with `timeoutMs` for the guest, PVE's `forceStop` past it (qemu-server `_do_vm_stop`: SIGTERM,
 * SIGKILL 10 s later). Should the task still fail (a paused VM without forceStop support, a lost task) and the
 * VM run on, it is stopped.
 */
async function shutdownVm(client: ReturnType<AppContext['client']>, lanes: Lanes, node: string, vmid: number, timeoutMs: number, log: Logger): Promise<void> {
  try {
    const t = await lanes.node(node, () => client.shutdownVm(node, vmid, { timeoutS: Math.max(0, Math.round(timeoutMs / 1000)), forceStop: true }));
    await client.waitTask(t);
    return;
  } catch (err) {
    if (!(err instanceof TaskFailedError)) throw err;
    const now = await client.vmStatus(node, vmid);
    if (now.status !== 'running') return;
    log.warn({ vmid, err: err.exitstatus }, 'shutdown did not power the VM off: stopping it');
  }
  const t = await lanes.node(node, () => client.stopVm(node, vmid));
  await client.waitTask(t);
}
