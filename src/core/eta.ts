/**
 * Time left in a job, from the work done so far: every step weighs what a step of its kind takes — the mean
 * measured in this run, or a default per kind before one is measured (scaled to the run's measured pace, so a
 * kind's first measurement does not move the estimate abruptly) — and the work left is done at the rate the
 * work so far was done (weight done ÷ time elapsed). The parallelism is in that rate, not guessed. A step in
 * work counts as done as far as its age says (at most 90 % of its weight), so a phase of long parallel steps
 * (clones queued on a storage lock) does not look like a standstill until the first one ends. A step that turns
 * out done already (a resume) leaves the work instead of counting as instant work.
 *
 * The previous estimate (remaining × mean ÷ busy-time parallelism) jumped 8 s → 1 m 44 s → 50 s: the
 * parallelism estimate swings while few steps are done, and kinds not measured yet took the mean of the others.
 */

/** Typical duration of a step of each kind on a real cluster (ms): relative weights until measured. */
export const DEFAULT_STEP_MS: Readonly<Record<string, number>> = {
  // (the simulator's timing model, src/sim/timing.ts, which follows what PVE takes: BEHAVIOUR.md)
  access: 200, // pool, user and ACL: three short user.cfg writes
  network: 200, // the stand's bridges written (the node's apply is not a step)
  clone: 2000, // a linked clone; full clones take longer and are measured soon enough
  config: 600,
  snapshot: 600,
  start: 3000,
  stop: 1000,
  shutdown: 2000,
  reset: 1500, // rollback, then a start when the VM was running
  destroy: 1000,
};
const FALLBACK_STEP_MS = 1000;
/** A default counts as this many measurements of its kind (they take over gradually). */
const PRIOR = 2;

export class EtaEstimator {
  private readonly remaining = new Map<string, number>();
  private readonly measured = new Map<string, { sum: number; n: number }>();
  /** Start times of the steps in work, per kind (oldest first). */
  private readonly inWork = new Map<string, number[]>();

  constructor(
    private readonly startedAt: number,
    private readonly defaults: Readonly<Record<string, number>> = DEFAULT_STEP_MS,
  ) {}

  plan(kind: string, n = 1): void {
    this.remaining.set(kind, (this.remaining.get(kind) ?? 0) + n);
  }

  /** A planned step started: while it works it counts as partly done (up to 90 % of its weight). */
  start(kind: string, now: number): void {
    const list = this.inWork.get(kind) ?? [];
    list.push(now);
    this.inWork.set(kind, list);
  }

  /** Steps that will not run (their stand failed), or that were done already (`finish` with 0 ms). */
  drop(kind: string, n = 1): void {
    this.remaining.set(kind, Math.max(0, (this.remaining.get(kind) ?? 0) - n));
    const list = this.inWork.get(kind);
    if (list) list.splice(0, n);
  }

  /** A planned step finished after `ms`; 0 ms: it was done already, it leaves the work. */
  finish(kind: string, ms: number): void {
    this.drop(kind);
    if (ms <= 0) return;
    const d = this.measured.get(kind) ?? { sum: 0, n: 0 };
    d.sum += ms;
    d.n++;
    this.measured.set(kind, d);
  }

  private defaultOf(kind: string): number {
    return this.defaults[kind] ?? FALLBACK_STEP_MS;
  }

  /** What a step of `kind` weighs now (ms at this run's pace). */
  weight(kind: string): number {
    // this run's pace against the defaults: measured time ÷ what the defaults said for the same steps
    let sum = 0;
    let expected = 0;
    for (const [k, d] of this.measured) {
      sum += d.sum;
      expected += d.n * this.defaultOf(k);
    }
    const pace = expected > 0 ? sum / expected : 1;
    const d = this.measured.get(kind);
    return ((d?.sum ?? 0) + PRIOR * pace * this.defaultOf(kind)) / ((d?.n ?? 0) + PRIOR);
  }

  /** undefined until a step with a measured duration finished. */
  etaMs(now: number): number | undefined {
    const elapsed = now - this.startedAt;
    let done = 0;
    for (const [kind, d] of this.measured) done += d.n * this.weight(kind);
    if (done <= 0 || elapsed <= 0) return undefined;
    let left = 0;
    for (const [kind, n] of this.remaining) if (n > 0) left += n * this.weight(kind);
    // steps in work are partly done: as far as their age says, never quite finished
    for (const [kind, starts] of this.inWork) {
      const w = this.weight(kind);
      for (const t of starts) {
        const part = Math.min(0.9 * w, Math.max(0, now - t));
        done += part;
        left -= part;
      }
    }
    return Math.round((elapsed * Math.max(0, left)) / done);
  }
}
