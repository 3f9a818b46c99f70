import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printDeployResult } from '../../src/cli/commands/deploy.js';
import type { CliIo } from '../../src/cli/io.js';
import type { DeployResult } from '../../src/core/deploy/context.js';
import { msg } from '../../src/i18n/index.js';
import { lastJson, runCli } from './run-cli.js';
import { clusterSnapshot, startSimEnv, type SimEnv } from './sim-env.js';

/** Two or more English words in a row (a Russian text may hold single terms such as VMID, SDN, node:pve9). */
const ENGLISH_RUN = /\b[a-z]{2,}\b[ ,]+\b[a-z]{2,}\b/;

/** Engine errors and refused plans reach a Russian-speaking CLI user in Russian: --lang ru, or LANG=ru_RU.UTF-8. */
describe('stands speaks Russian with --lang ru or a Russian locale', () => {
  let env: SimEnv;
  let good: string;
  let before: Record<string, unknown>;

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
    good = path.join(env.dir, 'good.txt');
    await writeFile(good, 'ok\n');
    before = clusterSnapshot(env.sim);
  });
  afterAll(async () => {
    await env?.close();
  });

  async function deploy(args: string[], o: { env?: NodeJS.ProcessEnv } = {}) {
    const r = await runCli([...env.globals, 'deploy', ...args, '--yes'], o);
    expect(clusterSnapshot(env.sim)).toEqual(before);
    return r;
  }

  it('--lang ru: a refused plan (no such node) with its headline, table head and row in Russian', async () => {
    const r = await deploy(['--lang', 'ru', '--profile', 'netlab', '--users', good, '--placement', 'node:pve9']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('ошибка: размещение node:pve9: такого узла нет');
    expect(lines[1]).toMatch(/^что +проблема$/);
    expect(r.stderr).toContain('не узел кластера sim (узлы: pve1, pve2, pve3)');
    expect(r.stderr).not.toMatch(ENGLISH_RUN);
    // and the same in English without --lang (the test environment has no LANG)
    const en = await deploy(['--profile', 'netlab', '--users', good, '--placement', 'node:pve9']);
    expect(en.stderr.split('\n')[0]).toBe('error: placement node:pve9: no such node');
    expect(en.stderr).toContain('not a node of cluster sim (nodes: pve1, pve2, pve3)');
  });

  it('LANG=ru_RU.UTF-8: a class that does not fit, with plurals and per-stand reasons in Russian', async () => {
    const many = path.join(env.dir, 'sixty.txt');
    await writeFile(many, Array.from({ length: 60 }, (_, i) => `s${i + 1}`).join('\n'));
    const r = await deploy(['--profile', 'netlab', '--users', many], { env: { LANG: 'ru_RU.UTF-8' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ошибка: класс не помещается: не удаётся разместить \d+ из 60 стендов\n/);
    expect(r.stderr).toMatch(/^узел +память \(выделено \/ всего\) +ЦП +примечание$/m);
    expect(r.stderr).toMatch(/^pve1 +\d+ \/ 64 ГиБ \([\d.]+%\), \+\d+ ГиБ +\d+ vCPU \/ 16 ядер \([\d.]+% от предела\) +размещено: \d+$/m);
    expect(r.stderr).toMatch(/^pve3 .* исключён$/m);
    expect(r.stderr).toContain('Исключённые узлы:\n  pve3: чужие неприменённые изменения сети (vmbr99)');
    expect(r.stderr).not.toMatch(ENGLISH_RUN);
    expect(r.stderr).toMatch(/^netlab-sixty\/s\d+@pve +нужно \d+ МиБ: даже на pve\d память заполнится на [\d.]+% \(предел [\d.]+%\)$/m);
  });

  it('LANG=ru_RU.UTF-8 and --json: an engine error (bad group name) in Russian, same code and exit code', async () => {
    const r = await deploy(['--profile', 'netlab', '--users', good, '--group', 'Bad Name!', '--json'], { env: { LANG: 'ru_RU.UTF-8' } });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'ошибка: недопустимое имя группы "Bad Name!": от 1 до 40 строчных латинских букв, цифр, «.», «_» или «-», первой должна быть буква или цифра',
    );
    const j = lastJson<{ error: { code: string; message: string } }>(r.stdout);
    expect(j.error.code).toBe('bad-input');
    expect(j.error.message).toMatch(/^недопустимое имя группы/);
    // --lang wins over the locale
    const en = await deploy(['--lang', 'en', '--profile', 'netlab', '--users', good, '--group', 'Bad Name!'], { env: { LC_ALL: 'ru_RU.UTF-8' } });
    expect(en.stderr.split('\n')[0]).toMatch(/^error: group name "Bad Name!" is not valid/);
  });

  it('--lang ru dry run: the shared-LAN warning of a profile on **vmbr0 is in Russian; English without it', async () => {
    const r = await deploy(['--lang', 'ru', '--profile', 'netlab', '--users', good, '--dry-run']);
    expect(r.code).toBe(0);
    const block = r.stdout.split('\n\n').find((b) => b.startsWith('Предупреждения:'));
    expect(block, r.stdout).toBe('Предупреждения:\n  машина gw: net1 на существующем мосту vmbr0 подключает ВМ студентов к общей сети');
    expect(block).not.toMatch(ENGLISH_RUN);
    expect(r.stdout).toMatch(/^узел +память \(выделено \/ всего\) +ЦП +примечание$/m);
    expect(r.stdout).not.toContain('shared LAN');
    const en = await deploy(['--profile', 'netlab', '--users', good, '--dry-run']);
    expect(en.code).toBe(0);
    expect(en.stdout).toContain('Warnings:\n  machine gw: net1 on the existing bridge vmbr0 puts student VMs on a shared LAN');
    // the JSON plan keeps the English text for logs and old readers, and carries the code beside it
    const j = await deploy(['--lang', 'ru', '--profile', 'netlab', '--users', good, '--dry-run', '--json']);
    const plan = lastJson<{ plan: { warnings: string[]; warningMsgs: unknown[] } }>(j.stdout).plan;
    expect(plan.warnings).toEqual(['machine gw: net1 on the existing bridge vmbr0 puts student VMs on a shared LAN']);
    expect(plan.warningMsgs).toEqual([{ code: 'warn.sharedLan', params: { machine: 'gw', nic: 'net1', bridge: 'vmbr0' } }]);
  });

  it('a config file error: the headline in Russian, the file:line detail as the validator wrote it', async () => {
    const users = path.join(env.dir, 'bad.txt');
    await writeFile(users, 'ok\nbad user@@x\na:b@pve\n');
    const r = await deploy(['--lang', 'ru', '--profile', 'netlab', '--users', users]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('ошибка: Во входных файлах найдено проблем: 2 (ничего не создано; подробности на английском):');
    expect(lines[1]).toMatch(new RegExp(`^${users.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: "bad user@@x": contains whitespace`));
  });
});

/** The warnings of a deploy run (DeployResult.warningMsgs) printed in the CLI's language; English when none are coded. */
describe('deploy result warnings follow --lang', () => {
  function capture(lang: 'ru' | 'en', result: DeployResult): string {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: Buffer[] = [];
    err.on('data', (c: Buffer) => chunks.push(c));
    const io = { stdout: out, stderr: err, stdin: new PassThrough(), interactive: false, progressTty: false, env: {}, cwd: process.cwd() } as CliIo;
    printDeployResult(io, result, { lang });
    return Buffer.concat(chunks).toString('utf8');
  }
  const base: DeployResult = {
    job: 'j1', group: 'g', cluster: 'sim', status: 'succeeded', stands: [], credentials: [],
    created: { vms: 0, users: 0, pools: 0, acls: 0, bridges: 0, vnets: 0, replicas: 0, networkApplies: 0 } as DeployResult['created'],
    ready: 0, failed: 0, durationMs: 1,
    warnings: ['a@pve was created by an interrupted run, so its password was never shown: set a new one with `stands password --user a@pve`'],
  };

  it('a coded warning in Russian with --lang ru, the English text otherwise; an uncoded record stays English', () => {
    const coded = { ...base, warningMsgs: [msg('warn.passwordNeverShown', { user: 'a@pve' })] };
    expect(capture('ru', coded)).toBe(
      'предупреждение: a@pve создан прерванным запуском, поэтому его пароль так и не был показан: задайте новый командой «stands password --user a@pve»\n',
    );
    expect(capture('en', coded)).toBe(`warning: ${base.warnings[0]}\n`);
    expect(capture('ru', base)).toBe(`предупреждение: ${base.warnings[0]}\n`);
  });
});
