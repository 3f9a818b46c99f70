import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNetworkRef, parseNetworkAlias } from '../../src/config/network-alias.js';
import { listProfiles, loadProfile, parseProfile } from '../../src/config/profile.js';
import { errorLines, tempConfig, yaml } from './helpers.js';

const ISSUE2_EXAMPLE = yaml(`
  name: netlab
  description: Router and two clients on VLANs
  clone: linked            # linked | full (default linked)
  machines:
    - name: gw
      template: 9000       # a VMID, or the template's name
      cores: 2
      memory: 2048         # MiB
      networks: ["**vmbr0", "hq", "office.100"]
    - name: pc1
      template: debian-12-tpl
      networks: ["hq"]
      device: linux        # linux | ecorouter
`);

describe('profiles: our format', () => {
  it('reads the example of issue 2 into the model', () => {
    const p = parseProfile(ISSUE2_EXAMPLE, 'profiles/netlab.yml');
    expect(p).toEqual({
      name: 'netlab',
      description: 'Router and two clients on VLANs',
      clone: 'linked',
      isolation: 'none',
      machines: [
        {
          name: 'gw',
          template: 9000,
          cores: 2,
          memory: 2048,
          device: 'linux',
          networks: [
            { kind: 'bridge', bridge: 'vmbr0' },
            { kind: 'segment', alias: 'hq' },
            { kind: 'segment', alias: 'office', vlan: 100 },
          ],
        },
        { name: 'pc1', template: 'debian-12-tpl', device: 'linux', networks: [{ kind: 'segment', alias: 'hq' }] },
      ],
      file: 'profiles/netlab.yml',
      format: 'stands',
      warnings: [],
    });
  });

  it('defaults: clone linked, device linux, name from the file; cores/memory left out keep the template values', () => {
    const p = parseProfile('machines:\n  - name: vm\n    template: "9000"\n    networks: []\n', 'profiles/tiny.yml');
    expect(p.name).toBe('tiny');
    expect(p.clone).toBe('linked');
    expect(p.machines[0]).toEqual({ name: 'vm', template: 9000, device: 'linux', networks: [] });
  });

  it('per-machine clone mode and a lease', () => {
    const p = parseProfile(
      yaml(`
        clone: full
        lease: 1h30m
        machines:
          - name: a
            template: 9000
            clone: linked
            networks: [lan]
      `),
      'p.yml',
    );
    expect(p.clone).toBe('full');
    expect(p.machines[0]!.full).toBe(false);
    expect(p.lease).toBe('1h30m');
    expect(p.leaseMs).toBe(90 * 60_000);
  });
});

describe('profiles: the seed deployment_config.yml', () => {
  it('reads machines with device_type, template_node, template_vmid, full_clone, networks [{bridge}], memory, cpus', () => {
    const p = parseProfile(
      yaml(`
        machines:
          - device_type: "linux"
            name: "student-pc"
            template_node: "pve1"
            template_vmid: 100
            full_clone: false
            networks:
              - bridge: "**vmbr0"
              - bridge: "hq"
              - bridge: "hq.100"
          - device_type: ecorouter
            name: router
            template_node: pve2
            template_vmid: 9001
            full_clone: true
            memory: 4096
            cpus: 4
            disk_size: 20
      `),
      'data/deployment_config.yml',
    );
    expect(p.format).toBe('seed');
    expect(p.name).toBe('deployment_config');
    expect(p.clone).toBe('linked');
    expect(p.machines).toEqual([
      {
        name: 'student-pc',
        template: 100,
        templateNode: 'pve1',
        cores: 2,
        memory: 2048,
        device: 'linux',
        full: false,
        networks: [
          { kind: 'bridge', bridge: 'vmbr0' },
          { kind: 'segment', alias: 'hq' },
          { kind: 'segment', alias: 'hq', vlan: 100 },
        ],
      },
      { name: 'router', template: 9001, templateNode: 'pve2', cores: 4, memory: 4096, device: 'ecorouter', full: true, networks: [] },
    ]);
    expect(p.warnings.map((w) => `${w.file}:${w.line}: ${w.path}: ${w.message}`)).toEqual([
      "data/deployment_config.yml:18: machines[1].disk_size: not applied: the clone keeps the template's disk size",
    ]);
  });

  it('seed files with errors get the same line-numbered errors', async () => {
    const text = yaml(`
      machines:
        - device_type: windows
          name: pc
          template_vmid: 100
          networks:
            - bridge: "hq.4095"
            - brige: "hq"
    `);
    expect(await errorLines(() => parseProfile(text, 'deployment_config.yml'))).toEqual([
      'deployment_config.yml:2: machines[0].device_type: expected one of linux, ecorouter; got "windows"',
      'deployment_config.yml:2: machines[0].template_node: required key is missing',
      'deployment_config.yml:6: machines[0].networks[0].bridge: "hq.4095": VLAN 4095 is out of range (expected 1–4094)',
      'deployment_config.yml:7: machines[0].networks[1].bridge: required key is missing',
      'deployment_config.yml:7: machines[0].networks[1].brige: unknown key (did you mean "bridge"?)',
    ]);
  });
});

describe('profiles: the bad-input table', () => {
  const machine = (networks: string) =>
    yaml(`
      name: p
      machines:
        - name: gw
          template: 9000
          networks: ${networks}
    `);

  it('VLAN 0 and VLAN 4095 are out of range', async () => {
    expect(await errorLines(() => parseProfile(machine('["hq.0", "office.4095", "ok.4094", "ok.1"]'), 'p.yml'))).toEqual([
      'p.yml:5: machines[0].networks[0]: "hq.0": VLAN 0 is out of range (expected 1–4094)',
      'p.yml:5: machines[0].networks[1]: "office.4095": VLAN 4095 is out of range (expected 1–4094)',
    ]);
  });

  it('`hq.abc` is not a VLAN', async () => {
    expect(await errorLines(() => parseProfile(machine('["hq.abc"]'), 'p.yml'))).toEqual([
      'p.yml:5: machines[0].networks[0]: "hq.abc": VLAN "abc" is not a number (expected 1–4094)',
    ]);
  });

  it('anything else in networks is an error, one line per NIC', async () => {
    const text = yaml(`
      machines:
        - name: gw
          template: 9000
          networks:
            - "**"
            - "HQ"
            - "hq.100.2"
            - "**vmbr0 "
            - 5
    `);
    const ALIAS = 'is not a network alias: expected "**<bridge>", "<alias>" or "<alias>.<vlan>", where an alias is a lowercase letter followed by lowercase letters, digits or "-"';
    expect(await errorLines(() => parseProfile(text, 'p.yml'))).toEqual([
      'p.yml:5: machines[0].networks[0]: "**": "**" must be followed by a bridge name, e.g. "**vmbr0"',
      `p.yml:6: machines[0].networks[1]: "HQ" ${ALIAS}`,
      'p.yml:7: machines[0].networks[2]: "hq.100.2": VLAN "100.2" is not a number (expected 1–4094)',
      'p.yml:8: machines[0].networks[3]: "**vmbr0 ": "vmbr0 " is not a valid bridge name (a letter, then letters, digits, "_", "." or "-")',
      'p.yml:9: machines[0].networks[4]: expected a network alias such as "**vmbr0", "hq" or "hq.100"',
    ]);
  });

  it('an unknown key is reported with its path (a typo is never ignored)', async () => {
    const text = yaml(`
      name: p
      machines:
        - name: gw
          template: 9000
          netwroks: ["hq"]
          networks: ["hq"]
      descripton: x
    `);
    expect(await errorLines(() => parseProfile(text, 'profiles/p.yml'))).toEqual([
      'profiles/p.yml:5: machines[0].netwroks: unknown key (did you mean "networks"?)',
      'profiles/p.yml:7: descripton: unknown key (did you mean "description"?)',
    ]);
  });

  it('duplicate machine names (case-insensitive: they become DNS names)', async () => {
    const text = yaml(`
      machines:
        - name: pc
          template: 9000
          networks: []
        - name: gw
          template: 9000
          networks: []
        - name: PC
          template: 9000
          networks: []
    `);
    expect(await errorLines(() => parseProfile(text, 'p.yml'))).toEqual([
      'p.yml:8: machines[2].name: duplicate machine name "PC" (already used by machines[0])',
    ]);
  });

  it('a missing template key points at the machine', async () => {
    const text = yaml(`
      machines:
        - name: gw
          template: 9000
          networks: []
        - name: pc1
          networks: ["hq"]
    `);
    expect(await errorLines(() => parseProfile(text, 'p.yml'))).toEqual(['p.yml:5: machines[1].template: required key is missing']);
  });

  it('other value errors: names, VMIDs, devices, clone, lease, resources; all at once', async () => {
    const text = yaml(`
      clone: fast
      lease: 4
      machines:
        - name: pc_1
          template: 99
          device: windows
          cores: 0
          memory: 2048.5
          networks: "hq"
        - name: ok
          template: "debian 12"
          networks: []
    `);
    expect(await errorLines(() => parseProfile(text, 'p.yml'))).toEqual([
      'p.yml:1: clone: expected one of linked, full; got "fast"',
      'p.yml:2: lease: expected a string, got 4',
      'p.yml:4: machines[0].name: machine names use letters, digits and "-" (a DNS name: not starting or ending with "-")',
      'p.yml:5: machines[0].template: VMID 99 is out of range (expected 100–999999999)',
      'p.yml:6: machines[0].device: expected one of linux, ecorouter; got "windows"',
      'p.yml:7: machines[0].cores: must be at least 1',
      'p.yml:8: machines[0].memory: expected an integer, got 2048.5',
      'p.yml:9: machines[0].networks: expected a list, got "hq"',
      'p.yml:11: machines[1].template: "debian 12" is not a template name (a VM name: letters, digits, "." and "-")',
    ]);
  });

  it('NIC limits: 32 per VM, 31 for an ecorouter (net0 is its management port)', async () => {
    const nets = (n: number) => JSON.stringify(Array.from({ length: n }, (_, k) => `n${k}`));
    expect(parseProfile(`machines:\n  - {name: a, template: 9000, networks: ${nets(32)}}\n`, 'p.yml').machines[0]!.networks).toHaveLength(32);
    expect(await errorLines(() => parseProfile(`machines:\n  - {name: a, template: 9000, networks: ${nets(33)}}\n`, 'p.yml'))).toEqual([
      'p.yml:2: machines[0].networks: must have at most 32 items',
    ]);
    expect(
      await errorLines(() => parseProfile(`machines:\n  - {name: a, template: 9001, device: ecorouter, networks: ${nets(32)}}\n`, 'p.yml')),
    ).toEqual(['p.yml:2: machines[0].networks: an ecorouter has at most 31 networks (net0 is its management port)']);
  });

  it('an empty file and an empty machine list', async () => {
    expect(await errorLines(() => parseProfile('# nothing\n', 'p.yml'))).toEqual([
      'p.yml: empty profile: expected "machines:" with at least one machine',
    ]);
    expect(await errorLines(() => parseProfile('machines: []\n', 'p.yml'))).toEqual(['p.yml:1: machines: must have at least 1 item']);
  });
});

describe('loadProfile', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempConfig({
      'profiles/netlab.yml': ISSUE2_EXAMPLE.replace('name: netlab', 'name: netlab-v2'),
      'profiles/basic.yaml': 'machines:\n  - {name: vm, template: 9000, networks: [lan]}\n',
      'elsewhere/mine.yml': 'machines:\n  - {name: vm, template: 9000, networks: [lan]}\n',
    }));
  });
  afterAll(() => cleanup());

  it('a name means profiles/<name>.yml (or .yaml), whatever its name: says', async () => {
    const p = await loadProfile(dir, 'netlab');
    expect(p.file).toBe(join(dir, 'profiles', 'netlab.yml'));
    expect(p.name).toBe('netlab-v2');
    expect((await loadProfile(dir, 'basic')).name).toBe('basic');
  });

  it('a path is used as is', async () => {
    const p = await loadProfile(dir, join(dir, 'elsewhere', 'mine.yml'));
    expect(p.name).toBe('mine');
  });

  it('an unknown name lists the available profiles', async () => {
    expect(await errorLines(() => loadProfile(dir, 'netlba'))).toEqual([
      `${join(dir, 'profiles', 'netlba.yml')}: no such profile "netlba" (available: basic, netlab)`,
    ]);
    expect(await listProfiles(dir)).toEqual(['basic', 'netlab']);
  });
});

describe('network aliases (the pure parser the engine reuses)', () => {
  it.each([
    ['**vmbr0', { kind: 'bridge', bridge: 'vmbr0' }],
    ['hq', { kind: 'segment', alias: 'hq' }],
    ['dmz-2', { kind: 'segment', alias: 'dmz-2' }],
    ['office.1', { kind: 'segment', alias: 'office', vlan: 1 }],
    ['office.4094', { kind: 'segment', alias: 'office', vlan: 4094 }],
  ])('%s', (text, ref) => {
    const res = parseNetworkAlias(text);
    expect(res).toEqual({ ok: true, ref });
    expect(formatNetworkRef(ref as never)).toBe(text);
  });

  it.each(['', '2hq', 'hq_1', 'hq.', '.100', 'hq.-1', 'hq.1e3', '**', '**1bridge', `**${'b'.repeat(16)}`, 'a'.repeat(33)])(
    'refuses %j',
    (text) => {
      expect(parseNetworkAlias(text).ok).toBe(false);
    },
  );
});

describe('profiles: YAML conveniences', () => {
  it('anchors and merge keys (<<) share machine settings', () => {
    const p = parseProfile(
      yaml(`
        machines:
          - &pc
            name: pc1
            template: debian-12-tpl
            memory: 1024
            networks: [hq]
          - <<: *pc
            name: pc2
            networks: ["hq.10"]
      `),
      'p.yml',
    );
    expect(p.machines).toEqual([
      { name: 'pc1', template: 'debian-12-tpl', memory: 1024, device: 'linux', networks: [{ kind: 'segment', alias: 'hq' }] },
      { name: 'pc2', template: 'debian-12-tpl', memory: 1024, device: 'linux', networks: [{ kind: 'segment', alias: 'hq', vlan: 10 }] },
    ]);
  });
});

describe('profiles: hostile keys', () => {
  it('a __proto__ key is reported as unknown, not swallowed', async () => {
    const text = 'machines:\n  - name: a\n    template: 9000\n    networks: []\n    __proto__: {device: ecorouter}\n';
    expect(await errorLines(() => parseProfile(text, 'p.yml'))).toEqual(['p.yml:5: machines[0].__proto__: unknown key']);
  });
});

describe('profiles: isolation', () => {
  it('isolation: stand is read; the default is none; anything else is an error on its line', async () => {
    const machines = 'machines:\n  - name: pc\n    template: 9000\n    networks: ["**vmbr0"]\n';
    expect(parseProfile(`isolation: stand\n${machines}`, 'p.yml').isolation).toBe('stand');
    expect(parseProfile(machines, 'p.yml').isolation).toBe('none');
    expect(await errorLines(() => parseProfile(`name: x\nisolation: firewall\n${machines}`, 'p.yml'))).toEqual([
      'p.yml:2: isolation: expected one of none, stand; got "firewall"',
    ]);
  });
});
