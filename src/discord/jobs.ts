/**
 * Long jobs as seen from Discord: one per group at a time, queued per cluster, progress in one message that is
 * edited (throttled) while the job runs. An interaction token lives 15 minutes, so the message starts as a
 * webhook follow-up and moves to an ordinary channel message (bot token) once the token is `tokenSwitchMs` old
 * or is refused. Where the message is goes into the job's record in the store, so after a restart the bot finds
 * it again (interaction tokens are never stored).
 */
import { RESTJSONErrorCodes, Routes, type APIEmbed, type Client } from 'discord.js';
import PQueue from 'p-queue';
import type { Logger } from '../log.js';
import type { EngineEvent } from '../core/types.js';
import type { Store } from '../store/index.js';
import { UserError } from '../errors.js';
import { messages, type Lang } from './i18n.js';
import { applyEvent, newProgress, renderProgress, ThrottledEditor, type JobOutcome, type ProgressState } from './progress.js';
import type { DiscordSettings } from './settings.js';

export interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: unknown[];
}

export interface InteractionHandle {
  appId: string;
  token: string;
  /** When the interaction was created (its token's clock starts then). */
  createdAt: number;
  /** Set once Discord refused the token (401/50027): it is never used again. */
  dead?: boolean;
}

function errCode(err: unknown): { status?: number; code?: number | string } {
  const e = err as { status?: number; code?: number | string };
  return { status: e?.status, code: e?.code };
}

export function messageUrl(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}

/** One progress message, wherever it currently lives. */
export class ProgressMessage {
  messageId: string | undefined;
  via: 'webhook' | 'channel';
  edits = 0;
  constructor(
    private readonly client: Client,
    private readonly settings: DiscordSettings,
    readonly channelId: string,
    private readonly interaction: InteractionHandle | undefined,
    private readonly onMove: (messageId: string) => Promise<unknown> | void,
    private readonly logger: Logger,
    existing?: { messageId: string },
    private readonly now: () => number = Date.now,
  ) {
    this.messageId = existing?.messageId;
    this.via = existing || !interaction ? 'channel' : 'webhook';
  }

  tokenUsable(): boolean {
    return !!this.interaction && !this.interaction.dead && this.now() - this.interaction.createdAt < this.settings.tokenSwitchMs;
  }

  private body(b: MessageBody) {
    return { ...b, allowed_mentions: { parse: [] } };
  }

  async send(b: MessageBody): Promise<void> {
    if (!this.messageId) return this.create(b);
    if (this.via === 'webhook') {
      if (!this.tokenUsable()) return this.moveToChannel(b);
      try {
        await this.client.rest.patch(Routes.webhookMessage(this.interaction!.appId, this.interaction!.token, this.messageId), {
          body: this.body(b),
          auth: false,
        });
        this.edits++;
      } catch (err) {
        const { status, code } = errCode(err);
        // 50027 Invalid Webhook Token: the token died earlier than we thought; never retry with it.
        if (status === 401 || code === RESTJSONErrorCodes.InvalidWebhookToken || code === RESTJSONErrorCodes.UnknownWebhook) {
          this.interaction!.dead = true;
          return this.moveToChannel(b, true);
        }
        throw err;
      }
      return;
    }
    try {
      await this.client.rest.patch(Routes.channelMessage(this.channelId, this.messageId), { body: this.body(b) });
      this.edits++;
    } catch (err) {
      const { status, code } = errCode(err);
      // gone, or not editable with the bot token (e.g. 50005): carry on in a new channel message
      if (code === RESTJSONErrorCodes.UnknownMessage || status === 403 || code === RESTJSONErrorCodes.CannotEditMessageAuthoredByAnotherUser) {
        this.messageId = undefined;
        await this.create(b);
        if (this.messageId) await this.onMove(this.messageId);
        return;
      }
      throw err;
    }
  }

  private async create(b: MessageBody): Promise<void> {
    if (this.tokenUsable()) {
      try {
        const msg = (await this.client.rest.post(Routes.webhook(this.interaction!.appId, this.interaction!.token), {
          body: this.body(b),
          query: new URLSearchParams({ wait: 'true' }),
          auth: false,
        })) as { id: string };
        this.messageId = msg.id;
        this.via = 'webhook';
        return;
      } catch (err) {
        const { status, code } = errCode(err);
        if (!(status === 401 || code === RESTJSONErrorCodes.InvalidWebhookToken || code === RESTJSONErrorCodes.UnknownWebhook)) throw err;
        this.interaction!.dead = true;
      }
    }
    {
      const msg = (await this.client.rest.post(Routes.channelMessages(this.channelId), { body: this.body(b) })) as { id: string };
      this.messageId = msg.id;
      this.via = 'channel';
    }
  }

  private async moveToChannel(b: MessageBody, tokenDead = false): Promise<void> {
    const old = this.messageId;
    const msg = (await this.client.rest.post(Routes.channelMessages(this.channelId), { body: this.body(b) })) as { id: string };
    this.messageId = msg.id;
    this.via = 'channel';
    this.logger.info({ from: old, to: msg.id }, 'progress moved to a channel message');
    // point the old message at the new one while the token still works (best effort: it may be just too old)
    if (old && !tokenDead && this.interaction && this.now() - this.interaction.createdAt < 15 * 60_000) {
      const m = messages(this.settings.language ?? 'en');
      await this.client.rest
        .patch(Routes.webhookMessage(this.interaction.appId, this.interaction.token, old), {
          body: { content: m.movedToChannel(messageUrl(this.settings.guildId, this.channelId, msg.id)), embeds: [], components: [] },
          auth: false,
        })
        .catch(() => undefined);
    }
    await this.onMove(msg.id);
  }
}

export interface JobResult {
  outcome: JobOutcome;
  /** Extra lines for the final embed (e.g. failed stands with their reason). */
  note?: string;
}

export interface StartJobOptions<R extends JobResult> {
  kind: string;
  group: string;
  cluster: string;
  actor: { id: string; name: string };
  lang: Lang;
  channelId: string;
  /** Stand names known before the start (shown as waiting). */
  stands?: string[];
  /** Steps per stand (a deploy's `deployStepCounts(plan)`): a stand counts as done when its last step finishes. */
  standSteps?: Record<string, number>;
  interaction?: InteractionHandle;
  /** Reattach to a progress message that exists (after a restart). */
  existingMessageId?: string;
  note?: string;
  /** Known job id (a resumed job): its record learns where the progress message is at once. */
  jobId?: string;
  run(onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<R>;
  /** After the final state is shown (credentials, audit); part of the job, so shutdown waits for it. */
  after?(result: R): Promise<void>;
}

export interface RunningJob {
  kind: string;
  group: string;
  cluster: string;
  actor: { id: string; name: string };
  jobId?: string;
  state: ProgressState;
  message: ProgressMessage;
  editor: ThrottledEditor<MessageBody>;
  abort: AbortController;
  done: Promise<unknown>;
}

export class JobManager {
  private readonly queues = new Map<string, PQueue>();
  readonly active = new Map<string, RunningJob>();
  private stopping = false;

  constructor(
    private readonly o: { client: Client; store: Store; settings: DiscordSettings; logger: Logger },
  ) {}

  /** Who holds a group in this bot (the store's lock covers other processes). */
  holder(group: string): RunningJob | undefined {
    return this.active.get(group);
  }

  list(): RunningJob[] {
    return [...this.active.values()];
  }

  private queue(cluster: string): PQueue {
    let q = this.queues.get(cluster);
    if (!q) {
      q = new PQueue({ concurrency: this.o.settings.jobsPerCluster });
      this.queues.set(cluster, q);
    }
    return q;
  }

  /**
   * Starts (or queues) a job; resolves once its progress message exists. `finished` resolves with the result
   * after the final state was shown.
   */
  async start<R extends JobResult>(o: StartJobOptions<R>): Promise<{ job: RunningJob; finished: Promise<R | undefined> }> {
    const m = messages(o.lang);
    if (this.stopping) throw new UserError(m.groupBusy(o.group, 'shutdown'));
    const held = this.active.get(o.group);
    if (held) throw new UserError(m.groupBusy(o.group, held.actor.name));
    const logger = this.o.logger.child({ kind: o.kind, group: o.group });
    const state = newProgress(o.kind, o.group, o.jobId ?? '…', o.stands ?? [], o.standSteps);
    if (o.note) state.note = o.note;
    let jobId: string | undefined = o.jobId;
    const persist = async (messageId: string): Promise<boolean> => {
      if (!jobId) return false;
      return this.o.store.jobs
        .update(jobId, { discord: { channelId: o.channelId, messageId } })
        .then(() => true)
        .catch((err: unknown) => {
          // the engine may not have written the job record yet: the next event tries again
          logger.debug({ err, job: jobId }, 'could not record the progress message yet');
          return false;
        });
    };
    const message = new ProgressMessage(this.o.client, this.o.settings, o.channelId, o.interaction, persist, logger, o.existingMessageId ? { messageId: o.existingMessageId } : undefined);
    const editor = new ThrottledEditor<MessageBody>({
      intervalMs: this.o.settings.progressIntervalMs,
      send: (b) => message.send(b),
      onError: (err) => logger.warn({ err }, 'progress edit failed'),
    });
    const abort = new AbortController();
    const job: RunningJob = { ...(o.jobId ? { jobId: o.jobId } : {}), kind: o.kind, group: o.group, cluster: o.cluster, actor: o.actor, state, message, editor, abort, done: Promise.resolve() };
    this.active.set(o.group, job);
    const q = this.queue(o.cluster);
    const ahead = q.size + q.pending;
    const render = () => ({ embeds: [renderProgress(state, m)], components: [] });
    if (ahead > 0) state.note = [o.note, m.queued(ahead)].filter(Boolean).join('\n');
    try {
      const first = render();
      await message.send(first);
      editor.shownNow(first);
    } catch (err) {
      this.active.delete(o.group);
      throw err;
    }
    if (ahead > 0) state.note = o.note;
    // the engine creates the job record when it starts: tell it where the message is at the first event
    let persisted = false;
    const onEvent = (e: EngineEvent) => {
      if (e.job && !job.jobId) {
        jobId = e.job;
        job.jobId = e.job;
        state.job = e.job;
      }
      if (!persisted && jobId && message.messageId) {
        // recorded as soon as possible: a bot killed without a shutdown (SIGKILL, a crash) is resumed from it
        persisted = true;
        void persist(message.messageId).then((ok) => {
          if (!ok) persisted = false;
        });
      }
      applyEvent(state, e);
      editor.push(render());
    };
    const finished = (q
      .add(async () => {
        let result: R | undefined;
        try {
          result = await o.run(onEvent, abort.signal);
          if (result.outcome === 'cancelled' && this.stopping && jobId && o.kind === 'deploy') {
            // interrupted by our own shutdown: the engine checkpointed; queue it so the next start resumes it
            // (deploys only: the engine resumes deploys; a cut cleanup is simply run again)
            await this.o.store.jobs.update(jobId, { status: 'queued' }).catch((err: unknown) => logger.warn({ err }, 'could not queue the job for resume'));
            state.note = m.paused;
            result = undefined;
          } else {
            state.outcome = result.outcome;
            if (result.note) state.note = result.note;
          }
        } catch (err) {
          if (abort.signal.aborted && this.stopping) {
            state.note = m.paused;
          } else {
            state.outcome = 'failed';
            state.note = err instanceof UserError ? err.text(o.lang) : m.internalError(jobId ?? 'job');
            logger.error({ err, job: jobId }, 'job failed');
          }
        }
        await editor.finish(render());
        if (result && o.after) await o.after(result).catch((err: unknown) => logger.error({ err, job: jobId }, 'after-job step failed'));
        return result;
      }) as Promise<R | undefined>)
      .finally(() => {
        if (this.active.get(o.group) === job) this.active.delete(o.group);
      });
    job.done = finished.catch(() => undefined);
    return { job, finished };
  }

  private readonly chains = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier `serial` call with the same key (self-service requests sharing a group). */
  serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  /** Graceful shutdown: stop taking jobs, signal running ones (the engine checkpoints), show the last state. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const j of this.active.values()) j.abort.abort();
    const all = Promise.all([...this.active.values()].map((j) => j.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    for (const j of this.active.values()) j.editor.stop();
  }
}
