/**
 * After a restart: deploy jobs the bot started and that did not finish are resumed by the engine, and their
 * progress message is picked up again by its stored channel/message id (edited with the bot token; a new
 * channel message if the old one is gone). Interaction tokens are not stored, so credentials of a resumed job
 * go to the teacher by DM.
 */
import { markPasswordsShown } from '../core/credentials.js';
import { deployStepCounts, resume } from '../core/deploy.js';
import type { DeployPlan } from '../core/types.js';
import { GroupBusyError } from '../store/index.js';
import { deliverCredentials } from './credentials.js';
import { deployOutcome, discordIdOf } from './engine-glue.js';
import { messages } from './i18n.js';
import type { Bot } from './types.js';

export async function resumeJobs(bot: Bot): Promise<string[]> {
  const { app, settings } = bot;
  const lang = settings.language ?? 'en';
  const m = messages(lang);
  const resumed: string[] = [];
  const running = await app.store.jobs.listRunning();
  for (const job of running) {
    if (job.kind !== 'deploy' || job.requestedBy.via !== 'discord' || !job.discord || !job.group) continue;
    const plan = (job.result as { plan?: DeployPlan } | undefined)?.plan;
    const actor = { id: job.requestedBy.id ?? '0', name: job.requestedBy.name ?? 'discord' };
    const logger = bot.logger.child({ job: job.id, group: job.group });
    try {
      await bot.jobs.start({
        kind: 'deploy',
        group: job.group,
        cluster: job.cluster ?? app.defaultCluster,
        actor,
        lang,
        channelId: job.discord.channelId,
        ...(job.discord.messageId ? { existingMessageId: job.discord.messageId } : {}),
        stands: plan?.stands.map((s) => s.userid) ?? [],
        ...(plan ? { standSteps: deployStepCounts(plan) } : {}),
        note: m.resumedAfterRestart,
        jobId: job.id,
        run: async (onEvent, signal) => {
          // after a crash our own stale lock (`job:<id>`) may still be held until its TTL runs out: wait for it
          for (;;) {
            try {
              return deployOutcome(await resume(app, job.id, { onEvent, signal, requestedBy: job.requestedBy }), lang);
            } catch (err) {
              if (!(err instanceof GroupBusyError) || err.holder !== `job:${job.id}` || signal.aborted) throw err;
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        },
        after: async (r) => {
          await bot.audit({
            actor: actor.name,
            actorId: actor.id,
            action: 'deploy',
            outcome: r.outcome === 'succeeded' ? 'ok' : r.outcome === 'partial' ? 'partial' : 'failed',
            group: job.group!,
            job: job.id,
            details: { phase: 'finished', resumed: true },
          });
          await deliverCredentials({
            client: bot.client,
            m,
            group: job.group!,
            creds: r.credentials,
            teacherId: actor.id,
            tokenSwitchMs: settings.tokenSwitchMs,
            discordOf: (userid) => discordIdOf(app, plan, userid),
            logger,
            shown: (creds, how) => markPasswordsShown(app, creds, how),
          });
        },
      });
      resumed.push(job.id);
      logger.info('resumed a deploy after restart');
    } catch (err) {
      logger.error({ err }, 'could not resume a job');
    }
  }
  return resumed;
}
