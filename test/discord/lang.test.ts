import { Locale } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { englishRuns } from '../support/english-runs.js';
import { startStack, type Stack } from './stack.js';

/** Two or more English words in a row (a Russian reply may hold single terms such as VMID, SDN, node:pve9). */
const ENGLISH_RUN = /\b[a-z]{2,}\b[ ,]+\b[a-z]{2,}\b/;

// Engine errors and refusals reach a member whose Discord locale is Russian in Russian, from the engine catalogue
// (src/i18n) — real bot, fake Discord, engine, simulator.
describe('the bot renders engine errors in the member’s language', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ timeScale: 0.02 });
  });
  afterAll(async () => s?.stop());

  async function replyTo(token: string) {
    const r = await s.fake.waitFor((x) => x.interactionToken === token && x.method === 'PATCH', 20_000, 'the reply to the command');
    return r.body as { content?: string; embeds?: { title?: string; description?: string }[] };
  }
  function upload(name: string, text: string) {
    const url = s.fake.serveFile(name, text);
    return { users: { filename: name, url, size: Buffer.byteLength(text), contentType: 'text/plain; charset=utf-8' } };
  }

  it('an engine error (cleanup of a group that does not exist): Russian for locale ru, English for en-US', async () => {
    const { fake } = s;
    const ru = fake.slash({ member: fake.members.teacher, name: 'cleanup', options: { group: 'nope' }, locale: Locale.Russian });
    expect((await replyTo(ru.token)).content).toBe('в файле состояния нет группы nope');
    const en = fake.slash({ member: fake.members.teacher, name: 'cleanup', options: { group: 'nope' } });
    expect((await replyTo(en.token)).content).toBe('no group named nope in the state file');
  });

  it('a refused plan: the embed’s title and rows in Russian, nothing created', async () => {
    const { fake } = s;
    const before = s.sim.state.vms.size;
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'ru-1', placement: 'node:pve9' },
      attachments: upload('class.txt', 'ivanov\npetrov\n'),
      locale: Locale.Russian,
    });
    const body = await replyTo(token);
    const embed = body.embeds![0]!;
    expect(embed.title).toBe('размещение node:pve9: такого узла нет');
    expect(embed.description).toContain('План отклонён; ничего не создано.');
    expect(embed.description).toContain('pve9: не узел кластера sim (узлы: pve1, pve2, pve3)');
    expect(`${embed.title}\n${embed.description}`).not.toMatch(ENGLISH_RUN);
    expect(s.sim.state.vms.size).toBe(before);
  });

  it('a plan’s warnings (netlab puts the router on the shared vmbr0): Russian in the embed for locale ru', async () => {
    const { fake } = s;
    const show = async (group: string, locale?: Locale) => {
      const { token } = fake.slash({
        member: fake.members.teacher,
        name: 'deploy',
        options: { profile: 'netlab', group },
        attachments: upload('class.txt', 'ivanov\n'),
        ...(locale ? { locale } : {}),
      });
      const body = (await replyTo(token)) as { embeds?: { fields?: { name: string; value: string }[] }[] };
      return body.embeds![0]!.fields ?? [];
    };
    const before = s.sim.state.vms.size;
    const ru = (await show('ru-warn', Locale.Russian)).find((f) => f.name === 'Предупреждения');
    expect(ru?.value).toBe('машина gw: net1 на существующем мосту vmbr0 подключает ВМ студентов к общей сети');
    expect(ru?.value).not.toMatch(ENGLISH_RUN);
    const en = (await show('en-warn')).find((f) => f.name === 'Warnings');
    expect(en?.value).toBe('machine gw: net1 on the existing bridge vmbr0 puts student VMs on a shared LAN');
    // the plan waits for a Confirm nobody gives: nothing is created
    expect(s.sim.state.vms.size).toBe(before);
  });

  it('a deploy with a failing stand: its ❌ line and progress line in Russian, Proxmox’s text quoted', async () => {
    const { fake } = s;
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'ru-fail' },
      attachments: upload('class.txt', 'orlov\nsokolov\n'),
      locale: Locale.Russian,
    });
    const plan = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000, 'the plan')).message!;
    expect(plan.embeds[0]!.title).toBe('План развёртывания: ru-fail (профиль basic)');
    // Proxmox refuses one config write (the first, of whichever stand gets there first) with a text of its own
    s.sim.faults.add({ kind: 'error', method: 'POST', path: '/nodes/*/qemu/*/config', status: 500, message: 'unable to parse drive options', times: 1 });
    const click = fake.click({ member: fake.members.teacher, messageId: plan.id, customId: fake.button(plan.id, 'deploy:confirm:'), locale: Locale.Russian });
    const post = await fake.waitFor((r) => r.interactionToken === click.token && r.method === 'POST' && !r.path.endsWith('/callback'), 20_000, 'progress');
    const final = await fake.waitFor(
      (r) => r.method === 'PATCH' && r.message?.id === post.message!.id && /Завершено/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
      30_000,
      'the final progress edit',
    );
    s.sim.faults.clear();
    const embed = final.body.embeds[0] as { title: string; description: string; footer: { text: string } };
    expect(embed.footer.text).toMatch(/^Завершено: частично с ошибками · deploy-/);
    const reason = 'sim: POST /nodes/pve\\d/qemu/\\d+/config: Proxmox ответил ошибкой 500: «unable to parse drive options»';
    const failed = new RegExp(`^❌ ((?:orlov|sokolov)@pve): ${reason}$`, 'm').exec(embed.description);
    expect(failed, embed.description).not.toBeNull();
    const other = failed![1] === 'orlov@pve' ? 'sokolov@pve' : 'orlov@pve';
    expect(embed.description).toMatch(new RegExp(`^❌ ${failed![1]} — ошибка: sim: POST /nodes/pve\\d/qemu/\\d+/config: Proxmox ответил`, 'm'));
    expect(embed.description).toContain(`✅ ${other} — готов`);
    const text = `${embed.title}\n${embed.description}`.replace(/\bPOST \/\S+/g, ' ').replace(/\bdeploy-\S+/g, ' ');
    expect(englishRuns(text, ['sim', 'pve1', 'pve2', 'pve3', 'ru-fail'])).toEqual([]);
  });
});
