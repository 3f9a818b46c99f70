/**
 * Two bot processes on one shared state (a SQLite file, PostgreSQL, Redis): one active, one standing by. The
 * active one is SIGKILLed in the middle of a deploy; the standby takes over the gateway and finishes the deploy
 * in the same Discord message, with nothing duplicated on the cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { freshLocation, serverStatus, type BackendName, type Location } from '../support/state-servers.js';
import { startStack, type Stack } from './stack.js';

const REPO = resolve(import.meta.dirname, '../..');
const statuses = await Promise.all((['sqlite', 'postgres', 'redis'] as BackendName[]).map((n) => serverStatus(n)));

interface BotProc {
  child: ChildProcess;
  lines: { msg?: string; level?: number }[];
  /** Resolves with the first log line whose msg matches. */
  waitLog(re: RegExp, what: string, timeoutMs?: number): Promise<void>;
}

function spawnBot(env: NodeJS.ProcessEnv): BotProc {
  const child = spawn(process.execPath, [join(REPO, 'bin/stands.js'), 'bot'], {
    cwd: env.STANDS_CONFIG,
    env: { ...process.env, ...env, STANDS_LOG_LEVEL: 'info', STANDS_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: BotProc['lines'] = [];
  const waiters: { re: RegExp; done: () => void }[] = [];
  let pending = '';
  const onData = (d: Buffer): void => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) {
      let line: { msg?: string };
      try {
        line = JSON.parse(p) as { msg?: string };
      } catch {
        line = { msg: p };
      }
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line.msg ?? '')) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    lines,
    waitLog: (re, what, timeoutMs = 60_000) =>
      new Promise((res, rej) => {
        if (lines.some((l) => re.test(l.msg ?? ''))) return res();
        const t = setTimeout(() => rej(new Error(`timed out waiting for the bot to log: ${what}\n${lines.map((l) => l.msg).join('\n')}`)), timeoutMs);
        waiters.push({ re, done: () => (clearTimeout(t), res()) });
      }),
  };
}

for (const st of statuses) {
  describe.skipIf(!st.up)(`standby bot on ${st.name}${st.up ? '' : ` (${st.why})`}`, () => {
    let s: Stack;
    let loc: Location;
    const bots: BotProc[] = [];
    beforeAll(async () => {
      s = await startStack({ timeScale: 0.05 });
      // the in-process bot of the stack only wrote the configuration: the two bots under test are processes
      await s.bot.stop();
      loc = freshLocation(st.name);
    });
    afterAll(async () => {
      for (const b of bots) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
      await s?.stop();
      await loc?.drop();
    });

    it('the standby takes over from a SIGKILLed active bot and finishes its deploy in the same message', async () => {
      const { fake, sim } = s;
      const env = { ...s.env, STANDS_STATE: loc.url };
      const a = spawnBot(env);
      bots.push(a);
      await a.waitLog(/^bot connected$/, 'bot A connected');
      const b = spawnBot(env);
      bots.push(b);
      await b.waitLog(/^standby: another bot is active/, 'bot B standing by');
      expect(b.lines.some((l) => l.msg === 'bot connected')).toBe(false);

      const names = ['sb1', 'sb2', 'sb3', 'sb4', 'sb5', 'sb6'];
      const text = names.join('\n');
      const url = fake.serveFile('standby.txt', text);
      const { token } = fake.slash({
        member: fake.members.teacher,
        name: 'deploy',
        options: { profile: 'basic', group: 'sb' },
        attachments: { users: { filename: 'standby.txt', url, size: text.length } },
      });
      const plan = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 30_000, 'the plan')).message!;
      // every clone answers 1 s (real) late while bot A runs: the deploy (seconds on the simulator otherwise, within
      // one progress-edit interval) is surely still under way when A is killed, whatever the machine's speed
      sim.faults.add({ kind: 'latency', method: 'POST', path: '/nodes/*/qemu/*/clone', latencyMs: 1_000 / 0.05 });
      const click = fake.click({ member: fake.members.teacher, messageId: plan.id, customId: fake.button(plan.id, 'deploy:confirm:') });
      const post = await fake.waitFor((r) => r.interactionToken === click.token && r.method === 'POST' && !r.path.endsWith('/callback'), 30_000, 'the progress message');
      const msgId = post.message!.id;
      await fake.waitFor(
        // a stand in progress, not the final edit (✅ alone would also match a deploy that already finished)
        (r) => r.method === 'PATCH' && r.message?.id === msgId && /🔄/.test(r.body?.embeds?.[0]?.description ?? '') && !/Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
        60_000,
        'the deploy under way',
      );
      a.child.kill('SIGKILL');
      await new Promise((r) => a.child.once('exit', r));
      sim.faults.clear();
      await b.waitLog(/^bot connected$/, 'bot B taking over and connecting', 90_000);

      const final = await fake.waitFor(
        (r) => r.method === 'PATCH' && r.path === `/channels/${fake.channelId}/messages/${msgId}` && /Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
        120_000,
        'the final edit of the same message by the standby',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nbot B said:\n${b.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      });
      expect(final.body.embeds[0].footer.text, final.body.embeds[0].description).toMatch(/^Finished: success/);
      expect(final.body.embeds[0].description).toContain('Resumed after a bot restart.');
      expect(final.body.embeds[0].description).toContain('6/6 stands done');
      const vms = [...sim.state.vms.values()].filter((v) => /^sb\d-vm$/.test(String(v.config.name ?? '')));
      expect(vms.map((v) => v.config.name).sort()).toEqual(names.map((n) => `${n}-vm`));
      const store = await openStore(loc.url);
      try {
        const [job] = await store.jobs.list({ group: 'sb' });
        expect(job?.status).toBe('succeeded');
        expect((await store.leaseInfo(`bot:leader:${fake.guildId}`))?.holder).toMatch(new RegExp(`pid ${b.child.pid}\\)$`));
      } finally {
        await store.close();
      }
      b.child.kill('SIGTERM');
      await new Promise((r) => b.child.once('exit', r));
    }, 300_000);
  });
}
