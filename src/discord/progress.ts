/**
 * Live progress of a job, as one Discord message: engine events fold into a state (pure), the state renders to
 * an embed (pure), and a throttled editor sends at most one edit per interval. Intermediate states are
 * coalesced and the final one is always sent: @discordjs/rest queues and sleeps on 429, so one edit per event
 * would turn into growing latency and waste the webhook's small per-route budget.
 */
import type { APIEmbed } from 'discord.js';
import type { EngineEvent } from '../core/types.js';
import { stored, type Msg } from '../i18n/index.js';
import type { Messages } from './i18n.js';

export type StandState = 'pending' | 'running' | 'done' | 'failed';
export type JobOutcome = 'succeeded' | 'partial' | 'failed' | 'cancelled';

export interface ProgressState {
  kind: string;
  group: string;
  job: string;
  total: number;
  done: number;
  stands: Map<string, StandProgress>;
  retries: number;
  failures: number;
  etaMs?: number;
  lastMessage?: string;
  outcome?: JobOutcome;
  note?: string;
}

export interface StandProgress {
  state: StandState;
  step?: string;
  message?: string;
  /** The failure as a code, rendered in the reader's language. */
  msg?: Msg;
  /** Steps the job runs for this stand, when known (a deploy's plan): the stand counts as done after the last. */
  steps?: number;
  finished: number;
}

/**
 * `steps`: steps per stand (a deploy's `deployStepCounts(plan)`); with it a stand is done when its last step
 * finishes, not only at its `stand-done` event (which waits for the node's network apply and the record write).
 */
export function newProgress(kind: string, group: string, job: string, stands: string[] = [], steps?: Record<string, number>): ProgressState {
  return {
    kind,
    group,
    job,
    total: stands.length,
    done: 0,
    stands: new Map(stands.map((s) => [s, { state: 'pending' as StandState, finished: 0, ...(steps?.[s] ? { steps: steps[s] } : {}) }])),
    retries: 0,
    failures: 0,
  };
}

/** Folds one engine event into the state (mutates and returns it). */
export function applyEvent(s: ProgressState, e: EngineEvent): ProgressState {
  const stand = e.stand ? (s.stands.get(e.stand) ?? { state: 'pending' as StandState, finished: 0 }) : undefined;
  if (e.stand && stand) s.stands.set(e.stand, stand);
  switch (e.type) {
    case 'step-started':
      if (stand && stand.state === 'pending') stand.state = 'running';
      if (stand && e.step) stand.step = e.step;
      break;
    case 'step-finished':
      if (stand && e.step) stand.step = e.step;
      if (stand) {
        stand.finished++;
        if (stand.steps !== undefined && stand.finished >= stand.steps && stand.state !== 'failed') {
          stand.state = 'done';
          delete stand.step;
        }
      }
      break;
    case 'retry':
      s.retries++;
      break;
    case 'stand-done':
      if (stand) {
        stand.state = 'done';
        delete stand.step;
      }
      break;
    case 'stand-failed':
      if (stand) {
        if (stand.state !== 'failed') s.failures++;
        stand.state = 'failed';
        if (e.message) stand.message = e.message;
        if (e.msg) stand.msg = e.msg;
      }
      break;
    default:
      break;
  }
  if (e.total !== undefined) s.total = e.total;
  if (e.done !== undefined) s.done = e.done;
  if (e.etaMs !== undefined) s.etaMs = e.etaMs;
  if (e.message && e.type !== 'stand-failed') s.lastMessage = e.message;
  return s;
}

export function bar(fraction: number, width = 20): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${Math.round(f * 100)}%`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const ICON: Record<StandState, string> = { pending: '⏳', running: '🔄', done: '✅', failed: '❌' };
const MAX_STAND_LINES = 25;

/** One embed; stays far below Discord's limits (4096 description, 6000 total) however large the class. */
export function renderProgress(s: ProgressState, m: Messages): APIEmbed {
  const lines: string[] = [];
  // the bar follows the engine's step counts (smooth); the line counts stands (what a teacher thinks in)
  const standsDone = [...s.stands.values()].filter((x) => x.state === 'done' || x.state === 'failed').length;
  const fraction = s.total ? s.done / s.total : s.stands.size ? standsDone / s.stands.size : s.outcome ? 1 : 0;
  lines.push(`\`${bar(fraction)}\` ${m.progressLine(standsDone, s.stands.size)}`);
  const extra: string[] = [];
  if (s.etaMs !== undefined && !s.outcome && s.etaMs > 0) extra.push(m.eta(formatDuration(s.etaMs)));
  if (s.retries) extra.push(m.retries(s.retries));
  if (s.failures) extra.push(m.failures(s.failures));
  if (extra.length) lines.push(extra.join(' · '));
  if (s.note) lines.push(s.note);
  lines.push('');
  // failed and running stands first: that is what a teacher watches for
  const order: StandState[] = ['failed', 'running', 'pending', 'done'];
  const entries = [...s.stands.entries()].sort((a, b) => order.indexOf(a[1].state) - order.indexOf(b[1].state));
  for (const [name, st] of entries.slice(0, MAX_STAND_LINES)) {
    const detail = st.state === 'failed' ? stored(m.lang, st.msg, st.message) : st.state === 'running' ? (st.step ?? '') : '';
    lines.push(`${ICON[st.state]} ${clip(name, 60)} — ${m.standStates[st.state] ?? st.state}${detail ? `: ${clip(detail, 120)}` : ''}`);
  }
  if (entries.length > MAX_STAND_LINES) lines.push(m.moreStands(entries.length - MAX_STAND_LINES));
  const embed: APIEmbed = {
    title: clip(m.progressTitle(m.kinds[s.kind] ?? s.kind, s.group), 256),
    description: clip(lines.join('\n'), 4000),
    color: s.outcome === 'failed' ? 0xd32f2f : s.outcome === 'partial' ? 0xf9a825 : s.outcome ? 0x2e7d32 : 0x1565c0,
    footer: { text: s.outcome ? `${m.finished(m.outcomes[s.outcome] ?? s.outcome)} · ${s.job}` : s.job },
  };
  return embed;
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface ThrottledEditorOptions<T> {
  intervalMs: number;
  send: (payload: T) => Promise<void>;
  /** What the message already shows when the editor starts (it was just created with it); see `shownNow`. */
  initial?: T;
  /** Equality of payloads (default: same JSON). */
  same?: (a: T, b: T) => boolean;
  onError?: (error: unknown) => void;
  now?: () => number;
}

/**
 * Keeps only the latest payload and sends it when the interval allows: at most one edit per `intervalMs`, none
 * in flight at once, the last state always delivered by `flush()`.
 */
export class ThrottledEditor<T> {
  private latest: T | undefined;
  private pending = false;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastSentAt = -Infinity;
  private closed = false;
  /** What the message shows now (the last payload sent, or the initial one). */
  private shown: { payload: T } | undefined;
  sent = 0;
  /** Edits left out because the message already showed that payload. */
  skipped = 0;

  constructor(private readonly o: ThrottledEditorOptions<T>) {
    if (o.initial !== undefined) this.shownNow(o.initial);
  }

  /**
   * The message shows `payload` now (it was created with it, outside this editor): the interval counts from
   * now, and an edit that would show the same again is not sent.
   */
  shownNow(payload: T): void {
    this.shown = { payload };
    this.lastSentAt = this.now();
  }

  private isShown(payload: T): boolean {
    if (!this.shown) return false;
    const same = this.o.same ?? ((a: T, b: T) => JSON.stringify(a) === JSON.stringify(b));
    return same(this.shown.payload, payload);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  push(payload: T): void {
    if (this.closed) return;
    this.latest = payload;
    this.pending = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.inFlight || !this.pending) return;
    const wait = Math.max(0, this.lastSentAt + this.o.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sendNow();
    }, wait);
  }

  private async sendNow(): Promise<void> {
    if (!this.pending || this.inFlight) return;
    const payload = this.latest as T;
    this.pending = false;
    if (this.isShown(payload)) {
      this.skipped++;
      return;
    }
    this.lastSentAt = this.now();
    this.sent++;
    this.inFlight = this.o
      .send(payload)
      .then(() => {
        this.shown = { payload };
      })
      .catch((err: unknown) => {
        // what the message shows is unknown now: the next payload goes out whatever it is
        this.shown = undefined;
        this.o.onError?.(err);
      })
      .finally(() => {
        this.inFlight = null;
      });
    await this.inFlight;
    if (!this.closed) this.schedule();
  }

  /** Sends the latest state now (after any edit in flight), ignoring the interval. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.inFlight) await this.inFlight;
    if (this.pending) await this.sendNow();
    while (this.inFlight) await this.inFlight;
  }

  /** Final payload: always sent; nothing after it. */
  async finish(payload: T): Promise<void> {
    this.latest = payload;
    this.pending = true;
    await this.flush();
    this.closed = true;
  }

  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
