import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeParams, normalizeFingerprint } from '../../src/proxmox/http.js';
import { parseUpid, isTaskOk } from '../../src/proxmox/tasks.js';
import { ClusterResource, pveBool, pveInt, pveNum } from '../../src/proxmox/types.js';
import { isSupportedVersion, parsePveVersion } from '../../src/proxmox/version.js';
import { isAlreadyExists, isLockError, isNoWorker, ProxmoxApiError, TaskFailedError } from '../../src/proxmox/errors.js';

describe('form encoding (what PVE accepts)', () => {
  it('sends booleans as 1/0, arrays as repeated keys and leaves out undefined/null', () => {
    expect(encodeParams({ full: true, onboot: false, newid: 105, name: 'a b', skip: undefined, none: null, vms: [101, 102] })).toBe(
      'full=1&onboot=0&newid=105&name=a+b&vms=101&vms=102',
    );
  });
  it('encodes PVE property strings without mangling them', () => {
    expect(new URLSearchParams(encodeParams({ net0: 'virtio,bridge=vmbr0,tag=100' })).get('net0')).toBe('virtio,bridge=vmbr0,tag=100');
  });
});

describe('lenient number/boolean parsing (Perl has no types)', () => {
  it('accepts numbers as strings', () => {
    expect(pveInt.parse('105')).toBe(105);
    expect(pveInt.parse(105)).toBe(105);
    expect(pveNum.parse('0.25')).toBe(0.25);
    expect(() => pveInt.parse('10x')).toThrow();
    expect(() => pveInt.parse('1.5')).toThrow();
  });
  it('accepts 0/1, "0"/"1" and booleans as booleans', () => {
    expect([1, 0, '1', '0', true, false].map((v) => pveBool.parse(v))).toEqual([true, false, true, false, true, false]);
  });
  it('parses a cluster resource whose numbers came as strings', () => {
    const r = ClusterResource.parse({ id: 'qemu/100', type: 'qemu', vmid: '100', template: '0', maxmem: '4294967296', extra: 'x' });
    expect(r.vmid).toBe(100);
    expect(r.template).toBe(false);
    expect(r.maxmem).toBe(4294967296);
    expect((r as Record<string, unknown>).extra).toBe('x');
  });
  it('fails on a shape that is really wrong', () => {
    expect(z.array(ClusterResource).safeParse([{ type: 'qemu' }]).success).toBe(false);
  });
});

describe('fingerprints', () => {
  it('normalizes to PVE style AB:CD:… uppercase', () => {
    expect(normalizeFingerprint('ab:cd:ef')).toBe('AB:CD:EF');
    expect(normalizeFingerprint('abcdef01')).toBe('AB:CD:EF:01');
    expect(normalizeFingerprint('sha256:ab cd')).toBe('AB:CD');
  });
});

describe('UPIDs and task exit statuses', () => {
  it('parses a real UPID and a token-owned one', () => {
    expect(parseUpid('UPID:pve1:0035D677:03AB00C3:66DC5987:qmclone:132:root@pam:')).toMatchObject({
      node: 'pve1',
      type: 'qmclone',
      id: '132',
      user: 'root@pam',
      starttime: 0x66dc5987,
    });
    expect(parseUpid('UPID:pve2:0000ABCD:123456789:66DC5987:reloadnetworkall::root@pam!stands:')?.id).toBe('');
    expect(parseUpid('UPID:pve-node-1:00012345:00000000:qmstart:100:user@pam:')).toBeUndefined();
  });
  it('treats OK and WARNINGS as success, anything else as failure', () => {
    expect(isTaskOk('OK')).toBe(true);
    expect(isTaskOk('WARNINGS: 2')).toBe(true);
    expect(isTaskOk("clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout")).toBe(false);
    expect(isTaskOk(undefined)).toBe(false);
  });
});

describe('versions', () => {
  it('supports 8.1 to 9.x and refuses older', () => {
    expect(parsePveVersion('pve-manager/9.1.2/abc')).toEqual({ major: 9, minor: 1 });
    expect(['8.1', '8.4.5', '9.0.3', '9.1.2'].map(isSupportedVersion)).toEqual([true, true, true, true]);
    expect(['7.4-16', '8.0.4', 'garbage'].map(isSupportedVersion)).toEqual([false, false, false]);
  });
});

describe('error classification', () => {
  it('recognizes PVE lock refusals', () => {
    for (const t of [
      'VM is locked (clone)',
      "can't lock file '/var/lock/qemu-server/lock-203.conf' - got timeout",
      "cfs-lock 'storage-ceph' error: got lock request timeout",
      "cfs-lock 'file-user_cfg' error: got lock request timeout",
    ]) {
      expect(isLockError(t), t).toBe(true);
    }
    expect(isLockError('VM 100 already running')).toBe(false);
    expect(isNoWorker('got no worker upid - start worker failed')).toBe(true);
    expect(isAlreadyExists("user 'x@pve' already exists")).toBe(true);
  });
  it('ProxmoxApiError says method, path, status and PVE message, params included', () => {
    const e = new ProxmoxApiError({
      status: 400,
      method: 'POST',
      path: '/access/users',
      pveMessage: 'Parameter verification failed.',
      paramErrors: { userid: 'invalid format - value does not look like a valid user name' },
      retrySafe: false,
      cluster: 'lab',
    });
    expect(e.message).toBe(
      'lab: POST /access/users failed: 400 Parameter verification failed. (userid: invalid format - value does not look like a valid user name)',
    );
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ status: 400, method: 'POST', retrySafe: false });
  });
  it('TaskFailedError carries the log tail in its message', () => {
    const e = new TaskFailedError({ upid: 'U', node: 'pve1', type: 'qmstart', exitstatus: 'VM 105 already running', logTail: ['a', 'TASK ERROR: VM 105 already running'] });
    expect(e.message).toBe('task qmstart on pve1 failed: VM 105 already running\n  a\n  TASK ERROR: VM 105 already running');
  });
});
