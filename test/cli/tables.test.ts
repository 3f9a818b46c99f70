import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactIds, displayWidth, fitText, renderTable, truncate } from '../../src/core/text-table.js';
import { lastJson, runCli } from './run-cli.js';
import { startSimEnv, type SimEnv } from './sim-env.js';

/** 30 students, some with Cyrillic names (one with a combining accent), as a real class list has. */
const CLASS = [
  ...Array.from({ length: 24 }, (_, i) => `student${String(i + 1).padStart(2, '0')}`),
  'иванов.пётр',
  'петрова.мария',
  'сидоров.алексей',
  'кузнецова.анна',
  'смирнов.и\u0306горь',
  'very.long.surname-with-a-double-barrel.of-a-student',
];

function widest(text: string): { width: number; line: string } {
  let best = { width: 0, line: '' };
  for (const line of text.split('\n')) {
    const w = displayWidth(line);
    if (w > best.width) best = { width: w, line };
  }
  return best;
}

describe('tables fit the terminal: a class of 30 on one screen', () => {
  let env: SimEnv;
  let users: string;

  beforeAll(async () => {
    env = await startSimEnv();
    users = path.join(env.dir, 'class30.txt');
    await writeFile(users, `${CLASS.join('\n')}\n`);
    const r = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--group', 'c30', '--start', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ ready: number }>(r.stdout).ready).toBe(30);
  }, 300_000);
  afterAll(async () => {
    await env?.close();
  });

  for (const columns of [80, 100, 160]) {
    it(`plan and status of 30 stands at ${columns} columns: no line wider, one line per stand`, async () => {
      const plan = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--group', 'c30', '--dry-run'], {
        env: { COLUMNS: String(columns) },
      });
      expect(plan.code, plan.stderr).toBe(0);
      const status = await runCli([...env.globals, 'status', '--group', 'c30'], { env: { COLUMNS: String(columns) } });
      expect(status.code, status.stderr).toBe(0);
      for (const [name, out] of [
        ['plan', plan.stdout],
        ['status', status.stdout],
      ] as const) {
        const w = widest(out);
        expect(w.width, `${name} at ${columns}: ${JSON.stringify(w.line)}`).toBeLessThanOrEqual(columns);
        // one line per stand, and no separator lines between rows
        for (const u of CLASS) {
          const lines = out.split('\n').filter((l) => l.startsWith(u.slice(0, 10)));
          expect(lines.length, `${name}: ${u}`).toBeGreaterThanOrEqual(1);
        }
        expect(out).not.toMatch(/[│─┼├┤]/);
      }
      const standLines = status.stdout.split('\n').filter((l) => /^\S+@pve /.test(l) || /^\S+… /.test(l));
      expect(standLines).toHaveLength(30);
      // Cyrillic names line up: the node column starts at the same display column on every stand's line
      const nodeColumn = new Set(standLines.map((l) => displayWidth(l.slice(0, l.search(/ pve\d /) + 1))));
      expect([...nodeColumn]).toHaveLength(1);
      // the console link is last, and cut with an ellipsis when it does not fit
      for (const l of standLines) expect(l).toMatch(/https:\/\/\S*$/);
      if (columns < 160) expect(standLines.some((l) => l.endsWith('…'))).toBe(true);
      if (columns === 160) {
        for (const l of standLines) expect(l).toMatch(/running {2}https:\/\/127\.0\.0\.1:\d+\/#v1:0:=qemu%2F\d+:4:::::::$/);
      }
    }, 120_000);
  }

  it('--wide shows every VM and the full link, still within the width', async () => {
    const r = await runCli([...env.globals, 'status', '--group', 'c30', '--wide'], { env: { COLUMNS: '100' } });
    expect(r.code, r.stderr).toBe(0);
    expect(widest(r.stdout).width).toBeLessThanOrEqual(100);
    expect(r.stdout).toMatch(/^c30 +student01@pve +pve\d +ready +\d+ student01-vm\b/m);
    expect(r.stdout).toMatch(/^ +running$/m);
    const plan = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--group', 'c30', '--dry-run', '--wide'], {
      env: { COLUMNS: '100' },
    });
    expect(widest(plan.stdout).width).toBeLessThanOrEqual(100);
    expect(plan.stdout).toMatch(/^student01@pve +pve\d +c30_student01 +\d+ vm +lan=vmbr\d+ +1 cores, /m);
  });

  it('status --group G --user U: one stand in detail', async () => {
    const r = await runCli([...env.globals, 'status', '--group', 'c30', '--user', 'иванов.пётр@pve'], { env: { COLUMNS: '80' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Stand of иванов\.пётр@pve in group c30\n {2}state: {3}ready, 1 running\n/);
    expect(r.stdout).toMatch(/^ {2}pool: {4}c30_\S+$/m);
    expect(r.stdout).toMatch(/^\d+ +\S+-vm +vm +pve\d +running/m);
    expect(widest(r.stdout).width).toBeLessThanOrEqual(80);
    const missing = await runCli([...env.globals, 'status', '--group', 'c30', '--user', 'nobody@pve']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no stand of nobody@pve in group c30; stands here belong to: student01@pve, /);
  });

  it('status --group nope says the group does not exist and lists those that do (exit 2), also with --json', async () => {
    const r = await runCli([...env.globals, 'status', '--group', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: group nope does not exist; groups in the state file: c30\n');
    expect(r.stdout).toBe('');
    const j = await runCli([...env.globals, 'status', '--group', 'nope', '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toEqual({
      error: { code: 'bad-input', message: 'group nope does not exist; groups in the state file: c30', problems: [] },
    });
  });

  it('colours: none in a pipe or with NO_COLOR, state colours with FORCE_COLOR', async () => {
    const plain = await runCli([...env.globals, 'status', '--group', 'c30']);
    expect(plain.stdout).not.toContain('\x1b[');
    const forced = await runCli([...env.globals, 'status', '--group', 'c30'], { env: { FORCE_COLOR: '1', COLUMNS: '100' } });
    expect(forced.stdout).toMatch(/\x1b\[32mready, 1 running\x1b\[39m/);
    // colour codes take no columns
    expect(widest(forced.stdout).width).toBeLessThanOrEqual(100);
    const off = await runCli([...env.globals, 'status', '--group', 'c30'], { env: { NO_COLOR: '1' } });
    expect(off.stdout).not.toContain('\x1b[');
  });
});

describe('text tables (src/core/text-table.ts)', () => {
  it('measures display width: Cyrillic 1, combining marks 0, CJK and emoji 2, ANSI codes 0', () => {
    expect(displayWidth('иванов')).toBe(6);
    expect(displayWidth('и\u0306')).toBe(1);
    expect(displayWidth('学生')).toBe(4);
    expect(displayWidth('👩‍🎓')).toBe(2);
    expect(displayWidth('\x1b[31mred\x1b[39m')).toBe(3);
  });

  it('truncates with an ellipsis and wraps at spaces, never past the width', () => {
    expect(truncate('https://pve1:8006/#v1:0', 10)).toBe('https://p…');
    expect(truncate('学生学生', 5)).toBe('学生…');
    const t = renderTable(
      [{ head: 'user' }, { head: 'note', shrink: 'wrap' }, { head: 'link', shrink: 'truncate', min: 6 }],
      [['иванов.пётр@pve', 'new user; a rather long note that has to wrap', 'https://example.invalid:8006/#v1:0:=qemu%2F101']],
      { width: 50 },
    );
    for (const l of t.split('\n')) expect(displayWidth(l)).toBeLessThanOrEqual(50);
    expect(t.split('\n')).toEqual([
      'user             note              link',
      'иванов.пётр@pve  new user; a       https://exampl…',
      '                 rather long note',
      '                 that has to wrap',
    ]);
    expect(fitText('word '.repeat(30).trim(), 20).split('\n').every((l) => displayWidth(l) <= 20)).toBe(true);
  });

  it('compacts VMIDs: 101–103, 105, 107, 108', () => {
    expect(compactIds([105, 101, 102, 103, 107, 108])).toBe('101–103, 105, 107, 108');
    expect(compactIds([])).toBe('');
  });
});
