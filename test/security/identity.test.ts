import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/config/profile.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import type { FakeMember } from '../support/fake-discord.js';
import { startStack, type Stack } from '../discord/stack.js';

// Issue 10 §2–3: with self_service.create_users a student's Proxmox identity is derived from their Discord name.
// A derived identity that names an existing user (the admin's alice@pve, a teacher's roster user, a user made for
// another member) is refused, and nothing on the cluster changes; /link and self-service apply the roster's
// user-id rules (no root@pam, no @pam without allow_pam, no list separators).
describe('a student can only ever be themselves', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      timeScale: 0.01,
      botYml: ['self_service:', '  enabled: true', '  profiles: [basic]', '  create_users: true'].join('\n'),
    });
  });
  afterAll(async () => s?.stop());

  async function run(member: FakeMember, name: string, sub?: string, options: Record<string, string> = {}) {
    const { fake } = s;
    const { token } = fake.slash({ member, name, ...(sub ? { subcommand: sub } : {}), options });
    const r = await fake.waitFor((x) => x.interactionToken === token && x.method === 'PATCH' && !x.body?.embeds?.length, 60_000, `${name} ${sub ?? ''} reply`);
    return r.body.content as string;
  }
  /** Requests that change something on the simulated cluster (everything but GET). */
  const writes = () => Object.entries(s.sim.stats.byRoute).filter(([route]) => !route.startsWith('GET ')).reduce((n, [, c]) => n + c, 0);
  const pveUsers = () => [...s.sim.state.users.keys()].sort();

  async function refusedWithoutWrites(member: FakeMember, expected: string) {
    const before = writes();
    const users = pveUsers();
    const vms = s.sim.state.vms.size;
    expect(await run(member, 'stand', 'request')).toBe(expected);
    expect(writes()).toBe(before);
    expect(pveUsers()).toEqual(users);
    expect(s.sim.state.vms.size).toBe(vms);
  }

  it('refuses a name that is an existing Proxmox user the product did not create (alice@pve)', async () => {
    expect(s.sim.state.users.has('alice@pve')).toBe(true);
    const alice = s.fake.member('alice');
    await refusedWithoutWrites(
      alice,
      'The Proxmox account alice@pve that your Discord name leads to already exists and was not created for you. Ask a teacher to /link you to your own account.',
    );
    expect(s.sim.state.users.get('alice@pve')!.comment).toBe('Alice (ops)');
    const denied = (await s.bot.app.store.audit.list()).find((a) => a.action === 'stand request' && a.outcome === 'denied');
    expect(denied?.user).toBe('alice@pve');
  });

  it('refuses a teacher-deployed student’s login and never attaches their stand', async () => {
    const app = s.bot.app;
    const profile = await loadProfile(app.configDir, 'basic');
    const plan = await planDeploy(app, {
      profile,
      users: { file: 'roster.txt', users: [{ userid: 'carol@pve', name: 'carol', realm: 'pve', line: 1 }], warnings: [] },
      group: 'class-a',
    });
    const r = await runDeploy(app, plan);
    expect(r.stands[0]!.status).toBe('ready');
    const carol = s.fake.member('carol');
    await refusedWithoutWrites(
      carol,
      'The Proxmox account carol@pve that your Discord name leads to already exists and was not created for you. Ask a teacher to /link you to your own account.',
    );
    expect((await app.store.stands.get('class-a', 'carol@pve'))!.discord).toBeUndefined();
    // nothing of hers answers to the impostor
    expect(await run(carol, 'stand', 'stop')).toBe('You have no Proxmox account linked. Ask a teacher to /link you.');
  });

  it('keeps slug-alike members apart (ivan.1, ivan_1) and refuses a name that lands on another member’s user', async () => {
    const dot = s.fake.member('ivan.1');
    const under = s.fake.member('ivan_1');
    const a = (await run(dot, 'stand', 'request')).split('\n')[0];
    const b = (await run(under, 'stand', 'request')).split('\n')[0];
    expect(a).toBe('Your stand in self-basic is ready. Login: ivan-1-ee93d4@pve');
    expect(b).toBe('Your stand in self-basic is ready. Login: ivan-1-425773@pve');
    const app = s.bot.app;
    expect((await app.store.stands.get('self-basic', 'ivan-1-ee93d4@pve'))!.discord).toBe(dot.user.id);
    expect((await app.store.stands.get('self-basic', 'ivan-1-425773@pve'))!.discord).toBe(under.user.id);
    // a member whose name slugs to exactly the user made for ivan.1 (e.g. a changed username) gets nothing of theirs
    const clash = s.fake.member('ivan-1-ee93d4');
    await refusedWithoutWrites(
      clash,
      'The Proxmox account ivan-1-ee93d4@pve that your Discord name leads to already exists and was not created for you. Ask a teacher to /link you to your own account.',
    );
    expect((await app.store.stands.get('self-basic', 'ivan-1-ee93d4@pve'))!.discord).toBe(dot.user.id);
    // and ivan.1 still reaches their own stand
    expect(await run(dot, 'stand', 'stop')).toBe('Done: stopped.');
  });

  it('applies the roster’s user-id rules to /link and to a link made before them', async () => {
    const { fake } = s;
    const student = fake.members.student;
    expect(await run(fake.members.teacher, 'link', undefined, { member: student.user.id, user: 'opsadmin@pam' })).toBe(
      'This Proxmox user cannot get a stand: "opsadmin@pam": @pam users are refused (set allow_pam: true in stands.yml to allow them).',
    );
    expect(await run(fake.members.teacher, 'link', undefined, { member: student.user.id, user: 'root@pam' })).toBe(
      'This Proxmox user cannot get a stand: "root@pam": root@pam is never given a stand.',
    );
    expect(await run(fake.members.teacher, 'link', undefined, { member: student.user.id, user: 'a,b@pve' })).toMatch(
      /^This Proxmox user cannot get a stand: "a,b@pve": the name must not contain ","/,
    );
    expect(await run(fake.members.teacher, 'link', undefined, { member: student.user.id, user: 'x@ldap' })).toBe(
      'This Proxmox user cannot get a stand: "x@ldap": realm "ldap" is not allowed (allowed: pve).',
    );
    expect(await s.bot.app.store.links.byDiscord(student.user.id)).toBeUndefined();
    // a link written by an older version: the request is refused before anything is created
    await s.bot.app.store.links.link(student.user.id, 'opsadmin@pam', 'old');
    await refusedWithoutWrites(
      student,
      'This Proxmox user cannot get a stand: "opsadmin@pam": @pam users are refused (set allow_pam: true in stands.yml to allow them).',
    );
    expect(s.sim.state.users.has('opsadmin@pam')).toBe(false);
  });
});
