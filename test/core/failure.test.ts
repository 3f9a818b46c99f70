import { describe, expect, it } from 'vitest';
import { StandFailure } from '../../src/core/deploy/context.js';
import { JobAbortedError, reasonOf } from '../../src/core/executor.js';
import { failureMsg, failureOf } from '../../src/core/failure.js';
import { msg, render, stored } from '../../src/i18n/index.js';
import { ProxmoxApiError, TaskFailedError } from '../../src/proxmox/errors.js';

/** A stand's failure is kept as a code; its English rendering is the text records have always carried. */
describe('failure codes', () => {
  const api = new ProxmoxApiError({
    status: 500, method: 'POST', path: '/nodes/pve1/qemu/9000/clone', pveMessage: 'storage full', paramErrors: { target: 'bad node' }, retrySafe: false, cluster: 'lab',
  });
  const offline = new ProxmoxApiError({ status: 0, method: 'GET', path: '/version', pveMessage: 'ECONNREFUSED', retrySafe: true });
  const task = new TaskFailedError({ upid: 'UPID:x', node: 'pve1', type: 'qmclone', exitstatus: 'clone failed', logTail: ['lvcreate: no space', 'TASK ERROR: clone failed'] });

  it('renders in English exactly as reasonOf did, for Proxmox answers, tasks, cancellations and plain errors', () => {
    for (const err of [api, offline, task, new JobAbortedError(), new Error('first line\nsecond')]) {
      expect(render('en', failureMsg(err))).toBe(reasonOf(err));
    }
    expect(failureMsg(new StandFailure(msg('fail.vmVanished', { vmid: 7 })))).toEqual({ code: 'fail.vmVanished', params: { vmid: 7 } });
  });

  it("in Russian, Proxmox's own words are quoted and the rest is Russian", () => {
    expect(render('ru', failureMsg(api))).toBe('lab: POST /nodes/pve1/qemu/9000/clone: Proxmox ответил ошибкой 500: «storage full (target: bad node)»');
    expect(render('ru', failureMsg(offline))).toBe('GET /version: нет ответа от Proxmox («ECONNREFUSED»)');
    expect(render('ru', failureMsg(task))).toBe('задача Proxmox завершилась с ошибкой: «clone failed (lvcreate: no space)»');
    expect(failureOf(task)).toEqual({ error: 'clone failed (lvcreate: no space)', errorMsg: { code: 'fail.task', params: { reason: 'clone failed (lvcreate: no space)' } } });
  });

  it('a stored code this version does not know falls back to the English text beside it', () => {
    expect(stored('ru', { code: 'fail.fromTheFuture', params: {} }, 'it broke')).toBe('it broke');
    expect(stored('ru', undefined, undefined, 'ошибка')).toBe('ошибка');
    expect(stored('ru', { code: 'fail.vmVanished', params: { vmid: 7 } }, 'VM 7 vanished right after its clone finished')).toBe(
      'ВМ 7 исчезла сразу после завершения клонирования',
    );
  });
});
