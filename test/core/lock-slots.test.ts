import { describe, expect, it } from 'vitest';
import { DEFAULT_EXEC_LIMITS, fullCloneUnits, LockSlots } from '../../src/core/executor.js';

/** A gate the test opens by hand: a clone that "runs" until the test says it ended. */
function gate(): { done: Promise<void>; open: () => void } {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

describe('clone slots per storage lock', () => {
  it('a full clone takes (slots − 2) ÷ full clones, so at most 2 linked clones run beside the full ones', () => {
    expect(fullCloneUnits({ linkedClonesPerStorage: 12, fullClonesPerStorage: 2 })).toBe(5);
    expect(fullCloneUnits({ linkedClonesPerStorage: 8, fullClonesPerStorage: 2 })).toBe(3);
    expect(fullCloneUnits({ linkedClonesPerStorage: 8, fullClonesPerStorage: 1 })).toBe(6);
    expect(fullCloneUnits({ linkedClonesPerStorage: 1, fullClonesPerStorage: 2 })).toBe(1);
    for (const l of [4, 8, 12, 16, 32]) {
      for (const f of [1, 2]) {
        const u = fullCloneUnits({ linkedClonesPerStorage: l, fullClonesPerStorage: f });
        // f full clones fit at once, and beside them only the 2 linked ones (plus what the division leaves over)
        expect(f * u, `${l} slots, ${f} full`).toBeLessThanOrEqual(l);
        expect(l - f * u, `${l} slots, ${f} full`).toBeLessThanOrEqual(2 + (f - 1));
        // one more full clone than allowed never fits
        expect((f + 1) * u, `${l} slots, ${f} full`).toBeGreaterThan(l);
      }
    }
  });

  it('with the defaults: 12 linked clones at once, or 2 full + 2 linked, never more', async () => {
    const slots = new LockSlots(DEFAULT_EXEC_LIMITS.linkedClonesPerStorage);
    const full = fullCloneUnits(DEFAULT_EXEC_LIMITS);
    const running = new Set<string>();
    const gates = new Map<string, ReturnType<typeof gate>>();
    const seen: number[] = [];
    const start = (id: string, units: number): Promise<void> =>
      slots.run(units, 0, async () => {
        running.add(id);
        seen.push(running.size);
        const g = gate();
        gates.set(id, g);
        await g.done;
        running.delete(id);
      });
    const all: Promise<void>[] = [];
    all.push(start('full-1', full), start('full-2', full));
    for (let i = 1; i <= 14; i++) all.push(start(`linked-${i}`, 1));
    await new Promise((r) => setImmediate(r));
    expect([...running].sort()).toEqual(['full-1', 'full-2', 'linked-1', 'linked-2']);
    gates.get('full-1')!.open();
    gates.get('full-2')!.open();
    // the queue moves on: with the full clones gone, 12 linked clones at once (the first two are still running)
    for (let i = 0; i < 10 && running.size < 12; i++) await new Promise((r) => setImmediate(r));
    expect(running.size).toBe(12);
    expect([...running].every((id) => id.startsWith('linked-'))).toBe(true);
    for (const g of gates.values()) g.open();
    for (let i = 0; i < 20 && gates.size < 16; i++) {
      await new Promise((r) => setImmediate(r));
      for (const g of gates.values()) g.open();
    }
    for (const g of gates.values()) g.open();
    await Promise.all(all);
    expect(Math.max(...seen)).toBe(12);
  });
});
