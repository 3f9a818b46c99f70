import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DISCORD_ATTACHMENT_HOSTS, loadBotSettings } from '../../src/config/bot.js';
import { loadDotEnv, loadEnv, parseEnvironment, requireBotEnv } from '../../src/config/env.js';
import { consoleBaseUrl, defaultSettings, loadSettings, userListRules } from '../../src/config/settings.js';
import { parseUserList } from '../../src/config/user-list.js';
import { errorLines, tempConfig, yaml } from './helpers.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});
async function dirWith(files: Record<string, string>): Promise<string> {
  const t = await tempConfig(files);
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('stands.yml', () => {
  it('is optional: every key has its default', async () => {
    const dir = await dirWith({});
    const s = await loadSettings(dir);
    expect(s).toEqual(defaultSettings());
    expect(s).toMatchObject({
      realm: 'pve',
      allowedRealms: ['pve'],
      allowPam: false,
      placement: { strategy: 'balanced', memoryLimit: 0.9, cpuOvercommit: 4, timeAware: true, sharedReplica: 'auto' },
      network: { mode: 'bridges', bridgeRange: [1000, 4094], sdn: { zone: 'stands', zoneType: 'vlan', tagRange: [2000, 3999] } },
      vmids: { range: [10000, 99999] },
      acl: { role: 'PVEVMUser' },
      templates: { replicate: true },
      leases: { action: 'shutdown', warnBeforeMs: 3_600_000, shutdownTimeoutMs: 60_000 },
      concurrency: { perNode: 3, fullClonesPerStorage: 2, linkedClonesPerStorage: 12 },
      passwords: { length: 16 },
    });
    expect(s.leases.default).toBeUndefined();
  });

  it('snake_case YAML becomes camelCase settings', async () => {
    const dir = await dirWith({
      'stands.yml': yaml(`
        realm: school
        allowed_realms: [school, pve]
        allow_pam: true
        placement: {strategy: "node:pve2", memory_limit: 0.8, cpu_overcommit: 2}
        network:
          mode: sdn
          sdn: {zone: lab, zone_type: vxlan, tag_range: [10000, 20000]}
        vmids: {range: [20000, 29999]}
        acl:
          role: PVEVMUser
          custom_role: {name: StandsStudent, privs: [VM.Audit, VM.Snapshot.Rollback]}
        templates: {replicate: false, replica_vmid_range: [9100, 9199]}
        leases: {default: 2d, action: destroy, warn_before: 30m}
        console_url: {lab: "https://pve.example.org/"}
        concurrency: {per_node: 2, full_clones_per_storage: 2, linked_clones_per_storage: 8}
        passwords: {length: 20}
        isolation:
          deny: [10.10.0.0/16, "192.168.1.1/32", "2001:DB8:0:0::/32"]
          allow_in: [172.16.9.0/24]
      `),
    });
    const s = await loadSettings(dir);
    expect(s).toEqual({
      realm: 'school',
      allowedRealms: ['school', 'pve'],
      allowPam: true,
      placement: { strategy: 'node:pve2', memoryLimit: 0.8, cpuOvercommit: 2, timeAware: true, sharedReplica: 'auto' },
      network: { mode: 'sdn', bridgeRange: [1000, 4094], sdn: { zone: 'lab', zoneType: 'vxlan', tagRange: [10000, 20000] } },
      vmids: { range: [20000, 29999] },
      acl: { role: 'PVEVMUser', customRole: { name: 'StandsStudent', privs: ['VM.Audit', 'VM.Snapshot.Rollback'] } },
      templates: { replicate: false, replicaVmidRange: [9100, 9199] },
      leases: { default: '2d', defaultMs: 2 * 86_400_000, action: 'destroy', warnBefore: '30m', warnBeforeMs: 1_800_000, shutdownTimeout: '1m', shutdownTimeoutMs: 60_000 },
      consoleUrl: { lab: 'https://pve.example.org' },
      concurrency: { perNode: 2, fullClonesPerStorage: 2, linkedClonesPerStorage: 8 },
      passwords: { length: 20 },
      // as Proxmox IPSets store them: /32 dropped, IPv6 in canonical form
      isolation: { deny: ['10.10.0.0/16', '192.168.1.1', '2001:db8::/32'], allowIn: ['172.16.9.0/24'] },
      file: join(dir, 'stands.yml'),
    });
    expect(consoleBaseUrl(s, { name: 'lab', url: 'https://10.0.0.1:8006' })).toBe('https://pve.example.org');
    expect(consoleBaseUrl(s, { name: 'other', url: 'https://10.0.0.1:8006' })).toBe('https://10.0.0.1:8006');
    // the user-list rules follow the settings
    expect(parseUserList('a\nb@pve\nops@pam\n', 'u.txt', userListRules(s)).users.map((u) => u.userid)).toEqual([
      'a@school',
      'b@pve',
      'ops@pam',
    ]);
  });

  it('every mistake with its line and path, unknown keys included', async () => {
    const dir = await dirWith({
      'stands.yml': yaml(`
        realm: pve
        placement:
          strategy: fastest
          memory_limit: 1.5
        network:
          bridge_range: [2000, 1000]
          sdn: {zone: Stands, tag_rnage: [1, 2]}
        vmids:
          range: 100
        leases:
          default: 4x
          action: delete
        console_url:
          lab: ftp://x
        passwords: {length: 8}
        isolation:
          deny: [10.0.0.0/0, 300.1.1.1, "10.0.0.5/24"]
          allow_in: [lab]
      `),
    });
    const f = join(dir, 'stands.yml');
    expect(await errorLines(() => loadSettings(dir))).toEqual([
      `${f}:3: placement.strategy: expected balanced, round-robin, pack or node:<name>`,
      `${f}:4: placement.memory_limit: must be at most 1`,
      `${f}:6: network.bridge_range: the first number must not be greater than the last`,
      `${f}:7: network.sdn.zone: SDN zone ids are 1–8 lowercase letters and digits, starting with a letter`,
      `${f}:7: network.sdn.tag_rnage: unknown key (did you mean "tag_range"?)`,
      `${f}:9: vmids.range: expected [first, last], e.g. [100, 999999999]`,
      `${f}:11: leases.default: expected a duration such as "45m", "4h", "1h30m", "2d" or "1w"; got "4x"`,
      `${f}:12: leases.action: expected one of shutdown, stop, destroy; got "delete"`,
      `${f}:14: console_url.lab: expected an http(s) URL`,
      `${f}:15: passwords.length: must be at least 12`,
      `${f}:17: isolation.deny[0]: "10.0.0.0/0": the prefix must be 1–32 (Proxmox IPSets refuse /0)`,
      `${f}:17: isolation.deny[1]: "300.1.1.1" is not an IPv4/IPv6 address or CIDR (e.g. 192.168.10.0/24)`,
      `${f}:17: isolation.deny[2]: "10.0.0.5/24" has host bits set (did you mean 10.0.0.0/24?)`,
      `${f}:18: isolation.allow_in[0]: "lab" is not an IPv4/IPv6 address or CIDR (e.g. 192.168.10.0/24)`,
    ]);
  });

  it('cross-key rules: the realm must be allowed, VMID ranges separate, VLAN tags ≤ 4094', async () => {
    const dir = await dirWith({
      'stands.yml': yaml(`
        realm: pve
        allowed_realms: [ldap]
        network:
          sdn: {zone_type: vlan, tag_range: [100, 5000]}
        vmids: {range: [10000, 99999]}
        templates: {replica_vmid_range: [99000, 99999]}
      `),
    });
    const f = join(dir, 'stands.yml');
    expect(await errorLines(() => loadSettings(dir))).toEqual([
      `${f}:2: allowed_realms: must include the default realm "pve"`,
      `${f}:4: network.sdn.tag_range: VLAN tags end at 4094 (use zone_type: vxlan for more)`,
      `${f}:6: templates.replica_vmid_range: template replicas [99000, 99999] and stand VMs [10000, 99999] must use separate VMID ranges`,
    ]);
  });
});

describe('bot.yml', () => {
  const profiles = { 'profiles/basic.yml': 'machines:\n  - {name: vm, template: 9000, networks: [lan]}\n' };

  it('reads ids (unquoted big numbers keep every digit) and fills defaults', async () => {
    const dir = await dirWith({
      ...profiles,
      'bot.yml': yaml(`
        guild_id: 111111111111111111
        roles:
          teacher: ["222222222222222222"]
        self_service:
          profiles: [basic]
          lease: 4h
        attachment_hosts: ["127.0.0.1:5005"]
      `),
    });
    const b = await loadBotSettings(dir);
    expect(b).toEqual({
      guildId: '111111111111111111',
      roles: { admin: [], teacher: ['222222222222222222'], student: [] },
      language: 'auto',
      attachmentHosts: [...DISCORD_ATTACHMENT_HOSTS, '127.0.0.1:5005'],
      attachmentMaxBytes: 1024 * 1024,
      progressIntervalMs: 1500,
      statusNodesPerPage: 8,
      selfService: {
        enabled: true,
        profiles: ['basic'],
        maxStandsPerStudent: 1,
        lease: '4h',
        leaseMs: 4 * 3_600_000,
        group: 'self-{profile}',
        createUsers: false,
        realm: 'pve',
      },
      jobs: { perCluster: 1, confirmTimeoutMs: 300_000, tokenSwitchMs: 840_000, expireIntervalMs: 300_000 },
      file: join(dir, 'bot.yml'),
    });
  });

  it('mistakes with lines: ids, unknown profiles, language, timings, unknown keys', async () => {
    const dir = await dirWith({
      ...profiles,
      'bot.yml': yaml(`
        guild_id: "12345"
        roles:
          teacher: ["222222222222222222"]
          students: ["333333333333333333"]
        language: de
        progress_interval_ms: 10
        jobs: {token_switch_after: 20m, confirm_timeout: soon}
      `),
    });
    const f = join(dir, 'bot.yml');
    expect(await errorLines(() => loadBotSettings(dir))).toEqual([
      `${f}:1: guild_id: expected a Discord id (17–20 digits)`,
      `${f}:4: roles.students: unknown key (did you mean "student"?)`,
      `${f}:5: language: expected one of ru, en, auto; got "de"`,
      `${f}:6: progress_interval_ms: must be at least 250`,
      `${f}:7: jobs.confirm_timeout: expected a duration such as "45m", "4h", "1h30m", "2d" or "1w"; got "soon"`,
    ]);
    await writeFile(
      f,
      yaml(`
        guild_id: "111111111111111111"
        roles: {student: ["333333333333333333"]}
        self_service: {profiles: [basic, netlab]}
        jobs: {token_switch_after: 20m}
      `),
    );
    expect(await errorLines(() => loadBotSettings(dir))).toEqual([
      `${f}:2: roles: give at least one admin or teacher role id, or nobody can deploy`,
      `${f}:3: self_service.profiles[1]: no profile "netlab" in profiles/ (available: basic)`,
      `${f}:4: jobs.token_switch_after: must be shorter than 15m (the interaction token lifetime)`,
    ]);
  });

  it('a missing bot.yml says what is needed', async () => {
    const dir = await dirWith({});
    expect(await errorLines(() => loadBotSettings(dir))).toEqual([
      `${join(dir, 'bot.yml')}: file not found: the bot needs bot.yml (see data/bot.yml for an example)`,
    ]);
  });
});

describe('environment', () => {
  it('empty strings count as unset; defaults apply', () => {
    const env = parseEnvironment({ DISCORD_TOKEN: '', DISCORD_APP_ID: '  ', STANDS_LOG_LEVEL: 'Debug' });
    expect(env).toEqual({ DISCORD_TOKEN: undefined, DISCORD_APP_ID: undefined, STANDS_CONFIG: './data', STANDS_LOG_LEVEL: 'debug' });
  });

  it('bad values name the variable, never its value', async () => {
    expect(
      await errorLines(() =>
        parseEnvironment({ DISCORD_APP_ID: '12', DISCORD_API_URL: 'ftp://x', STANDS_LOG_LEVEL: 'loud', STANDS_LOG_FORMAT: 'xml' }),
      ),
    ).toEqual([
      'environment: DISCORD_APP_ID: expected a Discord application id (17–20 digits)',
      'environment: DISCORD_API_URL: expected an http(s) URL',
      'environment: STANDS_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
      'environment: STANDS_LOG_FORMAT: expected one of pretty, json; got "xml"',
    ]);
    expect(await errorLines(() => requireBotEnv(parseEnvironment({ DISCORD_TOKEN: '' })))).toEqual([
      'environment: DISCORD_TOKEN: not set (the bot token from the Developer Portal)',
      'environment: DISCORD_APP_ID: not set (the application id from the Developer Portal)',
    ]);
  });

  it('.env fills unset and empty variables; set ones win', async () => {
    const dir = await dirWith({
      '.env': '# local\nDISCORD_TOKEN=from-file\nSTANDS_CONFIG=/etc/stands\nPVE_TOKEN_SECRET="quoted secret"\nDISCORD_API_URL=http://127.0.0.1:5005/api\n',
    });
    const env: NodeJS.ProcessEnv = { DISCORD_TOKEN: '', STANDS_CONFIG: '/srv/config' };
    const parsed = loadEnv({ env, dotenv: join(dir, '.env') });
    expect(parsed.DISCORD_TOKEN).toBe('from-file');
    expect(parsed.STANDS_CONFIG).toBe('/srv/config');
    expect(parsed.DISCORD_API_URL).toBe('http://127.0.0.1:5005/api');
    expect(env.PVE_TOKEN_SECRET).toBe('quoted secret'); // for ${VAR} in connections.yml
    expect(loadDotEnv(join(dir, 'missing.env'), env)).toEqual([]);
  });
});
