import { describe, expect, it } from 'vitest';
import { applyEvent, bar, newProgress, renderProgress, ThrottledEditor } from '../../src/discord/progress.js';
import { messages } from '../../src/discord/i18n.js';

describe('progress state and rendering', () => {
  it('folds engine events into per-stand states, retries, failures and ETA', () => {
    const s = newProgress('deploy', 'net-101', 'j1', ['ivanov@pve', 'petrov@pve', 'sidorov@pve']);
    applyEvent(s, { type: 'step-started', job: 'j1', stand: 'ivanov@pve', step: 'clone' });
    applyEvent(s, { type: 'retry', job: 'j1', stand: 'ivanov@pve', message: 'lock timeout' });
    applyEvent(s, { type: 'stand-done', job: 'j1', stand: 'petrov@pve' });
    applyEvent(s, { type: 'stand-failed', job: 'j1', stand: 'sidorov@pve', message: 'clone failed: no space' });
    applyEvent(s, { type: 'progress', job: 'j1', done: 2, total: 3, etaMs: 65_000 });
    const e = renderProgress(s, messages('en'));
    expect(e.title).toBe('Deploy net-101');
    expect(e.description!.split('\n').slice(0, 2)).toEqual([
      '`█████████████░░░░░░░ 67%` 2/3 stands done',
      'about 1 min 5 s left · 1 retry · 1 failed',
    ]);
    expect(e.description).toContain('❌ sidorov@pve — failed: clone failed: no space');
    expect(e.description).toContain('🔄 ivanov@pve — working: clone');
    expect(e.description).toContain('✅ petrov@pve — done');
  });

  it('renders in Russian and stays within embed limits for 1000 stands', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `student${i}@pve`);
    const s = newProgress('deploy', 'big', 'j2', names);
    s.outcome = 'partial';
    const e = renderProgress(s, messages('ru'));
    expect(e.title).toBe('Развёртывание big');
    expect(e.description!.length).toBeLessThanOrEqual(4096);
    expect(e.description).toContain('… и ещё 975');
    expect(e.footer!.text).toBe('Завершено: частично с ошибками · j2');
  });

  it('counts a stand as done when its last planned step finishes, before its stand-done event', () => {
    const s = newProgress('deploy', 'net-101', 'j1', ['ivanov@pve', 'petrov@pve'], { 'ivanov@pve': 3, 'petrov@pve': 3 });
    const line = () => renderProgress(s, messages('en')).description!.split('\n')[0]!;
    for (const step of ['access', 'clone']) {
      applyEvent(s, { type: 'step-started', job: 'j1', stand: 'ivanov@pve', step });
      applyEvent(s, { type: 'step-finished', job: 'j1', stand: 'ivanov@pve', step });
    }
    expect(line()).toMatch(/ 0\/2 stands done$/);
    // a step skipped as already done (a resume) counts like any other
    applyEvent(s, { type: 'step-finished', job: 'j1', stand: 'ivanov@pve', step: 'config', message: 'already done' });
    expect(line()).toMatch(/ 1\/2 stands done$/);
    expect(s.stands.get('ivanov@pve')).toMatchObject({ state: 'done' });
    applyEvent(s, { type: 'stand-done', job: 'j1', stand: 'ivanov@pve' });
    expect(line()).toMatch(/ 1\/2 stands done$/);
    // a stand that fails after its last step is failed, once
    for (const step of ['access', 'clone', 'config']) applyEvent(s, { type: 'step-finished', job: 'j1', stand: 'petrov@pve', step });
    applyEvent(s, { type: 'stand-failed', job: 'j1', stand: 'petrov@pve', message: 'network apply failed' });
    expect(s.failures).toBe(1);
    expect(s.stands.get('petrov@pve')).toMatchObject({ state: 'failed' });
    // without step counts (power jobs) only stand-done marks a stand done
    const p = newProgress('stop', 'net-101', 'j2', ['ivanov@pve']);
    applyEvent(p, { type: 'step-finished', job: 'j2', stand: 'ivanov@pve', step: 'stop' });
    expect(p.stands.get('ivanov@pve')!.state).toBe('pending');
  });

  it('draws bars clamped to 0..100 %', () => {
    expect(bar(0, 10)).toBe('░░░░░░░░░░ 0%');
    expect(bar(1.7, 10)).toBe('██████████ 100%');
  });
});

describe('ThrottledEditor', () => {
  it('coalesces a burst into at most one edit per interval and always sends the final state', async () => {
    const sent: number[] = [];
    const ed = new ThrottledEditor<number>({ intervalMs: 40, send: async (n) => void sent.push(n) });
    const t0 = Date.now();
    for (let i = 1; i <= 200; i++) {
      ed.push(i);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await ed.finish(999);
    const elapsed = Date.now() - t0;
    expect(sent[0]).toBe(20); // the first edit already carries the latest state of the first burst
    expect(sent.at(-1)).toBe(999);
    // one edit per 40 ms window at most (plus the final one), never one per push
    expect(sent.length).toBeLessThanOrEqual(Math.floor(elapsed / 40) + 2);
    expect(sent.length).toBeLessThan(20);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it('knows what the message shows already: no edit repeats it, and the interval counts from its creation', async () => {
    const sent: string[] = [];
    let now = 1000;
    const ed = new ThrottledEditor<{ text: string }>({ intervalMs: 50, now: () => now, send: async (p) => void sent.push(p.text) });
    ed.shownNow({ text: 'created' });
    ed.push({ text: 'created' });
    await ed.flush();
    expect(sent).toEqual([]);
    expect(ed.skipped).toBe(1);
    now += 10;
    ed.push({ text: 'step 1' });
    await ed.flush();
    ed.push({ text: 'step 1' });
    await ed.flush();
    await ed.finish({ text: 'step 1' });
    expect(sent).toEqual(['step 1']);
  });

  it('sends again after a failed edit even when the payload is the same', async () => {
    const sent: string[] = [];
    let fail = true;
    const ed = new ThrottledEditor<string>({
      intervalMs: 1,
      send: async (p) => {
        if (fail) throw new Error('503');
        sent.push(p);
      },
      onError: () => undefined,
    });
    ed.shownNow('a');
    ed.push('b');
    await ed.flush();
    fail = false;
    await ed.finish('b');
    expect(sent).toEqual(['b']);
  });

  it('never has two edits in flight and sends nothing after finish', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const sent: number[] = [];
    const ed = new ThrottledEditor<number>({
      intervalMs: 0,
      send: async (n) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 15));
        sent.push(n);
        inFlight--;
      },
    });
    for (let i = 0; i < 20; i++) ed.push(i);
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 20; i < 40; i++) ed.push(i);
    await ed.finish(100);
    ed.push(101);
    await new Promise((r) => setTimeout(r, 30));
    expect(maxInFlight).toBe(1);
    expect(sent.at(-1)).toBe(100);
    expect(sent).not.toContain(101);
  });

  it('keeps going after a failed edit', async () => {
    const sent: number[] = [];
    const errors: unknown[] = [];
    let fail = true;
    const ed = new ThrottledEditor<number>({
      intervalMs: 0,
      send: async (n) => {
        if (fail) {
          fail = false;
          throw new Error('500');
        }
        sent.push(n);
      },
      onError: (e) => errors.push(e),
    });
    ed.push(1);
    await new Promise((r) => setTimeout(r, 5));
    await ed.finish(2);
    expect(errors).toHaveLength(1);
    expect(sent).toEqual([2]);
  });
});
