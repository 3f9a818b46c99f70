import { markPasswordsShown } from '../../core/credentials.js';
import { resume } from '../../core/deploy.js';
import { withContext } from '../engine.js';
import { retryAfterStaleLock } from '../lock-wait.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { cliRequester } from '../io.js';
import { print } from '../output.js';
import type { CommandEnv } from '../program.js';
import { createProgress } from '../progress.js';
import { printDeployResult } from './deploy.js';
import { say } from '../../i18n/index.js';
import { langOf } from '../lang.js';

export interface ResumeOptions {
  group?: string;
  json?: boolean;
  wide?: boolean;
}

const UNFINISHED = new Set(['queued', 'running', 'cancelled', 'partial', 'failed']);

/** `stands resume`: runs interrupted deploy jobs again from their stored plan; they converge (idempotent). */
export async function resumeCommand(opts: ResumeOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const lang = langOf(env);
  return withContext(env, {}, async (ctx) => {
    const jobs = (await ctx.store.jobs.list(opts.group ? { group: opts.group } : {})).filter(
      (j) => j.kind === 'deploy' && UNFINISHED.has(j.status),
    );
    // the newest unfinished deploy per group: an older one is superseded by it
    const latest = new Map<string, (typeof jobs)[number]>();
    for (const j of jobs) {
      const key = j.group ?? j.id;
      const prev = latest.get(key);
      if (!prev || prev.createdAt < j.createdAt) latest.set(key, j);
    }
    if (latest.size === 0) {
      if (opts.json) print(io, JSON.stringify({ resumed: [] }));
      else print(io, say(lang, 'out.nothingToResume', opts.group ? { group: opts.group } : {}));
      return EXIT_OK;
    }
    let code = EXIT_OK;
    const results = [];
    for (const job of latest.values()) {
      const progress = createProgress(io, { label: job.group ?? job.id, lang });
      progress.log(say(lang, 'out.resuming', { job: job.id, group: job.group ?? '?', status: job.status }));
      try {
        const result = await retryAfterStaleLock(io, () =>
          resume(ctx, job.id, {
            onEvent: (e) => progress.onEvent(e),
            ...(io.signal ? { signal: io.signal } : {}),
            requestedBy: cliRequester(io),
          }),
        );
        progress.stop();
        results.push(result);
        if (!opts.json) {
          printDeployResult(io, result, { wide: opts.wide, lang });
          await markPasswordsShown(ctx, result.credentials, 'printed');
        }
        if (result.status !== 'succeeded') code = EXIT_PARTIAL;
      } finally {
        progress.stop();
      }
    }
    if (opts.json) {
      print(io, JSON.stringify({ resumed: results }));
      for (const r of results) await markPasswordsShown(ctx, r.credentials, 'printed (JSON)');
    }
    return code;
  });
}
