/** Stage: private bridges per node (classic mode), the bridge journal and someone else's pending network edits. */
import { msg, type Msg } from '../../i18n/index.js';
import type { NetworkList } from '../../proxmox/types.js';
import { isAbort, reasonOf, throwIfAborted } from '../executor.js';
import { parsePendingIfaces } from '../networks.js';
import { parseSegmentMarker } from '../naming.js';
import type { SegmentPlan } from '../types.js';
import { StandFailure, standFailed, type StandState } from './context.js';
import type { DeployRun } from './run.js';

export function isOurIface(run: DeployRun, node: string, iface: string, list: NetworkList, journaled: Set<string>): boolean {
  if (journaled.has(`${node}/${iface}`)) return true;
  const i = list.ifaces.find((x) => x.iface === iface);
  return Boolean(i && parseSegmentMarker(i.comments));
}

/** Someone else's pending edits on `node` (names, with their comments), or [] when every pending edit is ours. */
export async function foreignPending(run: DeployRun, node: string, list: NetworkList): Promise<string[]> {
  if (!list.changes) return [];
  const { ifaces, unattributed } = parsePendingIfaces(list.changes);
  // the bridge journal is read once per run (a scan of every entry); read again only when something looks foreign
  let journaled = await (run.bridgeJournal ??= readBridgeJournal(run));
  if ([...ifaces].some((i) => !isOurIface(run, node, i, list, journaled))) journaled = await (run.bridgeJournal = readBridgeJournal(run));
  const foreign = [...ifaces]
    .filter((i) => !isOurIface(run, node, i, list, journaled))
    .map((i) => {
      const c = list.ifaces.find((x) => x.iface === i)?.comments;
      return c ? `${i} (${c.trim()})` : i;
    });
  if (unattributed) foreign.push('an edit not tied to an interface');
  return foreign;
}

export async function readBridgeJournal(run: DeployRun): Promise<Set<string>> {
  return new Set((await run.ctx.store.journal.list({ cluster: run.cluster, kind: 'bridge' })).map((e) => e.id));
}

export function foreignMessage(_run: DeployRun, node: string, foreign: string[]): Msg {
  return msg('fail.foreignPending', { node, list: foreign.join(', ') });
}

/** Create the bridges of every stand on `node`, then apply the node's network once. */
export async function nodeNetwork(run: DeployRun, node: string): Promise<void> {
  const stands = [...run.stands.values()].filter((st) => st.plan.segments.some((g) => g.kind === 'bridge' && (g.node ?? st.plan.node) === node));
  const failAll = (message: Msg, list = stands): void => {
    for (const st of list) {
      standFailed(st, message);
      st.network.reject(new StandFailure(message));
      st.networkUp.reject(new StandFailure(message));
    }
  };
  try {
    let list = run.networks.get(node) ?? (await run.client.listNetwork(node));
    const foreignBefore = await foreignPending(run, node, list);
    if (foreignBefore.length && !run.options.applyForeignPending) {
      failAll(foreignMessage(run, node, foreignBefore));
      return;
    }
    const created: string[] = [];
    const ready: StandState[] = [];
    for (const st of stands) {
      try {
        await run.step(st, 'network', undefined, async () => {
          let wrote = false;
          for (const seg of st.plan.segments) {
            if (seg.kind !== 'bridge') continue;
            if (await ensureBridge(run, st, node, seg, list)) {
              created.push(seg.iface);
              wrote = true;
            }
          }
          return wrote ? undefined : 'skipped';
        });
        st.network.resolve();
        ready.push(st);
      } catch (err) {
        if (isAbort(err)) throw err;
        standFailed(st, err);
        st.network.reject(err);
        st.networkUp.reject(err);
      }
    }
    // Apply when anything of ours is pending (created now, or left pending by a crashed run).
    if (created.length) list = await run.client.listNetwork(node);
    if (!list.changes) {
      for (const st of ready) st.networkUp.resolve();
      return;
    }
    const foreign = await foreignPending(run, node, list);
    if (foreign.length) {
      if (!run.options.applyForeignPending) {
        // Someone edited the node while we worked: take our pending bridges back out, never apply theirs.
        for (const iface of created) {
          await run.client.deleteNetwork(node, iface).catch((err: unknown) => run.log.warn({ err, node, iface }, 'could not withdraw a pending bridge'));
          await run.ctx.store.journal.forget('bridge', `${node}/${iface}`, run.cluster);
        }
        failAll(foreignMessage(run, node, foreign), ready);
        return;
      }
      run.warn(msg('warn.foreignApplied', { node, list: foreign.join(', ') }));
      run.log.warn({ node, foreign }, 'applying foreign pending network changes');
    }
    throwIfAborted(run.signal);
    await run.lanes.networkApply(node, async () => {
      // ahead of config writes in the node's lane: every start on the node waits for this apply
      const task = await run.abortable(run.lanes.node(node, () => run.client.applyNetwork(node), 1));
      await run.wait(task, run.expected({ kind: 'apply' }));
    });
    run.counts.networkApplies++;
    for (const st of ready) st.networkUp.resolve();
  } catch (err) {
    const message = msg('fail.network', { node, reason: reasonOf(err) });
    for (const st of stands) {
      st.network.reject(err);
      st.networkUp.reject(err);
      if (!isAbort(err)) standFailed(st, message);
    }
  }
}

/** True when a bridge was created now. */
export async function ensureBridge(run: DeployRun, st: StandState, node: string, seg: SegmentPlan, list: NetworkList): Promise<boolean> {
  const s = st.plan;
  const existing = list.ifaces.find((i) => i.iface === seg.iface);
  if (existing) {
    const marker = parseSegmentMarker(existing.comments);
    const ours = marker && `stands:${marker.group}:${marker.user}:${marker.alias}` === seg.comment;
    if (!ours) run.fail(st, msg('fail.bridgeTaken', { bridge: seg.iface, node, ...(existing.comments !== undefined ? { comment: existing.comments } : {}) }));
    await run.ctx.store.journal.intend('bridge', `${node}/${seg.iface}`, { cluster: run.cluster, group: s.group, user: s.userid, node, job: run.job });
    await run.ctx.store.journal.confirm('bridge', `${node}/${seg.iface}`, run.cluster);
    return false;
  }
  await run.ctx.store.journal.intend('bridge', `${node}/${seg.iface}`, {
    cluster: run.cluster,
    group: s.group,
    user: s.userid,
    node,
    job: run.job,
  });
  throwIfAborted(run.signal);
  await run.abortable(
    // ahead of config writes in the node's lane (priority 1, as clone requests): the stand's config writes and
    // the node's network apply wait for its bridges
    run.lanes.node(
      node,
      () =>
        run.client.createBridge(node, {
          iface: seg.iface,
          autostart: true,
          ...(seg.vlanAware ? { bridge_vlan_aware: true } : {}),
          comments: seg.comment,
        }),
      1,
    ),
  );
  await run.ctx.store.journal.confirm('bridge', `${node}/${seg.iface}`, run.cluster);
  list.ifaces.push({ iface: seg.iface, type: 'bridge', comments: seg.comment } as NetworkList['ifaces'][number]);
  run.counts.bridges++;
  return true;
}
