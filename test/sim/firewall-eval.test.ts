/**
 * The firewall evaluator on a configuration written through the product's client (src/proxmox/firewall.ts) over
 * real HTTPS: an isolation set-up like the one issue 13 asks for, then "does this packet pass?".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FirewallApi, isDigestConflict } from '../../src/proxmox/firewall.js';
import type { ProxmoxClient } from '../../src/proxmox/client.js';
import { connectionPasses, DEFAULT_SEED, evaluateFirewall, type FirewallPacket, type RunningSimulator } from '../../src/sim/index.js';
import { clientFor, clusterFor, startSim } from '../proxmox/sim-client.js';

const A = 501;
const B = 502;
const A_IP = '10.0.0.101';
const B_IP = '10.0.0.102';

let sim: RunningSimulator;
let client: ProxmoxClient;
let fw: FirewallApi;

beforeAll(async () => {
  sim = await startSim({
    seed: {
      ...DEFAULT_SEED,
      vms: [
        ...DEFAULT_SEED.vms!,
        { vmid: A, name: 'stand-a-vm', node: 'pve1', storage: 'local-lvm', nets: [{ bridge: 'vmbr0', firewall: true }, { bridge: 'vmbr0' }] },
        { vmid: B, name: 'stand-b-vm', node: 'pve2', storage: 'ceph', nets: [{ bridge: 'vmbr0', firewall: true }] },
      ],
    },
  });
  client = clientFor(sim, clusterFor(sim));
  fw = new FirewallApi(client);
});
afterAll(async () => {
  await client.close();
  await sim.stop();
});

const pkt = (p: Omit<FirewallPacket, 'proto'> & { proto?: string }): FirewallPacket => ({ proto: 'tcp', ...p });
const verdict = (p: Parameters<typeof pkt>[0]): string => {
  const v = evaluateFirewall(sim.state, pkt(p));
  return `${v.action}/${v.by}`;
};

describe('before anything is configured', () => {
  it('the datacenter firewall is off on a fresh cluster, so everything passes', async () => {
    expect((await fw.clusterOptions()).enable).toBeUndefined();
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.0.0.11', dport: 22 })).toBe('ACCEPT/cluster-disabled');
  });
});

describe('an isolated stand', () => {
  beforeAll(async () => {
    // node addresses are read from the cluster, as the product will
    const status = await client.get('/cluster/status', z.array(z.looseObject({ type: z.string(), ip: z.string().optional() })));
    const nodes = status.filter((n) => n.type === 'node');
    const cluster = { kind: 'cluster' } as const;
    await fw.createIpset(cluster, 'pve-nodes', 'cluster node addresses');
    for (const n of nodes) await fw.addIpsetEntry(cluster, 'pve-nodes', n.ip!);
    await fw.createIpset(cluster, 'deny');
    await fw.addIpsetEntry(cluster, 'deny', '192.168.100.0/24');
    await fw.createIpset(cluster, 'allow-in');
    await fw.addIpsetEntry(cluster, 'allow-in', '172.16.9.0/24');
    await fw.addIpsetEntry(cluster, 'allow-in', '172.16.9.66', { nomatch: true });
    await fw.createIpset(cluster, 'stands');
    await fw.addIpsetEntry(cluster, 'stands', A_IP);
    await fw.addIpsetEntry(cluster, 'stands', B_IP);
    await fw.createAlias(cluster, 'labrange', '10.9.0.0/16');

    // the group, built bottom-up: every POST lands at position 0
    const g = { kind: 'group', group: 'iso-a' } as const;
    await fw.createGroup('iso-a');
    await fw.addRule(g, { type: 'in', action: 'ACCEPT', source: '+allow-in', enable: true });
    await fw.addRule(g, { type: 'out', action: 'DROP', dest: '+stands', enable: true });
    await fw.addRule(g, { type: 'out', action: 'DROP', dest: '+deny', enable: true });
    await fw.addRule(g, { type: 'out', action: 'DROP', dest: '+pve-nodes', enable: true });

    const vmA = { kind: 'vm', node: 'pve1', vmid: A } as const;
    await fw.createIpset(vmA, 'own');
    await fw.addIpsetEntry(vmA, 'own', A_IP);
    await fw.addRule(vmA, { type: 'group', action: 'iso-a', enable: true });
    await fw.addRule(vmA, { type: 'in', action: 'ACCEPT', source: '+own', enable: true });
    // the newest rule is first: the own-stand accept runs before the group
    const rules = await fw.rules(vmA);
    expect(rules.map((r) => r.type)).toEqual(['in', 'group']);
    await fw.setVmOptions('pve1', A, { enable: true, policy_in: 'DROP' });
    const vmB = { kind: 'vm', node: 'pve2', vmid: B } as const;
    await fw.addRule(vmB, { type: 'group', action: 'iso-a', enable: true });
    await fw.setVmOptions('pve2', B, { enable: true, policy_in: 'DROP' });
    await fw.setClusterOptions({ enable: true });
  });

  it('the client reads back what it wrote, in PVE form', async () => {
    const g = await fw.rules({ kind: 'group', group: 'iso-a' });
    expect(g.map((r) => [r.pos, r.type, r.action, r.dest ?? r.source, r.enable])).toEqual([
      [0, 'out', 'DROP', '+pve-nodes', 1],
      [1, 'out', 'DROP', '+deny', 1],
      [2, 'out', 'DROP', '+stands', 1],
      [3, 'in', 'ACCEPT', '+allow-in', 1],
    ]);
    expect((await fw.ipsetEntries({ kind: 'cluster' }, 'pve-nodes')).map((e) => e.cidr)).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.13']);
    expect((await fw.ipsetEntries({ kind: 'cluster' }, 'allow-in')).find((e) => e.cidr === '172.16.9.66')?.nomatch).toBe(true);
    expect((await fw.vmOptions('pve1', A))).toMatchObject({ enable: 1, policy_in: 'DROP' });
    expect((await fw.clusterOptions()).enable).toBe(1);
  });

  it('out to a node 8006 and 22, or to a deny CIDR: blocked; to a public address: allowed', () => {
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.0.0.11', dport: 8006 })).toBe('DROP/rule');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.0.0.13', dport: 22 })).toBe('DROP/rule');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '192.168.100.77', dport: 443 })).toBe('DROP/rule');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '8.8.8.8', dport: 443 })).toBe('ACCEPT/policy');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.0.0.50', proto: 'udp', dport: 53 })).toBe('ACCEPT/policy');
    const v = evaluateFirewall(sim.state, pkt({ vmid: A, direction: 'out', source: A_IP, dest: '10.0.0.12', dport: 22 }));
    expect(v.rule).toMatchObject({ group: 'iso-a', pos: 0, dest: '+pve-nodes' });
  });

  it('in from another stand: blocked; from allow_in: allowed, except its nomatch entry; its own stand: allowed', () => {
    expect(verdict({ vmid: A, direction: 'in', source: B_IP, dest: A_IP, dport: 22 })).toBe('DROP/policy');
    expect(verdict({ vmid: A, direction: 'in', source: '172.16.9.20', dest: A_IP, dport: 22 })).toBe('ACCEPT/rule');
    expect(verdict({ vmid: A, direction: 'in', source: '172.16.9.66', dest: A_IP, dport: 22 })).toBe('DROP/policy');
    expect(verdict({ vmid: A, direction: 'in', source: A_IP, dest: A_IP, dport: 80 })).toBe('ACCEPT/rule');
    expect(verdict({ vmid: A, direction: 'in', source: '203.0.113.9', dest: A_IP, dport: 22 })).toBe('DROP/policy');
    const c = connectionPasses(sim.state, { from: { vmid: B, ip: B_IP }, to: { vmid: A, ip: A_IP }, proto: 'tcp', dport: 22 });
    expect(c.pass).toBe(false);
    expect(c.out).toMatchObject({ action: 'DROP', by: 'rule' });
    expect(c.in).toMatchObject({ action: 'DROP', by: 'policy' });
    expect(connectionPasses(sim.state, { from: { ip: '172.16.9.5' }, to: { vmid: A, ip: A_IP }, proto: 'tcp', dport: 22 }).pass).toBe(true);
  });

  it('a NIC without firewall=1, a VM with its firewall off, or a datacenter firewall off: not filtered', async () => {
    expect(verdict({ vmid: A, nic: 'net1', direction: 'in', source: B_IP, dest: A_IP, dport: 22 })).toBe('ACCEPT/nic-firewall-off');
    const o = await fw.vmOptions('pve2', B);
    await fw.setVmOptions('pve2', B, { enable: false }, o.digest);
    expect(verdict({ vmid: B, direction: 'out', source: B_IP, dest: '10.0.0.11', dport: 22 })).toBe('ACCEPT/vm-disabled');
    await fw.setVmOptions('pve2', B, { enable: true });
    // enable > 1: the anti-lockout timestamp, read as 0 once older than 60 s
    await fw.setClusterOptions({ enable: 2 });
    const now = sim.clock.now();
    expect(evaluateFirewall(sim.state, pkt({ vmid: B, direction: 'out', source: B_IP, dest: '10.0.0.11', dport: 22 }), now).action).toBe('DROP');
    expect(evaluateFirewall(sim.state, pkt({ vmid: B, direction: 'out', source: B_IP, dest: '10.0.0.11', dport: 22 }), now + 61_000).by).toBe('cluster-disabled');
    await fw.setClusterOptions({ enable: true });
  });

  it('disabled rules, rules for another NIC, macros, ranges and aliases', async () => {
    const vmA = { kind: 'vm', node: 'pve1', vmid: A } as const;
    await fw.addRule(vmA, { type: 'out', action: 'REJECT', macro: 'HTTP', enable: true });
    await fw.addRule(vmA, { type: 'out', action: 'DROP', dest: '1.1.1.1', enable: false });
    await fw.addRule(vmA, { type: 'out', action: 'DROP', dest: '9.9.9.9', iface: 'net1', enable: true });
    await fw.addRule(vmA, { type: 'out', action: 'DROP', dest: '10.8.0.10-10.8.0.20', enable: true });
    await fw.addRule(vmA, { type: 'out', action: 'DROP', dest: 'labrange', proto: 'tcp', dport: '1000:2000', enable: true });
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '93.184.216.34', dport: 80 })).toBe('REJECT/rule');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '93.184.216.34', dport: 8080 })).toBe('ACCEPT/policy');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '1.1.1.1', dport: 53 })).toBe('ACCEPT/policy');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '9.9.9.9', dport: 53 })).toBe('ACCEPT/policy');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.8.0.15', dport: 53 })).toBe('DROP/rule');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.8.0.21', dport: 53 })).toBe('ACCEPT/policy');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.9.3.3', dport: 1500 })).toBe('DROP/rule');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.9.3.3', dport: 2500 })).toBe('ACCEPT/policy');
    expect(verdict({ vmid: A, direction: 'out', source: A_IP, dest: '10.9.3.3', proto: 'udp', dport: 1500 })).toBe('ACCEPT/policy');
  });

  it('a stale digest is refused and recognised as a conflict; re-reading and redoing succeeds', async () => {
    const vmA = { kind: 'vm', node: 'pve1', vmid: A } as const;
    const before = await fw.rules(vmA);
    await fw.addRule(vmA, { type: 'in', action: 'DROP', source: '198.51.100.1', enable: true });
    const err = await fw.deleteRule(vmA, 0, before[0]!.digest).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDigestConflict(err)).toBe(true);
    const now = await fw.rules(vmA);
    await fw.deleteRule(vmA, 0, now[0]!.digest);
    expect((await fw.rules(vmA)).length).toBe(before.length);
    expect(() => fw.createGroup('Upper')).toThrow(/must be lower-case/);
  });
});
