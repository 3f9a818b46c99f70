import { createInterface } from 'node:readline/promises';
import { UserError } from '../errors.js';
import { msg, say, type Lang } from '../i18n/index.js';
import type { CliIo } from './io.js';

/**
 * Ask before a destructive or creating action. `--yes` skips the question; without a terminal there is
 * nobody to ask, so we refuse (nothing done) and say how to confirm.
 */
export async function confirm(io: CliIo, question: string, yes: boolean | undefined, lang: Lang = 'en'): Promise<boolean> {
  if (yes) return true;
  if (!io.interactive) throw new UserError(msg('out.confirmNeeded', { question }));
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    const answer = await rl.question(`${question} ${say(lang, 'out.yesNo')} `, io.signal ? { signal: io.signal } : {});
    return /^(y|yes|д|да)$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

/** The user said no: nothing was done. */
export function cancelled(): never {
  throw new UserError(msg('out.cancelled'));
}
