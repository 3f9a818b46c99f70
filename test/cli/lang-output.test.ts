import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { englishRuns } from '../support/english-runs.js';
import { lastJson, runCli, type CliRun } from './run-cli.js';
import { startSimEnv, type SimEnv } from './sim-env.js';

/**
 * A whole class through the CLI in Russian against the simulator: a deploy where one stand fails, then status,
 * list, templates and cleanup. Every line is Russian except names (users, nodes, machines, templates, bridges),
 * numbers, job ids, links, terms that are the same in both languages, and Proxmox's own text, which is quoted.
 */
describe('stands --lang ru: deploy with a failure, status, list, templates, cleanup', () => {
  let env: SimEnv;
  let users: string;
  const group = 'netlab-ru';
  /** Names a Russian line may carry as they are. */
  const names = ['sim', 'pve1', 'pve2', 'pve3', 'netlab', group, 'gw', 'pc1', 'pc2', 'hq', 'office', 'debian-12-tpl', 'ecorouter-tpl', 'vmbr0', 'vlan-aware', 'ceph', 'local', 'local-lvm', 'net1'];

  beforeAll(async () => {
    env = await startSimEnv({ timeScale: 0.01 });
    users = path.join(env.dir, 'ru.txt');
    await writeFile(users, 'anna\nboris\nvera\n');
  });
  afterAll(async () => {
    await env?.close();
  });

  const ru = (args: string[]): Promise<CliRun> => runCli([...env.globals, '--lang', 'ru', ...args]);

  /** English left in a run's output, links, job ids and replica/bridge names taken out first. */
  function english(r: CliRun, extra: string[] = []): string[] {
    // the new users' passwords (random letters) in the credentials table
    const passwords = [...r.stdout.matchAll(/^\S+@pve +(\S+) +netlab-ru_/gm)].map((m) => m[1]!);
    const text = `${r.stdout}\n${r.stderr}`
      // the log's own lines (JSON, for machines) are not output for a person
      .replace(/^\{.*\}$/gm, ' ')
      .replace(/\b(anna|boris|vera)-(gw|pc1|pc2)\b/g, ' ')
      .replace(/\bnetlab-ru_\w+/g, ' ')
      // the API request a failure names (method and path are the same in any language)
      .replace(/\b(GET|POST|PUT|DELETE) \/\S+/g, ' ')
      .replace(/https?:\/\/\S+/g, ' ')
      .replace(/\b(deploy|cleanup|templates)-\d{8}T\d{6}-[0-9a-f]{4}\b/g, ' ')
      .replace(/\b\d{2}:\d{2}:\d{2}\b/g, ' ')
      .replace(/\bvmbr\d+\b/g, ' ')
      .replace(/\b[\w.-]+@pve\b/g, ' ');
    return englishRuns(text, [...names, ...passwords, ...extra]);
  }

  it('a deploy whose one stand fails: plan, progress, result and the failure in Russian, Proxmox text quoted', async () => {
    // the first stand's first VM: its config write is refused by Proxmox with a text of its own
    const dry = await ru(['deploy', '--profile', 'netlab', '--users', users, '--group', group, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = lastJson<{ plan: { stands: { userid: string; vms: { vmid: number }[] }[] } }>(dry.stdout).plan;
    const victim = plan.stands[0]!;
    env.sim.faults.add({ kind: 'error', method: 'POST', path: `/nodes/*/qemu/${victim.vms[0]!.vmid}/config`, status: 500, message: 'unable to parse drive options' });

    const r = await ru(['deploy', '--profile', 'netlab', '--users', users, '--group', group, '--yes']);
    env.sim.faults.clear();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^группа netlab-ru на sim: 3 стенда, 9 ВМ \(клоны: связанные\), профиль netlab, размещение balanced,\s+сети: мосты; около \d+ с\n/);
    expect(r.stdout).toMatch(/^Оценка времени: около \d+ с$/m);
    expect(r.stdout).toMatch(/^пользователь +узел +состояние +VMID +консоль \/ ошибка$/m);
    expect(r.stdout).toContain('\nОшибки:\n');
    expect(r.stdout).toMatch(new RegExp(`\\n  ${victim.userid}: sim: POST /nodes/pve\\d/qemu/${victim.vms[0]!.vmid}/config: Proxmox ответил ошибкой 500: «unable to parse\\s+drive options»`));
    expect(r.stdout).toMatch(/^частично: готово 2, с ошибкой 1, за [\d.]+ с \(группа netlab-ru, задача deploy-/m);
    expect(r.stdout).toContain('Новые пользователи (пароли показываются только сейчас');
    expect(r.stderr).toMatch(new RegExp(`✘ ${victim.userid}: ОШИБКА.*«unable to parse drive options»`));
    expect(english(r)).toEqual([]);
  });

  it('status, list and templates after it: tables, states and the recorded failure in Russian', async () => {
    const st = await ru(['status']);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/^Кластер sim, [\d-]+ [\d:]+ UTC$/m);
    expect(st.stdout).toMatch(/^узел +состояние +ВМ +ЦП \(за 1 ч: средн\.\/пик\) +память/m);
    expect(st.stdout).toContain('готово 2, с ошибкой 1');
    expect(st.stdout).toMatch(/\nОшибки:\n  netlab-ru\/\S+: .*Proxmox ответил ошибкой 500: «unable\s+to parse drive options»/);
    expect(st.stdout).toMatch(/^\S+@pve +pve1 +[\d–]+ +ошибка, остановлено: 3 /m);
    expect(english(st)).toEqual([]);

    const ls = await ru(['list']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^группа +кластер +профиль +стенды +создана +задача$/m);
    expect(english(ls)).toEqual([]);

    const tp = await ru(['templates']);
    expect(tp.code, tp.stderr).toBe(0);
    expect(english(tp, ['tpl'])).toEqual([]);
  });

  it('cleanup: what goes, the confirmation-free run and its summary in Russian; English without --lang', async () => {
    const dry = await ru(['cleanup', '--group', group, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^Удаление группы netlab-ru на кластере sim:$/m);
    expect(dry.stdout).toContain('Пробный запуск: ничего не удалено.');
    expect(english(dry)).toEqual([]);
    const noYes = await ru(['cleanup', '--group', group]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/^ошибка: Удалить 3 стенда \(\d+ ВМ\) группы netlab-ru: нужно подтверждение, а это не терминал — ничего не сделано; запустите снова с --yes$/m);
    const r = await ru(['cleanup', '--group', group, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^пользователь +состояние +удалённые ВМ +ошибка$/m);
    expect(r.stdout).toMatch(/^успешно: удалено ВМ: \d+, мостов: \d+, VNet: 0, пулов: 3, пользователей: 3, записей ACL: \d+$/m);
    expect(english(r)).toEqual([]);
    const en = await runCli([...env.globals, 'list']);
    expect(en.stdout).toMatch(/^no groups in /);
  });

  it('a bad option: the error in Russian, the option and its value as typed; English without --lang', async () => {
    const r = await ru(['deploy', '--profile', 'netlab', '--users', users, '--placement', 'nearest']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('ошибка: --placement nearest: ожидается balanced, round-robin, pack или node:<имя>');
    const en = await runCli([...env.globals, 'templates', '--prepare']);
    expect(en.stderr.split('\n')[0]).toBe('error: --prepare needs --profile <name or file>');
    const ruT = await ru(['templates', '--prepare']);
    expect(ruT.stderr.split('\n')[0]).toBe('ошибка: для --prepare нужен --profile <имя или файл>');
  });
});
