/**
 * Stand isolation end to end on the simulator over HTTPS: deploy an isolated class with the datacenter firewall
 * on, ask the evaluator (pve-firewall's decision) about each stand VM's shared-bridge NIC, re-deploy after hand
 * edits, clean up, and compare the firewall configuration with what it was before (foreign objects untouched).
 * Every object lives in the stand VMs' own firewall configs: nothing is written at cluster level.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/config/profile.js';
import { defaultSettings } from '../../src/config/settings.js';
import { planCleanup, runCleanup, describeCleanupPlan } from '../../src/core/cleanup.js';
import { runDeploy } from '../../src/core/deploy.js';
import { ALLOW_IN_IPSET, DENY_IPSET, FW_MARK } from '../../src/core/isolation.js';
import { planDeploy } from '../../src/core/plan.js';
import { renderPlan } from '../../src/core/plan-table.js';
import { PlanRefusedError, type DeployPlan } from '../../src/core/types.js';
import { messages } from '../../src/discord/i18n.js';
import { deployPlanEmbed, standIsolationLine } from '../../src/discord/plan-view.js';
import { FirewallApi } from '../../src/proxmox/firewall.js';
import { connectionPasses, DEFAULT_SEED, evaluateFirewall, snapshotFirewall, type FirewallPacket } from '../../src/sim/index.js';
import { startRunEnv, users, type RunEnv } from './run-harness.js';

const PROFILE = `
name: isolab
isolation: stand
machines:
  - name: web
    template: 9000
    networks: ["**vmbr0", "lan"]
  - name: pc
    template: 9000
    networks: ["lan"]
`;
const DENY = ['192.168.100.0/24', '10.20.0.0/16'];
const ALLOW_IN = ['172.16.9.0/24'];
// DHCP gives the stand VMs their addresses; the evaluator takes any we pick on the shared LAN
const IP = ['10.0.0.101', '10.0.0.102'];

describe('isolation: stand', () => {
  let env: RunEnv;
  let plan: DeployPlan;
  let fw: FirewallApi;
  let before: unknown;
  let clusterFwWrites: string[] = [];
  const web = (i: number) => plan.stands[i]!.vms.find((v) => v.machine === 'web')!;
  const pc = (i: number) => plan.stands[i]!.vms.find((v) => v.machine === 'pc')!;
  const verdict = (p: Omit<FirewallPacket, 'proto'> & { proto?: string }): string => {
    const v = evaluateFirewall(env.sim.state, { proto: 'tcp', ...p });
    return `${v.action}/${v.by}`;
  };

  beforeAll(async () => {
    env = await startRunEnv({
      seed: { ...DEFAULT_SEED, firewall: { enable: 1 } },
      settings: { isolation: { deny: DENY, allowIn: ALLOW_IN } },
    });
    fw = new FirewallApi(env.ctx.client('sim'));
    // foreign firewall objects: a security group with a rule, an IPSet, a rule and options on a foreign VM
    await fw.createGroup('admins', 'the admins');
    await fw.addRule({ kind: 'group', group: 'admins' }, { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '22', enable: true });
    await fw.createIpset({ kind: 'cluster' }, 'mgmt', 'management');
    await fw.addIpsetEntry({ kind: 'cluster' }, 'mgmt', '10.0.0.0/24');
    const foreign = [...env.sim.state.vms.values()].find((v) => !v.config.template)!;
    await fw.addRule({ kind: 'vm', node: foreign.node, vmid: foreign.vmid }, { type: 'in', action: 'ACCEPT', source: '+mgmt', enable: true });
    await fw.setVmOptions(foreign.node, foreign.vmid, { enable: true });
    before = snapshotFirewall(env.sim.state.firewall);
    const profile = parseProfile(PROFILE, 'isolab.yml');
    plan = await planDeploy(env.ctx, { profile, users: users(2), group: 'iso' });
    env.sim.stats.reset();
    const r = await runDeploy(env.ctx, plan);
    expect(r.status, JSON.stringify(r.stands.map((s) => s.error))).toBe('succeeded');
    clusterFwWrites = Object.keys(env.sim.stats.byRoute).filter((k) => !k.startsWith('GET') && k.includes('/cluster/firewall'));
  });
  afterAll(async () => env?.close());

  it('the plan shows the firewall objects, with the node addresses read from the cluster', () => {
    expect(plan.isolation?.nodeAddresses.map((n) => n.address)).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.13']);
    expect(plan.isolation?.deny).toEqual([...DENY, '10.0.0.11', '10.0.0.12', '10.0.0.13']);
    const text = renderPlan(plan);
    expect(text).toContain(`every stand VM: IPSet ${DENY_IPSET}: 192.168.100.0/24, 10.20.0.0/16, 10.0.0.11, 10.0.0.12, 10.0.0.13`);
    expect(text).toContain(`every stand VM: IPSet ${ALLOW_IN_IPSET}: 172.16.9.0/24`);
    expect(text).toContain('nothing at cluster level (no security group, no cluster IPSet)');
    expect(text).not.toMatch(/security group stands|cluster IPSet stands/);
    expect(plan.stands.every((s) => s.isolated)).toBe(true);
    // the shared-LAN warning is replaced by the isolation
    expect(plan.warnings.filter((w) => /shared LAN/.test(w))).toEqual([]);
    expect(web(0).nets[0]!.value).toMatch(/bridge=vmbr0,firewall=1$/);
  });

  it('the bot\'s plan embed and /stand info line say the stands are isolated (en, ru)', async () => {
    const en = deployPlanEmbed(plan, messages('en'), 60).fields?.find((f) => f.name === 'Isolation')?.value;
    expect(en).toMatch(/^Each stand is isolated by the Proxmox firewall: .* 5 blocked address\(es\)\/network\(s\) in total.* 1 network\(s\) may connect in/);
    expect(deployPlanEmbed(plan, messages('ru'), 60).fields?.find((f) => f.name === 'Изоляция')?.value).toMatch(/^Каждый стенд изолирован/);
    const rec = await env.ctx.store.stands.get('iso', plan.stands[0]!.userid);
    expect(rec?.isolation).toBe('stand');
    expect(standIsolationLine(rec!, messages('en'))).toBe('Isolated (Proxmox firewall)');
    expect(standIsolationLine({}, messages('ru'))).toBe('Не изолирован');
  });

  it('nothing is written at cluster level: the IPSets and rules are each stand VM\'s own', async () => {
    expect(clusterFwWrites).toEqual([]);
    const cluster = (x: unknown): unknown => (x as { cluster: unknown }).cluster;
    expect(cluster(snapshotFirewall(env.sim.state.firewall))).toEqual(cluster(before));
    for (const s of plan.stands) {
      for (const vm of s.vms) {
        const scope = { kind: 'vm', node: vm.node, vmid: vm.vmid } as const;
        expect((await fw.ipsets(scope)).map((x) => `${x.name}:${x.comment}`).sort()).toEqual([`${ALLOW_IN_IPSET}:${FW_MARK}`, `${DENY_IPSET}:${FW_MARK}`]);
        expect((await fw.ipsetEntries(scope, DENY_IPSET)).map((e) => e.cidr).sort()).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.20.0.0/16', '192.168.100.0/24']);
        expect((await fw.ipsetEntries(scope, ALLOW_IN_IPSET)).map((e) => e.cidr)).toEqual(['172.16.9.0/24']);
        const rules = (await fw.rules(scope)).map((r) => `${r.type} ${r.action} ${r.source ?? r.dest ?? r.iface}`).sort();
        expect(rules).toEqual(
          [`in ACCEPT +guest/${ALLOW_IN_IPSET}`, `out DROP +guest/${DENY_IPSET}`, ...(vm.machine === 'web' ? ['in ACCEPT net1'] : ['in ACCEPT net0'])].sort(),
        );
      }
    }
  });

  it('every NIC has firewall=1, the VM firewall is on with inbound DROP, DHCP allowed', () => {
    for (const s of plan.stands) {
      for (const vm of s.vms) {
        const cfg = env.sim.state.vms.get(vm.vmid)!.config;
        const nets = Object.entries(cfg).filter(([k]) => /^net\d+$/.test(k));
        expect(nets.length).toBeGreaterThan(0);
        for (const [, v] of nets) expect(String(v)).toMatch(/firewall=1/);
        expect(env.sim.state.firewall.vms.get(vm.vmid)?.options).toMatchObject({ enable: 1, policy_in: 'DROP', policy_out: 'ACCEPT', dhcp: 1 });
      }
    }
  });

  it('out from a stand VM: nodes 8006 and 22 and deny CIDRs blocked, public addresses allowed', () => {
    for (let i = 0; i < 2; i++) {
      const vmid = web(i).vmid;
      for (const node of ['10.0.0.11', '10.0.0.12', '10.0.0.13']) {
        for (const dport of [8006, 22]) expect(verdict({ vmid, direction: 'out', source: IP[i]!, dest: node, dport }), `${node}:${dport}`).toBe('DROP/rule');
      }
      expect(verdict({ vmid, direction: 'out', source: IP[i]!, dest: '192.168.100.7', dport: 443 })).toBe('DROP/rule');
      expect(verdict({ vmid, direction: 'out', source: IP[i]!, dest: '10.20.3.4', proto: 'udp', dport: 53 })).toBe('DROP/rule');
      expect(verdict({ vmid, direction: 'out', source: IP[i]!, dest: '8.8.8.8', dport: 443 })).toBe('ACCEPT/policy');
      expect(verdict({ vmid, direction: 'out', source: IP[i]!, dest: '93.184.216.34', dport: 80 })).toBe('ACCEPT/policy');
    }
  });

  it('in: another stand\'s VM blocked, allow_in allowed, anything else blocked', () => {
    const a = web(0).vmid;
    const b = web(1).vmid;
    expect(verdict({ vmid: a, direction: 'in', source: IP[1]!, dest: IP[0]!, dport: 22 })).toBe('DROP/policy');
    expect(verdict({ vmid: b, direction: 'in', source: IP[0]!, dest: IP[1]!, dport: 80 })).toBe('DROP/policy');
    expect(connectionPasses(env.sim.state, { from: { vmid: a, ip: IP[0]! }, to: { vmid: b, ip: IP[1]! }, proto: 'tcp', dport: 22 }).pass).toBe(false);
    expect(connectionPasses(env.sim.state, { from: { vmid: b, ip: IP[1]! }, to: { vmid: a, ip: IP[0]! }, proto: 'tcp', dport: 3389 }).pass).toBe(false);
    expect(verdict({ vmid: a, direction: 'in', source: '172.16.9.20', dest: IP[0]!, dport: 22 })).toBe('ACCEPT/rule');
    expect(connectionPasses(env.sim.state, { from: { ip: '172.16.9.20' }, to: { vmid: b, ip: IP[1]! }, proto: 'tcp', dport: 22 }).pass).toBe(true);
    expect(verdict({ vmid: a, direction: 'in', source: '203.0.113.9', dest: IP[0]!, dport: 22 })).toBe('DROP/policy');
  });

  it('the private segment keeps working inside the stand', () => {
    // web's net1 and pc's net0 are on the stand's own bridge
    const c = connectionPasses(env.sim.state, {
      from: { vmid: pc(0).vmid, nic: 'net0', ip: '192.168.1.20' },
      to: { vmid: web(0).vmid, nic: 'net1', ip: '192.168.1.1' },
      proto: 'tcp',
      dport: 22,
    });
    expect(c.pass).toBe(true);
    expect(verdict({ vmid: pc(0).vmid, nic: 'net0', direction: 'in', source: '192.168.1.1', dest: '192.168.1.20', dport: 80 })).toBe('ACCEPT/rule');
  });

  it('a re-run converges: nothing written when nothing changed; a rule deleted by hand is back, no duplicates', async () => {
    env.sim.stats.reset();
    const again = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(2), group: 'iso' });
    expect((await runDeploy(env.ctx, again)).status).toBe('succeeded');
    const fwWrites = Object.entries(env.sim.stats.byRoute).filter(([r]) => !r.startsWith('GET') && r.includes('firewall'));
    expect(fwWrites).toEqual([]);

    // hand edits: a VM rule deleted, another duplicated, an IPSet entry removed and a foreign one added, a NIC flag dropped
    const vm = web(1);
    const vmT = { kind: 'vm', node: vm.node, vmid: vm.vmid } as const;
    const vmRulesBefore = (await fw.rules(vmT)).map((r) => `${r.type} ${r.action} ${r.source ?? r.dest ?? r.iface}`).sort();
    const out = (await fw.rules(vmT)).find((r) => r.type === 'out')!;
    await fw.deleteRule(vmT, out.pos, out.digest);
    await fw.addRule(vmT, { type: 'in', action: 'ACCEPT', source: `+guest/${ALLOW_IN_IPSET}`, enable: true });
    const e = (await fw.ipsetEntries(vmT, DENY_IPSET)).find((x) => x.cidr === '10.0.0.12')!;
    await fw.removeIpsetEntry(vmT, DENY_IPSET, e.cidr, e.digest);
    await fw.addIpsetEntry(vmT, ALLOW_IN_IPSET, '10.0.0.0/8');
    const cfg = env.sim.state.vms.get(vm.vmid)!.config;
    await env.ctx.client('sim').updateVmConfig(vm.node, vm.vmid, { net0: String(cfg.net0).replace(',firewall=1', '') });
    expect(verdict({ vmid: vm.vmid, direction: 'out', source: IP[1]!, dest: '10.0.0.12', dport: 22 })).toBe('ACCEPT/nic-firewall-off');

    env.sim.stats.reset();
    const third = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(2), group: 'iso' });
    expect((await runDeploy(env.ctx, third)).status).toBe('succeeded');
    expect(Object.keys(env.sim.stats.byRoute).filter((k) => !k.startsWith('GET') && k.includes('/cluster/firewall'))).toEqual([]);
    expect((await fw.rules(vmT)).map((r) => `${r.type} ${r.action} ${r.source ?? r.dest ?? r.iface}`).sort()).toEqual(vmRulesBefore);
    expect((await fw.ipsetEntries(vmT, DENY_IPSET)).map((x) => x.cidr).sort()).toEqual(
      ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.20.0.0/16', '192.168.100.0/24'].sort(),
    );
    expect((await fw.ipsetEntries(vmT, ALLOW_IN_IPSET)).map((x) => x.cidr)).toEqual(['172.16.9.0/24']);
    expect(verdict({ vmid: vm.vmid, direction: 'out', source: IP[1]!, dest: '10.0.0.12', dport: 22 })).toBe('DROP/rule');
    expect(verdict({ vmid: vm.vmid, direction: 'in', source: IP[0]!, dest: IP[1]!, dport: 22 })).toBe('DROP/policy');
  });

  it('cleanup leaves the firewall configuration as it was before the deploy; foreign objects untouched', async () => {
    const cplan = await planCleanup(env.ctx, { group: 'iso' });
    expect(cplan.firewall).toBeUndefined();
    const res = await runCleanup(env.ctx, cplan);
    expect(res.status).toBe('succeeded');
    expect(res.warnings).toEqual([]);
    expect(snapshotFirewall(env.sim.state.firewall)).toEqual(before);
    expect(await env.ctx.store.journal.list({ kind: 'firewall' })).toEqual([]);
  });
});

describe('isolation: stand refused', () => {
  let env: RunEnv;
  beforeAll(async () => {
    env = await startRunEnv();
  });
  afterAll(async () => env?.close());
  const refusal = async (): Promise<PlanRefusedError> => {
    const err = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(2), group: 'iso' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanRefusedError);
    return err as PlanRefusedError;
  };

  it('with the datacenter firewall off (the default seed): exit 2, the how-to, not one write request', async () => {
    env.sim.stats.reset();
    const err = await refusal();
    expect(err.exitCode).toBe(2);
    expect(err.summary).toBe('the profile asks for isolation: stand, and the datacenter firewall is off (nothing was created)');
    expect(err.rows.map((r) => r.problem).join('\n')).toContain('accepting TCP 8006 and 22 from the admin network');
    expect(env.sim.stats.byRoute['GET /cluster/firewall/options']).toBeGreaterThan(0);
    expect(Object.keys(env.sim.stats.byRoute).filter((r) => !r.startsWith('GET'))).toEqual([]);
  });

  it('a foreign cluster IPSet named like ours: left alone, and the VM rules use the VM\'s own set', async () => {
    const fw = new FirewallApi(env.ctx.client('sim'));
    await fw.setClusterOptions({ enable: 1 });
    await fw.createIpset({ kind: 'cluster' }, DENY_IPSET, 'the network team');
    await fw.addIpsetEntry({ kind: 'cluster' }, DENY_IPSET, '8.8.8.0/24');
    await fw.createIpset({ kind: 'cluster' }, ALLOW_IN_IPSET, 'the network team');
    await fw.addIpsetEntry({ kind: 'cluster' }, ALLOW_IN_IPSET, '203.0.113.0/24');
    // and the template's own firewall config, which the clone copies: an IPSet of our name and a rule
    const tpl = env.sim.state.vms.get(9000)!;
    const tplScope = { kind: 'vm', node: tpl.node, vmid: 9000 } as const;
    await fw.createIpset(tplScope, DENY_IPSET, 'from the template');
    await fw.addIpsetEntry(tplScope, DENY_IPSET, '8.8.8.0/24');
    await fw.addRule(tplScope, { type: 'out', action: 'DROP', dest: `+${DENY_IPSET}`, enable: true });
    const before = snapshotFirewall(env.sim.state.firewall);
    const plan = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(1), group: 'isoforeign' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.status, JSON.stringify(r.stands.map((s) => s.error))).toBe('succeeded');
    const web = plan.stands[0]!.vms.find((v) => v.machine === 'web')!;
    const st = env.sim.state;
    // the cluster sets (and the template's copy) would allow 203.0.113.x in and block 8.8.8.x out: the VM's own sets decide
    const own = { kind: 'vm', node: web.node, vmid: web.vmid } as const;
    expect((await fw.ipsets(own)).map((x) => `${x.name}:${x.comment}`).sort()).toEqual([`${ALLOW_IN_IPSET}:${FW_MARK}`, `${DENY_IPSET}:${FW_MARK}`]);
    expect((await fw.ipsetEntries(own, DENY_IPSET)).map((e) => e.cidr)).not.toContain('8.8.8.0/24');
    expect((await fw.rules(own)).every((r) => r.comment === FW_MARK)).toBe(true);
    expect(evaluateFirewall(st, { vmid: web.vmid, direction: 'out', source: '10.0.0.150', dest: '8.8.8.8', proto: 'tcp', dport: 443 }).action).toBe('ACCEPT');
    expect(evaluateFirewall(st, { vmid: web.vmid, direction: 'out', source: '10.0.0.150', dest: '10.0.0.11', proto: 'tcp', dport: 8006 }).action).toBe('DROP');
    expect(evaluateFirewall(st, { vmid: web.vmid, direction: 'in', source: '203.0.113.5', dest: '10.0.0.150', proto: 'tcp', dport: 22 }).action).toBe('DROP');
    const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'isoforeign' }));
    expect(res.status).toBe('succeeded');
    expect(snapshotFirewall(env.sim.state.firewall)).toEqual(before);
    await fw.deleteIpset({ kind: 'cluster' }, DENY_IPSET, true);
    await fw.deleteIpset({ kind: 'cluster' }, ALLOW_IN_IPSET, true);
    const r0 = (await fw.rules(tplScope))[0]!;
    await fw.deleteRule(tplScope, r0.pos, r0.digest);
    await fw.deleteIpset(tplScope, DENY_IPSET, true);
  });

  it('cluster objects an older version created and journaled: removed by cleanup once no isolated stand is left', async () => {
    const fw = new FirewallApi(env.ctx.client('sim'));
    const before = snapshotFirewall(env.sim.state.firewall);
    await fw.createGroup('stands-isolation', FW_MARK);
    await fw.createIpset({ kind: 'cluster' }, DENY_IPSET, FW_MARK);
    await fw.addIpsetEntry({ kind: 'cluster' }, DENY_IPSET, '10.0.0.11');
    await fw.addRule({ kind: 'group', group: 'stands-isolation' }, { type: 'out', action: 'DROP', dest: `+${DENY_IPSET}`, enable: true, comment: FW_MARK });
    await fw.createIpset({ kind: 'cluster' }, 'stands-allow-in', 'not ours any more');
    for (const id of ['group/stands-isolation', `ipset/${DENY_IPSET}`, 'ipset/stands-allow-in']) {
      await env.ctx.store.journal.intend('firewall', id, { cluster: 'sim', job: 'old' });
      await env.ctx.store.journal.confirm('firewall', id, 'sim');
    }
    const plan = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(1), group: 'isolegacy' });
    expect((await runDeploy(env.ctx, plan)).status).toBe('succeeded');
    const cplan = await planCleanup(env.ctx, { group: 'isolegacy' });
    expect(describeCleanupPlan(cplan).at(-1)).toBe(`firewall (no isolated stand left): security group stands-isolation, IPSet stands-allow-in, IPSet ${DENY_IPSET}`);
    const res = await runCleanup(env.ctx, cplan);
    expect(res.status).toBe('succeeded');
    // the English texts as always, with their codes beside them
    expect(res.kept).toEqual([expect.objectContaining({ what: 'IPSet stands-allow-in', reason: 'journaled as ours, but it no longer carries our comment' })]);
    const left = env.sim.state.firewall.cluster;
    expect(left.groups.has('stands-isolation')).toBe(false);
    expect(left.ipsets.has(DENY_IPSET)).toBe(false);
    expect(left.ipsets.get('stands-allow-in')?.comment).toBe('not ours any more');
    expect(await env.ctx.store.journal.list({ kind: 'firewall' })).toEqual([]);
    await fw.deleteIpset({ kind: 'cluster' }, 'stands-allow-in', true);
    expect(snapshotFirewall(env.sim.state.firewall)).toEqual(before);
  });

  it('sdn mode: the private segments are VNets, they work inside the stand; cleanup restores the firewall', async () => {
    env.sim.state.applyNetwork('pve3');
    const before = snapshotFirewall(env.sim.state.firewall);
    const plan = await planDeploy(env.ctx, { profile: parseProfile(PROFILE, 'isolab.yml'), users: users(1), group: 'isosdn', mode: 'sdn' });
    const r = await runDeploy(env.ctx, plan);
    expect(r.status, JSON.stringify(r.stands.map((s) => s.error))).toBe('succeeded');
    const s = plan.stands[0]!;
    const web = s.vms.find((v) => v.machine === 'web')!;
    const pc = s.vms.find((v) => v.machine === 'pc')!;
    expect(web.nets[1]!.value).toMatch(new RegExp(`bridge=${s.segments[0]!.iface},firewall=1$`));
    const st = env.sim.state;
    expect(connectionPasses(st, { from: { vmid: pc.vmid, nic: 'net0', ip: '192.168.1.20' }, to: { vmid: web.vmid, nic: 'net1', ip: '192.168.1.1' }, proto: 'tcp', dport: 80 }).pass).toBe(true);
    expect(evaluateFirewall(st, { vmid: web.vmid, direction: 'out', source: '10.0.0.150', dest: '10.0.0.12', proto: 'tcp', dport: 8006 }).action).toBe('DROP');
    expect(evaluateFirewall(st, { vmid: web.vmid, direction: 'in', source: '10.0.0.151', dest: '10.0.0.150', proto: 'tcp', dport: 22 }).action).toBe('DROP');
    const res = await runCleanup(env.ctx, await planCleanup(env.ctx, { group: 'isosdn' }));
    expect(res.status).toBe('succeeded');
    expect(snapshotFirewall(env.sim.state.firewall)).toEqual(before);
  });
});

describe('isolation settings', () => {
  it('defaults are empty lists', () => {
    expect(defaultSettings().isolation).toEqual({ deny: [], allowIn: [] });
  });
});
