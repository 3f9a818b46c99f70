/**
 * Users of a directory realm (LDAP, AD): PVE keeps no password for them (pve-access-control Auth/Plugin.pm
 * store_password dies "can't set password on auth type 'ldap'"), so the engine creates them without one, shows
 * none, and the plan says they sign in with their directory password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUserList } from '../../src/config/user-list.js';
import { runDeploy } from '../../src/core/deploy.js';
import { planDeploy } from '../../src/core/plan.js';
import { renderPlan } from '../../src/core/plan-table.js';
import { PlanRefusedError } from '../../src/core/types.js';
import { messages } from '../../src/discord/i18n.js';
import { deployPlanEmbed } from '../../src/discord/plan-view.js';
import { netlabProfile, startRunEnv, type RunEnv } from './run-harness.js';

const rules = { defaultRealm: 'pve', allowedRealms: ['pve', 'school', 'ghost'] };

describe('directory realms', () => {
  let env: RunEnv;
  beforeAll(async () => {
    env = await startRunEnv();
    env.sim.state.realms.set('school', { type: 'ldap', comment: 'school directory' });
  });
  afterAll(async () => env?.close());

  it('creates LDAP users without a password, shows none, and says so in the CLI plan and the bot embed', async () => {
    const users = parseUserList('teacher01@school\nstudent01@pve\n', 'class.txt', rules);
    const plan = await planDeploy(env.ctx, { profile: await netlabProfile(), users, group: 'realm1' });
    const byUser = Object.fromEntries(plan.stands.map((s) => [s.userid, s.directoryRealm ?? null]));
    expect(byUser).toEqual({ 'teacher01@school': 'ldap', 'student01@pve': null });
    const warning =
      '1 user of realm school (ldap) signs in with their directory password: it is created without a password and none is shown (teacher01@school)';
    expect(plan.warnings).toContain(warning);
    // wide enough that the warning is not wrapped (the table fits the terminal: tables.test.ts)
    const text = renderPlan(plan, { width: 300 });
    expect(text.slice(text.indexOf('\nWarnings:\n'))).toContain(`\n  ${warning}`);
    const embed = deployPlanEmbed(plan, messages('en'), 60);
    expect(embed.fields?.find((f) => f.name === messages('en').planWarnings)?.value).toContain(warning);
    // the same warning in Russian (plural by Intl.PluralRules), in the CLI plan and the embed for a ru member
    const ru = '1 пользователь из области school (ldap) входит с паролем каталога: он создаётся без пароля, и пароль не показывается (teacher01@school)';
    const ruText = renderPlan(plan, { width: 300, lang: 'ru' });
    expect(ruText.slice(ruText.indexOf('\nПредупреждения:\n'))).toContain(`\n  ${ru}`);
    expect(deployPlanEmbed(plan, messages('ru'), 60, 'ru').fields?.find((f) => f.name === messages('ru').planWarnings)?.value).toContain(ru);

    const r = await runDeploy(env.ctx, plan);
    expect(r.stands.map((s) => `${s.userid}:${s.status}:${s.error ?? ''}`).sort()).toEqual(['student01@pve:ready:', 'teacher01@school:ready:']);
    expect(r.credentials.map((c) => c.userid)).toEqual(['student01@pve']);
    expect(r.stands.find((s) => s.userid === 'teacher01@school')).toMatchObject({ createdUser: true });
    expect(r.stands.find((s) => s.userid === 'teacher01@school')!.password).toBeUndefined();
    const teacher = env.sim.state.users.get('teacher01@school');
    expect(teacher?.password).toBeUndefined();
    expect(env.sim.state.users.get('student01@pve')?.password).toBe(r.credentials[0]!.password);
  });

  it('refuses a user list whose realm the cluster does not have, creating nothing', async () => {
    const users = parseUserList('someone@ghost\n', 'class.txt', rules);
    const before = env.sim.state.users.size;
    const err = await planDeploy(env.ctx, { profile: await netlabProfile(), users, group: 'realm2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect((err as PlanRefusedError).rows).toMatchObject([
      { subject: 'realm ghost', problem: "not among the cluster's realms (Datacenter → Permissions → Realms)" },
    ]);
    expect(env.sim.state.users.size).toBe(before);
  });
});
