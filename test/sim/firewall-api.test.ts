/** The simulator's firewall API over real HTTPS: behaviour read from pve-firewall (see src/sim/README.md). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, snapshotFirewall } from '../../src/sim/index.js';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(async () => {
  await t.stop();
});

const ok = (r: { status: number; reason: string }): void => {
  expect([r.status, r.reason]).toEqual([200, 'OK']);
};

describe('cluster options', () => {
  it('a fresh cluster has the datacenter firewall off; enable and policies are set with a digest check', async () => {
    const o = await t.api('GET', '/cluster/firewall/options');
    ok(o);
    expect(o.body.data.enable).toBeUndefined();
    expect(o.body.data.digest).toMatch(/^[0-9a-f]{40}$/);
    ok(await t.api('PUT', '/cluster/firewall/options', { enable: 1, policy_in: 'DROP', digest: o.body.data.digest }));
    const after = await t.api('GET', '/cluster/firewall/options');
    expect(after.body.data).toMatchObject({ enable: 1, policy_in: 'DROP' });
    expect(after.body.data.digest).not.toBe(o.body.data.digest);
    // the old digest is stale now
    const stale = await t.api('PUT', '/cluster/firewall/options', { enable: 0, digest: o.body.data.digest });
    expect([stale.status, stale.reason]).toEqual([
      500,
      "error during cfs-locked 'firewall-cluster' operation: detected modified configuration - file changed by other user? Try again.",
    ]);
    ok(await t.api('PUT', '/cluster/firewall/options', { delete: 'enable,policy_in' }));
    expect((await t.api('GET', '/cluster/firewall/options')).body.data.enable).toBeUndefined();
    const bad = await t.api('PUT', '/cluster/firewall/options', { policy_in: 'MAYBE' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.policy_in).toMatch(/enumeration/);
  });
});

describe('security groups and their rules', () => {
  it('creates a group, adds rules at position 0 (disabled without enable), moves and deletes them with digests', async () => {
    ok(await t.api('POST', '/cluster/firewall/groups', { group: 'stand-a', comment: 'test' }));
    const dup = await t.api('POST', '/cluster/firewall/groups', { group: 'stand-a' });
    expect([dup.status, dup.body.errors]).toEqual([400, { group: "Security group 'stand-a' already exists" }]);
    expect((await t.api('GET', '/cluster/firewall/groups')).body.data).toEqual([
      expect.objectContaining({ group: 'stand-a', comment: 'test', digest: expect.stringMatching(/^[0-9a-f]{40}$/) }),
    ]);
    const g = '/cluster/firewall/groups/stand-a';
    ok(await t.api('POST', g, { type: 'out', action: 'DROP', dest: '10.0.0.0/24', enable: 1 }));
    ok(await t.api('POST', g, { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22', pos: 5 }));
    let rules = (await t.api('GET', g)).body.data;
    // POST ignores pos: the newest rule is first; without enable it is stored disabled
    expect(rules.map((r: Record<string, unknown>) => [r.pos, r.type, r.action, r.enable])).toEqual([
      [0, 'in', 'ACCEPT', 0],
      [1, 'out', 'DROP', 1],
    ]);
    expect(rules[1].ipversion).toBe(4);
    const digest = rules[0].digest;
    // moveto: the rule goes in front of the one now at that position (or last)
    ok(await t.api('PUT', `${g}/0`, { moveto: 2, digest }));
    rules = (await t.api('GET', g)).body.data;
    expect(rules.map((r: Record<string, unknown>) => r.type)).toEqual(['out', 'in']);
    const stale = await t.api('PUT', `${g}/0`, { enable: 0, digest });
    expect(stale.reason).toBe("error during cfs-locked 'firewall-cluster' operation: detected modified configuration - file changed by other user? Try again.");
    ok(await t.api('PUT', `${g}/1`, { enable: 1, comment: 'ssh', digest: rules[0].digest }));
    const one = await t.api('GET', `${g}/1`);
    expect(one.body.data).toMatchObject({ pos: 1, enable: 1, comment: 'ssh', dport: '22' });
    const missing = await t.api('GET', `${g}/7`);
    expect([missing.status, missing.reason]).toEqual([500, 'no rule at position 7']);
    // a group rule inside a group is refused: groups do not nest
    const nested = await t.api('POST', g, { type: 'group', action: 'other' });
    expect([nested.status, nested.body.errors]).toEqual([400, { type: "invalid rule type 'group' for rule_env 'group'" }]);
  });

  it('refuses to delete a group that has rules, and deletes it once empty', async () => {
    const g = '/cluster/firewall/groups/stand-a';
    const refused = await t.api('DELETE', g);
    expect([refused.status, refused.reason]).toEqual([500, "error during cfs-locked 'firewall-cluster' operation: Security group 'stand-a' is not empty"]);
    for (;;) {
      const rules = (await t.api('GET', g)).body.data;
      if (!rules.length) break;
      ok(await t.api('DELETE', `${g}/0`, { digest: rules[0].digest }));
    }
    ok(await t.api('DELETE', g));
    expect((await t.api('GET', '/cluster/firewall/groups')).body.data).toEqual([]);
    const gone = await t.api('GET', g);
    expect([gone.status, gone.reason]).toEqual([500, "no such security group 'stand-a'"]);
  });

  it('stores group names lower-cased, as PVE re-reads the file', async () => {
    ok(await t.api('POST', '/cluster/firewall/groups', { group: 'MixedCase' }));
    expect((await t.api('GET', '/cluster/firewall/groups')).body.data.map((x: { group: string }) => x.group)).toEqual(['mixedcase']);
    expect((await t.api('GET', '/cluster/firewall/groups/MixedCase')).reason).toBe("no such security group 'MixedCase'");
    ok(await t.api('DELETE', '/cluster/firewall/groups/mixedcase'));
    const long = await t.api('POST', '/cluster/firewall/groups', { group: 'a'.repeat(21) });
    expect(long.status).toBe(400);
  });
});

describe('IPSets and aliases', () => {
  it('normalises, sorts and de-duplicates IPSet entries; nomatch entries; read/update/remove by cidr', async () => {
    ok(await t.api('POST', '/cluster/firewall/ipset', { name: 'mgmt', comment: 'hosts' }));
    const s = '/cluster/firewall/ipset/mgmt';
    ok(await t.api('POST', s, { cidr: '10.0.0.77/24' }));
    ok(await t.api('POST', s, { cidr: '10.0.0.13/32', nomatch: 1 }));
    ok(await t.api('POST', s, { cidr: '192.168.5.1' }));
    const dup = await t.api('POST', s, { cidr: '10.0.0.0/24' });
    expect([dup.status, dup.body.errors]).toEqual([400, { cidr: "address '10.0.0.0/24' already exists" }]);
    const zero = await t.api('POST', s, { cidr: '0.0.0.0/0' });
    expect(zero.body.errors).toEqual({ cidr: 'a zero prefix is not allowed in ipset entries' });
    const bad = await t.api('POST', s, { cidr: '10.0.0.300' });
    expect(bad.status).toBe(400);
    const entries = (await t.api('GET', s)).body.data;
    expect(entries.map((e: Record<string, unknown>) => [e.cidr, e.nomatch])).toEqual([
      ['10.0.0.0/24', undefined],
      ['10.0.0.13', 1],
      ['192.168.5.1', undefined],
    ]);
    const one = await t.api('GET', `${s}/${encodeURIComponent('10.0.0.0/24')}`);
    expect(one.body.data).toMatchObject({ cidr: '10.0.0.0/24', digest: entries[0].digest });
    const stale = await t.api('DELETE', `${s}/192.168.5.1`, { digest: 'f'.repeat(40) });
    expect(stale.reason).toMatch(/detected modified configuration/);
    ok(await t.api('DELETE', `${s}/192.168.5.1`, { digest: entries[0].digest }));
    const notEmpty = await t.api('DELETE', s);
    expect(notEmpty.reason).toBe("error during cfs-locked 'firewall-cluster' operation: IPSet 'mgmt' is not empty");
  });

  it('aliases: created, renamed, refused twice; an IPSet entry may name one; unknown alias refused there', async () => {
    ok(await t.api('POST', '/cluster/firewall/aliases', { name: 'Teachers', cidr: '172.16.9.0/24' }));
    const dup = await t.api('POST', '/cluster/firewall/aliases', { name: 'teachers', cidr: '172.16.9.0/24' });
    expect(dup.body.errors).toEqual({ name: "alias 'teachers' already exists" });
    const list = (await t.api('GET', '/cluster/firewall/aliases')).body.data;
    expect(list).toEqual([expect.objectContaining({ name: 'Teachers', cidr: '172.16.9.0/24', ipversion: 4 })]);
    ok(await t.api('PUT', '/cluster/firewall/aliases/teachers', { cidr: '172.16.9.0/24', rename: 'staff', digest: list[0].digest }));
    expect((await t.api('GET', '/cluster/firewall/aliases/STAFF')).body.data).toMatchObject({ name: 'staff', cidr: '172.16.9.0/24' });
    ok(await t.api('POST', '/cluster/firewall/ipset/mgmt', { cidr: 'staff' }));
    const unknown = await t.api('POST', '/cluster/firewall/ipset/mgmt', { cidr: 'nobody' });
    expect(unknown.reason).toBe("error during cfs-locked 'firewall-cluster' operation: no such alias 'nobody'");
  });

  it('rules naming an unknown IPSet or alias are refused; an unknown group name is accepted', async () => {
    const r = '/cluster/firewall/rules';
    const ipset = await t.api('POST', r, { type: 'in', action: 'ACCEPT', source: '+nosuchset' });
    expect([ipset.status, ipset.body.errors]).toEqual([400, { source: "no such ipset 'nosuchset'" }]);
    const alias = await t.api('POST', r, { type: 'out', action: 'DROP', dest: 'nosuchalias' });
    expect([alias.status, alias.body.errors]).toEqual([400, { dest: "no such alias 'nosuchalias'" }]);
    const noProto = await t.api('POST', r, { type: 'in', action: 'ACCEPT', dport: '22' });
    expect(noProto.body.errors).toEqual({ proto: "missing property - 'dport' requires this property" });
    const macroClash = await t.api('POST', r, { type: 'in', action: 'ACCEPT', macro: 'ssh', proto: 'udp' });
    expect(macroClash.body.errors).toEqual({ proto: "parameter 'proto' already define in macro (value = 'tcp')" });
    const mixed = await t.api('POST', r, { type: 'in', action: 'ACCEPT', source: '10.0.0.1', dest: 'fd00::1' });
    expect(mixed.body.errors).toEqual({ dest: 'detected mixed ipv4/ipv6 addresses in rule' });
    const rangeList = await t.api('POST', r, { type: 'in', action: 'ACCEPT', source: '10.0.0.1-10.0.0.9,10.0.1.1' });
    expect(rangeList.body.errors).toEqual({ source: "you can't use a range in a list" });
    const badPort = await t.api('POST', r, { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '90:80' });
    expect(badPort.body.errors).toEqual({ dport: "backwards range '90:80' not allowed, did you mean '80:90'?" });
    ok(await t.api('POST', r, { type: 'group', action: 'not-yet-created', enable: 1 }));
    ok(await t.api('POST', r, { type: 'in', action: 'ACCEPT', source: '+mgmt', macro: 'ssh', enable: 1 }));
    const rules = (await t.api('GET', r)).body.data;
    expect(rules[0]).toMatchObject({ macro: 'SSH', source: '+mgmt' });
    expect(rules[1]).toMatchObject({ type: 'group', action: 'not-yet-created' });
    // IPSets and aliases are deleted even while rules use them (PVE does not look)
    ok(await t.api('DELETE', '/cluster/firewall/ipset/mgmt', { force: 1 }));
    ok(await t.api('DELETE', '/cluster/firewall/aliases/staff'));
    expect((await t.api('GET', r)).body.data[0].source).toBe('+mgmt');
  });
});

describe('VM firewall', () => {
  it('options, rules, IPSets and aliases of a VM; VM rules may use its own and the cluster IPSets', async () => {
    const v = '/nodes/pve1/qemu/100/firewall';
    const o = await t.api('GET', `${v}/options`);
    expect(o.body.data).toEqual({ digest: expect.stringMatching(/^[0-9a-f]{40}$/) });
    ok(await t.api('PUT', `${v}/options`, { enable: 1, policy_in: 'DROP', digest: o.body.data.digest }));
    expect((await t.api('GET', `${v}/options`)).body.data).toMatchObject({ enable: 1, policy_in: 'DROP' });
    ok(await t.api('POST', `${v}/ipset`, { name: 'peers' }));
    ok(await t.api('POST', `${v}/ipset/peers`, { cidr: '10.10.0.0/16' }));
    ok(await t.api('POST', `${v}/aliases`, { name: 'gw', cidr: '10.10.0.1' }));
    ok(await t.api('POST', `${v}/rules`, { type: 'in', action: 'ACCEPT', source: '+peers', enable: 1 }));
    ok(await t.api('POST', `${v}/rules`, { type: 'out', action: 'ACCEPT', dest: 'gw', enable: 1, iface: 'net0' }));
    const badIface = await t.api('POST', `${v}/rules`, { type: 'in', action: 'ACCEPT', iface: 'eth0' });
    expect(badIface.body.errors).toEqual({ iface: "value does not match the regex pattern 'net\\d+'" });
    // another VM does not see VM 100's IPSet
    const other = await t.api('POST', '/nodes/pve2/qemu/101/firewall/rules', { type: 'in', action: 'ACCEPT', source: '+peers' });
    expect(other.body.errors).toEqual({ source: "no such ipset 'peers'" });
    const rules = (await t.api('GET', `${v}/rules`)).body.data;
    expect(rules.map((r: Record<string, unknown>) => [r.type, r.dest ?? r.source])).toEqual([
      ['out', 'gw'],
      ['in', '+peers'],
    ]);
    const stale = await t.api('DELETE', `${v}/rules/0`, { digest: '0'.repeat(40) });
    expect(stale.reason).toBe("error during cfs-locked 'firewall-vm-100' operation: detected modified configuration - file changed by other user? Try again.");
  });

  it('a clone gets a copy of the source VM firewall config; destroying the VM removes it', async () => {
    const src = '/nodes/pve1/qemu/9000/firewall';
    ok(await t.api('PUT', `${src}/options`, { enable: 1, policy_in: 'DROP' }));
    ok(await t.api('POST', `${src}/rules`, { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22', enable: 1 }));
    const clone = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 4242, name: 'fw-clone' });
    ok(clone);
    expect((await t.waitTask(clone.body.data)).exitstatus).toBe('OK');
    const v = '/nodes/pve1/qemu/4242/firewall';
    expect((await t.api('GET', `${v}/options`)).body.data).toMatchObject({ enable: 1, policy_in: 'DROP' });
    expect((await t.api('GET', `${v}/rules`)).body.data).toEqual([expect.objectContaining({ type: 'in', dport: '22', enable: 1 })]);
    // a copy, not shared: changing the clone leaves the template alone
    ok(await t.api('PUT', `${v}/options`, { enable: 0 }));
    expect((await t.api('GET', `${src}/options`)).body.data.enable).toBe(1);
    const del = await t.api('DELETE', '/nodes/pve1/qemu/4242');
    expect((await t.waitTask(del.body.data)).exitstatus).toBe('OK');
    expect(t.sim.state.firewall.vms.has(4242)).toBe(false);
    expect((await t.api('GET', `${v}/options`)).body.data).toEqual({ digest: expect.any(String) });
    expect((await t.api('GET', `${v}/rules`)).body.data).toEqual([]);
  });
});

describe('permissions (the schema checks)', () => {
  it('Sys.Modify on / for cluster objects, VM.Config.Network on /vms/{vmid} for VM rules, VM.Audit to read them', async () => {
    ok(await t.api('PUT', '/access/acl', { path: '/vms/102', roles: 'PVEVMAdmin', users: 'alice@pve' }));
    const alice = await t.login('alice@pve', 'alice-secret');
    const auth = { ticket: alice.ticket, csrf: alice.csrf };
    const g = await t.api('POST', '/cluster/firewall/groups', { group: 'by-alice' }, auth);
    expect([g.status, g.reason]).toEqual([403, 'Permission check failed (/, Sys.Modify)']);
    const opts = await t.api('GET', '/cluster/firewall/options', undefined, auth);
    expect([opts.status, opts.reason]).toEqual([403, 'Permission check failed (/, Sys.Audit)']);
    // her own VM: allowed; someone else's: refused
    ok(await t.api('POST', '/nodes/pve3/qemu/102/firewall/rules', { type: 'in', action: 'DROP', enable: 1 }, auth));
    ok(await t.api('GET', '/nodes/pve3/qemu/102/firewall/rules', undefined, auth));
    const foreign = await t.api('POST', '/nodes/pve2/qemu/101/firewall/rules', { type: 'in', action: 'DROP' }, auth);
    expect([foreign.status, foreign.reason]).toEqual([403, 'Permission check failed (/vms/101, VM.Config.Network)']);
    const read = await t.api('GET', '/nodes/pve2/qemu/101/firewall/options', undefined, auth);
    expect([read.status, read.reason]).toEqual([403, 'Permission check failed (/vms/101, VM.Audit)']);
  });
});

describe('node addresses', () => {
  it('/cluster/status reports each node at the address of its vmbr0', async () => {
    const status = (await t.api('GET', '/cluster/status')).body.data.filter((e: { type: string }) => e.type === 'node');
    expect(status.map((n: { name: string; ip: string }) => [n.name, n.ip])).toEqual([
      ['pve1', '10.0.0.11'],
      ['pve2', '10.0.0.12'],
      ['pve3', '10.0.0.13'],
    ]);
    const net = (await t.api('GET', '/nodes/pve2/network/vmbr0')).body.data;
    expect(net).toMatchObject({ cidr: '10.0.0.12/24', address: '10.0.0.12' });
  });
});

describe('group rename', () => {
  it('renaming a group moves its rules and points group rules of VMs and the datacenter at the new name', async () => {
    ok(await t.api('POST', '/cluster/firewall/groups', { group: 'old-name' }));
    ok(await t.api('POST', '/cluster/firewall/groups/old-name', { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '80', enable: 1 }));
    ok(await t.api('POST', '/nodes/pve2/qemu/101/firewall/rules', { type: 'group', action: 'old-name', enable: 1 }));
    const digest = (await t.api('GET', '/cluster/firewall/groups')).body.data[0].digest;
    ok(await t.api('POST', '/cluster/firewall/groups', { group: 'new-name', rename: 'old-name', digest }));
    expect((await t.api('GET', '/cluster/firewall/groups')).body.data.map((g: { group: string }) => g.group)).toEqual(['new-name']);
    expect((await t.api('GET', '/cluster/firewall/groups/new-name')).body.data).toEqual([expect.objectContaining({ dport: '80' })]);
    expect((await t.api('GET', '/nodes/pve2/qemu/101/firewall/rules')).body.data[0]).toMatchObject({ type: 'group', action: 'new-name' });
    const stale = await t.api('POST', '/cluster/firewall/groups', { group: 'newer', rename: 'new-name', digest });
    expect(stale.reason).toMatch(/^error during cfs-locked 'firewall-cluster' operation: detected modified configuration/);
  });
});

describe('seed', () => {
  it('a seed can start the cluster with the datacenter firewall on; unknown keys are refused', async () => {
    const on = await startTestSim({ seed: { ...DEFAULT_SEED, firewall: { enable: 1, policy_in: 'DROP' } } });
    try {
      expect((await on.api('GET', '/cluster/firewall/options')).body.data).toMatchObject({ enable: 1, policy_in: 'DROP' });
    } finally {
      await on.stop();
    }
    await expect(startTestSim({ seed: { ...DEFAULT_SEED, firewall: { enable: 1, policy: 'DROP' } as never } })).rejects.toThrow(/policy/);
  });
});

describe('snapshotFirewall', () => {
  it('is deep-equal after objects are created and removed again, and differs while they exist', async () => {
    const before = snapshotFirewall(t.sim.state.firewall);
    ok(await t.api('POST', '/cluster/firewall/ipset', { name: 'tmp' }));
    ok(await t.api('POST', '/nodes/pve3/qemu/102/firewall/aliases', { name: 'tmp', cidr: '10.1.1.1' }));
    expect(snapshotFirewall(t.sim.state.firewall)).not.toEqual(before);
    ok(await t.api('DELETE', '/cluster/firewall/ipset/tmp'));
    ok(await t.api('DELETE', '/nodes/pve3/qemu/102/firewall/aliases/tmp'));
    expect(snapshotFirewall(t.sim.state.firewall)).toEqual(before);
  });
});
