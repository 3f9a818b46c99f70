import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { describeError, reportError } from '../../src/cli/errors.js';
import type { CliIo } from '../../src/cli/io.js';
import { ConfigError, UserError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

function io(): CliIo & { stdout: Capture; stderr: Capture } {
  return { stdout: new Capture(), stderr: new Capture(), stdin: new PassThrough(), interactive: false, progressTty: false, env: {}, cwd: '/' };
}

describe('errors map to messages and exit codes in one place', () => {
  it('ConfigError: every issue with file:line, exit 2', () => {
    const o = io();
    const code = reportError(
      new ConfigError([
        { file: 'users.txt', line: 2, message: 'bad' },
        { file: 'users.txt', line: 5, message: 'worse' },
      ]),
      o,
      undefined,
    );
    expect(code).toBe(2);
    expect(o.stderr.text).toBe('error: 2 problems found:\nusers.txt:2: bad\nusers.txt:5: worse\n');
  });

  it('UserError: its message and its exit code', () => {
    const o = io();
    expect(reportError(new UserError('group g is busy'), o, undefined)).toBe(2);
    expect(reportError(new UserError('partly failed', { exitCode: 1 }), o, undefined)).toBe(1);
    expect(o.stderr.text).toBe('error: group g is busy\nerror: partly failed\n');
  });

  it('ProxmoxApiError: its message (never a token), exit 1', () => {
    const o = io();
    const err = new ProxmoxApiError({ status: 500, method: 'POST', path: '/nodes/pve1/qemu/9000/clone', pveMessage: 'storage full', retrySafe: false });
    const code = reportError(err, o, undefined);
    expect(code).toBe(1);
    expect(o.stderr.text).toMatch(/^error: Proxmox VE: .*storage full/);
  });

  it('anything else: "internal error, reference XYZ" on stderr, the details logged under that reference', () => {
    const o = io();
    const log = new Capture();
    const code = reportError(new TypeError('x is undefined'), o, createLogger({ level: 'error', destination: log }));
    expect(code).toBe(1);
    const ref = /^error: internal error, reference ([A-Z0-9]{6})\n$/.exec(o.stderr.text)?.[1];
    expect(ref).toBeDefined();
    const entry = JSON.parse(log.text) as { reference: string; err: { message: string; stack: string } };
    expect(entry.reference).toBe(ref);
    expect(entry.err.message).toBe('x is undefined');
    expect(o.stderr.text).not.toContain('x is undefined');
  });
});

describe('exit codes of a cluster that cannot be used, and of an interrupted run', () => {
  const api = (status: number, code?: string) =>
    new ProxmoxApiError({ status, method: 'GET', path: '/cluster/resources', pveMessage: 'x', retrySafe: true, ...(code ? { code } : {}) });

  it('unreachable, TLS mismatch, bad credentials and missing privileges exit 3, with a code for scripts', () => {
    expect(describeError(api(0, 'ECONNREFUSED'))).toMatchObject({ exitCode: 3, error: { code: 'unreachable' } });
    expect(describeError(api(0, 'ERR_TLS_FINGERPRINT_MISMATCH'))).toMatchObject({ exitCode: 3, error: { code: 'tls-mismatch' } });
    expect(describeError(api(401))).toMatchObject({ exitCode: 3, error: { code: 'bad-credentials' } });
    expect(describeError(api(403))).toMatchObject({ exitCode: 3, error: { code: 'missing-privileges' } });
    expect(describeError(api(500))).toMatchObject({ exitCode: 1, error: { code: 'proxmox' } });
  });

  it('an aborted job is 130; --json adds exactly one JSON object on stdout with the same code', () => {
    const aborted = Object.assign(new Error('interrupted by SIGINT'), { name: 'JobAbortedError' });
    expect(describeError(aborted).exitCode).toBe(130);
    const o = io();
    expect(reportError(new ConfigError({ file: 'p.yml', line: 3, path: 'machines[0]', message: 'bad' }), o, undefined, { json: true })).toBe(2);
    expect(JSON.parse(o.stdout.text)).toEqual({
      error: { code: 'bad-input', message: 'p.yml:3: machines[0]: bad', problems: [{ file: 'p.yml', line: 3, message: 'machines[0]: bad' }] },
    });
  });
});
