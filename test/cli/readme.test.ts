import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Env } from '../../src/config/env.js';
import { displayWidth } from '../../src/core/text-table.js';
import { deployerSetupCommands } from '../../src/proxmox/check.js';
import { runCli } from './run-cli.js';
import { REPO } from './sim-env.js';

const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');

/** The README is part of the product: these keep it true to the code. */
describe('README.md and .env.example stay true to the code', () => {
  it('the set-up block is the per-path grants `stands check` tests for (deployerSetupCommands), on / only Sys.Audit, not propagated', () => {
    const start = readme.indexOf('pveum user add stands@pve');
    const block = readme.slice(start, readme.indexOf('```', start));
    const lines = block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('pveum '));
    expect(lines).toEqual(deployerSetupCommands());
    // and the SDN variant's one different line
    const sdn = deployerSetupCommands({ realms: ['pve'], mode: 'sdn', studentRole: 'PVEVMUser' }).filter((l) => !lines.includes(l));
    expect(sdn).toEqual(['pveum acl modify /sdn --users stands@pve --roles PVESDNAdmin']);
    expect(readme).toContain(`\`${sdn[0]}\``);
  });

  it('every command of the CLI reference exists in `stands --help`, and every command is in the reference', async () => {
    const help = (await runCli(['--help'])).stdout;
    // `rollback|reset [options]`: a command and its aliases, each documented
    const listed = [...help.matchAll(/^  ([a-z]+(?:\|[a-z]+)*)(?: \[options\])?\s/gm)].flatMap((m) => m[1]!.split('|')).filter((c) => c !== 'help');
    const section = readme.slice(readme.indexOf('## CLI reference'), readme.indexOf('## Configuration'));
    const documented = new Set([...section.matchAll(/^\| `([a-z\\|]+)[ `]/gm)].flatMap((m) => m[1]!.split(/\\?\|/)));
    for (const c of [...section.matchAll(/`(bot)`, `(register)`/g)].flatMap((m) => [m[1]!, m[2]!])) documented.add(c);
    expect([...documented].sort()).toEqual([...listed].sort());
  });

  it('the 100-column capture of the plan and the status fits 100 columns, one line per stand', () => {
    const start = readme.indexOf('What a class looks like on a 100-column terminal');
    expect(start).toBeGreaterThan(0);
    const block = readme.slice(readme.indexOf('```text', start) + 8, readme.indexOf('\n```\n', start));
    for (const line of block.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(100);
    expect(block).toMatch(/^иванов\.пётр@pve {2,}pve\d {2,}\d+–\d+ {2,}ready, 3 running {2,}https:\/\/\S+…$/m);
    expect(block).toMatch(/^иванов\.пётр@pve {2,}pve\d {2,}\d+–\d+ {2,}vmbr\d+/m);
  });

  it('every relative link points at a file of the repository that exists', () => {
    for (const m of readme.matchAll(/\]\((?!https?:|#)([^)#]+)(#[^)]*)?\)/g)) {
      const target = path.resolve(REPO, m[1]!);
      expect(target.startsWith(REPO + path.sep), `${m[1]} is outside the repository`).toBe(true);
      expect(existsSync(target), m[1]).toBe(true);
    }
  });

  it('.env.example lists every variable the environment schema reads', () => {
    const example = readFileSync(path.join(REPO, '.env.example'), 'utf8');
    const names = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
    for (const key of Object.keys(Env.shape)) expect(names, key).toContain(key);
    // and whatever data/connections.yml references with ${…}
    const conn = readFileSync(path.join(REPO, 'data/connections.yml'), 'utf8').replace(/^\s*#.*$/gm, '');
    for (const m of conn.matchAll(/\$\{([A-Z_]+)\}/g)) expect(names, m[1]).toContain(m[1]);
  });
});
