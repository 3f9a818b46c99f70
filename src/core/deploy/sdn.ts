/** Stage: SDN mode, the group's zone and vnets, applied once for the cluster. */
import { isAbort, reasonOf, throwIfAborted } from '../executor.js';
import { parseSegmentMarker } from '../naming.js';
import { StandFailure, type StandState } from './context.js';
import { foreignPending } from './bridges.js';
import type { DeployRun } from './run.js';

export async function sdnNetwork(run: DeployRun): Promise<void> {
  const stands = [...run.stands.values()].filter((st) => st.plan.segments.some((g) => g.kind === 'vnet'));
  if (run.sdnBlocked) return;
  const failAll = (err: unknown, list = stands): void => {
    for (const st of list) {
      if (!isAbort(err)) st.error ??= reasonOf(err);
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
              if (existing.alias !== seg.comment) run.fail(st, `VNet ${seg.iface} already exists and is not this stand's (${existing.alias ?? 'no alias'})`);
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
        st.error ??= reasonOf(err);
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
      failAll(new StandFailure(`SDN not applied: pending changes that are not ours: ${foreign.join('; ')} (re-run with --apply-foreign-pending to apply them too)`), ready);
      return;
    }
    throwIfAborted(run.signal);
    await run.lanes.sdn.add(async () => {
      const task = await run.abortable(run.client.applySdn());
      await run.wait(task);
    });
    run.counts.networkApplies++;
    for (const st of ready) st.networkUp.resolve();
  } catch (err) {
    failAll(err);
  }
}
