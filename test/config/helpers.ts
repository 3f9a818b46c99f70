import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError, formatIssue } from '../../src/errors.js';

/** The error lines a user would see for a call that must fail with a ConfigError. */
export async function errorLines(fn: () => unknown): Promise<string[]> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  // the message is exactly the issue lines: what the CLI prints and the bot shows
  expect(err.message).toBe(err.issues.map(formatIssue).join('\n'));
  return err.issues.map(formatIssue);
}

/** A temporary config directory with the given files (relative path → content). */
export async function tempConfig(files: Record<string, string | Buffer> = {}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'stands-config-'));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** YAML in tests is written indented inside template literals; strip the common indentation. */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
