import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack.js';

// A teacher deploys a class from an uploaded user list: real bot ↔ fake Discord ↔ engine ↔ simulator (HTTPS).
describe('/deploy', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ timeScale: 0.02, settings: { progressIntervalMs: 150 } });
  });
  afterAll(async () => s?.stop());

  function upload(name: string, text: string) {
    const url = s.fake.serveFile(name, text);
    return { users: { filename: name, url, size: Buffer.byteLength(text), contentType: 'text/plain; charset=utf-8' } };
  }

  it('shows a plan, refuses other members on Confirm, then deploys with throttled progress and a summary', async () => {
    const { fake, sim } = s;
    const before = sim.state.vms.size;
    const { token } = fake.slash({
      member: fake.members.teacher,
      name: 'deploy',
      options: { profile: 'basic', group: 'net-101' },
      // a roster as Excel in a Russian locale writes it: `;`, with the students' Discord ids where known
      attachments: upload('class.csv', `user;discord\nivanov;${fake.members.student.user.id}\npetrov;\nsidorov;\n`),
    });
    const planEdit = await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000, 'plan');
    expect(fake.requestsFor(token)[0]!.body).toMatchObject({ type: 5, data: { flags: 64 } });
    const plan = planEdit.message!;
    expect(plan.embeds[0]!.title).toBe('Deploy plan: net-101 (profile basic)');
    expect(plan.embeds[0]!.description).toMatch(/^3 stands, 3 VMs on cluster sim\./);
    const confirmId = fake.button(plan.id, 'deploy:confirm:');

    // a student has no teacher role; another teacher-level member is not the invoker
    for (const [member, text] of [
      [fake.members.student, 'Access denied: this needs the teacher role.'],
      [fake.members.admin, `Only <@${fake.members.teacher.user.id}> can press this button.`],
    ] as const) {
      const c = fake.click({ member, messageId: plan.id, customId: confirmId });
      const r = await fake.waitFor((x) => x.interactionToken === c.token && x.path.endsWith('/callback'));
      expect(r.body).toMatchObject({ type: 4, data: { content: text, flags: 64 } });
    }
    expect(sim.state.vms.size).toBe(before);

    const click = fake.click({ member: fake.members.teacher, messageId: plan.id, customId: confirmId });
    const progressPost = await fake.waitFor((r) => r.interactionToken === click.token && r.method === 'POST' && !r.path.endsWith('/callback'));
    const progressId = progressPost.message!.id;
    expect(progressPost.body.flags ?? 0).toBe(0); // public: the class sees it
    const final = await fake.waitFor(
      (r) => r.method === 'PATCH' && r.message?.id === progressId && /Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''),
      30_000,
      'final progress edit',
    );
    const embed = final.body.embeds[0];
    expect(embed.title).toBe('Deploy net-101');
    expect(embed.footer.text).toMatch(/^Finished: success · deploy-/);
    expect(embed.description).toContain('3/3 stands done');
    for (const u of ['ivanov@pve', 'petrov@pve', 'sidorov@pve']) expect(embed.description).toContain(`✅ ${u} — done`);

    // edits: more than the final one (live progress), and bounded by the throttle
    const edits = fake.requests.filter((r) => r.method === 'PATCH' && r.message?.id === progressId);
    const span = final.at - progressPost.at;
    expect(edits.length).toBeGreaterThanOrEqual(2);
    expect(edits.length).toBeLessThanOrEqual(Math.ceil(span / 150) + 2);

    // the stands exist on the simulator
    const ours = [...sim.state.vms.values()].filter((v) => /^(ivanov|petrov|sidorov)-vm$/.test(String(v.config.name ?? '')));
    expect(ours).toHaveLength(3);

    // credentials: an ephemeral CSV follow-up to the teacher, on the click's token
    const creds = await fake.waitFor((r) => r.interactionToken === click.token && r.files.length === 1, 10_000, 'credentials');
    expect(creds.body.flags).toBe(64);
    const csv = creds.files[0]!.data.toString('utf8').trim().split('\n');
    expect(csv[0]).toBe('user,password,console,pool,group');
    expect(csv.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['ivanov@pve', 'petrov@pve', 'sidorov@pve']);
    expect(csv.slice(1).every((l) => l.split(',')[1]!.length >= 12)).toBe(true);

    // the student with a Discord id in the roster gets their own login by DM, nobody else's
    const dm = await fake.waitFor((r) => r.method === 'POST' && fake.dmChannels.get(r.path.split('/')[2] ?? '') === fake.members.student.user.id, 10_000, 'student DM');
    const ivanov = csv.find((l) => l.startsWith('ivanov@pve,'))!.split(',');
    expect(dm.body.content).toBe(`Your stand in net-101 is ready. Login: ivanov@pve\nPassword: ||${ivanov[1]}||\nConsole: ${ivanov[2]}`);

    // audited, and no password in the audit channel
    const audit = fake.channelMessages(fake.auditChannelId).map((m) => m.content);
    expect(audit.some((a) => /deploy net-101: ok/.test(a))).toBe(true);
    for (const line of csv.slice(1)) {
      const pw = line.split(',')[1]!;
      const visible = fake.channelMessages(fake.auditChannelId).concat(fake.channelMessages(fake.channelId)).filter((m) => !((m.flags ?? 0) & 64));
      expect(visible.some((m) => JSON.stringify(m).includes(pw))).toBe(false);
    }
  });

  it('offers profiles and groups by autocomplete', async () => {
    const { fake } = s;
    const a = fake.autocomplete({ member: fake.members.teacher, name: 'deploy', focused: 'profile', value: '' });
    await fake.waitFor((r) => r.interactionToken === a.token);
    expect([...fake.interactions.values()].find((x) => x.token === a.token)!.autocompleteChoices).toEqual([
      { name: 'basic', value: 'basic' },
      { name: 'netlab', value: 'netlab' },
    ]);
    const g = fake.autocomplete({ member: fake.members.teacher, name: 'reset', focused: 'group', value: 'net' });
    await fake.waitFor((r) => r.interactionToken === g.token);
    expect([...fake.interactions.values()].find((x) => x.token === g.token)!.autocompleteChoices).toEqual([{ name: 'net-101', value: 'net-101' }]);
  });

  it('resets a group to its start snapshot after a listing and Confirm', async () => {
    const { fake } = s;
    for (let k = 0; k < 100 && s.bot.bot.jobs.list().length; k++) await new Promise((r) => setTimeout(r, 50));
    const { token } = fake.slash({ member: fake.members.teacher, name: 'reset', options: { group: 'net-101' } });
    const listing = (await fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000)).message!;
    expect(listing.embeds[0]!.title).toBe('Reset of net-101 to the start snapshot');
    expect(listing.embeds[0]!.description!.split('\n').map((l) => l.split(':')[0]).sort()).toEqual(['ivanov@pve', 'petrov@pve', 'sidorov@pve']);
    const click = fake.click({ member: fake.members.teacher, messageId: listing.id, customId: fake.button(listing.id, 'reset:confirm:') });
    const post = await fake.waitFor((r) => r.interactionToken === click.token && r.method === 'POST' && !r.path.endsWith('/callback'));
    const final = await fake.waitFor((r) => r.message?.id === post.message!.id && /Finished/.test(r.body?.embeds?.[0]?.footer?.text ?? ''), 30_000, 'reset summary');
    expect(final.body.embeds[0].title).toBe('Reset net-101');
    expect(final.body.embeds[0].footer.text).toMatch(/^Finished: success/);
    const rollbacks = s.sim.stats.byRoute;
    expect(Object.keys(rollbacks).some((k) => /rollback/.test(k))).toBe(true);
  });
});
