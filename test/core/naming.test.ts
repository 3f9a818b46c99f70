import { describe, expect, it } from 'vitest';
import {
  allocateStandNames,
  defaultGroupName,
  groupTag,
  isValidPoolId,
  isValidTag,
  isValidVmName,
  normalizeGroupName,
  parseSegmentMarker,
  poolId,
  segmentMarker,
  standTags,
  vmName,
} from '../../src/core/naming.js';

describe('stand names', () => {
  it('keeps plain ASCII users readable', () => {
    const n = allocateStandNames('netlab', ['student01@pve', 'student02@pve']);
    expect(n.get('student01@pve')).toEqual({ userid: 'student01@pve', slug: 'student01', pool: 'netlab_student01' });
    expect(vmName('student01', 'gw')).toBe('student01-gw');
  });

  it('makes Cyrillic users ASCII and every derived name valid for PVE', () => {
    const users = ['Иванов@pve', 'Пётр.Сидоров@pve', 'иванов-2@pve'];
    const n = allocateStandNames('гр-101', users.map((u) => u));
    for (const u of users) {
      const s = n.get(u);
      expect(s?.slug).toMatch(/^[a-z0-9-]+$/);
      expect(isValidPoolId(s?.pool ?? '')).toBe(true);
      expect(isValidVmName(vmName(s?.slug ?? '', 'router-1'))).toBe(true);
    }
    expect(n.get('Иванов@pve')?.slug).toMatch(/^ivanov-[0-9a-f]{6}$/);
    expect(n.get('Пётр.Сидоров@pve')?.slug).toMatch(/^petr-sidorov-[0-9a-f]{6}$/);
  });

  it('never gives two users of a plan the same slug or pool', () => {
    const users = ['ivanov@pve', 'ivanov@ad', 'Ivan.Ov@pve', 'ivan_ov@pve', 'ivan-ov@pve'];
    const n = allocateStandNames('g', users);
    expect(new Set(users.map((u) => n.get(u)?.slug)).size).toBe(users.length);
    expect(new Set(users.map((u) => n.get(u)?.pool)).size).toBe(users.length);
    // the two ivanovs collide on the name part: both get a hash of their full userid
    expect(n.get('ivanov@pve')?.slug).toMatch(/^ivanov-[0-9a-f]{6}$/);
    expect(n.get('ivanov@ad')?.slug).toMatch(/^ivanov-[0-9a-f]{6}$/);
  });

  it('avoids pools that exist on the cluster but are not ours, and keeps recorded ones', () => {
    const n = allocateStandNames('lab', ['a@pve', 'b@pve'], {
      takenPools: new Set(['lab_a']),
      ownPools: new Map([['b@pve', 'lab_b-recorded']]),
    });
    expect(n.get('a@pve')?.pool).toMatch(/^lab_a-[0-9a-f]{6}$/);
    expect(n.get('b@pve')?.pool).toBe('lab_b-recorded');
  });

  it('keeps first.last ids readable and the whole group name in the pool when it fits', () => {
    const n = allocateStandNames('netlab-users.example', ['ivanov.ivan@pve', 'petrova_maria@pve']);
    expect(n.get('ivanov.ivan@pve')).toMatchObject({ slug: 'ivanov-ivan', pool: 'netlab-users.example_ivanov-ivan' });
    expect(n.get('petrova_maria@pve')?.slug).toBe('petrova-maria');
    expect(vmName('ivanov-ivan', 'gw')).toBe('ivanov-ivan-gw');
  });

  it('starts pool ids with a letter and caps their length', () => {
    expect(poolId('101', 'x')).toBe('s101_x');
    const long = poolId('a'.repeat(30), 'b'.repeat(20));
    expect(long).toMatch(/^a{12}-[0-9a-f]{6}_b{20}$/);
    expect(long.length).toBeLessThanOrEqual(40);
    expect(isValidPoolId(long)).toBe(true);
  });

  it('caps VM names at 63 characters', () => {
    const name = vmName('a'.repeat(60), 'machine-with-a-long-name');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(isValidVmName(name)).toBe(true);
    expect(name.endsWith('-machine-with-a-long-name')).toBe(true);
  });
});

describe('groups, tags, markers', () => {
  it('tags every VM stands and stands-<group>, valid PVE tags', () => {
    expect(standTags('netlab-users.example')).toEqual(['stands', 'stands-netlab-users.example']);
    expect(isValidTag(groupTag('a_b.c-d'))).toBe(true);
  });

  it('refuses group names that cannot be used as is', () => {
    expect(normalizeGroupName('NetLab-2026')).toBe('netlab-2026');
    expect(() => normalizeGroupName('my group')).toThrow(
      'group name "my group" is not valid: use 1–40 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
    expect(() => normalizeGroupName('a:b')).toThrow(/is not valid/);
  });

  it('derives the default group from profile and list file', () => {
    expect(defaultGroupName('netlab', 'data/users.example.txt')).toBe('netlab-users.example');
    expect(defaultGroupName('netlab', '/x/class-10a.csv')).toBe('netlab-class-10a');
    expect(defaultGroupName('netlab', '/x/Группа.txt')).toMatch(/^netlab-gruppa-[0-9a-f]{6}$/);
  });

  it('round-trips the segment marker and ignores foreign comments', () => {
    const m = segmentMarker('netlab', 'ivanov-1a2b3c', 'hq');
    expect(m).toBe('stands:netlab:ivanov-1a2b3c:hq');
    expect(parseSegmentMarker(m)).toEqual({ group: 'netlab', user: 'ivanov-1a2b3c', alias: 'hq' });
    expect(parseSegmentMarker('lab uplink (alice)')).toBeUndefined();
    expect(parseSegmentMarker(undefined)).toBeUndefined();
  });
});
