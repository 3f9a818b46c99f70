/** The machine a benchmark ran on, recorded next to every result (numbers mean little without it). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memTotal: string;
  freeH: string;
  node: string;
  platform: string;
  commit: string;
}

function safe(fn: () => string, fallback = 'unknown'): string {
  try {
    return fn().trim();
  } catch {
    return fallback;
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = safe(() => readFileSync('/proc/cpuinfo', 'utf8'), '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    date: new Date().toISOString(),
    nproc: Number(safe(() => execFileSync('nproc', { encoding: 'utf8' }), String(os.cpus().length))),
    cpuModel: model.trim(),
    memTotal: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    freeH: safe(() => execFileSync('free', ['-h'], { encoding: 'utf8' })),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    commit: safe(() => execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })),
  };
}
