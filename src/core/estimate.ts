/**
 * The estimated makespan of a deploy plan: a discrete-event run of what the engine (deploy.ts) will do, in the
 * engine's own concurrency, against the cluster's timing model (timing-model.ts). Synchronous and allocation-light
 * (thousands of VMs in milliseconds), so the planner can compare placements with it.
 *
 * What it models, as the engine does it:
 * - node lanes: `perNode` requests in work per node (pvedaemon's workers), by priority (replica steps 2, clone
 *   requests, bridge writes and network applies 1, the rest 0); config writes are tasks (POST), like the rest;
 * - clone slots per storage lock (executor.ts LockSlots: `linkedClonesPerStorage` units, a full clone takes
 *   `fullCloneUnits`), held from the VMID check until the clone task is seen finished; replicas first;
 * - the storage lock itself (exclusive, held for the first `lockMs` of each clone task), keyed as PVE keys it:
 *   one per node for node-local storage, one cluster-wide for shared storage;
 * - replica chains (full clone → template → migrate) started at job start, biggest disk first; every VM cloned
 *   from a replica waits for its chain; a shared replica (one on shared storage for every node) has no migrate,
 *   and its full clone and every clone of it take the shared storage's one lock;
 * - access-control writes in one queue (pools first: clones wait for their pool), bridges written one after
 *   another per node, then one network apply per node (VMs start only after it);
 * - per VM: clone → config → snapshot → start, each task seen at the first poll after its end (the
 *   waiter's own poll schedule, tasks.ts pollDelays).
 * What it does not model: the deployer's CPU and store writes, request latency beyond `requestMs`, retries.
 */
import { estimateText } from '../i18n/duration.js';
import { pollDelays } from '../proxmox/tasks.js';
import { DEFAULT_EXEC_LIMITS, fullCloneUnits, type ExecLimits } from './executor.js';
import { expectedTaskMs, type TimingModel } from './timing-model.js';
import type { DeployPlan, ReplicaPlan } from './types.js';

/** Where a template's (or replica's) disks are. */
export interface TemplateDisk {
  diskGiB: number;
  storage: string;
  node: string;
}

export interface EstimateInput {
  plan: Pick<DeployPlan, 'stands' | 'replicas' | 'start' | 'mode' | 'applyNodes'>;
  model: TimingModel;
  /** by template VMID: the profile's templates (replicas are described by plan.replicas) */
  templates: ReadonlyMap<number, TemplateDisk>;
  /** storage ids that are shared (one cluster-wide lock) */
  sharedStorages: ReadonlySet<string>;
  limits?: Partial<ExecLimits>;
  /** the client's poll settings (PVE-time ms); `expected: false` for a waiter that ignores expected durations */
  poll?: { startMs: number; maxMs: number; expected?: boolean };
}

export interface Estimate {
  /** PVE-time ms from job start to the last stand done */
  ms: number;
  /** when each replica that must be made is usable, by replica VMID */
  replicaReadyMs: Record<number, number>;
  /** the stand that ends last, and when */
  last?: { stand: string; ms: number };
  /** when each stand ends, by stand key */
  standEndMs: Record<string, number>;
  /** replicas the plan makes (0 when they all exist) */
  replicasMade: number;
}

// ------------------------------------------------------------------------------------------- event machinery

class Clock {
  now = 0;
  private seq = 0;
  private readonly heap: { t: number; s: number; fn: () => void }[] = [];
  at(delay: number, fn: () => void): void {
    const e = { t: this.now + Math.max(0, delay), s: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const a = h[i]!;
      const b = h[p]!;
      if (b.t < a.t || (b.t === a.t && b.s < a.s)) break;
      h[i] = b;
      h[p] = a;
      i = p;
    }
  }
  run(): void {
    const h = this.heap;
    while (h.length) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && (h[l]!.t < h[m]!.t || (h[l]!.t === h[m]!.t && h[l]!.s < h[m]!.s))) m = l;
          if (r < h.length && (h[r]!.t < h[m]!.t || (h[r]!.t === h[m]!.t && h[r]!.s < h[m]!.s))) m = r;
          if (m === i) break;
          const tmp = h[i]!;
          h[i] = h[m]!;
          h[m] = tmp;
          i = m;
        }
      }
      this.now = top.t;
      top.fn();
    }
  }
}

/** A counting semaphore with priorities (higher first, FIFO within), nobody overtaking the first waiter. */
class Sem {
  private used = 0;
  /** FIFO buckets by priority, highest first (a handful of distinct priorities) */
  private readonly buckets: { prio: number; q: { units: number; go: () => void }[]; head: number }[] = [];
  private waiting = 0;
  constructor(private readonly capacity: number) {}
  acquire(units: number, prio: number, go: () => void): void {
    const need = Math.min(Math.max(1, units), this.capacity);
    if (this.waiting === 0 && this.used + need <= this.capacity) {
      this.used += need;
      go();
      return;
    }
    let b = this.buckets.find((x) => x.prio === prio);
    if (!b) {
      b = { prio, q: [], head: 0 };
      this.buckets.push(b);
      this.buckets.sort((x, y) => y.prio - x.prio);
    }
    b.q.push({ units: need, go });
    this.waiting++;
  }
  release(units: number): void {
    this.used -= Math.min(Math.max(1, units), this.capacity);
    while (this.waiting > 0) {
      const b = this.buckets.find((x) => x.head < x.q.length)!;
      const w = b.q[b.head]!;
      if (this.used + w.units > this.capacity) return;
      b.head++;
      if (b.head === b.q.length) {
        b.q.length = 0;
        b.head = 0;
      }
      this.waiting--;
      this.used += w.units;
      w.go();
    }
  }
}

/** Something that happens once; callbacks registered later run at once. */
class Signal {
  private done = false;
  private readonly waiters: (() => void)[] = [];
  fire(): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.waiters.splice(0)) w();
  }
  then(fn: () => void): void {
    if (this.done) fn();
    else this.waiters.push(fn);
  }
}

// ------------------------------------------------------------------------------------------------ the run

export function estimateDeploy(input: EstimateInput): Estimate {
  const { plan, model: m } = input;
  const limits = { ...DEFAULT_EXEC_LIMITS, ...input.limits };
  const poll = input.poll ?? { startMs: 300, maxMs: 2000 };
  const fullUnits = fullCloneUnits(limits);
  const clock = new Clock();
  const rq = m.requestMs;

  const lanes = new Map<string, Sem>();
  const lane = (node: string): Sem => {
    let s = lanes.get(node);
    if (!s) lanes.set(node, (s = new Sem(limits.perNode)));
    return s;
  };
  const slotsMap = new Map<string, Sem>();
  const slots = (key: string): Sem => {
    let s = slotsMap.get(key);
    if (!s) slotsMap.set(key, (s = new Sem(limits.linkedClonesPerStorage)));
    return s;
  };
  const locks = new Map<string, Sem>();
  const lock = (key: string): Sem => {
    let s = locks.get(key);
    if (!s) locks.set(key, (s = new Sem(1)));
    return s;
  };
  const access = new Sem(1);
  const lockKey = (storage: string, node: string): string => (input.sharedStorages.has(storage) ? storage : `${storage}@${node}`);

  /** A request on `node`'s lane that holds it `holdMs` beyond the round trip, then `then`. */
  const request = (node: string, prio: number, holdMs: number, then: () => void): void => {
    const l = lane(node);
    l.acquire(1, prio, () =>
      clock.at(rq + holdMs, () => {
        l.release(1);
        then();
      }),
    );
  };
  /**
   * Wait for a task whose end is signalled by `actualEnd`: the waiter sees it at the first poll (sleep, then a
   * status request) that answers after the end. The poll times are walked when the end is known: no events.
   */
  const awaitTask = (actualEnd: Signal, expectedMs: number, then: () => void): void => {
    const t0 = clock.now;
    actualEnd.then(() => {
      const delays = pollDelays(poll.expected === false ? { startMs: poll.startMs, maxMs: poll.maxMs } : { expectedMs, startMs: poll.startMs, maxMs: poll.maxMs });
      let t = t0;
      do t += delays() + rq;
      while (t < clock.now);
      clock.at(t - clock.now, then);
    });
  };
  const lockFreeAt = new Map<string, number>();
  /** A clone task on the server: storage lock for lockMs (FIFO), then the rest of the copy. */
  const cloneTask = (key: string, totalMs: number, lockMs: number): Signal => {
    const end = new Signal();
    const l = lock(key);
    l.acquire(1, 0, () =>
      clock.at(lockMs, () => {
        l.release(1);
        clock.at(Math.max(0, totalMs - lockMs), () => end.fire());
      }),
    );
    return end;
  };
  const plainTask = (ms: number): Signal => {
    const end = new Signal();
    clock.at(ms, () => end.fire());
    return end;
  };

  // ---- replicas
  const diskOf = (vmid: number): TemplateDisk | undefined => input.templates.get(vmid);
  const replicaReady = new Map<number, Signal>();
  const replicaReadyMs: Record<number, number> = {};
  const users = new Map<string, number>();
  for (const s of plan.stands) for (const v of s.vms) if (!v.recorded) users.set(`${v.templateVmid}/${v.templateNode}`, (users.get(`${v.templateVmid}/${v.templateNode}`) ?? 0) + 1);
  const wanted = (r: ReplicaPlan): number => users.get(`${r.vmid}/${r.targetNode}`) ?? 0;
  const toMake = plan.replicas
    .filter((r) => !r.exists && wanted(r) > 0)
    .sort((a, b) => (diskOf(b.sourceVmid)?.diskGiB ?? 0) - (diskOf(a.sourceVmid)?.diskGiB ?? 0) || wanted(b) - wanted(a));
  toMake.forEach((r, i) => {
    const ready = new Signal();
    replicaReady.set(r.vmid, ready);
    const src = diskOf(r.sourceVmid);
    const gib = src?.diskGiB ?? 0;
    const prio = 1 + toMake.length - i;
    const slotKey = lockKey(r.storage, r.sourceNode);
    const slot = slots(slotKey);
    slot.acquire(fullUnits, prio, () =>
      request(r.sourceNode, 2, 0, () => {
        const end = cloneTask(lockKey(r.storage, r.sourceNode), gib * m.fullCloneMsPerGiB, gib * m.fullCloneLockMsPerGiB);
        awaitTask(end, expectedTaskMs(m, { kind: 'clone', full: true, diskGiB: gib }), () => {
          slot.release(fullUnits);
          // vmConfig read, then template, then migrate (when the replica lives on another node)
          clock.at(rq, () =>
            request(r.sourceNode, 2, 0, () =>
              awaitTask(plainTask(m.templateMs), m.templateMs, () => {
                const done = (): void => {
                  replicaReadyMs[r.vmid] = clock.now;
                  ready.fire();
                };
                if (r.targetNode === r.sourceNode) return done();
                const migMs = input.sharedStorages.has(r.storage) ? m.migrateSharedMs : gib * m.migrateMsPerGiB;
                request(r.sourceNode, 2, 0, () => awaitTask(plainTask(migMs), migMs, done));
              }),
            ),
          );
        });
      }),
    );
  });

  // ---- per stand
  const standEnd = new Map<string, number>();
  const pools = new Map<string, Signal>();
  const networks = new Map<string, Signal>();
  const networksUp = new Map<string, Signal>();
  for (const s of plan.stands) {
    pools.set(s.key, new Signal());
    networks.set(s.key, new Signal());
    networksUp.set(s.key, new Signal());
  }
  // access: pools first (priority), then users, then ACLs, one at a time
  for (const s of plan.stands) {
    const pool = pools.get(s.key)!;
    if (s.recorded) pool.fire();
    else access.acquire(1, 2, () => clock.at(rq, () => (access.release(1), pool.fire())));
    if (!s.recorded && !s.userExists) access.acquire(1, 1, () => clock.at(rq, () => access.release(1)));
    if (!s.recorded) access.acquire(1, 0, () => clock.at(rq, () => access.release(1)));
  }
  // networks
  if (plan.mode === 'bridges') {
    const byNode = new Map<string, typeof plan.stands>();
    for (const s of plan.stands) {
      if (!s.segments.some((g) => g.kind === 'bridge' && !g.recorded)) {
        networks.get(s.key)!.fire();
        networksUp.get(s.key)!.fire();
        continue;
      }
      const node = s.segments.find((g) => g.kind === 'bridge')?.node ?? s.node;
      const list = byNode.get(node) ?? [];
      list.push(s);
      byNode.set(node, list);
    }
    for (const [node, stands] of byNode) {
      let k = 0;
      const next = (): void => {
        const s = stands[k++];
        if (!s) {
          // list the network again, apply once, wait for the apply task
          clock.at(rq, () =>
            request(node, 1, 0, () =>
              awaitTask(plainTask(m.networkApplyMs), m.networkApplyMs, () => {
                for (const x of stands) networksUp.get(x.key)!.fire();
              }),
            ),
          );
          return;
        }
        const bridges = s.segments.filter((g) => g.kind === 'bridge' && !g.recorded).length;
        let b = 0;
        const write = (): void => {
          if (b++ >= bridges) {
            networks.get(s.key)!.fire();
            next();
            return;
          }
          request(node, 1, m.networkWriteMs, write);
        };
        write();
      };
      next();
    }
  } else {
    // sdn: VNets through the access queue, one apply for the cluster
    const up = new Signal();
    let pending = 0;
    for (const s of plan.stands) {
      const vnets = s.segments.filter((g) => g.kind === 'vnet' && !g.recorded).length;
      if (!vnets) {
        networks.get(s.key)!.fire();
        continue;
      }
      pending++;
      let v = 0;
      const write = (): void => {
        if (v++ >= vnets) {
          networks.get(s.key)!.fire();
          if (--pending === 0) clock.at(rq, () => awaitTask(plainTask(m.networkApplyMs), m.networkApplyMs, () => up.fire()));
          return;
        }
        access.acquire(1, 0, () => clock.at(rq, () => (access.release(1), write())));
      };
      write();
    }
    if (pending === 0) up.fire();
    for (const s of plan.stands) up.then(() => networksUp.get(s.key)!.fire());
  }

  // VMs
  const replicaDisk = new Map(plan.replicas.map((r) => [r.vmid, r]));
  for (const s of plan.stands) {
    let open = s.vms.length;
    const vmDone = (): void => {
      if (--open === 0) standEnd.set(s.key, clock.now);
    };
    if (open === 0) standEnd.set(s.key, 0);
    for (const vm of s.vms) {
      if (vm.recorded) {
        // a re-run looks at it (one read) and carries on only where steps are missing: counted as done
        clock.at(rq, vmDone);
        continue;
      }
      const rep = replicaDisk.get(vm.templateVmid);
      const src = diskOf(vm.sourceTemplateVmid) ?? diskOf(vm.templateVmid);
      const gib = src?.diskGiB ?? 0;
      const tplStorage = rep ? rep.storage : (diskOf(vm.templateVmid)?.storage ?? src?.storage ?? '');
      const slotKey = vm.full && vm.storage ? lockKey(vm.storage, vm.node) : lockKey(tplStorage, vm.templateNode);
      const diskStorage = vm.full && vm.storage ? vm.storage : tplStorage;
      const lockOn = lockKey(diskStorage, vm.node);
      const cloneMs = vm.full ? gib * m.fullCloneMsPerGiB : m.linkedCloneMs;
      const cloneLockMs = vm.full ? gib * m.fullCloneLockMsPerGiB : m.linkedCloneLockMs;
      const units = vm.full ? fullUnits : 1;
      const afterClone = (): void => {
        // waitUnlocked (one status read) + config read, then config, snapshot and start: each a task
        const start = (): void => request(vm.node, 0, 0, () => awaitTask(plainTask(m.startMs), m.startMs, vmDone));
        const snapshot = (): void =>
          request(vm.node, 0, 0, () =>
            awaitTask(plainTask(m.snapshotMs), m.snapshotMs, () => (plan.start ? networksUp.get(s.key)!.then(start) : vmDone())),
          );
        const config = (): void => request(vm.node, 0, 0, () => awaitTask(plainTask(m.configWriteMs), m.configWriteMs, snapshot));
        clock.at(2 * rq, () => networks.get(s.key)!.then(config));
      };
      const clone = (): void => {
        const slot = slots(slotKey);
        slot.acquire(units, 0, () =>
          // VMID check, then the clone request on the template's node
          clock.at(rq, () =>
            request(vm.templateNode, 1, 0, () => {
              const end = cloneTask(lockOn, cloneMs, cloneLockMs);
              // the waiter expects the clone's wait behind our clones ahead on the lock (DeployRun.expectedClone)
              const begin = Math.max(clock.now, lockFreeAt.get(lockOn) ?? 0);
              lockFreeAt.set(lockOn, begin + cloneLockMs);
              awaitTask(end, begin - clock.now + cloneMs, () => {
                slot.release(units);
                afterClone();
              });
            }),
          ),
        );
      };
      pools.get(s.key)!.then(() => {
        const ready = replicaReady.get(vm.templateVmid);
        if (ready) ready.then(clone);
        else clone();
      });
    }
  }

  clock.run();
  let last: Estimate['last'];
  let ms = 0;
  for (const [stand, t] of standEnd) {
    if (t >= ms) {
      ms = t;
      last = { stand, ms: t };
    }
  }
  return { ms, replicaReadyMs, ...(last ? { last } : {}), standEndMs: Object.fromEntries(standEnd), replicasMade: toMake.length };
}

/** "about 1 min 40 s": rounded to 5 s above a minute, to 1 s below. */
export function formatEstimate(ms: number): string {
  return estimateText('en', ms);
}
