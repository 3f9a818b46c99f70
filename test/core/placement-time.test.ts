/**
 * Time-aware placement (issue 14): from the balanced placement, stands move to where the estimated makespan is
 * lower (the node holding the templates clones at once; another needs a replica chain first), never past the
 * capacity limits, never moving a recorded stand, and not at all when nothing is gained.
 */
import { describe, expect, it } from 'vitest';
import type { TemplateDisk } from '../../src/core/estimate.js';
import type { PlacementNode } from '../../src/core/placement.js';
import { improveForTime, type SourceKind, type StandShape, type TimePlacementInput } from '../../src/core/placement-time.js';
import { defaultTimingModel } from '../../src/core/timing-model.js';

const templates = new Map<number, TemplateDisk>([
  [9000, { diskGiB: 8, storage: 'local-lvm', node: 'a' }],
  [9001, { diskGiB: 4, storage: 'local-lvm', node: 'a' }],
  [9002, { diskGiB: 16, storage: 'ceph', node: 'b' }],
]);
const node = (name: string, memGiB = 64): PlacementNode => ({ name, maxMemMiB: memGiB * 1024, maxCpu: 16, baseMemMiB: 0, baseCores: 0 });
const shapes = (n: number, pinnedFirst = 0): StandShape[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `s${i}`,
    vms: [9001, 9002, 9000].map((v) => ({ sourceVmid: v, full: false })),
    bridges: 1,
    memMiB: 2560,
    cores: 3,
    userExists: false,
    pinned: i < pinnedFirst,
  }));
const input = (s: StandShape[], nodes: PlacementNode[], warm = false): TimePlacementInput => ({
  shapes: s,
  nodes,
  limits: { memory: 0.9, cpuOvercommit: 4 },
  sourceOf: (vmid, n): SourceKind => (vmid === 9002 || templates.get(vmid)?.node === n ? 'direct' : warm ? 'replica-exists' : 'replica-needed'),
  templates,
  sharedStorages: new Set(['ceph']),
  model: defaultTimingModel(),
  start: true,
});
const count = (a: string[]) => a.reduce<Record<string, number>>((o, n) => ({ ...o, [n]: (o[n] ?? 0) + 1 }), {});

describe('improveForTime', () => {
  it('moves stands to the node holding the templates while the estimate drops, and says what it saved', () => {
    const s = shapes(12);
    const balanced = s.map((_, i) => (i % 2 ? 'b' : 'a'));
    const r = improveForTime(input(s, [node('a'), node('b')]), balanced);
    expect(r.moved).toBeGreaterThan(0);
    expect(count(r.assignment).a).toBeGreaterThan(6);
    expect(r.estimate.ms).toBeLessThan(r.before.ms * 0.98);
  });

  it('never fills a node past the limits: 16 cores × 4 = 64 vCPU takes at most 21 stands of 3', () => {
    const s = shapes(24);
    const r = improveForTime(input(s, [node('a'), node('b')]), s.map((_, i) => (i % 2 ? 'b' : 'a')));
    expect(count(r.assignment).a).toBeLessThanOrEqual(21);
    expect(r.assignment.filter((n) => n === 'a').length * 2560).toBeLessThanOrEqual(64 * 1024 * 0.9);
  });

  it('never moves a recorded (pinned) stand', () => {
    const s = shapes(10, 4);
    const initial = s.map((_, i) => (i < 4 ? 'b' : i % 2 ? 'b' : 'a'));
    const r = improveForTime(input(s, [node('a'), node('b')]), initial);
    for (let i = 0; i < 4; i++) expect(r.assignment[i]).toBe('b');
  });

  it('keeps the balanced placement when moving gains nothing worth it (replicas already on both nodes)', () => {
    const s = shapes(2);
    const r = improveForTime(input(s, [node('a'), node('b')], true), ['a', 'b']);
    expect(r.moved).toBe(0);
    expect(r.assignment).toEqual(['a', 'b']);
  });
});
