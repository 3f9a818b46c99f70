/** Stage: SDN mode, the group's zone and vnets, applied once for the cluster. */
import { msg } from '../../i18n/index.js';
import { isAbort, throwIfAborted } from '../executor.js';
import { parseSegmentMarker } from '../naming.js';
import { StandFailure, standFailed, type StandState } from './context.js';
import { foreignPending } from './bridges.js';
import type { DeployRun } from './run.js';

export async function sdnNetwork(run: DeployRun): Promise<void> {
  const stands = [...run.stands.values()].filter((st) => st.plan.segments.some((g) => g.kind === 'vnet'));
  if (run.sdnBlocked) return;
  const failAll = (err: unknown, list = stands): void => {
    for (const st of list) {
      if (!isAbort(err)) standFailed(st, err);
      st.network.reject(err);
      st.networkUp.reject(err);
    }
  };
  if (!stands.length) return;
  try {
    const zone = run.plan.sdnZone;
    const zones = await run.client.listZones({ pending: true });
    if (zone && !zones.some((z) => z.zone === zone)) {
      // stands.yml: the zone is created when missing (and kept by cleanup: other groups use it too)
      const sdn = run.ctx.settings.network.sdn;
      await run.abortable(
        run.lanes.accessWrite(() =>
          run.client.createZone({ zone, type: sdn.zoneType, ...(sdn.zoneType === 'vlan' && sdn.bridge ? { bridge: sdn.bridge } : {}) }),
        ),
      );
    }
    const vnets = await run.client.listVnets({ pending: true });
    const ready: StandState[] = [];
    let created = 0;
    for (const st of stands) {
      try {
        await run.step(st, 'network', undefined, async () => {
          let wrote = false;
          for (const seg of st.plan.segments) {
            if (seg.kind !== 'vnet') continue;
            const existing = vnets.find((v) => v.vnet === seg.iface);
            const jid = seg.iface;
            if (existing) {
              if (existing.alias !== seg.comment) run.fail(st, msg('fail.vnetTaken', { vnet: seg.iface, ...(existing.alias !== undefined ? { alias: existing.alias } : {}) }));
              continue;
            }
            await run.ctx.store.journal.intend('vnet', jid, { cluster: run.cluster, group: st.plan.group, user: st.plan.userid, job: run.job });
            throwIfAborted(run.signal);
            await run.abortable(
              run.lanes.accessWrite(() =>
                run.client.createVnet({
                  vnet: seg.iface,
                  zone: seg.zone ?? zone ?? '',
                  ...(seg.tag === undefined ? {} : { tag: seg.tag }),
                  alias: seg.comment,
                  ...(seg.vlanAware ? { vlanaware: true } : {}),
                }),
              ),
            );
            await run.ctx.store.journal.confirm('vnet', jid, run.cluster);
            vnets.push({ vnet: seg.iface, zone: seg.zone, alias: seg.comment } as (typeof vnets)[number]);
            run.counts.vnets++;
            created++;
            wrote = true;
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
    const pendingSdn = (await run.client.listVnets({ pending: true })).filter((v) => v.state && v.state !== 'applied');
    if (!created && !pendingSdn.length) {
      for (const st of ready) st.networkUp.resolve();
      return;
    }
    // SDN apply reloads the network of every node: refuse when any node carries someone else's pending edit
    const foreign: string[] = [];
    for (const v of pendingSdn) if (!parseSegmentMarker(v.alias)) foreign.push(`VNet ${v.vnet}`);
    for (const n of run.plan.applyNodes) {
      const list = await run.client.listNetwork(n);
      const f = await foreignPending(run, n, list);
      if (f.length) foreign.push(`${n}: ${f.join(', ')}`);
    }
    if (foreign.length && !run.options.applyForeignPending) {
      failAll(new StandFailure(msg('fail.sdnForeign', { list: foreign.join('; ') })), ready);
      return;
    }
    throwIfAborted(run.signal);
    let failedNodes = new Map<string, string>();
    await run.lanes.sdn.add(async () => {
      const task = await run.abortable(run.client.applySdn());
      const res = await run.abortable(run.client.waitTask(task));
      const log = await run.abortable(run.client.taskLog(task.node, task.upid, { start: 0, limit: 5000 }));
      failedNodes = nodesNotReloaded(res.exitstatus, log.lines.map((l) => l.t));
    });
    run.counts.networkApplies++;
    for (const st of ready) {
      const bad = [...new Set(st.plan.vms.map((v) => v.node))].filter((n) => failedNodes.has(n) || failedNodes.has('*'));
      if (!bad.length) {
        st.networkUp.resolve();
        continue;
      }
      const nodes = bad.map((n) => ({ node: n === '*' ? null : n, reason: failedNodes.get(n) ?? failedNodes.get('*') ?? '' }));
      const err = new StandFailure(msg('fail.sdnReload', { nodes }));
      standFailed(st, err);
      st.networkUp.reject(err);
    }
  } catch (err) {
    failAll(err);
  }
}

/**
 * The nodes whose network reload the SDN apply task (`reloadnetworkall`) reports as failed, with the reason.
 *
 * pve-network API2/Network/SDN.pm `reload`: the task runs `pvesh set /nodes/<node>/network` for every node of the
 * cluster, logging "<node>: reloading network config"; a leg that fails (node unreachable, ifupdown2 missing, …)
 * is only `warn`ed — "command 'pvesh set /nodes/<node>/network …' failed: exit code N" — and the task goes on,
 * ending `OK` or `WARNINGS: n` (pve-common RESTEnvironment fork_worker), never as an error. So the log is read
 * whatever the exit status. A `WARNINGS` end whose log names no node fails every node (`*`): we cannot tell which.
 */
export function nodesNotReloaded(exitstatus: string, log: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  const detail = new Map<string, string[]>();
  for (const line of log) {
    const start = /^(\S+): reloading network config\s*$/.exec(line);
    if (start) {
      current = start[1]!;
      continue;
    }
    const failed = /command 'pvesh set \/nodes\/([^/\s]+)\/network[^']*' failed: (.*)$/.exec(line);
    if (failed) {
      const node = failed[1]!;
      const said = detail.get(node)?.filter((l) => !/^TASK /.test(l)) ?? [];
      out.set(node, [...said, failed[2]!].join(': '));
      current = undefined;
      continue;
    }
    const offline = /node (\S+) is offline/.exec(line);
    if (offline) {
      out.set(offline[1]!, 'node is offline');
      continue;
    }
    if (current && line.trim()) detail.set(current, [...(detail.get(current) ?? []), line.replace(/^WARN: /, '').trim()]);
  }
  if (!out.size && /^WARNINGS/.test(exitstatus)) {
    const warned = log.filter((l) => /^WARN: /.test(l)).map((l) => l.slice(6));
    out.set('*', `the apply task ended ${exitstatus}${warned.length ? `: ${warned.join('; ')}` : ''}`);
  }
  return out;
}
