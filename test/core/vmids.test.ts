import { describe, expect, it } from 'vitest';
import { VmidAllocator } from '../../src/core/vmids.js';

describe('VMID allocation', () => {
  it('skips ids in use on the cluster, recorded in the store and journaled, lowest first', () => {
    const a = new VmidAllocator({ min: 10000, max: 10005 }, [10000, 10002, 99, 10004]);
    expect(a.free).toBe(3);
    expect([a.next(), a.next(), a.next()]).toEqual([10001, 10003, 10005]);
    expect(a.next()).toBeUndefined();
  });

  it('keeps a reserved (recorded) id out of the allocation', () => {
    const a = new VmidAllocator({ min: 100, max: 102 }, []);
    a.reserve(100);
    expect(a.isTaken(100)).toBe(true);
    expect(a.next()).toBe(101);
  });

  it('rejects a range PVE would not accept', () => {
    expect(() => new VmidAllocator({ min: 50, max: 60 }, [])).toThrow('invalid VMID range 50–60');
    expect(() => new VmidAllocator({ min: 200, max: 100 }, [])).toThrow('invalid VMID range 200–100');
  });
});
