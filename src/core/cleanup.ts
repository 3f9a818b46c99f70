/**
 * Cleanup: stop → destroy (purge) → remove bridges/VNets and apply → delete ACLs and pools → delete the users we
 * created that have no other stand. It touches an object only when the store records it (stand record or
 * journal) AND the cluster marks it ours (tags, description, comment marker); everything else is listed as kept
 * with the reason. Objects already gone are fine. Template replicas are kept (pruneTemplates removes them).
 */
import type { Logger } from '../log.js';
import { ProxmoxApiError, TaskFailedError, isNotFound } from '../proxmox/errors.js';
import type { ProxmoxClient } from '../proxmox/client.js';
import type { NetworkList, VmConfig } from '../proxmox/types.js';
import type { JobRecord, JournalEntry, StandRecord } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { GROUP_LOCK_TTL_MS } from './deploy.js';
import { Lanes, Progress, isAbort, newJobId, reasonOf, safeEmitter, throwIfAborted, JobAbortedError } from './executor.js';
import { parsePendingIfaces } from './networks.js';
import { aclId, isOurUserComment, parseAclId, parsePoolComment, vmOwnership } from './ownership.js';
import { parseSegmentMarker } from './naming.js';
import type { EngineEvent, EngineEventHandler } from './types.js';
import { UserError } from '../errors.js';
import { cleanupIsolation, isolationLeftovers } from './cleanup-firewall.js';
import { msg, render, say, text, type Lang, type Msg } from '../i18n/index.js';
import { failureMsg } from './failure.js';
import { keptItem, type CleanupKept } from './kept.js';

export interface CleanupVm {
  vmid: number;
  node: string;
  name: string;
  running: boolean;
}
export interface CleanupBridge {
  node: string;
  iface: string;
}
export interface CleanupStand {
  userid: string;
  pool?: string;
  vms: CleanupVm[];
  bridges: CleanupBridge[];
  vnets: string[];
  /** ACL entries of ours to remove: their journal ids (ownership.ts aclId). */
  acls: string[];
  deletePool: boolean;
  deleteUser: boolean;
  /** Nothing of this stand is left on the cluster: only the records go. */
  recordsOnly: boolean;
}
export { keptItem, type CleanupKept } from './kept.js';
export interface CleanupPlan {
  cluster: string;
  group: string;
  users?: string[];
  stands: CleanupStand[];
  /** Recorded objects we will not touch, and why (not marked ours on the cluster, someone else's pending edit…). */
  kept: CleanupKept[];
  /** Journal entries whose object is already gone: forgotten without any request. */
  gone: JournalEntry[];
  /** Legacy cluster firewall objects (an older version's isolation) removed at the end, no isolated stand being left (cleanup-firewall.ts). */
  firewall?: string[];
  createdAt: string;
}

export interface CleanupOptions {
  onEvent?: EngineEventHandler;
  signal?: AbortSignal;
  /** The caller (a deploy's rollback) holds the group lock already. */
  lockHeld?: boolean;
  applyForeignPending?: boolean;
  jobId?: string;
  requestedBy?: JobRecord['requestedBy'];
}

export interface CleanupStandResult {
  userid: string;
  status: 'removed' | 'failed';
  error?: string;
  errorMsg?: Msg;
  destroyedVms: number[];
}
export interface CleanupResult {
  job: string;
  group: string;
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  stands: CleanupStandResult[];
  removed: { vms: number; bridges: number; vnets: number; pools: number; users: number; acls: number };
  kept: CleanupKept[];
  /** In English (logs); `warningMsgs` holds the same, index for index, as codes. */
  warnings: string[];
  warningMsgs?: Msg[];
}

/** What a cleanup of `group` (or of some of its users) would remove: reads only. */
export async function planCleanup(
  ctx: AppContext,
  o: { group: string; user?: string; users?: string[]; cluster?: string },
): Promise<CleanupPlan> {
  const users = o.users ?? (o.user ? [o.user] : undefined);
  const wanted = (u: string | undefined): boolean => !users || (u !== undefined && users.includes(u));
  const records = (await ctx.store.stands.listByGroup(o.group)).filter((r) => wanted(r.userid));
  const groupRec = await ctx.store.groups.get(o.group);
  const cluster = o.cluster ?? records[0]?.cluster ?? groupRec?.cluster ?? ctx.defaultCluster;
  const journal = (await ctx.store.journal.list({ cluster, group: o.group })).filter((e) => wanted(e.user));
  if (!records.length && !journal.filter((e) => e.kind !== 'replica').length) {
    if (o.user) throw new UserError(msg('stand.notFound', { user: o.user, group: o.group }));
    if (!groupRec) throw new UserError(msg('group.notFound', { group: o.group }));
  }
  const client = ctx.client(cluster);
  const [vms, pools, acl, userList] = await Promise.all([
    client.clusterResources('vm'),
    client.listPools(),
    client.listAcl(),
    client.listUsers(),
  ]);
  const vmIndex = new Map(vms.filter((v) => v.vmid !== undefined).map((v) => [v.vmid!, v]));
  const poolIndex = new Map(pools.map((p) => [p.poolid, p]));
  const aclSet = new Set(acl.filter((a) => a.type === 'user').map((a) => aclId(a.path, a.ugid, a.roleid)));
  const userIndex = new Map(userList.map((u) => [u.userid, u]));
  const allStands = await ctx.store.stands.list();
  const kept: CleanupKept[] = [];
  const gone: JournalEntry[] = [];

  const byUser = new Map<string, { rec?: StandRecord; entries: JournalEntry[] }>();
  for (const r of records) byUser.set(r.userid, { rec: r, entries: [] });
  for (const e of journal) {
    if (e.kind === 'replica' || !e.user) continue;
    const b = byUser.get(e.user) ?? { entries: [] };
    b.entries.push(e);
    byUser.set(e.user, b);
  }

  // networks of every node we may touch (one read each)
  const nodes = new Set<string>();
  for (const { rec, entries } of byUser.values()) {
    for (const g of rec?.segments ?? []) if (g.kind === 'bridge') nodes.add(g.node ?? rec!.node);
    for (const e of entries) if (e.kind === 'bridge') nodes.add(e.id.split('/')[0]!);
  }
  const networks = new Map<string, NetworkList>();
  await Promise.all(
    [...nodes].map(async (n) => {
      try {
        networks.set(n, await client.listNetwork(n));
      } catch (err) {
        kept.push(keptItem(msg('kept.bridgesOn', { node: n }), msg('kept.cannotReadNetwork', { reason: reasonOf(err) })));
      }
    }),
  );
  const needVnets = [...byUser.values()].some(
    ({ rec, entries }) => rec?.segments.some((g) => g.kind === 'vnet') || entries.some((e) => e.kind === 'vnet'),
  );
  const vnets = needVnets ? await client.listVnets({ pending: true }) : [];

  const stands: CleanupStand[] = [];
  for (const [userid, { rec, entries }] of byUser) {
    const cs: CleanupStand = { userid, vms: [], bridges: [], vnets: [], acls: [], deletePool: false, deleteUser: false, recordsOnly: false };
    if (rec) cs.pool = rec.pool;
    // VMs: from the record and the journal
    const vmCandidates = new Map<number, { name?: string; node?: string; marker?: string; pool?: string }>();
    const standPool = rec?.pool ?? entries.find((e) => e.kind === 'pool')?.id;
    for (const v of rec?.vms ?? []) vmCandidates.set(v.vmid, { name: v.name, node: v.node, ...(standPool ? { pool: standPool } : {}) });
    for (const e of entries) {
      if (e.kind !== 'vm') continue;
      const prev = vmCandidates.get(Number(e.id));
      const name = typeof e.extra?.name === 'string' && e.extra.name ? e.extra.name : prev?.name;
      const pool = typeof e.extra?.pool === 'string' ? e.extra.pool : (prev?.pool ?? standPool);
      vmCandidates.set(Number(e.id), {
        ...(name ? { name } : {}),
        node: e.node ?? prev?.node,
        ...(pool ? { pool } : {}),
        ...(typeof e.extra?.marker === 'string' ? { marker: e.extra.marker } : {}),
      });
    }
    for (const [vmid, c] of vmCandidates) {
      const live = vmIndex.get(vmid);
      if (!live) {
        for (const e of entries) if (e.kind === 'vm' && Number(e.id) === vmid) gone.push(e);
        continue;
      }
      const node = live.node ?? c.node ?? '';
      let cfg: VmConfig | undefined;
      try {
        cfg = await client.vmConfig(node, vmid);
      } catch (err) {
        if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) continue;
        throw err;
      }
      // everything recorded at creation must match, not a tag alone (a clone of a stand VM copies its tags)
      const verdict = vmOwnership(
        { vmid, group: o.group, userid, ...c },
        { node, ...(live.pool ? { pool: live.pool } : {}), ...(cfg.name !== undefined ? { name: cfg.name } : {}), tags: cfg.tags, description: cfg.description, template: cfg.template },
      );
      // our own clone still in flight (journaled as intended, locked, its config not written yet): ours to remove
      const inFlight =
        cfg.lock === 'clone' &&
        cfg.description === undefined &&
        entries.some((e) => e.kind === 'vm' && Number(e.id) === vmid && e.state === 'intended');
      if (!verdict.ours && !inFlight) {
        kept.push(keptItem(msg('kept.vm', { vmid, node, ...(cfg.name !== undefined ? { name: cfg.name } : {}) }), msg('kept.notOurVm', { reason: verdict.reason })));
        continue;
      }
      cs.vms.push({ vmid, node, name: cfg.name ?? c.name ?? String(vmid), running: live.status === 'running' });
    }
    // bridges
    const bridgeCandidates = new Set<string>();
    for (const g of rec?.segments ?? []) if (g.kind === 'bridge') bridgeCandidates.add(`${g.node ?? rec!.node}/${g.iface}`);
    for (const e of entries) if (e.kind === 'bridge') bridgeCandidates.add(e.id);
    for (const id of bridgeCandidates) {
      const [node, iface] = id.split('/') as [string, string];
      const list = networks.get(node);
      if (!list) continue;
      const i = list.ifaces.find((x) => x.iface === iface);
      if (!i) {
        for (const e of entries) if (e.kind === 'bridge' && e.id === id) gone.push(e);
        continue;
      }
      const m = parseSegmentMarker(i.comments);
      if (!m || m.group !== o.group) {
        kept.push(keptItem(msg('kept.bridge', { bridge: iface, node }), msg('kept.notGroups', { kind: 'comment', ...(i.comments !== undefined ? { mark: i.comments } : {}) })));
        continue;
      }
      cs.bridges.push({ node, iface });
    }
    // vnets
    const vnetCandidates = new Set<string>();
    for (const g of rec?.segments ?? []) if (g.kind === 'vnet') vnetCandidates.add(g.iface);
    for (const e of entries) if (e.kind === 'vnet') vnetCandidates.add(e.id);
    for (const id of vnetCandidates) {
      const v = vnets.find((x) => x.vnet === id && x.state !== 'deleted');
      if (!v) continue;
      const m = parseSegmentMarker(v.alias);
      if (!m || m.group !== o.group) {
        kept.push(keptItem(msg('kept.vnet', { vnet: id }), msg('kept.notGroups', { kind: 'alias', ...(v.alias !== undefined ? { mark: v.alias } : {}) })));
        continue;
      }
      cs.vnets.push(id);
    }
    // ACLs
    for (const e of entries) {
      if (e.kind !== 'acl') continue;
      const g = parseAclId(e.id);
      if (!g) kept.push(keptItem(msg('kept.acl', { id: e.id }), msg('kept.aclUnreadable')));
      else if (aclSet.has(aclId(g.path, g.userid, g.role))) cs.acls.push(e.id);
      else gone.push(e);
    }
    // pool
    const poolId = cs.pool ?? entries.find((e) => e.kind === 'pool')?.id;
    if (poolId) {
      cs.pool = poolId;
      const p = poolIndex.get(poolId);
      const marker = parsePoolComment(p?.comment);
      if (!p) {
        for (const e of entries) if (e.kind === 'pool') gone.push(e);
      } else if (marker?.group === o.group && marker.userid === userid) {
        cs.deletePool = true;
      } else {
        kept.push(keptItem(msg('kept.pool', { pool: poolId }), msg('kept.notStands', p.comment !== undefined ? { mark: p.comment } : {})));
      }
    }
    // user: created by us (journal), marked ours, and no other stand (in any group) of this user remains
    const userEntry = await ctx.store.journal.get('user', userid, cluster);
    const u = userIndex.get(userid);
    const otherStands = allStands.filter((s) => s.userid === userid && !(s.group === o.group));
    if (userEntry && u) {
      if (!isOurUserComment(u.comment)) kept.push(keptItem(msg('kept.user', { user: userid }), msg('kept.userNotMarked')));
      else if (otherStands.length) kept.push(keptItem(msg('kept.user', { user: userid }), msg('kept.userHasStands', { groups: otherStands.map((s) => s.group).join(', ') })));
      else cs.deleteUser = true;
    } else if (userEntry && !u) {
      gone.push(userEntry);
    }
    cs.recordsOnly = !cs.vms.length && !cs.bridges.length && !cs.vnets.length && !cs.acls.length && !cs.deletePool && !cs.deleteUser;
    stands.push(cs);
  }
  stands.sort((a, b) => a.userid.localeCompare(b.userid));
  const firewall = (await isolationLeftovers(ctx, cluster, new Set(stands.map((s) => `${o.group}/${s.userid}`)))).map(
    (f) => `${f.kind === 'group' ? 'security group' : 'IPSet'} ${f.name}`,
  );
  return { cluster, group: o.group, ...(users ? { users } : {}), stands, kept, gone, ...(firewall.length ? { firewall } : {}), createdAt: new Date().toISOString() };
}

/** Lines for a dry run (`stands cleanup --dry-run`, the bot's confirm message). */
export function describeCleanupPlan(p: CleanupPlan, lang: Lang = 'en'): string[] {
  const lines: string[] = [];
  for (const s of p.stands) {
    const parts: string[] = [];
    if (s.vms.length) {
      const vms = s.vms.map((v) => `${v.vmid} ${v.name}${v.running ? say(lang, 'out.cleanupRunning') : ''}`).join(', ');
      parts.push(say(lang, 'out.cleanupVms', { list: vms }));
    }
    if (s.bridges.length) parts.push(say(lang, 'out.cleanupBridges', { list: s.bridges.map((b) => `${b.iface}@${b.node}`).join(', ') }));
    if (s.vnets.length) parts.push(say(lang, 'out.cleanupVnets', { list: s.vnets.join(', ') }));
    if (s.deletePool) parts.push(say(lang, 'out.cleanupPool', { pool: s.pool ?? '' }));
    if (s.deleteUser) parts.push(say(lang, 'out.cleanupUser', { user: s.userid }));
    lines.push(`${s.userid}: ${parts.length ? parts.join('; ') : say(lang, 'out.cleanupRecordsOnly')}`);
  }
  if (p.firewall?.length) lines.push(say(lang, 'out.cleanupFirewall', { list: p.firewall.join(', ') }));
  for (const k of p.kept) lines.push(say(lang, 'out.kept', { what: text(lang, k.whatMsg, k.what), reason: text(lang, k.reasonMsg, k.reason) }));
  return lines;
}

export async function runCleanup(ctx: AppContext, cplan: CleanupPlan, options: CleanupOptions = {}): Promise<CleanupResult> {
  const job = options.jobId ?? newJobId('cleanup');
  const lock = options.lockHeld ? undefined : await ctx.store.acquireGroupLock(cplan.group, `job:${job}`, GROUP_LOCK_TTL_MS);
  const renew = lock
    ? setInterval(() => void lock.renew(GROUP_LOCK_TTL_MS).catch(() => undefined), GROUP_LOCK_TTL_MS / 3)
    : undefined;
  renew?.unref();
  try {
    return await new CleanupRun(ctx, cplan, job, options).execute();
  } finally {
    if (renew) clearInterval(renew);
    await lock?.release().catch(() => undefined);
  }
}

class CleanupRun {
  private readonly client: ProxmoxClient;
  private readonly log: Logger;
  private readonly emit: (e: EngineEvent) => void;
  private readonly lanes = new Lanes();
  private readonly progress: Progress;
  private readonly errors = new Map<string, Msg>();
  private readonly destroyed = new Map<string, number[]>();
  private readonly warnings: string[] = [];
  private readonly warningMsgs: Msg[] = [];
  private readonly kept: CleanupKept[];
  private readonly removed = { vms: 0, bridges: 0, vnets: 0, pools: 0, users: 0, acls: 0 };

  constructor(
    private readonly ctx: AppContext,
    private readonly cplan: CleanupPlan,
    private readonly job: string,
    private readonly options: CleanupOptions,
  ) {
    this.client = ctx.client(cplan.cluster);
    this.log = ctx.logger.child({ job, group: cplan.group });
    this.emit = safeEmitter(options.onEvent, (err) => this.log.warn({ err }, 'event handler threw'));
    this.progress = new Progress(job, this.emit);
    this.kept = [...cplan.kept];
  }

  private warn(m: Msg): void {
    this.warnings.push(render('en', m));
    this.warningMsgs.push(m);
  }

  private failStand(userid: string, err: unknown): void {
    if (isAbort(err)) throw err;
    if (!this.errors.has(userid)) this.errors.set(userid, failureMsg(err));
    this.log.warn({ stand: userid, err }, 'cleanup step failed');
  }

  private async step(userid: string, kind: string, vm: number | undefined, fn: () => Promise<void>): Promise<void> {
    throwIfAborted(this.options.signal);
    this.emit({ type: 'step-started', job: this.job, stand: userid, ...(vm === undefined ? {} : { vm }), step: kind });
    this.progress.start(kind);
    const t0 = Date.now();
    await fn();
    this.emit({ type: 'step-finished', job: this.job, stand: userid, ...(vm === undefined ? {} : { vm }), step: kind });
    this.progress.finish(kind, Date.now() - t0);
  }

  async execute(): Promise<CleanupResult> {
    const { cplan, job } = this;
    const now = new Date().toISOString();
    if (!this.options.lockHeld) {
      await this.ctx.store.jobs.create({
        id: job,
        kind: 'cleanup',
        group: cplan.group,
        cluster: cplan.cluster,
        status: 'running',
        progress: { done: 0, total: 0 },
        requestedBy: this.options.requestedBy ?? { via: 'cli' },
        holder: `job:${job}`,
        createdAt: now,
        updatedAt: now,
      });
      this.emit({ type: 'job-started', job, total: cplan.stands.length, message: `cleaning up ${cplan.group}` });
    }
    for (const s of cplan.stands) {
      this.progress.plan('destroy', s.vms.length);
      this.progress.plan('network', s.bridges.length + s.vnets.length ? 1 : 0);
      this.progress.plan('access', 1);
    }
    let aborted = false;
    try {
      for (const e of cplan.gone) await this.ctx.store.journal.forget(e.kind, e.id, e.cluster);
      // 1-2. stop and destroy, stands concurrently
      await Promise.all(cplan.stands.map((s) => this.destroyVms(s)));
      // 3. bridges per node (one apply each), VNets (one SDN apply)
      await Promise.all([...this.bridgeNodes()].map((n) => this.removeBridges(n)));
      await this.removeVnets();
      // 4-5. ACLs, pools, users (serialised: user.cfg)
      await Promise.all(cplan.stands.map((s) => this.removeAccess(s)));
      await this.settleRecords();
      // 6. cluster firewall objects an older version created for isolation, once no isolated stand is left
      await this.removeIsolation();
    } catch (err) {
      if (!isAbort(err)) throw err;
      aborted = true;
    }
    const stands: CleanupStandResult[] = cplan.stands.map((s) => ({
      userid: s.userid,
      status: this.errors.has(s.userid) || aborted ? 'failed' : 'removed',
      ...(this.errors.has(s.userid)
        ? { error: render('en', this.errors.get(s.userid)!), errorMsg: this.errors.get(s.userid)! }
        : aborted
          ? { error: render('en', msg('clean.cancelled')), errorMsg: msg('clean.cancelled') }
          : {}),
      destroyedVms: this.destroyed.get(s.userid) ?? [],
    }));
    const failed = stands.filter((s) => s.status === 'failed').length;
    const status: CleanupResult['status'] = aborted ? 'cancelled' : failed === 0 ? 'succeeded' : failed === stands.length ? 'failed' : 'partial';
    for (const s of stands) {
      this.emit(
        s.status === 'removed'
          ? { type: 'stand-done', job, stand: s.userid, message: `${s.userid} removed` }
          : { type: 'stand-failed', job, stand: s.userid, message: s.error },
      );
    }
    const result: CleanupResult = { job, group: cplan.group, status, stands, removed: this.removed, kept: this.kept, warnings: this.warnings, warningMsgs: this.warningMsgs };
    if (!this.options.lockHeld) {
      await this.ctx.store.jobs
        .update(job, { status, result, finishedAt: new Date().toISOString(), progress: this.progress.counts })
        .catch(() => undefined);
      await this.ctx.store.audit
        .append({
          actor: this.options.requestedBy?.name ?? this.options.requestedBy?.via ?? 'cli',
          action: 'cleanup',
          group: cplan.group,
          job,
          outcome: status === 'succeeded' ? 'ok' : status === 'partial' ? 'partial' : 'failed',
          details: { stands: stands.length, failed, vms: this.removed.vms },
        })
        .catch(() => undefined);
      this.progress.tick(true);
      this.emit({ type: 'job-finished', job, message: `${status}: ${stands.length - failed} removed, ${failed} failed` });
    }
    return result;
  }

  private async destroyVms(s: CleanupStand): Promise<void> {
    await Promise.all(
      s.vms.map(async (vm) => {
        try {
          await this.step(s.userid, 'destroy', vm.vmid, async () => {
            await this.destroyVm(vm);
            const list = this.destroyed.get(s.userid) ?? [];
            list.push(vm.vmid);
            this.destroyed.set(s.userid, list);
            this.removed.vms++;
            await this.ctx.store.journal.forget('vm', vm.vmid, this.cplan.cluster);
            await this.ctx.store.stands
              .update(this.cplan.group, s.userid, (r) => ({ ...r, status: 'removing', vms: r.vms.filter((v) => v.vmid !== vm.vmid) }))
              .catch(() => undefined);
          });
        } catch (err) {
          this.failStand(s.userid, err);
        }
      }),
    );
  }

  private async destroyVm(vm: CleanupVm): Promise<void> {
    const { client } = this;
    try {
      let status = await client.vmStatus(vm.node, vm.vmid);
      if (status.lock === 'clone' || status.lock === 'destroyed') status = await client.waitUnlocked(vm.node, vm.vmid);
      if (status.status === 'running') {
        throwIfAborted(this.options.signal);
        const t = await this.lanes.node(vm.node, () => client.stopVm(vm.node, vm.vmid));
        await client.waitTask(t);
      }
      throwIfAborted(this.options.signal);
      const t = await this.lanes.node(vm.node, () => client.destroyVm(vm.node, vm.vmid, { purge: true, destroyUnreferencedDisks: true }));
      await client.waitTask(t);
    } catch (err) {
      if (err instanceof ProxmoxApiError && isNotFound(err.fullText)) return;
      if (err instanceof TaskFailedError && /does not exist/.test(err.exitstatus)) return;
      throw err;
    }
  }

  private bridgeNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const s of this.cplan.stands) {
      if (this.errors.has(s.userid)) continue;
      for (const b of s.bridges) nodes.add(b.node);
    }
    return nodes;
  }

  private async removeBridges(node: string): Promise<void> {
    const stands = this.cplan.stands.filter((s) => !this.errors.has(s.userid) && s.bridges.some((b) => b.node === node));
    try {
      const list = await this.client.listNetwork(node);
      const foreign = await this.foreignPending(node, list);
      if (foreign.length && !this.options.applyForeignPending) {
        const m = msg('clean.foreignPending', { node, list: foreign.join(', ') });
        this.warn(m);
        for (const s of stands) this.errors.set(s.userid, m);
        return;
      }
      const removed: { userid: string; iface: string }[] = [];
      for (const s of stands) {
        for (const b of s.bridges.filter((x) => x.node === node)) {
          throwIfAborted(this.options.signal);
          await this.lanes.node(node, () => this.client.deleteNetwork(node, b.iface));
          removed.push({ userid: s.userid, iface: b.iface });
        }
      }
      const after = await this.client.listNetwork(node);
      if (after.changes) {
        const f2 = await this.foreignPending(node, after);
        if (f2.length && !this.options.applyForeignPending) {
          const m = msg('clean.foreignAppeared', { node, list: f2.join(', ') });
          this.warn(m);
          for (const s of stands) this.errors.set(s.userid, m);
          return;
        }
        throwIfAborted(this.options.signal);
        await this.lanes.networkApply(node, async () => {
          const t = await this.lanes.node(node, () => this.client.applyNetwork(node));
          await this.client.waitTask(t);
        });
      }
      for (const r of removed) {
        await this.ctx.store.journal.forget('bridge', `${node}/${r.iface}`, this.cplan.cluster);
        this.removed.bridges++;
        await this.ctx.store.stands
          .update(this.cplan.group, r.userid, (rec) => ({ ...rec, segments: rec.segments.filter((g) => !(g.iface === r.iface && (g.node ?? rec.node) === node)) }))
          .catch(() => undefined);
      }
      for (const s of stands) this.progress.finish('network', 0);
    } catch (err) {
      for (const s of stands) this.failStand(s.userid, err);
    }
  }

  private async foreignPending(node: string, list: NetworkList): Promise<string[]> {
    if (!list.changes) return [];
    const { ifaces, unattributed } = parsePendingIfaces(list.changes);
    const journaled = new Set((await this.ctx.store.journal.list({ cluster: this.cplan.cluster, kind: 'bridge' })).map((e) => e.id));
    const ourDeletes = new Set(this.cplan.stands.flatMap((s) => s.bridges.filter((b) => b.node === node).map((b) => b.iface)));
    const foreign = [...ifaces].filter((i) => {
      if (journaled.has(`${node}/${i}`) || ourDeletes.has(i)) return false;
      const x = list.ifaces.find((y) => y.iface === i);
      return !(x && parseSegmentMarker(x.comments));
    });
    const named = foreign.map((i) => {
      const c = list.ifaces.find((x) => x.iface === i)?.comments;
      return c ? `${i} (${c.trim()})` : i;
    });
    if (unattributed) named.push('an edit not tied to an interface');
    return named;
  }

  private async removeVnets(): Promise<void> {
    const stands = this.cplan.stands.filter((s) => !this.errors.has(s.userid) && s.vnets.length);
    if (!stands.length) return;
    try {
      for (const s of stands) {
        for (const v of s.vnets) {
          throwIfAborted(this.options.signal);
          await this.lanes.accessWrite(() => this.client.deleteVnet(v));
        }
      }
      const t = await this.client.applySdn();
      await this.client.waitTask(t);
      for (const s of stands) {
        for (const v of s.vnets) {
          await this.ctx.store.journal.forget('vnet', v, this.cplan.cluster);
          this.removed.vnets++;
        }
        this.progress.finish('network', 0);
      }
    } catch (err) {
      for (const s of stands) this.failStand(s.userid, err);
    }
  }

  private async removeAccess(s: CleanupStand): Promise<void> {
    if (this.errors.has(s.userid)) return;
    const cluster = this.cplan.cluster;
    try {
      await this.step(s.userid, 'access', undefined, async () => {
        for (const id of s.acls) {
          const { path, userid, role } = parseAclId(id)!;
          throwIfAborted(this.options.signal);
          await this.lanes.accessWrite(() => this.client.updateAcl({ path, roles: [role], users: [userid], delete: true }));
          await this.ctx.store.journal.forget('acl', id, cluster);
          this.removed.acls++;
        }
        if (s.deletePool && s.pool) {
          throwIfAborted(this.options.signal);
          const p = await this.client.getPool(s.pool);
          if (p) {
            const others = (p.members ?? []).filter((m) => m.type === 'qemu' || m.type === 'lxc');
            if (others.length) {
              this.kept.push(keptItem(msg('kept.pool', { pool: s.pool }), msg('kept.poolHolds', { list: others.map((m) => m.id).join(', ') })));
            } else {
              await this.lanes.accessWrite(() => this.client.deletePool(s.pool!));
              this.removed.pools++;
            }
          }
          await this.ctx.store.journal.forget('pool', s.pool, cluster);
        }
        if (s.deleteUser) {
          throwIfAborted(this.options.signal);
          // re-check at the last moment: a stand of this user may have been deployed meanwhile in another group
          const others = (await this.ctx.store.stands.list()).filter((r) => r.userid === s.userid && r.group !== this.cplan.group);
          if (others.length) {
            this.kept.push(keptItem(msg('kept.user', { user: s.userid }), msg('kept.userHasStands', { groups: others.map((r) => r.group).join(', ') })));
          } else {
            await this.lanes.accessWrite(() => this.client.deleteUser(s.userid));
            await this.ctx.store.journal.forget('user', s.userid, cluster);
            this.removed.users++;
          }
        }
      });
    } catch (err) {
      this.failStand(s.userid, err);
    }
  }

  /** A separate step (src/core/cleanup-firewall.ts); a failure is a warning: a later cleanup retries. */
  private async removeIsolation(): Promise<void> {
    try {
      const r = await cleanupIsolation(this.ctx, this.client, this.cplan.cluster, this.log);
      this.kept.push(...r.kept);
    } catch (err) {
      if (isAbort(err)) throw err;
      this.warn(msg('clean.isolationNotRemoved', { reason: reasonOf(err) }));
    }
  }

  /** Stands fully removed lose their records; the group goes when it has no stand left. */
  private async settleRecords(): Promise<void> {
    const cluster = this.cplan.cluster;
    for (const s of this.cplan.stands) {
      if (this.errors.has(s.userid)) {
        await this.ctx.store.stands
          .update(this.cplan.group, s.userid, (r) => {
            const m = msg('clean.failed', { reason: this.errors.get(s.userid)! });
            return { ...r, status: 'failed', error: render('en', m), errorMsg: m };
          })
          .catch(() => undefined);
        continue;
      }
      // anything journaled for this stand that is not an object of ours any more (records only) goes too
      const left = await this.ctx.store.journal.list({ cluster, group: this.cplan.group, user: s.userid });
      for (const e of left) if (e.kind !== 'user' && e.kind !== 'replica') await this.ctx.store.journal.forget(e.kind, e.id, cluster);
      const ue = await this.ctx.store.journal.get('user', s.userid, cluster);
      if (ue && ue.group === this.cplan.group && !s.deleteUser) {
        // the user stays (another stand, or not ours any more): hand the journal entry on rather than lose it
        const others = (await this.ctx.store.stands.list()).filter((r) => r.userid === s.userid && r.group !== this.cplan.group);
        if (!others.length) await this.ctx.store.journal.forget('user', s.userid, cluster);
      }
      await this.ctx.store.stands.delete(this.cplan.group, s.userid);
    }
    const remaining = await this.ctx.store.stands.listByGroup(this.cplan.group);
    if (!remaining.length) await this.ctx.store.groups.delete(this.cplan.group);
  }
}

export { JobAbortedError };
