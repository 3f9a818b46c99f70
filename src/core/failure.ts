/**
 * Why something failed, as a code the faces render in the reader's language (src/i18n run.*.ts). The English
 * rendering is exactly `reasonOf(err)`, the text records have always carried in `error`.
 */
import { isMsg, msg, render, type Msg } from '../i18n/index.js';
import { ProxmoxApiError, TaskFailedError } from '../proxmox/errors.js';
import { JobAbortedError, reasonOf } from './executor.js';

/** An error that carries its reason as a code (StandFailure, UserError, …). */
interface Coded {
  msg?: Msg;
}

export function failureMsg(err: unknown): Msg {
  if (err instanceof Error && isMsg((err as Coded).msg)) return (err as Coded).msg!;
  if (err instanceof TaskFailedError) return msg('fail.task', { reason: reasonOf(err) });
  if (err instanceof ProxmoxApiError) {
    const params = Object.entries(err.paramErrors)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    const m = msg('fail.api', {
      ...(err.cluster ? { cluster: err.cluster } : {}),
      request: `${err.method} ${err.path}`,
      status: err.status,
      text: `${err.pveMessage}${params ? ` (${params})` : ''}`,
    });
    // a subclass with a message of its own keeps it
    return render('en', m) === err.message ? m : msg('fail.text', { message: err.message });
  }
  if (err instanceof JobAbortedError && err.message === render('en', msg('fail.cancelled'))) return msg('fail.cancelled');
  return msg('fail.text', { message: reasonOf(err) });
}

/** The English text and the code of a failure, for a record's `error` and `errorMsg`. */
export function failureOf(reason: unknown): { error: string; errorMsg: Msg } {
  const m = isMsg(reason) ? reason : failureMsg(reason);
  return { error: render('en', m), errorMsg: m };
}
