/**
 * A lower bound on the simulated makespan of a deploy, computed from the plan and the SIMULATOR's constants
 * only (never from what the deployer does). Every term is a constraint the simulator enforces or a dependency
 * any correct deployer must respect, so no schedule, however clever, can finish earlier. See bench/README.md
 * for the argument.
 */
import type { DeployPlan, ReplicaPlan, StandPlan, VmPlan } from '../src/core/types.js';
import type { TimingModel } from '../src/sim/timing.js';

/** What the bound needs to know about a template (from the sim seed the bench started). */
export interface TemplateFacts {
  diskGiB: number;
  storage: string;
  shared: boolean;
  /** the node it is on (placement-bound.ts needs it to know which nodes need a replica) */
  node?: string;
}

export interface LowerBoundInput {
  plan: Pick<DeployPlan, 'stands' | 'replicas' | 'start' | 'applyNodes' | 'mode'>;
  timing: TimingModel;
  /** by template vmid (the original templates; replicas inherit from their source) */
  templates: Map<number, TemplateFacts>;
  /** storage id → shared (from the seed); needed when a full clone targets another storage */
  storages?: Map<string, boolean>;
  /**
   * How the simulator holds the per-storage lock within a clone: at its start (the lock covers the first
   * `lockMs` of the task) or at its end. Only changes which part of a clone may overlap the lock chain.
   */
  lockAt?: 'start' | 'end';
  /** Node whose pvedaemon handles calls without a node in the path (/access, /pools). */
  entryNode?: string;
  /** Simulated ms a user.cfg write (user, pool, ACL) takes in the simulator (0 when it does not model it). */
  accessWriteMs?: number;
  /** The simulator serialises user.cfg writes (users, pools, ACLs) cluster-wide. */
  accessWritesSerialised?: boolean;
  /**
   * The bound as recorded before issue 14 (lock terms without replica-chain release times: head and tail 0 on a
   * lock that also carries replica copies). Kept to report the 30×4 benchmark against its old bound.
   */
  legacy?: boolean;
}

export interface LowerBoundTerm {
  name: string;
  ms: number;
}

export interface LowerBound {
  ms: number;
  /** the binding term's name */
  binding: string;
  terms: LowerBoundTerm[];
}

interface CloneOp {
  vm: VmPlan;
  stand: StandPlan | null;
  lockKey: string;
  totalMs: number;
  lockMs: number;
  /** earliest the clone can start (replica chain before it) */
  readyMs: number;
}

function lockKeyOf(storage: string, shared: boolean, node: string): string {
  // node-local storages lock a file under /var/lock on that node; shared ones a cluster-wide pmxcfs lock
  return shared ? `storage ${storage}` : `storage ${storage}@${node}`;
}

export function computeLowerBound(input: LowerBoundInput): LowerBound {
  const { plan, timing: t, templates } = input;
  const lockAt = input.lockAt ?? 'start';
  const terms: LowerBoundTerm[] = [];

  const sharedOf = (storage: string, src: TemplateFacts, replicaShared?: boolean): boolean =>
    input.storages?.get(storage) ?? (replicaShared === true || (src.shared && storage === src.storage));
  const replicaLockKey = (r: ReplicaPlan, src: TemplateFacts): string => {
    const storage = r.storage || src.storage;
    return lockKeyOf(storage, sharedOf(storage, src, r.shared), r.sourceNode);
  };
  const facts = (vmid: number): TemplateFacts => {
    const f = templates.get(vmid);
    if (f) return f;
    const replica = plan.replicas.find((r) => r.vmid === vmid);
    if (replica) {
      const src = templates.get(replica.sourceVmid);
      if (src) return { diskGiB: src.diskGiB, storage: replica.storage, shared: sharedOf(replica.storage, src, replica.shared) };
    }
    throw new Error(`lower bound: no facts for template ${vmid}`);
  };

  // Replicas (full clone → template → migrate; a shared one: full clone onto the shared storage → template) must
  // finish before any linked clone from them starts. The copy takes the lock of the storage it writes to.
  const replicaReady = new Map<number, number>();
  const lockChains = new Map<string, number[]>();
  const addLock = (key: string, ms: number): void => {
    const chain = lockChains.get(key) ?? [];
    chain.push(ms);
    lockChains.set(key, chain);
  };
  for (const r of plan.replicas) {
    if (r.exists) {
      replicaReady.set(r.vmid, 0);
      continue;
    }
    const src = facts(r.sourceVmid);
    const clone = src.diskGiB * t.fullCloneMsPerGiB;
    addLock(replicaLockKey(r, src), src.diskGiB * t.fullCloneLockMsPerGiB);
    const migrate = r.targetNode === r.sourceNode ? 0 : src.shared ? t.migrateSharedMs : src.diskGiB * t.migrateMsPerGiB;
    replicaReady.set(r.vmid, clone + t.templateMs + migrate);
  }

  // Minimum per-VM work after the clone: one config write (every VM must change its NICs and tags), the
  // `start` snapshot, then the start task if the plan starts stands.
  const afterClone = t.configWriteMinMs + t.snapshotMinMs + (plan.start ? t.startMs : 0);

  const clones: CloneOp[] = [];
  for (const stand of plan.stands) {
    for (const vm of stand.vms) {
      const src = facts(vm.templateVmid);
      const storage = vm.full ? (vm.storage ?? src.storage) : src.storage;
      const shared = input.storages?.get(storage) ?? (storage === src.storage ? src.shared : false);
      const totalMs = vm.full ? src.diskGiB * t.fullCloneMsPerGiB : t.linkedCloneMs;
      const lockMs = vm.full ? src.diskGiB * t.fullCloneLockMsPerGiB : t.linkedCloneLockMs;
      clones.push({
        vm,
        stand,
        lockKey: lockKeyOf(storage, shared, vm.node),
        totalMs,
        lockMs,
        readyMs: replicaReady.get(vm.templateVmid) ?? 0,
      });
      addLock(lockKeyOf(storage, shared, vm.node), lockMs);
    }
  }

  // (a) critical path of one stand: its slowest VM chain (replica → clone → config → snapshot → start), and
  // in bridges mode, the bridge write and network apply before any start (a NIC on an inactive bridge fails).
  let crit = 0;
  let critName = '';
  for (const stand of plan.stands) {
    let standMs = 0;
    for (const c of clones.filter((x) => x.stand === stand)) {
      standMs = Math.max(standMs, c.readyMs + c.totalMs + afterClone);
    }
    if (plan.mode === 'bridges' && stand.segments.length > 0 && plan.start) {
      standMs = Math.max(standMs, t.clusterWriteMs + t.networkReloadMs + t.startMs);
    }
    if (standMs > crit) {
      crit = standMs;
      critName = stand.key;
    }
  }
  terms.push({ name: `critical path of one stand (${critName || 'none'})`, ms: crit });

  // (b) per storage lock: holds on one key are disjoint intervals. For any subset S of the holds, the first of S
  // cannot start before min(release) over S (a clone of a replica waits for its chain), the holds of S take Σ hold,
  // and the one that ends last still needs its tail (rest of the clone + config + snapshot + start; for a replica's
  // full clone: rest of the copy + template + migrate + one linked clone of it + config + snapshot + start). So
  // min_S release + Σ_S hold + min_S tail is a bound for every S; the best S is among {release ≥ R, tail ≥ Q}.
  const replicaTail = new Map<string, number[]>();
  for (const r of plan.replicas) {
    if (r.exists) continue;
    const src = facts(r.sourceVmid);
    const clone = src.diskGiB * t.fullCloneMsPerGiB;
    const migrate = r.targetNode === r.sourceNode ? 0 : src.shared ? t.migrateSharedMs : src.diskGiB * t.migrateMsPerGiB;
    const used = clones.some((c) => c.vm.templateVmid === r.vmid);
    const tail = (lockAt === 'start' ? clone - src.diskGiB * t.fullCloneLockMsPerGiB : 0) + t.templateMs + migrate + (used ? t.linkedCloneMs + afterClone : 0);
    const key = replicaLockKey(r, src);
    replicaTail.set(key, [...(replicaTail.get(key) ?? []), tail]);
  }
  for (const [key, chain] of input.legacy ? [] : lockChains) {
    const holds: { r: number; p: number; q: number }[] = [];
    for (const c of clones) {
      if (c.lockKey !== key) continue;
      const pre = lockAt === 'start' ? 0 : c.totalMs - c.lockMs;
      const post = (lockAt === 'start' ? c.totalMs - c.lockMs : 0) + afterClone;
      holds.push({ r: c.readyMs + pre, p: c.lockMs, q: post });
    }
    const vmHolds = holds.length;
    const tails = replicaTail.get(key) ?? [];
    // replica holds were added to the chain first (in plan order, as were their tails)
    const replicaHolds = chain.length - vmHolds;
    for (let i = 0; i < replicaHolds; i++) holds.push({ r: 0, p: chain[i] as number, q: tails[i] ?? 0 });
    let best = 0;
    const rs = [...new Set(holds.map((h) => h.r))];
    const qs = [...new Set(holds.map((h) => h.q))];
    for (const R of rs) {
      for (const Q of qs) {
        let sum = 0;
        let minR = Infinity;
        let minQ = Infinity;
        for (const h of holds) {
          if (h.r < R || h.q < Q) continue;
          sum += h.p;
          minR = Math.min(minR, h.r);
          minQ = Math.min(minQ, h.q);
        }
        if (sum > 0) best = Math.max(best, minR + sum + minQ);
      }
    }
    terms.push({ name: `${key} lock: ${chain.length} holds`, ms: best });
  }

  if (input.legacy) {
    for (const [key, chain] of lockChains) {
      const ops = clones.filter((c) => c.lockKey === key);
      const sum = chain.reduce((a, b) => a + b, 0);
      let head = ops.length ? Infinity : 0;
      let tail = ops.length ? Infinity : 0;
      for (const c of ops) {
        head = Math.min(head, c.readyMs + (lockAt === 'start' ? 0 : c.totalMs - c.lockMs));
        tail = Math.min(tail, (lockAt === 'start' ? c.totalMs - c.lockMs : 0) + afterClone);
      }
      if (chain.length > ops.length) head = tail = 0;
      terms.push({ name: `${key} lock: ${chain.length} holds`, ms: head + sum + tail });
    }
  }

  // (c) pvedaemon workers: only synchronous work holds a worker (a task is forked and frees it at once). VM
  // config can be written asynchronously (POST → task), so the only sync work every deployer must do is the
  // access-control writes (user, pool, ACL: user.cfg), handled on the entry node, 3 at a time at best.
  const accessWrites = plan.stands.reduce((a, s) => a + (s.userExists ? 0 : 1) + 1 + 1, 0);
  if (input.entryNode !== undefined) {
    terms.push({
      name: `${input.entryNode} API workers (${accessWrites} sync user.cfg writes / ${t.workersPerNode})`,
      ms: (accessWrites * (input.accessWriteMs ?? 0)) / t.workersPerNode,
    });
  }

  // (d) access-control writes (user, pool, ACL) serialised on user.cfg, if the simulator serialises them.
  if (input.accessWritesSerialised) {
    terms.push({ name: `user.cfg lock (${accessWrites} writes)`, ms: accessWrites * (input.accessWriteMs ?? 0) });
  }

  // (e) per node, bridges mode: bridge writes hold the node's /var/lock/pve-network.lck one at a time; the last
  // one must then be applied (ifreload) and a VM on it started.
  if (plan.mode === 'bridges') {
    const bridges = new Map<string, number>();
    for (const s of plan.stands) for (const seg of s.segments) if (seg.kind === 'bridge' && !seg.recorded) {
      const node = seg.node ?? s.node;
      bridges.set(node, (bridges.get(node) ?? 0) + 1);
    }
    for (const [node, n] of bridges) {
      terms.push({
        name: `${node} network lock (${n} bridge writes) + apply${plan.start ? ' + start' : ''}`,
        ms: n * t.clusterWriteMs + t.networkReloadMs + (plan.start ? t.startMs : 0),
      });
    }
  }

  let best = terms[0]!;
  for (const term of terms) if (term.ms > best.ms) best = term;
  return { ms: best.ms, binding: best.name, terms };
}

/**
 * Idealised strictly-sequential time: the sum of every operation's duration with no gap, no request latency and
 * no polling delay. `min` takes the shortest config/snapshot write (a floor), `mean` their expected length.
 */
export function sequentialFloor(input: LowerBoundInput, durations: 'min' | 'mean' = 'min'): number {
  const { plan, timing, templates } = input;
  const t =
    durations === 'min'
      ? timing
      : {
          ...timing,
          configWriteMinMs: (timing.configWriteMinMs + timing.configWriteMaxMs) / 2,
          snapshotMinMs: (timing.snapshotMinMs + timing.snapshotMaxMs) / 2,
        };
  let ms = 0;
  for (const r of plan.replicas) {
    if (r.exists) continue;
    const src = templates.get(r.sourceVmid);
    if (!src) continue;
    ms += src.diskGiB * t.fullCloneMsPerGiB + t.templateMs + (r.targetNode === r.sourceNode ? 0 : src.shared ? t.migrateSharedMs : src.diskGiB * t.migrateMsPerGiB);
  }
  for (const s of plan.stands) {
    ms += ((s.userExists ? 0 : 1) + 2) * (input.accessWriteMs ?? 0);
    ms += s.segments.filter((g) => g.kind === 'bridge').length * t.clusterWriteMs + (s.segments.length ? t.networkReloadMs : 0);
    for (const vm of s.vms) {
      const src = templates.get(vm.sourceTemplateVmid);
      ms += vm.full ? (src?.diskGiB ?? 0) * t.fullCloneMsPerGiB : t.linkedCloneMs;
      ms += t.configWriteMinMs + t.snapshotMinMs + (plan.start ? t.startMs : 0);
    }
  }
  return ms;
}
