import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration } from '../../src/cli/progress.js';
import type { CliIo } from '../../src/cli/io.js';
import type { EngineEvent } from '../../src/core/types.js';

class Terminal extends Writable {
  text = '';
  isTTY: boolean;
  columns = 160;
  rows = 40;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  // cli-progress drives the cursor through these (node's tty.WriteStream API)
  cursorTo(x: number): boolean {
    this.text += `\x1b[${x + 1}G`;
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  clearScreenDown(): boolean {
    return true;
  }
}

function io(stderr: Terminal): CliIo {
  return { stdout: new Terminal(false), stderr, stdin: new PassThrough(), interactive: stderr.isTTY, progressTty: stderr.isTTY, env: {}, cwd: '/' };
}

const EVENTS: EngineEvent[] = [
  { type: 'job-started', job: 'deploy-1', total: 2, message: 'deploying g' },
  { type: 'step-started', job: 'deploy-1', stand: 'anna@pve', vm: 10000, step: 'clone' },
  { type: 'retry', job: 'deploy-1', stand: 'anna@pve', vm: 10000, step: 'clone', message: 'VM is locked (clone)' },
  { type: 'step-finished', job: 'deploy-1', stand: 'anna@pve', vm: 10000, step: 'clone' },
  { type: 'progress', job: 'deploy-1', done: 3, total: 6, etaMs: 65_000 },
  { type: 'stand-done', job: 'deploy-1', stand: 'anna@pve', message: 'anna@pve ready on pve1' },
  { type: 'stand-failed', job: 'deploy-1', stand: 'boris@pve', step: 'clone', message: 'storage full' },
  { type: 'job-finished', job: 'deploy-1', message: 'partial: 1 ready, 1 failed' },
];

describe('progress display', () => {
  it('not on a terminal: one timestamped line per event', () => {
    const err = new Terminal(false);
    const p = createProgress(io(err));
    for (const e of EVENTS) p.onEvent(e);
    p.stop();
    const lines = err.text.trimEnd().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(lines).toEqual([
      'job deploy-1 started (2 stands) deploying g',
      'anna@pve vm 10000: clone…',
      'anna@pve vm 10000: retry clone: VM is locked (clone)',
      'anna@pve vm 10000: clone done',
      'progress 3/6, ETA 1m05s',
      '✔ anna@pve ready on pve1',
      '✘ boris@pve FAILED at clone: storage full',
      'job deploy-1 finished partial: 1 ready, 1 failed',
    ]);
  });

  it('on a terminal: an overall bar with steps, stands, failures, retries and ETA; finished stands stay as lines', () => {
    const err = new Terminal(true);
    const p = createProgress(io(err), { label: 'g' });
    for (const e of EVENTS) p.onEvent(e);
    p.stop();
    expect(err.text).toContain('3/6 steps | 1/2 stands done | 1 failed | 1 retry | ETA 1m05s');
    expect(err.text).toContain('✔ anna@pve ready on pve1');
    expect(err.text).toContain('✘ boris@pve failed at clone: storage full');
  });

  it('durations read like a person would say them', () => {
    expect([formatDuration(undefined), formatDuration(4_400), formatDuration(65_000), formatDuration(3_900_000)]).toEqual([
      '--',
      '4s',
      '1m05s',
      '1h05m',
    ]);
  });
});
