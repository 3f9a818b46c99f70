/** Benchmark results: one row per measured quantity, printed as a table and saved as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine.js';

export type Verdict = 'met' | 'NOT MET' | 'info' | 'n/a';

export interface ResultRow {
  bench: string;
  metric: string;
  value: string;
  goal: string;
  verdict: Verdict;
  note?: string;
}

export interface BenchReport {
  machine: MachineInfo;
  args: string[];
  rows: ResultRow[];
  details: Record<string, unknown>;
}

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

export function verdict(ok: boolean): Verdict {
  return ok ? 'met' : 'NOT MET';
}

/** A Markdown table (pasted into bench/README.md and printed as is). */
export function markdownTable(rows: ResultRow[]): string {
  const head = '| # | metric | value | goal | verdict | note |\n|---|---|---|---|---|---|';
  const lines = rows.map(
    (r) => `| ${r.bench} | ${r.metric} | ${r.value} | ${r.goal} | ${r.verdict} | ${(r.note ?? '').replace(/\|/g, '\\|')} |`,
  );
  return [head, ...lines].join('\n');
}

export function saveReport(report: BenchReport, name: string): string {
  const file = join(BENCH_DIR, 'results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

export const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
export const fmtMiB = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
