/**
 * VMID allocation from the configured range. `/cluster/nextid` reserves nothing (two callers get the same id), so
 * the plan picks ids itself: every id in use on the cluster, recorded in the store, or journaled (perhaps created
 * by a run that died before it could record it) is skipped. The executor still checks `isVmidFree` right before
 * each clone, because the cluster can change between plan and run.
 */

export interface VmidRange {
  min: number;
  max: number;
}

/** PVE accepts 100–999999999; our default range keeps clear of the low ids people type by hand. */
export const DEFAULT_VMID_RANGE: VmidRange = { min: 10000, max: 89999 };

export class VmidAllocator {
  private readonly taken: Set<number>;
  private cursor: number;

  constructor(
    readonly range: VmidRange,
    taken: Iterable<number>,
  ) {
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 100 || range.max < range.min) {
      throw new RangeError(`invalid VMID range ${range.min}–${range.max}`);
    }
    this.taken = new Set(taken);
    this.cursor = range.min;
  }

  /** Ids still free in the range (for the refusal message). */
  get free(): number {
    let n = this.range.max - this.range.min + 1;
    for (const id of this.taken) if (id >= this.range.min && id <= this.range.max) n--;
    return n;
  }

  isTaken(vmid: number): boolean {
    return this.taken.has(vmid);
  }

  /** Marks an id as used (a recorded VM of a re-run keeps its id). */
  reserve(vmid: number): void {
    this.taken.add(vmid);
  }

  /** The lowest free id, or undefined when the range is exhausted. */
  next(): number | undefined {
    while (this.cursor <= this.range.max && this.taken.has(this.cursor)) this.cursor++;
    if (this.cursor > this.range.max) return undefined;
    const id = this.cursor++;
    this.taken.add(id);
    return id;
  }
}
