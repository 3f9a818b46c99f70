import cliProgress from 'cli-progress';
import type { EngineEvent } from '../core/types.js';
import { writeLine, type CliIo } from './io.js';
import { say, stored, type Lang } from '../i18n/index.js';

/** Turns the engine's events into something a person can follow: a live display on a terminal, lines otherwise. */
export interface ProgressView {
  onEvent(event: EngineEvent): void;
  /** A line that must stay visible (a warning, a summary); printed above the live display. */
  log(line: string): void;
  stop(): void;
}

export function createProgress(io: CliIo, options: { live?: boolean; label?: string; lang?: Lang } = {}): ProgressView {
  const live = options.live ?? io.progressTty;
  const lang = options.lang ?? 'en';
  return live ? new LiveProgress(io, options.label ?? 'stands', lang) : new LineProgress(io, lang);
}

export function formatDuration(ms: number | undefined, lang: Lang = 'en'): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return say(lang, 'out.clock', m < 60 ? { h: 0, m, s: s % 60 } : { h: Math.floor(m / 60), m: m % 60, s: 0 });
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

/**
 * An event's `message` is English (logs): in another language it is left out, except a failure (its code, else
 * the text quoted) and a retry's reason (Proxmox's words, quoted).
 */
function describe(event: EngineEvent, lang: Lang = 'en'): string | undefined {
  const en = lang === 'en';
  const step = (s: string | undefined): string => say(lang, 'out.pStep', { step: s ?? 'step' });
  const who = event.stand ? `${event.stand}${event.vm !== undefined ? say(lang, 'out.pVm', { vm: event.vm }) : ''}: ` : '';
  const msg = event.message && en ? ` ${event.message}` : '';
  const quoted = event.message ? (en ? ` ${event.message}` : ` «${event.message}»`) : '';
  switch (event.type) {
    case 'planned':
      return `${say(lang, 'out.pPlanned', event.total !== undefined ? { total: event.total } : {})}${msg}`;
    case 'job-started':
      return `${say(lang, 'out.pJobStarted', { job: event.job, ...(event.total !== undefined ? { total: event.total } : {}) })}${msg}`;
    case 'step-started':
      return `${who}${step(event.step)}…${msg}`;
    case 'step-finished':
      return `${who}${say(lang, 'out.pStepDone', { step: step(event.step) })}${msg}`;
    case 'retry':
      return `${who}${say(lang, 'out.pRetry', { step: event.step ? step(event.step) : '' })}${quoted}`;
    case 'stand-done':
      return `✔ ${en ? (event.message ?? `${event.stand ?? ''} done`) : say(lang, 'out.pStandDone', { stand: event.stand ?? '' })}`;
    case 'stand-failed': {
      const why = event.msg || !event.message ? ` ${stored(lang, event.msg, event.message)}`.trimEnd() : quoted;
      return `✘ ${say(lang, 'out.pStandFailed', { stand: event.stand ?? '', step: event.step ? step(event.step) : '' })}${en ? msg : why}`;
    }
    case 'progress':
      return event.done !== undefined && event.total !== undefined
        ? `${say(lang, 'out.pProgress', { done: event.done, total: event.total, eta: event.etaMs !== undefined ? formatDuration(event.etaMs, lang) : '' })}${msg}`
        : undefined;
    case 'job-finished':
      return `${say(lang, 'out.pJobFinished', { job: event.job })}${msg}`;
    default:
      return undefined;
  }
}

/** Not a terminal (CI, a pipe, a log file): one timestamped line per event, on stderr. */
class LineProgress implements ProgressView {
  constructor(
    private readonly io: CliIo,
    private readonly lang: Lang = 'en',
  ) {}
  onEvent(event: EngineEvent): void {
    const text = describe(event, this.lang);
    if (text) writeLine(this.io.stderr, `${clock()} ${text}`);
  }
  log(line: string): void {
    writeLine(this.io.stderr, line);
  }
  stop(): void {}
}

interface StandRow {
  bar: cliProgress.SingleBar;
  steps: number;
  retries: number;
}

/**
 * A terminal: an overall bar (stands done of total, failures, retries, ETA) and one live row per stand in
 * progress. Finished and failed stands leave the live area as a permanent line, so a class of 30 stands does
 * not need 30 rows of screen.
 */
class LiveProgress implements ProgressView {
  private readonly multi: cliProgress.MultiBar;
  private readonly overall: cliProgress.SingleBar;
  private readonly rows = new Map<string, StandRow>();
  /** Steps done / total, from the engine's `progress` events. */
  private stepsDone = 0;
  private stepsTotal = 0;
  private stands = 0;
  private ready = 0;
  private failed = 0;
  private retries = 0;
  private etaMs: number | undefined;
  private stopped = false;

  constructor(
    private readonly io: CliIo,
    label: string,
    private readonly lang: Lang = 'en',
  ) {
    this.multi = new cliProgress.MultiBar(
      {
        stream: io.stderr,
        format: (options, params, payload: Record<string, string>) => {
          if (payload.kind === 'overall') {
            const size = options.barsize ?? 30;
            const filled = Math.round(Math.min(1, params.progress) * size);
            const bar = '█'.repeat(filled) + '░'.repeat(Math.max(0, size - filled));
            const line = say(this.lang, 'out.pOverall', {
              steps: String(payload.steps),
              stands: String(payload.stands),
              failed: Number(payload.failed),
              retries: Number(payload.retries),
              eta: String(payload.eta),
            });
            return `${label} ${bar} ${line}`;
          }
          return say(this.lang, 'out.pStandRow', { stand: String(payload.stand), state: String(payload.state), steps: Number(payload.steps) });
        },
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
        fps: 8,
        // rows that did not change since the last frame are otherwise left blank after a log line
        forceRedraw: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.overall = this.multi.create(1, 0, this.payload());
  }

  private payload(): Record<string, string | number> {
    return {
      kind: 'overall',
      steps: say(this.lang, 'out.pSteps', { done: this.stepsDone, total: String(this.stepsTotal || '?') }),
      stands: say(this.lang, 'out.pStandsDone', { done: this.ready, total: String(this.stands || '?'), one: this.stands === 1 }),
      failed: this.failed,
      retries: this.retries,
      eta: formatDuration(this.etaMs, this.lang),
    };
  }

  private refreshOverall(): void {
    this.overall.setTotal(Math.max(this.stepsTotal, 1));
    this.overall.update(this.stepsDone, this.payload());
  }

  private row(stand: string): StandRow {
    let row = this.rows.get(stand);
    if (!row) {
      row = { bar: this.multi.create(1, 0, { kind: 'stand', stand, state: say(this.lang, 'out.state', { state: 'queued' }), steps: 0 }), steps: 0, retries: 0 };
      this.rows.set(stand, row);
    }
    return row;
  }

  private finishRow(stand: string, line: string): void {
    const row = this.rows.get(stand);
    if (row) {
      this.multi.remove(row.bar);
      this.rows.delete(stand);
    }
    this.multi.log(`${line}\n`);
  }

  onEvent(event: EngineEvent): void {
    if (this.stopped) return;
    if (event.type === 'job-started' || event.type === 'planned') {
      if (event.total !== undefined) this.stands = event.total;
    }
    if (event.type === 'progress') {
      if (event.done !== undefined) this.stepsDone = event.done;
      if (event.total !== undefined) this.stepsTotal = event.total;
      this.etaMs = event.etaMs;
    }
    const stand = event.stand;
    switch (event.type) {
      case 'step-started':
        if (stand) {
          const row = this.row(stand);
          const vm = event.vm !== undefined ? ` (${say(this.lang, 'out.pVm', { vm: event.vm }).trim()})` : '';
          const step = event.step ? say(this.lang, 'out.pStep', { step: event.step }) : '';
          row.bar.update(0, { state: `${step}${vm}…${row.retries ? ` [${say(this.lang, 'out.pRetries', { count: row.retries })}]` : ''}` });
        }
        break;
      case 'step-finished':
        if (stand) {
          const row = this.row(stand);
          row.steps++;
          row.bar.update(0, { steps: row.steps });
        }
        break;
      case 'retry':
        this.retries++;
        if (stand) {
          const row = this.row(stand);
          row.retries++;
          row.bar.update(0, { state: say(this.lang, 'out.pRetrying', { step: event.step ? say(this.lang, 'out.pStep', { step: event.step }) : '', message: event.message ?? '' }) });
        }
        break;
      case 'stand-done':
        this.ready++;
        if (stand) this.finishRow(stand, `✔ ${this.lang === 'en' ? (event.message ?? `${stand} done`) : say(this.lang, 'out.pStandDone', { stand })}`);
        break;
      case 'stand-failed':
        this.failed++;
        if (stand) {
          const step = event.step ? say(this.lang, 'out.pStep', { step: event.step }) : '';
          const why = this.lang === 'en' || event.msg ? stored(this.lang, event.msg, event.message) : event.message ? `«${event.message}»` : '';
          this.finishRow(stand, `✘ ${say(this.lang, 'out.pFailedAt', { stand, step, message: why })}`);
        }
        break;
      case 'job-finished':
        break;
      default:
        break;
    }
    this.refreshOverall();
  }

  log(line: string): void {
    if (this.stopped) writeLine(this.io.stderr, line);
    else this.multi.log(`${line}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const row of this.rows.values()) this.multi.remove(row.bar);
    this.rows.clear();
    this.refreshOverall();
    // log lines are flushed on the next redraw: draw once more so the last ✔/✘ lines are not lost
    this.multi.update();
    this.multi.stop();
  }
}
