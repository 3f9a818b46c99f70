/**
 * buildPlan on hand-made inventories (the cases the default simulated cluster does not show): SDN, our own
 * pending bridges, offline and full nodes, a missing shared bridge, replica reuse, disk space for full clones.
 */
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile.js';
import { defaultSettings, type Settings } from '../../src/config/settings.js';
import type { UserList } from '../../src/config/user-list.js';
import { fromResources, nodeNetwork, templateInfoFromConfig, type Inventory } from '../../src/core/inventory.js';
import { buildPlan, type StoreSnapshot } from '../../src/core/plan.js';
import { listReplicaUsage, replicasToPrune } from '../../src/core/templates.js';
import { PlanRefusedError } from '../../src/core/types.js';
import type { ClusterResource, NetworkIface, VmConfig } from '../../src/proxmox/types.js';
import type { StandRecord } from '../../src/store/schemas.js';

const GiB = 1024 ** 3;

interface Fixture {
  nodes?: { name: string; mem: number; cpu: number; status?: string }[];
  vms?: { vmid: number; node: string; mem: number; cores: number; template?: boolean; name?: string }[];
  shared?: boolean;
  freeGiB?: number;
  ifaces?: Record<string, Partial<NetworkIface>[]>;
  changes?: Record<string, string>;
  configs?: Record<number, Record<string, unknown>>;
  users?: string[];
  vnets?: { vnet: string; zone: string; tag: number }[];
}

function inventory(f: Fixture = {}): Inventory {
  const nodes = f.nodes ?? [
    { name: 'pve1', mem: 64, cpu: 16 },
    { name: 'pve2', mem: 48, cpu: 12 },
  ];
  const res: ClusterResource[] = [];
  for (const n of nodes) {
    res.push({ id: `node/${n.name}`, type: 'node', node: n.name, status: n.status ?? 'online', maxcpu: n.cpu, maxmem: n.mem * GiB } as ClusterResource);
    res.push({
      id: `storage/${n.name}/local-lvm`, type: 'storage', node: n.name, storage: 'local-lvm', shared: false, content: 'images,rootdir',
      maxdisk: 1000 * GiB, disk: (1000 - (f.freeGiB ?? 1000)) * GiB, status: 'available',
    } as ClusterResource);
    res.push({ id: `storage/${n.name}/ceph`, type: 'storage', node: n.name, storage: 'ceph', shared: true, content: 'images', maxdisk: 4000 * GiB, disk: 0, status: 'available' } as ClusterResource);
  }
  const vms = f.vms ?? [{ vmid: 9000, node: 'pve1', mem: 1024, cores: 1, template: true, name: 'debian-12-tpl' }];
  for (const v of vms) {
    res.push({ id: `qemu/${v.vmid}`, type: 'qemu', vmid: v.vmid, node: v.node, name: v.name, template: v.template ?? false, maxmem: v.mem * 1024 * 1024, maxcpu: v.cores, status: 'stopped' } as ClusterResource);
  }
  const base = fromResources('lab', res);
  const networks = new Map(
    nodes
      .filter((n) => (n.status ?? 'online') === 'online')
      .map((n) => [
        n.name,
        nodeNetwork(
          n.name,
          [{ iface: 'vmbr0', type: 'bridge', active: true }, ...(f.ifaces?.[n.name] ?? [])] as NetworkIface[],
          f.changes?.[n.name],
        ),
      ]),
  );
  const storage = f.shared ? 'ceph' : 'local-lvm';
  return {
    ...base,
    users: new Set((f.users ?? []).map((u) => u.toLowerCase())),
    networks,
    ...(f.vnets ? { sdn: { zones: [], vnets: f.vnets.map((v) => ({ ...v, vlanaware: false })) } } : {}),
    templateInfo: async (vmid) => {
      const vm = base.vmById.get(vmid);
      if (!vm) throw new Error(`no VM ${vmid}`);
      const cfg = f.configs?.[vmid] ?? { name: vm.name, cores: vm.cores, memory: String(vm.memMiB), scsi0: `${storage}:base-${vmid}-disk-0,size=8G`, net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0', net1: 'virtio=BC:24:11:00:00:02,bridge=vmbr0' };
      return templateInfoFromConfig(vm, cfg as VmConfig);
    },
  };
}

const profile = (networks = '["lan", "dmz.10"]', extra = '') =>
  parseProfile(`name: p\n${extra}machines:\n  - name: vm\n    template: 9000\n    networks: ${networks}\n`, 'profiles/p.yml');
const userList = (n: number): UserList => ({
  file: 'class.txt',
  warnings: [],
  users: Array.from({ length: n }, (_, i) => ({ userid: `s${i + 1}@pve`, name: `s${i + 1}`, realm: 'pve', line: i + 1 })),
});
const empty: StoreSnapshot = { stands: [], journal: [], replicas: [] };

async function plan(o: { inv?: Inventory; n?: number; settings?: Settings; store?: StoreSnapshot; profileText?: ReturnType<typeof profile>; mode?: 'bridges' | 'sdn'; group?: string } = {}) {
  return buildPlan({
    cluster: 'lab',
    group: o.group ?? 'g',
    input: { profile: o.profileText ?? profile(), users: userList(o.n ?? 4), ...(o.mode ? { mode: o.mode } : {}) },
    settings: o.settings ?? defaultSettings(),
    inventory: o.inv ?? inventory(),
    store: o.store ?? empty,
    now: () => Date.parse('2026-11-25T12:00:00Z'),
  });
}

describe('node exclusions', () => {
  it('keeps a node whose only pending edit is our own journaled, marked bridge', async () => {
    const inv = inventory({
      shared: true,
      ifaces: { pve2: [{ iface: 'vmbr1000', type: 'bridge', comments: 'stands:other:s9:lan', pending: true }] },
    });
    const ours = await plan({
      inv,
      store: { ...empty, journal: [{ cluster: 'lab', kind: 'bridge', id: 'pve2/vmbr1000', state: 'intended', intendedAt: 'x' }] },
    });
    expect(ours.excluded).toEqual([]);
    // and the bridge number stays taken
    expect(ours.stands.filter((s) => s.node === 'pve2').flatMap((s) => s.segments.map((g) => g.iface))).not.toContain('vmbr1000');
    const notJournaled = await plan({ inv });
    expect(notJournaled.excluded).toMatchObject([
      { node: 'pve2', reason: 'pending network edits by someone else (vmbr1000): applying our bridges would apply them too' },
    ]);
  });

  it('leaves out offline nodes, nodes over the memory limit and nodes lacking a shared bridge', async () => {
    const inv = inventory({
      shared: true,
      nodes: [
        { name: 'pve1', mem: 64, cpu: 16 },
        { name: 'pve2', mem: 16, cpu: 8 },
        { name: 'pve3', mem: 64, cpu: 16, status: 'offline' },
        { name: 'pve4', mem: 64, cpu: 16 },
      ],
      vms: [
        { vmid: 9000, node: 'pve1', mem: 1024, cores: 1, template: true, name: 'debian-12-tpl' },
        { vmid: 100, node: 'pve2', mem: 15 * 1024, cores: 2 },
      ],
      ifaces: { pve4: [] },
    });
    // pve4 has no vmbr5
    inv.networks.get('pve1')?.ifaces.set('vmbr5', { iface: 'vmbr5', type: 'bridge', active: true, pending: false });
    inv.networks.get('pve2')?.ifaces.set('vmbr5', { iface: 'vmbr5', type: 'bridge', active: true, pending: false });
    const p = await plan({ inv, profileText: profile('["**vmbr5", "lan"]') });
    expect(p.excluded).toMatchObject([
      { node: 'pve3', reason: 'node is offline' },
      { node: 'pve2', reason: 'memory already 93.8% allocated (limit 90%)' },
      { node: 'pve4', reason: 'bridge vmbr5 (used by vm) does not exist there' },
    ]);
    expect(new Set(p.stands.map((s) => s.node))).toEqual(new Set(['pve1']));
    expect(p.warnings).toContain('machine vm: net0 on the existing bridge vmbr5 puts student VMs on a shared LAN');
  });
});

describe('templates on shared storage and replicas', () => {
  it('clones across nodes with target= when the template is on shared storage (no replica)', async () => {
    const p = await plan({ inv: inventory({ shared: true }) });
    expect(p.replicas).toEqual([]);
    const onPve2 = p.stands.find((s) => s.node === 'pve2')?.vms[0];
    expect(onPve2).toMatchObject({ node: 'pve2', templateVmid: 9000, templateNode: 'pve1' });
    // the template has net0 and net1; the profile two NICs: nothing to delete
    expect(onPve2?.deleteNets).toEqual([]);
  });

  it('reuses a recorded replica that is on the cluster', async () => {
    const inv = inventory({
      vms: [
        { vmid: 9000, node: 'pve1', mem: 1024, cores: 1, template: true, name: 'debian-12-tpl' },
        { vmid: 100500, node: 'pve2', mem: 1024, cores: 1, template: true, name: 'tpl-9000-pve2' },
      ],
    });
    const p = await plan({
      inv,
      store: { ...empty, replicas: [{ cluster: 'lab', sourceVmid: 9000, sourceNode: 'pve1', node: 'pve2', vmid: 100500, name: 'tpl-9000-pve2', storage: 'local-lvm', createdAt: 'x' }] },
    });
    expect(p.replicas).toEqual([
      { sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve2', vmid: 100500, name: 'tpl-9000-pve2', storage: 'local-lvm', exists: true },
    ]);
    expect(p.stands.find((s) => s.node === 'pve2')?.vms[0]).toMatchObject({ templateVmid: 100500, templateNode: 'pve2' });
  });

  it('lists replica usage and prunes only unused ones', () => {
    const stand = { group: 'g', userid: 's1@pve', status: 'ready', vms: [{ vmid: 10000, template: 100500, status: 'ready' }] } as unknown as StandRecord;
    const entries = listReplicaUsage(
      [
        { cluster: 'lab', sourceVmid: 9000, sourceNode: 'pve1', node: 'pve2', vmid: 100500, name: 'tpl-9000-pve2', createdAt: 'x' },
        { cluster: 'lab', sourceVmid: 9000, sourceNode: 'pve1', node: 'pve3', vmid: 100501, name: 'tpl-9000-pve3', createdAt: 'x' },
      ],
      [stand],
    );
    expect(entries.map((e) => [e.vmid, e.usedBy])).toEqual([
      [100500, ['g/s1@pve']],
      [100501, []],
    ]);
    expect(replicasToPrune(entries).map((e) => e.vmid)).toEqual([100501]);
  });
});

describe('templates with CD-ROM and cloud-init drives (every volume counts)', () => {
  const tpl = (drives: Record<string, string>) => ({
    9000: {
      name: 'debian-12-tpl', cores: 1, memory: '1024', scsi0: 'ceph:base-9000-disk-0,size=8G',
      net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0', net1: 'virtio=BC:24:11:00:00:02,bridge=vmbr0', ...drives,
    },
  });
  const withIsoStorages = (inv: Inventory): Inventory => {
    for (const node of ['pve1', 'pve2']) {
      inv.storages.push({ node, storage: 'local', shared: false, images: false, active: true, totalGiB: 100, freeGiB: 100 });
      inv.storages.push({ node, storage: 'isos', shared: true, images: false, active: true, totalGiB: 100, freeGiB: 100 });
    }
    return inv;
  };

  it('a node-local ISO keeps VMs off other nodes, with a message to eject or move it', async () => {
    const inv = withIsoStorages(inventory({ shared: true, configs: tpl({ ide2: 'local:iso/debian-12.iso,media=cdrom' }) }));
    const p = await plan({ inv });
    expect(new Set(p.stands.map((s) => s.node))).toEqual(new Set(['pve1']));
    expect(p.replicas).toEqual([]);
    expect(p.excluded).toEqual([
      {
        node: 'pve2',
        reason:
          'template 9000 (debian-12-tpl) has ISO local:iso/debian-12.iso (ide2) on node-local storage local: Proxmox can neither ' +
          'clone it to another node nor migrate a copy there; eject it (qm set 9000 --ide2 none,media=cdrom) or move the ISO to shared storage',
      },
    ]);
  });

  it('a node-local cloud-init drive needs a replica (no target= clone); a shared ISO and cloud-init drive do not', async () => {
    // spread by load only (time-aware placement would keep every stand on the template's node: no replica to see)
    const spread = { ...defaultSettings(), placement: { ...defaultSettings().placement, timeAware: false } };
    const ci = await plan({ settings: spread, inv: withIsoStorages(inventory({ shared: true, configs: tpl({ ide0: 'local-lvm:vm-9000-cloudinit,media=cdrom' }) })) });
    expect(ci.replicas).toEqual([
      { sourceVmid: 9000, sourceNode: 'pve1', targetNode: 'pve2', vmid: 100000, name: 'tpl-9000-pve2', storage: 'local-lvm', exists: false },
    ]);
    const shared = await plan({
      inv: withIsoStorages(inventory({ shared: true, configs: tpl({ ide0: 'ceph:vm-9000-cloudinit,media=cdrom', ide2: 'isos:iso/debian-12.iso,media=cdrom' }) })),
    });
    expect(shared.excluded).toEqual([]);
    expect(shared.replicas).toEqual([]);
    expect(shared.stands.find((s) => s.node === 'pve2')?.vms[0]).toMatchObject({ templateVmid: 9000, templateNode: 'pve1' });
  });
});

describe('full clones', () => {
  it('refuses when the storage cannot hold the full copies', async () => {
    const err = (await plan({ inv: inventory({ freeGiB: 20 }), profileText: profile('["lan"]', 'clone: full\n'), n: 4 }).catch(
      (e: unknown) => e,
    )) as PlanRefusedError;
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect(err.summary).toBe('not enough disk space');
    // 8 GiB template on node-local storage: 2 full clones on each node, plus the replica on pve2
    // (pve1 needs 16 GiB of its 20: fine)
    expect(err.rows).toMatchObject([{ subject: 'storage local-lvm on pve2', problem: 'needs 24.0 GiB, 20.0 GiB free' }]);
  });
});

describe('sdn mode', () => {
  it('makes one VNet per alias with a unique tag and may spread a stand over nodes', async () => {
    const inv = inventory({ shared: true, vnets: [{ vnet: 'sv1jk', zone: 'stands', tag: 2000 }] });
    const p = await plan({
      inv,
      mode: 'sdn',
      profileText: parseProfile(
        'name: p\nmachines:\n  - name: a\n    template: 9000\n    memory: 8192\n    networks: ["lan"]\n  - name: b\n    template: 9000\n    memory: 8192\n    networks: ["lan", "dmz.10"]\n',
        'profiles/p.yml',
      ),
      n: 2,
    });
    const s1 = p.stands[0];
    expect(s1?.segments.map((g) => [g.alias, g.kind, g.iface, g.tag, g.zone, g.vlanAware])).toEqual([
      ['lan', 'vnet', 'sv1jl', 2001, 'stands', false],
      ['dmz', 'vnet', 'sv1jm', 2002, 'stands', true],
    ]);
    expect(s1?.vms[1]?.nets).toEqual([
      { index: 0, value: 'virtio,bridge=sv1jl' },
      { index: 1, value: 'virtio,bridge=sv1jm,tag=10' },
    ]);
    // VMs are placed one by one: a stand's two 8 GiB VMs land on different nodes when that balances better
    expect(new Set(p.stands.flatMap((s) => s.vms.map((v) => v.node)))).toEqual(new Set(['pve1', 'pve2']));
    expect(p.applyNodes).toEqual(['pve1', 'pve2']);
    expect(p.sdnZone).toBe('stands');
  });

  it('is refused while any node carries someone else’s pending edit', async () => {
    const inv = inventory({ shared: true, ifaces: { pve2: [{ iface: 'vmbr99', type: 'bridge', comments: 'lab uplink (alice)', pending: true }] } });
    const err = (await plan({ inv, mode: 'sdn' }).catch((e: unknown) => e)) as PlanRefusedError;
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect(err.summary).toBe('applying SDN reloads the network of every node, and some nodes carry pending edits that are not ours');
    expect(err.rows).toMatchObject([{ subject: 'pve2', problem: 'pending network edits by someone else: vmbr99' }]);
  });
});

describe('misc', () => {
  it('records an existing PVE user as existing (never created, never deleted)', async () => {
    const p = await plan({ inv: inventory({ shared: true, users: ['S1@pve'] }), n: 2 });
    expect(p.stands.map((s) => s.userExists)).toEqual([true, false]);
  });

  it('takes the lease from the profile when the command sets none', async () => {
    const p = await plan({ inv: inventory({ shared: true }), profileText: profile('["lan"]', 'lease: 4h\n'), n: 1 });
    expect(p.leaseMs).toBe(4 * 3600_000);
    expect(p.leaseExpiresAt).toBe('2026-11-25T16:00:00.000Z');
  });
});

describe('re-runs where the cluster changed', () => {
  const recorded = (over: Partial<StandRecord> = {}): StandRecord => ({
    cluster: 'lab', group: 'g', user: 's1', userid: 's1@pve', profile: 'p', pool: 'g_s1', node: 'pve1', mode: 'bridges',
    vms: [{ machine: 'vm', vmid: 10000, node: 'pve1', name: 's1-vm', status: 'ready', steps: [] }],
    segments: [
      { alias: 'lan', kind: 'bridge', iface: 'vmbr1000', node: 'pve1', vlanAware: false },
      { alias: 'dmz', kind: 'bridge', iface: 'vmbr1001', node: 'pve1', vlanAware: true },
    ],
    vlans: [10], createdUser: true, poolCreated: true, aclCreated: true, status: 'ready',
    createdAt: 'x', updatedAt: 'x', history: [], ...over,
  });

  it('keeps recorded objects that are still ours (or gone) and replaces ones someone else now holds', async () => {
    const inv = inventory({
      shared: true,
      vms: [
        { vmid: 9000, node: 'pve1', mem: 1024, cores: 1, template: true, name: 'debian-12-tpl' },
        { vmid: 10000, node: 'pve1', mem: 512, cores: 1, name: 'someone-elses' },
      ],
      ifaces: {
        pve1: [
          { iface: 'vmbr1000', type: 'bridge', active: true, comments: 'stands:g:s1-old-slug:lan' },
          { iface: 'vmbr1001', type: 'bridge', active: true, comments: 'lab uplink (alice)' },
        ],
      },
    });
    const p = await plan({ inv, n: 1, store: { ...empty, stands: [recorded()] } });
    const s = p.stands[0];
    expect(s?.node).toBe('pve1');
    expect(s?.segments.map((g) => [g.alias, g.iface, g.recorded, g.comment])).toEqual([
      ['lan', 'vmbr1000', true, 'stands:g:s1-old-slug:lan'],
      ['dmz', 'vmbr1002', false, 'stands:g:s1:dmz'],
    ]);
    expect(s?.vms[0]).toMatchObject({ vmid: 10001, recorded: false });
    expect(p.warnings).toEqual([
      's1@pve: recorded bridge vmbr1001 on pve1 is now someone else\'s; planning a new one',
      's1@pve: recorded VMID 10000 (vm) is now VM "someone-elses"; planning a new id',
    ]);
  });

  it('plans a removed stand afresh', async () => {
    const p = await plan({ inv: inventory({ shared: true }), n: 1, store: { ...empty, stands: [recorded({ status: 'removed', node: 'pve2' })] } });
    expect(p.stands[0]?.recorded).toBe(false);
    expect(p.stands[0]?.vms[0]?.recorded).toBe(false);
    expect(p.stands[0]?.segments.every((g) => !g.recorded)).toBe(true);
  });
});

describe('ecorouter NIC room', () => {
  it('refuses an ecorouter with 32 networks (net0 is its management port)', async () => {
    // the profile loader refuses this already; a profile built in code (the bot, a bench) must not slip through
    const nets = JSON.stringify(Array.from({ length: 31 }, (_, i) => `n${i}`));
    const prof = parseProfile(`name: p\nmachines:\n  - name: r\n    template: 9000\n    device: ecorouter\n    networks: ${nets}\n`, 'profiles/p.yml');
    prof.machines[0]?.networks.push({ kind: 'segment', alias: 'n31' });
    const err = (await plan({ inv: inventory({ shared: true }), profileText: prof, n: 1 }).catch((e: unknown) => e)) as PlanRefusedError;
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect(err.summary).toBe('the profile cannot be planned');
    expect(err.rows).toMatchObject([{ subject: 'profiles/p.yml: machine r', problem: 'an ecorouter takes at most 31 networks (net0 is its management port)' }]);
  });
});
