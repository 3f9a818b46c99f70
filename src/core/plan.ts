/**
 * `planDeploy`: everything a deploy will do, decided before anything is created. Resolve templates, exclude nodes
 * (with reasons), place stands, allocate VMIDs, bridges/VNets and names, check capacity. A class that cannot be
 * deployed is refused with PlanRefusedError (exit 2) carrying a table; nothing on the cluster is touched.
 *
 * Idempotence: stands of this group already in the store keep their node, VMIDs, pool and segments, so a re-run
 * plans the same objects and the executor skips what exists.
 */
import { parseDuration } from '../config/duration.js';
import { MAX_NICS, type Machine, type Profile } from '../config/profile.js';
import type { Settings } from '../config/settings.js';
import type { UserList } from '../config/user-list.js';
import { UserError } from '../errors.js';
import { realmTakesPassword } from '../proxmox/types.js';
import { msg, render, type Msg } from '../i18n/index.js';
import type { JournalEntry, ReplicaRecord, StandRecord } from '../store/schemas.js';
import type { AppContext } from './context.js';
import { foreignPending, loadInventory, type Inventory, type TemplateInfo } from './inventory.js';
import { loadIsolationFacts, planIsolation, type IsolationFacts } from './isolation.js';
import {
  allocateStandNames,
  defaultGroupName,
  groupTag,
  normalizeGroupName,
  parseSegmentMarker,
  segmentMarker,
  standTags,
  userName,
  vmDescription,
  vmName,
} from './naming.js';
import {
  BridgeAllocator,
  planMachineNics,
  segmentsNeeded,
  sharedBridges,
  VnetAllocator,
} from './networks.js';
import { pct, placeStands, type Demand, type PlacementNode } from './placement.js';
import { renderRefusal } from './plan-table.js';
import { createReplicaPlanner, resolveTemplateRef, type ReplicaPlanner } from './templates.js';
import {
  PlanRefusedError,
  isPlacementStrategy,
  refusalRow,
  type CloneMode,
  type DeployPlan,
  type ExcludedNode,
  type NetworkMode,
  type PlacementStrategy,
  type RefusalRow,
  type SegmentPlan,
  type StandPlan,
  type VmPlan,
} from './types.js';
import { planItems, RESERVATION_TTL_MS, reservationsAsJournal } from './locks.js';
import { VmidAllocator } from './vmids.js';
import { estimatePlan, placeWithReplicaChoice, planTiming } from './plan-estimate.js';
import { chooseSharedReplicas, sharedReplicaCandidates } from './shared-replica.js';
import { samplesFromTaskList, taskHistoryOf, type TaskSample } from './timing-model.js';

export interface PlanDeployInput {
  profile: Profile;
  users: UserList;
  group?: string;
  cluster?: string;
  placement?: PlacementStrategy | string;
  clone?: CloneMode;
  /** A duration (`4h`) or milliseconds; else the profile's, else the settings' default. */
  lease?: string | number;
  start?: boolean;
  /** Override settings.network.mode (tests, `--network`). */
  mode?: NetworkMode;
}

/** What the store knows that the planner needs (pure input, so the bench can build one). */
export interface StoreSnapshot {
  /** Every stand on this cluster, all groups. */
  stands: readonly StandRecord[];
  journal: readonly JournalEntry[];
  replicas: readonly ReplicaRecord[];
}

export async function planDeploy(ctx: AppContext, input: PlanDeployInput): Promise<DeployPlan> {
  const cluster = input.cluster ?? ctx.defaultCluster;
  const group = input.group !== undefined ? normalizeGroupName(input.group) : defaultGroupName(input.profile.name, input.users.file);
  const existingGroup = await ctx.store.groups.get(group);
  if (existingGroup && existingGroup.cluster !== cluster) {
    throw new UserError(msg('group.otherCluster', { group, cluster: existingGroup.cluster }));
  }
  if (existingGroup && existingGroup.profile.name !== input.profile.name) {
    throw new UserError(msg('group.otherProfile', { group, profile: existingGroup.profile.name, wanted: input.profile.name }));
  }
  const mode = input.mode ?? ctx.settings.network.mode;
  const client = ctx.client(cluster);
  const log = ctx.logger.child({ cluster, group });
  const [inventory, stands, journal, replicas, realms, isolation] = await Promise.all([
    loadInventory(client, { cluster, sdn: mode === 'sdn', logger: log }),
    ctx.store.stands.list({ cluster }),
    ctx.store.journal.list({ cluster }),
    ctx.store.replicas.list(cluster),
    client.listRealms(),
    input.profile.isolation === 'stand' ? loadIsolationFacts(client) : undefined,
  ]);
  // the cluster's recent tasks: the timing model learns this cluster's task durations from them (ours included)
  const taskSamples = samplesFromTaskList(await taskHistoryOf(client).recentTasks().catch(() => []));
  const realmTypes = new Map(realms.map((r) => [r.realm, r.type]));
  // Other processes may be planning on this cluster right now: the plan's ids are reserved for this group in
  // one atomic step per id; an id another group reserved first makes us plan again around it.
  let plan: DeployPlan;
  for (let attempt = 1; ; attempt++) {
    const reserved = await ctx.store.reservations.list(cluster);
    plan = await buildPlan({
      cluster,
      group,
      input: { ...input, mode },
      settings: ctx.settings,
      inventory,
      store: { stands, journal: [...journal, ...reservationsAsJournal(reserved, group)], replicas },
      taskSamples,
      realms: realmTypes,
      ...(isolation ? { isolation } : {}),
    });
    const refused = await ctx.store.reservations.claim(cluster, group, planItems(plan), RESERVATION_TTL_MS);
    if (!refused.length) break;
    log.info({ refused: refused.length, attempt }, 'ids taken by a concurrent plan; planning again');
    if (attempt >= 5) {
      throw new UserError(msg('plan.idsKeepTaken', { group, cluster }));
    }
  }
  log.info(
    { stands: plan.stands.length, replicas: plan.replicas.length, excluded: plan.excluded.length },
    'deploy planned',
  );
  return plan;
}

export interface BuildPlanOptions {
  cluster: string;
  group: string;
  input: PlanDeployInput;
  settings: Settings;
  inventory: Inventory;
  store: StoreSnapshot;
  /** realm → type (GET /access/domains); without it every realm is taken to store passwords */
  realms?: ReadonlyMap<string, string>;
  /** What the cluster says about its firewall (read when the profile asks for `isolation: stand`). */
  isolation?: IsolationFacts;
  now?: () => number;
  /** Finished tasks from the nodes' task lists: the timing model learns from them (timing-model.ts). */
  taskSamples?: readonly TaskSample[];
}

interface MachineTemplate {
  machine: Machine;
  info: TemplateInfo;
  full: boolean;
  cores: number;
  memMiB: number;
}

/** The pure part of planning (all cluster and store reads done). */
export async function buildPlan(o: BuildPlanOptions): Promise<DeployPlan> {
  const { cluster, group, input, settings, inventory: inv, store } = o;
  const profile = input.profile;
  const mode: NetworkMode = input.mode ?? settings.network.mode;
  const strategy = input.placement ?? settings.placement.strategy;
  if (!isPlacementStrategy(strategy)) {
    throw new UserError(msg('input.placement', { placement: String(strategy) }));
  }
  const clone: CloneMode = input.clone ?? profile.clone;
  const limits = { memory: settings.placement.memoryLimit, cpuOvercommit: settings.placement.cpuOvercommit };
  // English texts (job records, logs) and, index for index, the same as codes (config issues stay as written)
  const warnings: string[] = [];
  const warningMsgs: (Msg | string)[] = [];
  const warn = (w: Msg | string): void => {
    warnings.push(typeof w === 'string' ? w : render('en', w));
    warningMsgs.push(w);
  };
  for (const w of [...profile.warnings, ...input.users.warnings]) warn(`${w.file}${w.line ? `:${w.line}` : ''}: ${w.message}`);
  const refusals: RefusalRow[] = [];
  const refuse = (summary: Msg, rows: RefusalRow[], extra: Partial<Pick<PlanRefusedError, 'nodes' | 'excluded'>> = {}): never => {
    throw new PlanRefusedError(summary, {
      rows,
      table: renderRefusal(rows, extra.nodes ?? [], extra.excluded ?? []),
      nodes: extra.nodes,
      excluded: extra.excluded,
    });
  };

  if (input.users.users.length === 0) refuse(msg('plan.emptyList'), [refusalRow(input.users.file, msg('row.noUsers'))]);
  // ---- realms: a user we create in a realm that does not exist would fail on the cluster
  if (o.realms) {
    const missing = [...new Set(input.users.users.filter((u) => !inv.users.has(u.userid.toLowerCase())).map((u) => u.userid.split('@')[1]!))]
      .filter((r) => !o.realms!.has(r));
    if (missing.length) {
      refuse(msg('plan.realmMissing'), missing.map((r) => refusalRow(`realm ${r}`, msg('row.realmNotOnCluster'))));
    }
  }

  // ---- isolation: refused before anything else when the datacenter firewall cannot enforce it
  const isolated = profile.isolation === 'stand';
  const iso = isolated ? planIsolation(o.isolation, settings) : undefined;
  if (iso && 'rows' in iso) refuse(iso.summary, iso.rows);
  const isolation = iso && 'plan' in iso ? iso.plan : undefined;

  // ---- templates
  const machines: MachineTemplate[] = [];
  for (const m of profile.machines) {
    const full = m.full ?? clone === 'full';
    const res = resolveTemplateRef(inv, { machine: m.name, template: m.template, templateNode: m.templateNode }, profile.file, { full });
    if (!res.ok) {
      refusals.push(res.row);
      continue;
    }
    res.warnings.forEach(warn);
    if (m.device === 'ecorouter' && m.networks.length > MAX_NICS - 1) {
      // the management port takes net0, so an ecorouter has room for one NIC fewer (PVE stops at net31)
      refusals.push(refusalRow(msg('row.machine', { file: profile.file, machine: m.name }), msg('row.ecorouterNics', { max: MAX_NICS - 1 })));
      continue;
    }
    const info = await inv.templateInfo(res.template.vmid);
    machines.push({ machine: m, info, full, cores: m.cores ?? info.cores, memMiB: m.memory ?? info.memMiB });
  }
  if (refusals.length > 0) {
    const templatesOnly = refusals.every((r) => /template/.test(r.problem));
    refuse(templatesOnly ? msg('plan.templateMissing') : msg('plan.profileUnplannable'), refusals);
  }

  // ---- node eligibility
  // a removed stand is history, not something to converge to
  const groupStands = new Map(
    store.stands.filter((s) => s.group === group && s.status !== 'removed').map((s) => [s.userid.toLowerCase(), s]),
  );
  const groupVmids = new Set<number>();
  for (const s of groupStands.values()) for (const v of s.vms) groupVmids.add(v.vmid);
  const base = new Map<string, { mem: number; cores: number }>();
  for (const vm of inv.vms) {
    // this group's own VMs come back as pinned demands: do not count them twice
    if (vm.template || groupVmids.has(vm.vmid)) continue;
    const b = base.get(vm.node) ?? { mem: 0, cores: 0 };
    b.mem += vm.memMiB;
    b.cores += vm.cores;
    base.set(vm.node, b);
  }
  const ownBridges = new Set(
    store.journal.filter((e) => e.kind === 'bridge').map((e) => e.id),
  );
  const excluded: ExcludedNode[] = [];
  const exclude = (node: string, reason: string | Msg): void => {
    if (excluded.some((e) => e.node === node)) return;
    excluded.push(typeof reason === 'string' ? { node, reason } : { node, reason: render('en', reason), reasonMsg: reason });
  };
  const online = inv.nodes.filter((n) => {
    if (!n.online) exclude(n.name, msg('node.status', { status: n.status }));
    return n.online;
  });
  const placementNodes: PlacementNode[] = online.map((n) => ({
    name: n.name,
    maxMemMiB: n.maxMemMiB,
    maxCpu: n.maxCpu,
    baseMemMiB: base.get(n.name)?.mem ?? 0,
    baseCores: base.get(n.name)?.cores ?? 0,
  }));
  const foreignByNode = new Map<string, string[]>();
  for (const n of online) {
    const net = inv.networks.get(n.name);
    const foreign = net ? foreignPending(net, ownBridges) : [];
    if (foreign.length > 0) foreignByNode.set(n.name, foreign);
  }
  if (mode === 'sdn' && foreignByNode.size > 0) {
    refuse(
      msg('plan.sdnForeignPending'),
      [...foreignByNode].map(([node, list]) => refusalRow(node, msg('row.foreignPending', { list: list.join(', ') }))),
    );
  }
  const shared = sharedBridges(profile.machines);
  const replicaVmids = new VmidAllocator(rangeOf(settings.templates.replicaVmidRange), takenVmids(inv, store));
  const plannerFor = (sharedReplicas: ReadonlyMap<number, string>): ReplicaPlanner =>
    createReplicaPlanner({ inventory: inv, recorded: store.replicas, replicate: settings.templates.replicate, vmids: replicaVmids, sharedReplicas });
  // issue 14: per template, per-node replicas or one on shared linked-clone storage; `auto` decides after placement
  const replicaChoice = sharedReplicaCandidates(inv, machines, online.map((n) => n.name), store.replicas, [...groupStands.values()], settings.placement.sharedReplica);
  let replicas = plannerFor(chooseSharedReplicas({ ...replicaChoice, mode: replicaChoice.mode === 'auto' ? 'never' : replicaChoice.mode, evaluate: () => undefined }).shared);
  const eligible = new Set<string>();
  for (const p of placementNodes) {
    const n = p.name;
    if (!(p.maxMemMiB > 0) || !(p.maxCpu > 0)) {
      exclude(n, msg('node.noFigures'));
      continue;
    }
    const netError = inv.networks.get(n)?.error;
    if (netError) {
      exclude(n, msg('node.networkUnreadable', { error: String(netError) }));
      continue;
    }
    const mu = p.baseMemMiB / p.maxMemMiB;
    const cu = p.baseCores / (p.maxCpu * limits.cpuOvercommit);
    if (mu >= limits.memory) {
      exclude(n, msg('node.memoryFull', { used: pct(mu), limit: pct(limits.memory) }));
      continue;
    }
    if (cu >= 1) {
      exclude(n, msg('node.cpuFull', { used: pct(cu), overcommit: limits.cpuOvercommit }));
      continue;
    }
    const foreign = foreignByNode.get(n);
    if (mode === 'bridges' && foreign) {
      exclude(n, msg('node.foreignPending', { list: foreign.join(', ') }));
      continue;
    }
    const net = inv.networks.get(n);
    const missingBridge = [...shared].find(([b]) => net !== undefined && !net.ifaces.has(b));
    if (missingBridge) {
      exclude(n, msg('node.bridgeMissing', { bridge: missingBridge[0], users: missingBridge[1].join(', ') }));
      continue;
    }
    const why = unavailableTemplate(machines, n, replicas);
    if (why) {
      exclude(n, why);
      continue;
    }
    eligible.add(n);
  }

  // ---- demands
  const users = input.users.users;
  const standKey = (userid: string): string => `${group}/${userid}`;
  const demands: Demand[] = [];
  const demandOwner: { user: number; machine?: number }[] = [];
  const eligibleList = [...eligible];
  users.forEach((u, ui) => {
    const rec = groupStands.get(u.userid.toLowerCase());
    if (mode === 'bridges') {
      const mem = machines.reduce((s, m) => s + m.memMiB, 0);
      const cores = machines.reduce((s, m) => s + m.cores, 0);
      const pinned = rec && placementNodes.some((p) => p.name === rec.node) ? rec.node : undefined;
      demands.push({ key: standKey(u.userid), memMiB: mem, cores, ...(pinned ? { pinned } : { allowed: eligibleList }) });
      demandOwner.push({ user: ui });
    } else {
      machines.forEach((m, mi) => {
        const recVm = rec?.vms.find((v) => v.machine === m.machine.name);
        const pinned = recVm && placementNodes.some((p) => p.name === recVm.node) ? recVm.node : undefined;
        demands.push({
          key: `${standKey(u.userid)}#${m.machine.name}`,
          memMiB: m.memMiB,
          cores: m.cores,
          ...(pinned ? { pinned } : { allowed: eligibleList }),
        });
        demandOwner.push({ user: ui, machine: mi });
      });
    }
  });

  if (eligible.size === 0 && demands.some((d) => d.pinned === undefined)) {
    refuse(msg('plan.noEligibleNode'), [refusalRow(cluster, msg('row.everyNodeLeftOut'))], { excluded });
  }

  if (strategy.startsWith('node:')) {
    const want = strategy.slice(5);
    const known = inv.nodes.find((n) => n.name === want);
    const out = excluded.find((e) => e.node === want);
    if (!known) {
      refuse(msg('plan.noSuchNode', { placement: strategy }), [
        refusalRow(want, msg('row.notANode', { cluster, nodes: inv.nodes.map((n) => n.name).join(', ') })),
      ]);
    } else if (out && demands.some((d) => d.pinned === undefined)) {
      refuse(msg('plan.nodeLeftOut', { placement: strategy }), [refusalRow(want, out.reasonMsg ?? out.reason)], { excluded });
    }
  }
  let placed = placeStands(placementNodes, demands, strategy, limits);
  // issue 14: the strategy's placement, then (balanced, bridges mode) stands moved where the estimate says the
  // class is ready sooner (replica chains, storage locks), within the same limits
  const timing = planTiming(inv, machines.map((m) => m.info), store.replicas, o.taskSamples ?? [], settings);
  let spread = { moved: 0, strategyMs: undefined as number | undefined };
  if (placed.unplaced.length === 0 && demands.length > 0) {
    const c = placeWithReplicaChoice({
      timing,
      nodes: placementNodes.filter((p) => eligible.has(p.name)),
      demands,
      placed,
      limits,
      infos: machines.map((m) => m.info),
      machines,
      ...(mode === 'sdn' ? { machineOf: (i: number) => demandOwner[i]?.machine } : {}),
      bridgesPerStand: segmentsNeeded(profile.machines).length,
      userExists: (i) => inv.users.has((users[demandOwner[i]?.user ?? 0]?.userid ?? '').toLowerCase()),
      start: input.start ?? false,
      spread: mode === 'bridges' && strategy === 'balanced' && settings.placement.timeAware !== false,
      plannerFor,
      choice: replicaChoice,
    });
    replicas = c.replicas;
    placed = c.placed;
    spread = { moved: c.moved, strategyMs: c.strategyMs };
  }
  const projections = placed.nodes.map((p) => ({
    ...p,
    ...(excluded.find((e) => e.node === p.node) ? { excluded: excluded.find((e) => e.node === p.node)?.reason } : {}),
  }));
  for (const n of inv.nodes.filter((x) => !x.online)) {
    projections.push({
      node: n.name,
      online: false,
      maxCpu: n.maxCpu,
      maxMemMiB: n.maxMemMiB,
      baseMemMiB: 0,
      baseCores: 0,
      addedMemMiB: 0,
      addedCores: 0,
      memUtil: 0,
      cpuUtil: 0,
      stands: 0,
      excluded: `node is ${n.status}`,
    });
  }
  if (placed.unplaced.length > 0) {
    const rows = summariseUnplaced(placed.unplaced);
    refuse(msg('plan.doesNotFit', { unplaced: placed.unplaced.length, total: demands.length, unit: mode === 'bridges' ? 'stands' : 'vms' }), rows, {
      nodes: projections,
      excluded,
    });
  }

  // ---- names, VMIDs, networks
  const ownPools = new Map<string, string>();
  for (const u of users) {
    const rec = groupStands.get(u.userid.toLowerCase());
    if (rec) ownPools.set(u.userid, rec.pool);
  }
  const otherPools = new Set(inv.pools);
  for (const s of store.stands) if (s.group === group) otherPools.delete(s.pool);
  const names = allocateStandNames(
    group,
    users.map((u) => u.userid),
    { takenPools: otherPools, ownPools },
  );
  const vmids = new VmidAllocator(rangeOf(settings.vmids.range), takenVmids(inv, store));
  for (const id of replicas.replicas().map((r) => r.vmid)) vmids.reserve(id);
  const bridges = new BridgeAllocator(rangeOf(settings.network.bridgeRange), takenBridges(inv, store));
  const vnets =
    mode === 'sdn'
      ? new VnetAllocator(rangeOf(settings.network.sdn.tagRange), takenVnets(inv, store, settings.network.sdn.zone))
      : undefined;
  const tags = standTags(group);
  const groupTagOf = groupTag(group);

  const assignment = placed.assignment;
  const standPlans: StandPlan[] = [];
  const nodeOf = new Map<string, string>(); // `<user index>#<machine index>` → node
  demandOwner.forEach((owner, i) => {
    const node = assignment[i] as string;
    if (owner.machine === undefined) machines.forEach((_, mi) => nodeOf.set(`${owner.user}#${mi}`, node));
    else nodeOf.set(`${owner.user}#${owner.machine}`, node);
  });
  const profileSegments = segmentsNeeded(profile.machines);
  const sharedWarned = new Set<string>();
  let vmidsExhausted = false;
  let bridgesExhausted: string | undefined;

  users.forEach((u, ui) => {
    const rec = groupStands.get(u.userid.toLowerCase());
    const nm = names.get(u.userid) ?? { userid: u.userid, slug: userName(u.userid), pool: '' };
    const mainNode = nodeOf.get(`${ui}#0`) ?? rec?.node ?? '';
    const standWarnings: string[] = [];

    // segments: recorded ones stay; new ones allocated
    const segments: SegmentPlan[] = [];
    const ifaceOf = new Map<string, string>();
    for (const seg of profileSegments) {
      const recSeg = rec?.segments.find((s) => s.alias === seg.alias);
      const comment = segmentMarker(group, nm.slug, seg.alias);
      if (mode === 'bridges') {
        const seen = recSeg ? inv.networks.get(mainNode)?.ifaces.get(recSeg.iface) : undefined;
        const mark = parseSegmentMarker(seen?.comments);
        const taken = seen !== undefined && (mark?.group !== group || mark.alias !== seg.alias);
        if (recSeg && taken) {
          warn(msg('warn.bridgeTaken', { user: u.userid, bridge: recSeg.iface, node: mainNode }));
        }
        if (recSeg && recSeg.kind === 'bridge' && recSeg.node === mainNode && !taken) {
          // the bridge exists with our marker: keep its text verbatim (the executor compares it), even if the
          // user's slug would come out differently today
          const kept = seen?.comments && mark ? seen.comments : comment;
          segments.push({ alias: seg.alias, kind: 'bridge', iface: recSeg.iface, node: mainNode, vlanAware: seg.vlanAware, comment: kept, recorded: true });
          ifaceOf.set(seg.alias, recSeg.iface);
          continue;
        }
        const iface = bridges.allocate(mainNode);
        if (!iface) {
          bridgesExhausted = mainNode;
          return;
        }
        segments.push({ alias: seg.alias, kind: 'bridge', iface, node: mainNode, vlanAware: seg.vlanAware, comment, recorded: false });
        ifaceOf.set(seg.alias, iface);
      } else {
        const zone = settings.network.sdn.zone;
        if (recSeg && recSeg.kind === 'vnet') {
          const alias = inv.sdn?.vnets.find((v) => v.vnet === recSeg.iface)?.alias;
          const kept = alias && parseSegmentMarker(alias) ? alias : comment;
          segments.push({ alias: seg.alias, kind: 'vnet', iface: recSeg.iface, vlanAware: seg.vlanAware, tag: recSeg.tag, zone: recSeg.zone ?? zone, comment: kept, recorded: true });
          ifaceOf.set(seg.alias, recSeg.iface);
          continue;
        }
        const got = vnets?.allocate();
        if (!got) {
          bridgesExhausted = 'sdn';
          return;
        }
        segments.push({ alias: seg.alias, kind: 'vnet', iface: got.vnet, vlanAware: seg.vlanAware, tag: got.tag, zone, comment, recorded: false });
        ifaceOf.set(seg.alias, got.vnet);
      }
    }

    const vms: VmPlan[] = [];
    machines.forEach((mt, mi) => {
      const node = nodeOf.get(`${ui}#${mi}`) ?? mainNode;
      let recVm = rec?.vms.find((v) => v.machine === mt.machine.name);
      const there = recVm ? inv.vmById.get(recVm.vmid) : undefined;
      // a freshly cloned VM may still lack name and tags in /cluster/resources (pvestatd lag): only a VM that
      // shows another name and not our group tag is someone else's
      if (recVm && there?.name !== undefined && there.name !== recVm.name && !there.tags.includes(groupTagOf)) {
        warn(msg('warn.vmidTaken', { user: u.userid, vmid: recVm.vmid, machine: mt.machine.name, name: there.name }));
        recVm = undefined;
      }
      let vmid = recVm?.vmid;
      if (vmid === undefined) {
        vmid = vmids.next();
        if (vmid === undefined) {
          vmidsExhausted = true;
          return;
        }
      }
      const source = replicas.sourceFor(mt.info, node);
      if (source.kind === 'unavailable') throw new Error(`internal: template availability changed for ${node}: ${source.reason}`);
      const nics = planMachineNics(mt.machine, ifaceOf, vmid, mt.info.nets, { firewall: isolated });
      for (const w of nics.warnings) {
        const key = render('en', w);
        if (!sharedWarned.has(key)) {
          sharedWarned.add(key);
          warn(w);
        }
      }
      vms.push({
        machine: mt.machine.name,
        vmid,
        name: recVm?.name ?? vmName(nm.slug, mt.machine.name),
        node,
        templateVmid: source.vmid,
        templateNode: source.node,
        sourceTemplateVmid: mt.info.vmid,
        full: mt.full,
        ...(mt.machine.cores !== undefined ? { cores: mt.machine.cores } : {}),
        ...(mt.machine.memory !== undefined ? { memory: mt.machine.memory } : {}),
        effectiveCores: mt.cores,
        effectiveMemoryMiB: mt.memMiB,
        device: mt.machine.device,
        nets: nics.nets,
        deleteNets: nics.deleteNets,
        tags,
        description: vmDescription(group, u.userid, mt.machine.name),
        recorded: recVm !== undefined,
      });
    });

    const vlans = [...new Set(profileSegments.flatMap((s) => s.vlans))].sort((a, b) => a - b);
    standPlans.push({
      key: standKey(u.userid),
      group,
      userid: u.userid,
      slug: nm.slug,
      ...(u.displayName ? { displayName: u.displayName } : {}),
      ...(u.discord ? { discord: u.discord } : {}),
      ...(u.email ? { email: u.email } : {}),
      pool: nm.pool,
      node: mainNode,
      vms,
      segments,
      vlans,
      userExists: inv.users.has(u.userid.toLowerCase()),
      ...(directoryRealm(o.realms, u.userid) ? { directoryRealm: directoryRealm(o.realms, u.userid) } : {}),
      memoryMiB: vms.reduce((s, v) => s + v.effectiveMemoryMiB, 0),
      cores: vms.reduce((s, v) => s + v.effectiveCores, 0),
      recorded: rec !== undefined,
      ...(isolated ? { isolated: true } : {}),
      warnings: standWarnings,
    });
  });
  if (vmidsExhausted) {
    refuse(msg('plan.noVmids'), [
      refusalRow(msg('row.vmidRange', { min: settings.vmids.range[0], max: settings.vmids.range[1] }), msg('row.vmidsNeeded')),
    ]);
  }
  if (bridgesExhausted) {
    refuse(
      mode === 'bridges' ? msg('plan.noBridges') : msg('plan.noTags'),
      [
        mode === 'bridges'
          ? refusalRow(msg('row.node', { node: bridgesExhausted }), msg('row.noFreeBridge', { min: settings.network.bridgeRange[0], max: settings.network.bridgeRange[1] }))
          : refusalRow(msg('row.zone', { zone: settings.network.sdn.zone }), msg('row.noFreeTag', { min: settings.network.sdn.tagRange[0], max: settings.network.sdn.tagRange[1] })),
      ],
    );
  }

  // ---- disk space for full clones and replicas (linked clones take next to nothing)
  const need = new Map<string, number>();
  const addNeed = (node: string, storage: string, gib: number): void => {
    const shared = inv.storages.find((s) => s.storage === storage && s.shared);
    const key = shared ? `*/${storage}` : `${node}/${storage}`;
    need.set(key, (need.get(key) ?? 0) + gib);
  };
  for (const s of standPlans) {
    for (const vm of s.vms) {
      if (!vm.full || vm.recorded) continue;
      const info = machines.find((m) => m.machine.name === vm.machine)?.info;
      for (const st of info?.storages ?? []) addNeed(vm.node, vm.storage ?? st, (info?.diskGiB ?? 0) / Math.max(1, info?.storages.length ?? 1));
    }
  }
  for (const r of replicas.replicas()) {
    if (r.exists) continue;
    const info = machines.find((m) => m.info.vmid === r.sourceVmid)?.info;
    addNeed(r.targetNode, r.storage, info?.diskGiB ?? 0);
  }
  const diskRows: RefusalRow[] = [];
  for (const [key, gib] of need) {
    const [node, storage] = key.split('/') as [string, string];
    const st = inv.storages.find((s) => s.storage === storage && (node === '*' ? s.shared : s.node === node));
    if (st && st.freeGiB < gib) {
      diskRows.push(
        refusalRow(
          msg('row.storage', node === '*' ? { storage } : { storage, node }),
          msg('row.diskNeeds', { need: gib.toFixed(1), free: st.freeGiB.toFixed(1) }),
        ),
      );
    }
  }
  if (diskRows.length > 0) refuse(msg('plan.noDisk'), diskRows, { nodes: projections, excluded });

  // ---- users of a directory realm (LDAP, AD, OpenID): PVE stores no password for them, they use the directory's
  const directory = standPlans.filter((s) => s.directoryRealm && !s.userExists);
  if (directory.length) {
    const realmsUsed = [...new Set(directory.map((s) => `${s.userid.split('@')[1]} (${s.directoryRealm})`))].join(', ');
    warn(msg('warn.directoryRealm', { count: directory.length, realms: realmsUsed, users: directory.map((s) => s.userid).join(', ') }));
  }

  const leaseMs = leaseOf(input.lease, profile, settings);
  const createdAt = new Date((o.now ?? Date.now)()).toISOString();
  const usedNodes = [...new Set(standPlans.flatMap((s) => s.vms.map((v) => v.node)))].sort();
  const plan: DeployPlan = {
    cluster,
    group,
    profile: { name: profile.name, file: profile.file, snapshot: profileSnapshot(profile) },
    usersFile: input.users.file,
    mode,
    strategy,
    clone,
    start: input.start ?? false,
    ...(leaseMs !== undefined ? { leaseMs, leaseExpiresAt: new Date((o.now ?? Date.now)() + leaseMs).toISOString() } : {}),
    aclRole: settings.acl.customRole?.name ?? settings.acl.role,
    ...(mode === 'sdn' ? { sdnZone: settings.network.sdn.zone } : {}),
    ...(isolation ? { isolation } : {}),
    stands: standPlans,
    replicas: replicas.replicas(),
    nodes: projections.sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true })),
    excluded,
    applyNodes: mode === 'bridges' ? usedNodes : online.map((n) => n.name),
    warnings,
    warningMsgs,
    createdAt,
    limits,
  };
  plan.estimate = estimatePlan(plan, timing, spread);
  return plan;
}

function unavailableTemplate(machines: readonly MachineTemplate[], node: string, replicas: ReplicaPlanner): string | undefined {
  for (const m of machines) {
    const why = replicas.check(m.info, node);
    if (why) return why;
  }
  return undefined;
}

/** The realm's type when it is one whose users PVE keeps no password for (LDAP, AD, OpenID); else undefined. */
function directoryRealm(realms: ReadonlyMap<string, string> | undefined, userid: string): string | undefined {
  const type = realms?.get(userid.split('@')[1]!);
  return type !== undefined && !realmTakesPassword(type) ? type : undefined;
}

function rangeOf(r: readonly [number, number]): { min: number; max: number } {
  return { min: r[0], max: r[1] };
}

function takenVmids(inv: Inventory, store: StoreSnapshot): number[] {
  const out: number[] = inv.vms.map((v) => v.vmid);
  for (const s of store.stands) for (const v of s.vms) out.push(v.vmid);
  for (const e of store.journal) if (e.kind === 'vm' || e.kind === 'replica') out.push(Number(e.id));
  for (const r of store.replicas) out.push(r.vmid);
  return out;
}

function takenBridges(inv: Inventory, store: StoreSnapshot): { node: string; iface: string }[] {
  const out: { node: string; iface: string }[] = [];
  for (const [node, net] of inv.networks) for (const iface of net.ifaces.keys()) out.push({ node, iface });
  for (const s of store.stands) {
    for (const seg of s.segments) if (seg.kind === 'bridge' && seg.node) out.push({ node: seg.node, iface: seg.iface });
  }
  for (const e of store.journal) {
    if (e.kind !== 'bridge') continue;
    const [node, iface] = e.id.split('/');
    if (node && iface) out.push({ node, iface });
  }
  return out;
}

function takenVnets(inv: Inventory, store: StoreSnapshot, zone: string): { tags: number[]; ids: string[] } {
  const tags: number[] = [];
  const ids: string[] = [];
  for (const v of inv.sdn?.vnets ?? []) {
    ids.push(v.vnet);
    if (v.zone === zone && v.tag !== undefined) tags.push(v.tag);
  }
  for (const s of store.stands) {
    for (const seg of s.segments) {
      if (seg.kind !== 'vnet') continue;
      ids.push(seg.iface);
      if (seg.tag !== undefined && (seg.zone ?? zone) === zone) tags.push(seg.tag);
    }
  }
  for (const e of store.journal) {
    if (e.kind !== 'vnet') continue;
    ids.push(e.id);
    const t = e.extra?.tag;
    if (typeof t === 'number' && (e.extra?.zone ?? zone) === zone) tags.push(t);
  }
  return { tags, ids };
}

function summariseUnplaced(unplaced: readonly { key: string; reason: string; reasonMsg?: Msg }[]): RefusalRow[] {
  const MAX = 8;
  const rows = unplaced.slice(0, MAX).map((u) => refusalRow(u.key, u.reasonMsg ?? u.reason));
  if (unplaced.length > MAX) rows.push(refusalRow(msg('row.more', { count: unplaced.length - MAX }), msg('row.likewise')));
  return rows;
}

function leaseOf(lease: string | number | undefined, profile: Profile, settings: Settings): number | undefined {
  if (typeof lease === 'number') return lease > 0 ? lease : undefined;
  if (typeof lease === 'string') {
    if (lease === 'none' || lease === '0') return undefined;
    const ms = parseDuration(lease);
    if (ms === undefined) throw new UserError(msg('input.leaseDuration', { lease }));
    return ms;
  }
  return profile.leaseMs ?? settings.leases.defaultMs;
}

/** The profile as data for the store's group record (no functions, no warnings). */
function profileSnapshot(p: Profile): unknown {
  return JSON.parse(
    JSON.stringify({ name: p.name, description: p.description, clone: p.clone, isolation: p.isolation, lease: p.lease, machines: p.machines, format: p.format }),
  ) as unknown;
}
