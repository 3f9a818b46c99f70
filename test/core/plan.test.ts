import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connections } from '../../src/config/connections.js';
import { parseProfile } from '../../src/config/profile.js';
import { defaultSettings, type Settings } from '../../src/config/settings.js';
import { parseUserList } from '../../src/config/user-list.js';
import { createContext, type AppContext } from '../../src/core/context.js';
import { planDeploy } from '../../src/core/plan.js';
import { planTableData, renderPlan } from '../../src/core/plan-table.js';
import { PlanRefusedError, type DeployPlan } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { startSimulator, type RunningSimulator } from '../../src/sim/index.js';

const NETLAB = `
name: netlab
machines:
  - name: gw
    template: 9001
    device: ecorouter
    cores: 2
    memory: 2048
    networks: ["**vmbr0", "hq", "office.100"]
  - name: pc1
    template: debian-12-tpl
    networks: ["hq"]
  - name: pc2
    template: 9000
    memory: 1024
    networks: ["office.100"]
`;
const profile = (text = NETLAB) => parseProfile(text, 'profiles/netlab.yml');
const users = (n: number) =>
  parseUserList(Array.from({ length: n }, (_, i) => `student${String(i + 1).padStart(2, '0')}`).join('\n'), 'class.txt');

let sim: RunningSimulator;
let dir: string;
let ctx: AppContext;

async function makeContext(settings: Settings = defaultSettings()): Promise<AppContext> {
  const connections: Connections = {
    clusters: {
      sim: {
        name: 'sim',
        url: sim.url,
        tokenId: sim.tokenId,
        tokenSecret: sim.tokenSecret,
        tls: { fingerprint: sim.fingerprint, insecure: false },
        maxInFlight: 6,
      },
    },
    default: 'sim',
    file: join(dir, 'connections.yml'),
  };
  return createContext({
    configDir: dir,
    statePath: join(dir, `state-${Math.random().toString(36).slice(2)}.sqlite`),
    logger: silentLogger(),
    connections,
    settings,
    clientOptions: { timeScale: 0.02 },
  });
}

beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.02, rngSeed: 1 });
  dir = mkdtempSync(join(tmpdir(), 'stands-plan-'));
});
afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await ctx?.close();
  ctx = await makeContext();
});

/** The balanced strategy alone (issue 14's time-aware moves and shared replica off): what these tests are about. */
function balancedOnly(): Settings {
  const s = defaultSettings();
  return { ...s, placement: { ...s.placement, timeAware: false, sharedReplica: 'never' } };
}

describe('planDeploy against the default simulated cluster', () => {
  let plan: DeployPlan;
  beforeAll(async () => {
    ctx = await makeContext(balancedOnly());
    plan = await planDeploy(ctx, { profile: profile(), users: users(10), group: 'netlab-a' });
  });

  it('leaves pve3 out because of alice’s pending vmbr99, with the reason', () => {
    expect(plan.excluded).toMatchObject([
      {
        node: 'pve3',
        reason: 'pending network edits by someone else (vmbr99): applying our bridges would apply them too',
      },
    ]);
    expect(plan.stands.every((s) => s.node !== 'pve3')).toBe(true);
  });

  it('balances the stands over pve1 and pve2 by capacity and plans replicas of 9000/9001 on pve2', () => {
    const perNode = plan.stands.reduce<Record<string, number>>((a, s) => ({ ...a, [s.node]: (a[s.node] ?? 0) + 1 }), {});
    // 4 GiB stands: 7 on pve1 → (4 + 28) / 64 = 50%, 3 on pve2 → (8 + 12) / 48 = 41.7% (6/4 would put pve2 at 50% too)
    expect(perNode).toEqual({ pve1: 7, pve2: 3 });
    expect(Math.max(...plan.nodes.map((n) => n.memUtil))).toBe(0.5);
    expect(plan.replicas.map((r) => `${r.sourceVmid}@${r.sourceNode}→${r.targetNode}:${r.exists}`).sort()).toEqual([
      '9000@pve1→pve2:false',
      '9001@pve1→pve2:false',
    ]);
    const r9000 = plan.replicas.find((r) => r.sourceVmid === 9000);
    expect(r9000).toMatchObject({ name: 'tpl-9000-pve2', storage: 'local-lvm' });
    expect(plan.replicas.map((r) => r.vmid).sort()).toEqual([100000, 100001]);
    const onPve2 = plan.stands.find((s) => s.node === 'pve2');
    expect(onPve2?.vms.find((v) => v.machine === 'pc1')).toMatchObject({ templateVmid: r9000?.vmid, templateNode: 'pve2', sourceTemplateVmid: 9000 });
    const onPve1 = plan.stands.find((s) => s.node === 'pve1');
    expect(onPve1?.vms.find((v) => v.machine === 'pc1')).toMatchObject({ templateVmid: 9000, templateNode: 'pve1' });
  });

  it('allocates distinct VMIDs from the range, private bridges per stand and exact NICs', () => {
    const ids = plan.stands.flatMap((s) => s.vms.map((v) => v.vmid));
    expect(new Set(ids).size).toBe(30);
    expect(Math.min(...ids)).toBe(10000);
    const first = plan.stands[0];
    expect(first?.pool).toBe('netlab-a_student01');
    expect(first?.segments.map((g) => [g.alias, g.iface, g.vlanAware, g.comment])).toEqual([
      ['hq', 'vmbr1000', false, 'stands:netlab-a:student01:hq'],
      ['office', 'vmbr1001', true, 'stands:netlab-a:student01:office'],
    ]);
    const bridgesPerNode = new Map<string, string[]>();
    for (const s of plan.stands) for (const g of s.segments) bridgesPerNode.set(s.node, [...(bridgesPerNode.get(s.node) ?? []), g.iface]);
    for (const list of bridgesPerNode.values()) expect(new Set(list).size).toBe(list.length);
    const gw = first?.vms.find((v) => v.machine === 'gw');
    expect(gw?.name).toBe('student01-gw');
    expect(gw?.tags).toEqual(['stands', 'stands-netlab-a']);
    expect(gw?.nets.map((n) => n.value.replace(/=1C:87:76:[0-9A-F:]{8}/, '=MAC'))).toEqual([
      'vmxnet3=MAC,bridge=vmbr1000,link_down=1',
      'vmxnet3=MAC,bridge=vmbr0',
      'vmxnet3=MAC,bridge=vmbr1000',
      'vmxnet3=MAC,bridge=vmbr1001,tag=100',
    ]);
    expect(first?.vms.find((v) => v.machine === 'pc2')?.nets).toEqual([{ index: 0, value: 'virtio,bridge=vmbr1001,tag=100' }]);
    expect(plan.warnings).toContain('machine gw: net1 on the existing bridge vmbr0 puts student VMs on a shared LAN');
    expect(plan.applyNodes).toEqual(['pve1', 'pve2']);
  });

  it('renders the plan as a table with users, nodes, VMIDs and bridges', () => {
    const text = renderPlan(plan, { width: 160 });
    expect(text.split('\n')[0]).toMatch(
      /^group netlab-a on sim: 10 stands, 30 VMs \(linked clones\), profile netlab, placement balanced, networks bridges; about \d+ s$/,
    );
    // the footer: the estimate, and what the two replicas on pve2 add to it
    expect(text.split('\n').at(-1)).toMatch(/^Estimated time: about \d+ s \(makes 2 template replicas first\)$/);
    // one line per stand: user, node, VMIDs compactly, bridges, note
    expect(text).toMatch(/^student01@pve {2,}pve1 {2,}10000–10002 {2,}vmbr1000, vmbr1001 \+VLAN 100 {2,}new user$/m);
    const wide = renderPlan(plan, { width: 160, wide: true });
    expect(wide).toMatch(/^student01@pve {2,}pve1 {2,}netlab-a_student01 {2,}10000 gw, 10001 pc1, 10002 pc2/m);
    expect(text).toContain('pve3: pending network edits by someone else (vmbr99)');
    expect(text).toContain('create replica 100001 (tpl-9000-pve2) of template 9000 from pve1 on pve2');
    const data = planTableData(plan);
    expect(data.stands[0]).toEqual({
      user: 'student01@pve',
      node: 'pve1',
      pool: 'netlab-a_student01',
      vmids: '10000 gw, 10001 pc1, 10002 pc2',
      networks: 'hq=vmbr1000, office=vmbr1001 vlan-aware; VLANs 100',
      resources: '4 cores, 4 GiB',
      note: 'new user',
    });
    expect(data.excluded.map((e) => e.node)).toEqual(['pve3']);
    const short = renderPlan(plan, { maxStands: 2 });
    expect(short).toContain('… and 8 more stands');
    expect(short).not.toContain('student03@pve');
    expect(text).toMatch(/^pve1 {2,}32 \/ 64 GiB \(50%\), \+28 GiB {2,}30 vCPU \/ 16 cores \(46.9% of limit\) {2,}7 stands$/m);
  });
});

describe('refusals (exit 2, nothing created)', () => {
  it('refuses a class that does not fit with a table of nodes', async () => {
    const before = sim.stats.requests;
    const err = await planDeploy(ctx, { profile: profile(), users: users(200), group: 'big' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanRefusedError);
    const e = err as PlanRefusedError;
    expect(e.exitCode).toBe(2);
    expect(e.summary).toMatch(/^the class does not fit: \d+ of 200 stands cannot be placed$/);
    expect(e.table).toMatch(/^pve1 {2,}56 \/ 64 GiB \(87.5%\), \+52 GiB {2,}.* {2,}13 placed$/m);
    expect(e.table).toContain('pve3: pending network edits by someone else (vmbr99)');
    expect(e.rows[0]?.problem).toMatch(/^needs 4096 MiB: even pve2 would reach 91.7% memory \(limit 90%\)$/);
    expect(sim.stats.requests).toBeGreaterThan(before);
    // nothing created: no VM in our range exists
    const vms = await ctx.client().clusterResources('vm');
    expect(vms.filter((v) => (v.vmid ?? 0) >= 10000)).toEqual([]);
  });

  it('names the profile file and machine when a template is missing', async () => {
    const bad = profile(NETLAB.replace('template: debian-12-tpl', 'template: debian-13-tpl').replace('template: 9000', 'template: 9999'));
    const err = (await planDeploy(ctx, { profile: bad, users: users(2), group: 'bad' }).catch((e: unknown) => e)) as PlanRefusedError;
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect(err.rows).toMatchObject([
      { subject: 'profiles/netlab.yml: machine pc1', problem: 'no template named "debian-13-tpl" on cluster sim' },
      { subject: 'profiles/netlab.yml: machine pc2', problem: 'template 9999 does not exist on cluster sim' },
    ]);
    expect(err.message.split('\n')[0]).toBe('a template of the profile is missing');
  });

  it('leaves nodes out when replication is off, and refuses when no node is left', async () => {
    const s = defaultSettings();
    s.templates.replicate = false;
    const c = await makeContext(s);
    try {
      const plan = await planDeploy(c, { profile: profile(), users: users(3), group: 'norep' });
      expect(plan.excluded.find((x) => x.node === 'pve2')?.reason).toBe(
        'template 9001 (ecorouter-tpl) is on node-local storage local-lvm of pve1; replication is off',
      );
      expect(plan.stands.map((x) => x.node)).toEqual(['pve1', 'pve1', 'pve1']);
      const err = (await planDeploy(c, { profile: profile(), users: users(1), group: 'pin', placement: 'node:pve2' }).catch(
        (e: unknown) => e,
      )) as PlanRefusedError;
      expect(err).toBeInstanceOf(PlanRefusedError);
      expect(err.summary).toBe('placement node:pve2: the node is left out');
      expect(err.rows[0]).toEqual({
        subject: 'pve2',
        problem: 'template 9001 (ecorouter-tpl) is on node-local storage local-lvm of pve1; replication is off',
      });
      const unknown = (await planDeploy(c, { profile: profile(), users: users(1), group: 'pin', placement: 'node:pve9' }).catch(
        (e: unknown) => e,
      )) as PlanRefusedError;
      expect(unknown.message.split('\n')[0]).toBe('placement node:pve9: no such node');
      expect(unknown.rows).toMatchObject([{ subject: 'pve9', problem: 'not a node of cluster sim (nodes: pve1, pve2, pve3)' }]);
    } finally {
      await c.close();
    }
  });
});

describe('a node whose network cannot be read', () => {
  it('is left out with the reason instead of failing the whole plan', async () => {
    sim.faults.add({ kind: 'error', method: 'GET', path: '/nodes/pve2/network', status: 500, message: 'unable to open file' });
    try {
      const plan = await planDeploy(ctx, { profile: profile(), users: users(2), group: 'flaky' });
      expect(plan.excluded.find((e) => e.node === 'pve2')?.reason).toMatch(
        /^its network configuration could not be read \(.*unable to open file.*\)$/,
      );
      expect(plan.stands.map((s) => s.node)).toEqual(['pve1', 'pve1']);
      expect(plan.replicas).toEqual([]);
    } finally {
      sim.faults.clear();
    }
  });
});

describe('re-runs', () => {
  it('plans the same objects for stands the store already records', async () => {
    const first = await planDeploy(ctx, { profile: profile(), users: users(3), group: 'again' });
    const s0 = first.stands[0];
    if (!s0) throw new Error('no stand');
    // record stand 1 as the executor would, on a different node than balanced would now pick
    await ctx.store.stands.put({
      cluster: 'sim',
      group: 'again',
      user: 'student01',
      userid: s0.userid,
      profile: 'netlab',
      pool: s0.pool,
      node: 'pve2',
      vms: s0.vms.map((v) => ({ machine: v.machine, vmid: v.vmid + 500, node: 'pve2', name: v.name, status: 'ready' as const })),
      segments: s0.segments.map((g) => ({ alias: g.alias, kind: 'bridge' as const, iface: g.iface.replace('vmbr10', 'vmbr20'), node: 'pve2', vlanAware: g.vlanAware })),
      vlans: s0.vlans,
      createdUser: true,
      poolCreated: true,
      status: 'ready',
      createdAt: '2026-11-25T10:00:00.000Z',
      updatedAt: '2026-11-25T10:00:00.000Z',
    });
    await ctx.store.journal.intend('vm', 10001, { cluster: 'sim', group: 'other' });
    const again = await planDeploy(ctx, { profile: profile(), users: users(3), group: 'again' });
    const r0 = again.stands[0];
    expect(r0?.recorded).toBe(true);
    expect(r0?.node).toBe('pve2');
    expect(r0?.vms.map((v) => v.vmid)).toEqual(s0.vms.map((v) => v.vmid + 500));
    expect(r0?.segments.map((g) => g.iface)).toEqual(['vmbr2000', 'vmbr2001']);
    expect(r0?.vms.every((v) => v.recorded)).toBe(true);
    // a journaled id (maybe created by a run that died) is never handed out again
    const newIds = again.stands.slice(1).flatMap((s) => s.vms.map((v) => v.vmid));
    expect(newIds).not.toContain(10001);
  });
});

describe('time-aware placement (the default)', () => {
  it('puts the stands where the class is ready soonest, within the limits, and shows the estimate with what it saved', async () => {
    const plan = await planDeploy(ctx, { profile: profile(), users: users(10), group: 'netlab-t', start: true });
    const e = plan.estimate!;
    expect(e.moved).toBeGreaterThan(0);
    expect(e.strategyMs).toBeGreaterThan(e.ms);
    // pve1 holds 9000/9001: more stands there than the 7 the balanced strategy gives it, fewer replicas to make
    expect(plan.stands.filter((s) => s.node === 'pve1').length).toBeGreaterThan(7);
    expect(e.replicasToMake).toBe(plan.replicas.filter((r) => !r.exists).length);
    for (const n of plan.nodes) expect(n.memUtil).toBeLessThanOrEqual(plan.limits.memory);
    expect(renderPlan(plan, { width: 200 }).split('\n').at(-1)).toMatch(/^Estimated time: about \d+ s \(.*\d+ stands? placed for time \(the plain balanced placement: \d+ s\)\)$/);
  });
});
