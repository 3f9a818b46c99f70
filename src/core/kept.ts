/** What a cleanup leaves in place and why (cleanup.ts, cleanup-firewall.ts). */
import { render, type Msg } from '../i18n/index.js';

export interface CleanupKept {
  /** In English; `whatMsg`/`reasonMsg` are the same as codes (rendered in the reader's language). */
  what: string;
  reason: string;
  whatMsg?: Msg;
  reasonMsg?: Msg;
}

/** A kept object: English texts and their codes. */
export function keptItem(what: Msg, reason: Msg): CleanupKept {
  return { what: render('en', what), reason: render('en', reason), whatMsg: what, reasonMsg: reason };
}
