import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DiscordAPIError } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/config/profile.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { createLogger, serializeError } from '../../src/log.js';
import { registerSecret } from '../../src/secrets.js';
import { startStack, type Stack } from '../discord/stack.js';

// Issue 10 §1: every failure path that used to log a discord.js error object (whose request body holds the
// message with the password, or the credentials CSV as bytes, and whose URL holds the interaction token), and an
// engine error mid-deploy, at trace level: no password, no CSV, no token in any log line or in the state file.
describe('no secret reaches a log or the state file', () => {
  let s: Stack;
  const out = new PassThrough();
  let logText = '';
  const logWaiters = new Set<{ text: string; resolve: () => void }>();
  out.on('data', (chunk: Buffer) => {
    logText += chunk.toString('utf8');
    for (const w of [...logWaiters]) if (logText.includes(w.text)) (logWaiters.delete(w), w.resolve());
  });
  /** Resolves once a log line contains `text` (no fixed sleep: the bot logs it when the failure happens). */
  function logged(text: string, timeoutMs = 60_000): Promise<void> {
    if (logText.includes(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { text, resolve };
      logWaiters.add(w);
      setTimeout(() => (logWaiters.delete(w) ? reject(new Error(`no log line with "${text}" within ${timeoutMs} ms`)) : undefined), timeoutMs).unref();
    });
  }
  const secrets: { what: string; value: string }[] = [];
  const stateBytes = () =>
    ['state.sqlite', 'state.sqlite-wal']
      .map((f) => join(s.dir, f))
      .filter(existsSync)
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');

  beforeAll(async () => {
    s = await startStack({
      timeScale: 0.02,
      settings: { progressIntervalMs: 150 },
      logger: createLogger({ level: 'trace', destination: out }),
      botYml: ['self_service:', '  enabled: true', '  profiles: [basic]', '  create_users: true'].join('\n'),
    });
  });
  afterAll(async () => s?.stop());

  it('credentials follow-up refused (401) and DMs refused (50007): logged without the CSV, passwords or token', async () => {
    const { fake } = s;
    const text = `user,discord\nivanov,${fake.members.student.user.id}\npetrov,\n`;
    const url = fake.serveFile('class.csv', text);
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'sec-101' },
      attachments: { users: { filename: 'class.csv', url, size: Buffer.byteLength(text), contentType: 'text/csv' } },
    });
    const planEdit = await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 30_000, 'plan');
    fake.injectFault({ method: 'POST', pathIncludes: '/webhooks/', files: true, status: 401, code: 50027, message: 'Invalid Webhook Token', times: 1 });
    fake.injectFault({ method: 'POST', dm: true, status: 403, code: 50007, message: 'Cannot send messages to this user', times: 10 });
    const click = fake.click({ member: fake.members.teacher, messageId: planEdit.message!.id, customId: fake.button(planEdit.message!.id, 'deploy:confirm:') });
    const followUp = await fake.waitFor((r) => r.interactionToken === click.token && r.files.length === 1, 60_000, 'credentials follow-up');
    expect(followUp.status).toBe(401);
    const teacherDm = await fake.waitFor((r) => r.method === 'POST' && r.files.length === 1 && fake.dmChannels.has(r.path.split('/')[2] ?? ''), 30_000, 'teacher DM');
    expect(teacherDm.status).toBe(403);
    const studentDm = await fake.waitFor(
      (r) => r.method === 'POST' && fake.dmChannels.get(r.path.split('/')[2] ?? '') === fake.members.student.user.id,
      30_000,
      'student DM',
    );
    expect(studentDm.status).toBe(403);
    await logged('credentials DM to a student failed');
    const csv = followUp.files[0]!.data;
    secrets.push({ what: 'CSV', value: csv.toString('utf8') }, { what: 'CSV bytes', value: [...csv].join(',') });
    for (const line of csv.toString('utf8').trim().split('\n').slice(1)) secrets.push({ what: `password of ${line.split(',')[0]}`, value: line.split(',')[1]! });
    expect(String(studentDm.body.content)).toContain('Password: ||');
    // the failures are logged, with what an operator needs: code, status, method, route without the token
    const lines = logText.split('\n').filter((l) => l.includes('credentials DM to a student failed') || l.includes('ephemeral credentials follow-up failed'));
    expect(lines).toHaveLength(2);
    const dmErr = JSON.parse(lines.find((l) => l.includes('student failed'))!).err;
    expect(dmErr).toMatchObject({ code: 50007, status: 403, method: 'POST', route: expect.stringMatching(/^\/channels\/\d+\/messages$/) });
    const fuErr = JSON.parse(lines.find((l) => l.includes('follow-up failed'))!).err;
    expect(fuErr).toMatchObject({ code: 50027, status: 401, method: 'POST', route: `/webhooks/${fake.appId}/:token` });
  });

  it('the /stand request reply failing (404) is logged without the student’s password', async () => {
    const { fake } = s;
    const member = fake.member('marina');
    const { token } = fake.slash({ member, name: 'stand', subcommand: 'request' });
    fake.injectFault({ method: 'PATCH', pathIncludes: token, status: 404, code: 10015, message: 'Unknown Webhook', times: 10_000 });
    const withPassword = await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH' && /Password: \|\|/.test(String(r.body?.content ?? '')), 60_000, 'reply with the password');
    expect(withPassword.status).toBe(404);
    await logged('error reply failed');
    secrets.push({ what: 'self-service password', value: /Password: \|\|(.+)\|\|/.exec(String(withPassword.body.content))![1]! });
  });

  it('an engine error mid-deploy (ACL refused after the user was created) logs no password', async () => {
    const app = s.bot.app;
    s.sim.faults.add({ kind: 'error', method: 'PUT', path: '/access/acl', status: 500, message: 'injected: cannot write user.cfg', times: 20 });
    const plan = await planDeploy(app, {
      profile: await loadProfile(app.configDir, 'basic'),
      users: { file: 'r.txt', users: [{ userid: 'kozlov@pve', name: 'kozlov', realm: 'pve', line: 1 }], warnings: [] },
      group: 'sec-engine',
    });
    const r = await runDeploy(app, plan);
    s.sim.faults.clear();
    expect(r.stands[0]!.status).toBe('failed');
    const pw = s.sim.state.users.get('kozlov@pve')?.password;
    expect(pw, 'the user was created before the ACL failed').toBeTruthy();
    secrets.push({ what: 'engine password', value: pw! });
    await logged('injected: cannot write user.cfg');
  });

  it('none of them appears in any log line or in the state file', async () => {
    const tokens = [...s.fake.interactions.values()].map((i) => ({ what: `interaction token ${i.id}`, value: i.token }));
    const all = [...secrets, ...tokens, { what: 'bot token', value: 'fake-bot-token' }];
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    await s.bot.app.store.audit.list(); // a read: the WAL has what was written
    const state = stateBytes();
    const leaks = all.filter((x) => logText.includes(x.value) || state.includes(x.value)).map((x) => x.what);
    expect(leaks).toEqual([]);
    expect(logText.length).toBeGreaterThan(10_000); // trace level: plenty was logged
  });

  it('serializes a Discord API error to code, status, method and route; live secrets go by value', () => {
    const err = new DiscordAPIError(
      { code: 50007, message: 'Cannot send messages to this user' },
      50007,
      403,
      'POST',
      'https://discord.com/api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb246c2VjcmV0dG9rZW4xMjM0NTY3ODkw/messages/@original?wait=true',
      { files: [{ name: 'x.csv', data: Buffer.from('user,password\na@pve,Pw-Very-Secret-1\n') }], body: { content: 'Password: ||Pw-Very-Secret-1||' } },
    );
    expect(serializeError(err)).toEqual({
      type: 'DiscordAPIError[50007]',
      message: 'Cannot send messages to this user',
      code: 50007,
      status: 403,
      method: 'POST',
      route: '/webhooks/123456789012345678/:token/messages/@original',
    });
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (c: Buffer) => (text += c.toString()));
    const log = createLogger({ level: 'trace', destination: sink });
    registerSecret('Zq9-unit-secret-77');
    log.info({ nested: { deep: [`a note with Zq9-unit-secret-77 inside`] }, err: new Error('boom Zq9-unit-secret-77') }, 'msg Zq9-unit-secret-77');
    expect(text).not.toContain('Zq9-unit-secret-77');
    expect(text.match(/\[redacted\]/g)!.length).toBeGreaterThanOrEqual(3);
  });
});
