import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBotSettings } from '../../src/config/bot.js';
import { loadSettings } from '../../src/config/settings.js';
import { parseUserList } from '../../src/config/user-list.js';
import { checkUserId } from '../../src/config/userid.js';
import { aclId, parseAclId } from '../../src/core/ownership.js';
import { errorLines, tempConfig, yaml } from '../config/helpers.js';

// Issue 10 §3 and §5: one user-id check (format, realm allowlist, pam rule, root, list separators) for rosters,
// /link, self-service and config; names Proxmox lists cannot carry are refused at the door with file:line; the
// ACL journal id is structured so no character of a name can break it.
const rules = { defaultRealm: 'pve', allowedRealms: ['pve'], allowPam: false };

describe('user ids', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('refuses names with list separators in a roster, each with its line, and creates nothing', () => {
    const text = ['ivanov', 'a,b', 'c;d@pve', 'e|f', 'g"h', 'ok@pve', 'back\\slash'].join('\n');
    let lines: string[] = [];
    try {
      parseUserList(text, 'class.txt', rules);
    } catch (err) {
      lines = (err as Error).message.split('\n');
    }
    expect(lines).toEqual([
      'class.txt:2: "a,b": the name must not contain "," (Proxmox lists and our records use them as separators)',
      'class.txt:3: "c;d@pve": the name must not contain ";" (Proxmox lists and our records use them as separators)',
      'class.txt:4: "e|f": the name must not contain "|" (Proxmox lists and our records use them as separators)',
      'class.txt:5: "g\\"h": the name must not contain """ (Proxmox lists and our records use them as separators)',
      'class.txt:7: "back\\\\slash": the name must not contain "\\" (Proxmox lists and our records use them as separators)',
    ]);
    // the same rule in a CSV and a YAML roster
    expect(() => parseUserList('user,discord\n"x,y",\n', 'class.csv', rules)).toThrow(/class\.csv:2: "x,y": the name must not contain ","/);
    expect(() => parseUserList('- p|q\n', 'class.yml', rules)).toThrow(/class\.yml:1: \[0\]: "p\|q": the name must not contain "\|"/);
  });

  it('is one check: realm allowlist, pam rule, root, control characters', () => {
    expect(checkUserId('ivanov', rules)).toEqual({ ok: true, userid: 'ivanov@pve', name: 'ivanov', realm: 'pve' });
    expect(checkUserId('Иванов@pve', rules).ok).toBe(true);
    expect(checkUserId('root@pam', { ...rules, allowPam: true })).toEqual({ ok: false, message: '"root@pam": root@pam is never given a stand' });
    expect(checkUserId('opsadmin@pam', rules)).toEqual({
      ok: false,
      message: '"opsadmin@pam": @pam users are refused (set allow_pam: true in stands.yml to allow them)',
    });
    expect(checkUserId('opsadmin@pam', { ...rules, allowPam: true }).ok).toBe(true);
    expect(checkUserId('x@ldap', rules)).toEqual({ ok: false, message: '"x@ldap": realm "ldap" is not allowed (allowed: pve)' });
    expect(checkUserId('a\u0007b@pve', rules)).toEqual({ ok: false, message: '"a\\u0007b@pve": contains a control character' });
  });

  it('bot.yml with self_service.realm: pam fails to load with file:line', async () => {
    const c = await tempConfig({
      'profiles/basic.yml': 'machines:\n  - {name: vm, template: 9000, networks: [lan]}\n',
      'bot.yml': yaml(`
        guild_id: "111111111111111111"
        roles: {teacher: ["222222222222222222"]}
        self_service:
          profiles: [basic]
          create_users: true
          realm: pam
      `),
    });
    cleanups.push(c.cleanup);
    expect(await errorLines(() => loadBotSettings(c.dir))).toEqual([
      `${join(c.dir, 'bot.yml')}:6: self_service.realm: self-service never creates @pam users (their password is a Linux account password): use a PVE realm such as pve`,
    ]);
  });

  it('stands.yml naming pam as the default or an allowed realm needs allow_pam', async () => {
    const c = await tempConfig({ 'stands.yml': yaml(`
      realm: pam
      allowed_realms: [pam, pve]
    `) });
    cleanups.push(c.cleanup);
    const f = join(c.dir, 'stands.yml');
    expect(await errorLines(() => loadSettings(c.dir))).toEqual([
      `${f}:1: realm: @pam users are refused (set allow_pam: true in stands.yml to allow them)`,
      `${f}:2: allowed_realms[0]: @pam users are refused (set allow_pam: true in stands.yml to allow them)`,
    ]);
    const ok = await tempConfig({ 'stands.yml': 'realm: pam\nallowed_realms: [pam, pve]\nallow_pam: true\n' });
    cleanups.push(ok.cleanup);
    expect((await loadSettings(ok.dir)).realm).toBe('pam');
  });

  it('ACL journal ids survive any character of a name, and old ids are still read', () => {
    for (const userid of ['a|b@pve', 'x,y;z@pve', 'q"u\\o@pve', '["acl"]@pve', 'Иванов@pve']) {
      expect(parseAclId(aclId('/pool/p-1', userid, 'PVEVMUser'))).toEqual({ path: '/pool/p-1', userid, role: 'PVEVMUser' });
    }
    expect(parseAclId('/pool/p-1|we|ird@pve|PVEVMUser')).toEqual({ path: '/pool/p-1', userid: 'we|ird@pve', role: 'PVEVMUser' });
    expect(parseAclId('["acl","/pool/x"]')).toBeUndefined();
    expect(parseAclId('garbage')).toBeUndefined();
  });
});
