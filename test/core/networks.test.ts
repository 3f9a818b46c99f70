import { describe, expect, it } from 'vitest';
import { foreignPending, nodeNetwork } from '../../src/core/inventory.js';
import {
  BridgeAllocator,
  ecorouterMac,
  parsePendingIfaces,
  planMachineNics,
  segmentsNeeded,
  VnetAllocator,
  vnetId,
} from '../../src/core/networks.js';
import { isValidSdnId } from '../../src/core/naming.js';
import { render } from '../../src/i18n/index.js';

describe('bridge allocation', () => {
  it('takes the first free vmbrN per node, skipping existing, pending, recorded and already planned ones', () => {
    const a = new BridgeAllocator({ min: 1000, max: 1005 }, [
      { node: 'pve1', iface: 'vmbr1000' }, // exists on the node
      { node: 'pve1', iface: 'vmbr1001' }, // someone's pending edit
      { node: 'pve1', iface: 'vmbr0' },
      { node: 'pve2', iface: 'vmbr1003' }, // recorded for another group
      { node: 'pve1', iface: 'eno1' },
    ]);
    expect(a.allocate('pve1')).toBe('vmbr1002');
    expect(a.allocate('pve1')).toBe('vmbr1003');
    expect(a.allocate('pve2')).toBe('vmbr1000');
    expect(a.allocate('pve2')).toBe('vmbr1001');
    expect(a.allocate('pve2')).toBe('vmbr1002');
    expect(a.allocate('pve2')).toBe('vmbr1004');
    expect(a.free('pve1')).toBe(2);
    expect(a.allocate('pve1')).toBe('vmbr1004');
    expect(a.allocate('pve1')).toBe('vmbr1005');
    expect(a.allocate('pve1')).toBeUndefined();
  });
});

describe('VNet allocation', () => {
  it('gives unique tags in the zone and short valid VNet ids', () => {
    const v = new VnetAllocator({ min: 2000, max: 2003 }, { tags: [2000], ids: [vnetId(2001)] });
    const a = v.allocate();
    expect(a).toEqual({ vnet: vnetId(2002), tag: 2002 });
    expect(isValidSdnId(a?.vnet ?? '')).toBe(true);
    expect(v.allocate()).toEqual({ vnet: vnetId(2003), tag: 2003 });
    expect(v.allocate()).toBeUndefined();
    expect(isValidSdnId(vnetId(16_777_215))).toBe(true);
  });
});

describe('NICs', () => {
  const machines = [
    { name: 'gw', device: 'linux' as const, networks: [{ kind: 'bridge' as const, bridge: 'vmbr0' }, { kind: 'segment' as const, alias: 'hq' }, { kind: 'segment' as const, alias: 'office', vlan: 100 }] },
    { name: 'pc1', device: 'linux' as const, networks: [{ kind: 'segment' as const, alias: 'hq' }] },
  ];

  it('makes a segment VLAN-aware when any NIC on it is tagged', () => {
    expect(segmentsNeeded(machines)).toEqual([
      { alias: 'hq', vlanAware: false, vlans: [] },
      { alias: 'office', vlanAware: true, vlans: [100] },
    ]);
  });

  it('gives each VM exactly the profile NICs and deletes the template extras', () => {
    const ifaces = new Map([
      ['hq', 'vmbr1000'],
      ['office', 'vmbr1001'],
    ]);
    const gw = planMachineNics(machines[0] as never, ifaces, 10000, [0, 1, 2, 3, 5]);
    expect(gw.nets).toEqual([
      { index: 0, value: 'virtio,bridge=vmbr0' },
      { index: 1, value: 'virtio,bridge=vmbr1000' },
      { index: 2, value: 'virtio,bridge=vmbr1001,tag=100' },
    ]);
    expect(gw.deleteNets).toEqual([3, 5]);
    expect(gw.warnings).toEqual([{ code: 'warn.sharedLan', params: { machine: 'gw', nic: 'net0', bridge: 'vmbr0' } }]);
    expect(gw.warnings.map((w) => render('en', w))).toEqual(['machine gw: net0 on the existing bridge vmbr0 puts student VMs on a shared LAN']);
    const pc = planMachineNics(machines[1] as never, ifaces, 10001, [0]);
    expect(pc.nets).toEqual([{ index: 0, value: 'virtio,bridge=vmbr1000' }]);
    expect(pc.deleteNets).toEqual([]);
  });

  it('gives ecorouters a link-down management net0, vmxnet3 and MACs from 1C:87:76, networks from net1', () => {
    const eco = { name: 'r1', device: 'ecorouter' as const, networks: [{ kind: 'segment' as const, alias: 'wan' }, { kind: 'segment' as const, alias: 'lan', vlan: 10 }] };
    const ifaces = new Map([
      ['wan', 'vmbr1000'],
      ['lan', 'vmbr1001'],
    ]);
    const r = planMachineNics(eco, ifaces, 10002, [0]);
    expect(r.nets).toEqual([
      { index: 0, value: `vmxnet3=${ecorouterMac(10002, 0)},bridge=vmbr1000,link_down=1` },
      { index: 1, value: `vmxnet3=${ecorouterMac(10002, 1)},bridge=vmbr1000` },
      { index: 2, value: `vmxnet3=${ecorouterMac(10002, 2)},bridge=vmbr1001,tag=10` },
    ]);
    expect(ecorouterMac(10002, 1)).toBe('1C:87:76:02:71:21');
    expect(new Set([0, 1, 2].map((i) => ecorouterMac(10002, i))).size).toBe(3);
    expect(ecorouterMac(10002, 0)).not.toBe(ecorouterMac(10003, 0));
  });
});

describe('pending network edits', () => {
  const diff = [
    '--- /etc/network/interfaces\t2026-11-25 10:00:00',
    '+++ /etc/network/interfaces.new\t2026-11-25 10:05:00',
    '@@ -10,3 +10,12 @@',
    ' iface vmbr0 inet static',
    ' \tbridge-ports eno1',
    '+',
    '+auto vmbr99',
    '+iface vmbr99 inet manual',
    '+\tbridge-ports none',
    '+#lab uplink (alice)',
    '+',
    '+auto vmbr1000',
    '+iface vmbr1000 inet manual',
    '+#stands:netlab:ivanov:hq',
  ].join('\n');

  it('finds the interfaces a pending diff touches', () => {
    expect([...parsePendingIfaces(diff).ifaces].sort()).toEqual(['vmbr1000', 'vmbr99']);
    expect(parsePendingIfaces(undefined).ifaces.size).toBe(0);
  });

  it('calls an edit ours only when marked AND journaled, everything else foreign', () => {
    const net = nodeNetwork(
      'pve3',
      [
        { iface: 'vmbr0', type: 'bridge', active: true } as never,
        { iface: 'vmbr99', type: 'bridge', active: false, comments: 'lab uplink (alice)' } as never,
        { iface: 'vmbr1000', type: 'bridge', active: false, comments: 'stands:netlab:ivanov:hq' } as never,
      ],
      diff,
    );
    expect(foreignPending(net, new Set(['pve3/vmbr1000']))).toEqual(['vmbr99']);
    // a marker alone (copied comment, or a journal from another state file) is not proof
    expect(foreignPending(net, new Set())).toEqual(['vmbr1000', 'vmbr99']);
  });

  it('treats a flagged pending interface without a diff as pending too', () => {
    const net = nodeNetwork('pve3', [{ iface: 'vmbr99', type: 'bridge', pending: true, comments: 'lab uplink (alice)' } as never]);
    expect(foreignPending(net, new Set())).toEqual(['vmbr99']);
  });
});

describe('a pending deletion of our own bridge', () => {
  it('is recognised as ours from the comment in the diff (the interface is gone from the list)', () => {
    const diff = [
      '--- /etc/network/interfaces',
      '+++ /etc/network/interfaces.new',
      '@@ -1,12 +1,6 @@',
      ' iface vmbr0 inet static',
      ' \tbridge-ports eno1',
      '-auto vmbr1000',
      '-iface vmbr1000 inet manual',
      '-\tbridge-ports none',
      '-#stands:netlab:ivanov:hq',
      ' source /etc/network/interfaces.d/*',
    ].join('\n');
    const net = nodeNetwork('pve1', [{ iface: 'vmbr0', type: 'bridge', active: true } as never], diff);
    expect(net.ifaces.get('vmbr1000')).toEqual({ iface: 'vmbr1000', type: 'unknown', active: false, comments: 'stands:netlab:ivanov:hq', pending: true });
    expect(foreignPending(net, new Set(['pve1/vmbr1000']))).toEqual([]);
    expect(foreignPending(net, new Set())).toEqual(['vmbr1000']);
  });
});
