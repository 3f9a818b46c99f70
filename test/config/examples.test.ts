import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBotSettings } from '../../src/config/bot.js';
import { loadConnections } from '../../src/config/connections.js';
import { listProfiles, loadProfile } from '../../src/config/profile.js';
import { loadSettings, userListRules } from '../../src/config/settings.js';
import { loadUserListFile } from '../../src/config/user-list.js';

const DATA = join(import.meta.dirname, '..', '..', 'data');
const ENV = {
  PVE_URL: 'https://pve1.lab.example:8006',
  PVE_TOKEN_ID: 'stands@pve!bot',
  PVE_TOKEN_SECRET: '00000000-1111-2222-3333-444444444444',
  PVE_FINGERPRINT: 'ab'.repeat(32),
  PVE_PASSWORD: 'example-password',
};

/** Every example file in data/ loads: the docs point at them, and the demo and tests use them. */
describe('the examples in data/', () => {
  it('data/ holds exactly the files this test loads (a new example must be added here)', async () => {
    const files = (await readdir(DATA, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(DATA.length + 1))
      .filter((f) => !f.endsWith('.sqlite'))
      .sort();
    expect(files).toEqual([
      'bot.yml',
      'connections.seed-format.yml',
      'connections.yml',
      'deployment_config.yml',
      'profiles/basic.yml',
      'profiles/netlab.yml',
      'stands.yml',
      'users.example.csv',
      'users.example.txt',
      'users.example.yml',
    ]);
  });

  it('connections.yml (from the environment)', async () => {
    const c = await loadConnections(DATA, { env: ENV });
    expect(c.default).toBe('lab');
    expect(c.clusters.lab).toMatchObject({ url: ENV.PVE_URL, tokenId: 'stands@pve!bot', tls: { insecure: false } });
    expect(c.clusters.lab!.tls.fingerprint).toMatch(/^AB(:AB){31}$/);
  });

  it('connections.seed-format.yml (both seed dialects)', async () => {
    const c = await loadConnections(DATA, { env: ENV, file: join(DATA, 'connections.seed-format.yml') });
    expect(Object.keys(c.clusters)).toEqual(['prod-cluster', 'dev-cluster', 'old-lab']);
    expect(c.clusters['prod-cluster']).toMatchObject({ url: 'https://192.168.1.100:8006', user: 'root@pam', password: ENV.PVE_PASSWORD });
    expect(c.clusters['dev-cluster']).toMatchObject({ tokenId: 'admin@pve!deploy-script', tls: { insecure: true } });
    expect(c.clusters['old-lab']).toMatchObject({ url: 'https://10.0.0.5:8006', tokenId: 'root@pam!deploy' });
  });

  it('profiles use the simulator templates (debian-12-tpl / 9000, ecorouter-tpl / 9001)', async () => {
    expect(await listProfiles(DATA)).toEqual(['basic', 'netlab']);
    const netlab = await loadProfile(DATA, 'netlab');
    expect(netlab.machines.map((m) => [m.name, m.template, m.device])).toEqual([
      ['gw', 9001, 'ecorouter'],
      ['pc1', 'debian-12-tpl', 'linux'],
      ['pc2', 9000, 'linux'],
    ]);
    const basic = await loadProfile(DATA, 'basic');
    expect(basic.machines).toEqual([{ name: 'vm', template: 'debian-12-tpl', device: 'linux', networks: [{ kind: 'segment', alias: 'lan' }] }]);
    const seed = await loadProfile(DATA, join(DATA, 'deployment_config.yml'));
    expect(seed.format).toBe('seed');
    expect(seed.machines.map((m) => [m.name, m.template, m.templateNode])).toEqual([
      ['router', 9001, 'pve1'],
      ['student-pc', 9000, 'pve1'],
    ]);
  });

  it('the three user lists hold the same six students', async () => {
    const settings = await loadSettings(DATA);
    const expected = ['student01@pve', 'student02@pve', 'ivanov.ivan@pve', 'petrova.maria@pve', 'иванов.пётр@pve', 'sidorov.alexei@pve'];
    for (const f of ['users.example.txt', 'users.example.csv', 'users.example.yml']) {
      const list = await loadUserListFile(join(DATA, f), userListRules(settings));
      expect(list.users.map((u) => u.userid), f).toEqual(expected);
      expect(list.warnings, f).toEqual([]);
    }
    const csv = await loadUserListFile(join(DATA, 'users.example.csv'));
    expect(csv.users.filter((u) => u.discord).length).toBe(4);
  });

  it('stands.yml states the defaults, bot.yml is valid', async () => {
    const settings = await loadSettings(DATA);
    const { file, ...rest } = settings;
    expect(file).toBe(join(DATA, 'stands.yml'));
    const { defaultSettings } = await import('../../src/config/settings.js');
    expect(rest).toEqual(defaultSettings());
    const bot = await loadBotSettings(DATA);
    expect(bot.selfService.profiles).toEqual(['basic']);
    expect(bot.guildId).toBe('111111111111111111');
  });
});
