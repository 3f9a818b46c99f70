import { describe, expect, it } from 'vitest';
import { allCodes, cliLang, count, plural, render, RU, type Lang, type Msg, type MsgCode, type MsgParams } from '../../src/i18n/index.js';
import { en as engineEn } from '../../src/i18n/messages.en.js';
import { ru as engineRu } from '../../src/i18n/messages.ru.js';
import { runEn } from '../../src/i18n/run.en.js';
import { runRu } from '../../src/i18n/run.ru.js';
import { cliEn } from '../../src/i18n/cli.en.js';
import { cliRu } from '../../src/i18n/cli.ru.js';
import { foreignRuns } from '../support/english-runs.js';

const en = { ...engineEn, ...runEn, ...cliEn };
const ru = { ...engineRu, ...runRu, ...cliRu };
import { messages } from '../../src/discord/i18n.js';

/**
 * Sample parameters for every engine code. Typed as a mapped type over the catalogue, so a new code without a
 * sample is a compile error; each string parameter is a name or Proxmox's own text (ASCII on purpose, so the
 * check below proves it is these and not the catalogue that bring the English in).
 */
const samples: { [C in MsgCode]: MsgParams<C> } = {
  'cli.error': { message: 'some message from somewhere' },
  'cli.configHeadline': { count: 3 },
  'cli.internal': { ref: 'AB12CD' },
  'cli.interrupted': { reason: 'interrupted by SIGINT' },
  'cli.proxmox': { message: 'storage full on local lvm' },
  'cli.tls': { message: 'fingerprint does not match' },
  'refusal.what': {},
  'refusal.problem': {},
  'refusal.nodesLeftOut': {},
  'refusal.planRefused': {},
  'nodes.node': {},
  'nodes.memory': {},
  'nodes.cpu': {},
  'nodes.note': {},
  'nodes.memoryCell': { used: '56', total: '64', util: '87.5%', added: '52' },
  'nodes.cpuCell': { used: 54, max: 16, util: '84.4%' },
  'nodes.placed': { count: 13 },
  'nodes.leftOut': {},
  'group.nameInvalid': { input: 'Bad Name' },
  'group.otherCluster': { group: 'net-1', cluster: 'lab' },
  'group.otherProfile': { group: 'net-1', profile: 'netlab', wanted: 'basic' },
  'group.notFound': { group: 'net-1' },
  'group.busy': { group: 'net-1', holder: 'teacher via cli', until: '2026-12-04T15:00:00.000Z' },
  'group.noStands': { group: 'net-1' },
  'stand.notFound': { user: 'anna@pve', group: 'net-1' },
  'user.notFound': { userid: 'anna@pve', cluster: 'lab' },
  'user.passwordNotManaged': { userid: 'anna@pve' },
  'user.passwordNotOurs': { userid: 'anna@pve' },
  'resume.finished': { group: 'net-1', job: 'job-42' },
  'resume.nothing': { group: 'net-1' },
  'plan.idsKeepTaken': { group: 'net-1', cluster: 'lab' },
  'plan.tooOld': { kind: 'bridge', id: 'st01', holder: 'net-2', more: 3 },
  'prepare.cannot': { profile: 'netlab', problems: ['router: template 9000 missing'] },
  'prepare.problem': { subject: 'router', problem: 'template 9000 missing' },
  'input.placement': { placement: 'spread' },
  'input.leaseDuration': { lease: 'soon' },
  'input.leaseOrDate': { lease: 'soon' },
  'plan.emptyList': {},
  'plan.realmMissing': {},
  'plan.isolationUnread': {},
  'plan.isolationFirewallOff': {},
  'plan.isolationImpossible': {},
  'plan.templateMissing': {},
  'plan.profileUnplannable': {},
  'plan.sdnForeignPending': {},
  'plan.noEligibleNode': {},
  'plan.noSuchNode': { placement: 'node:pve9' },
  'plan.nodeLeftOut': { placement: 'node:pve2' },
  'plan.doesNotFit': { unplaced: 5, total: 21, unit: 'stands' },
  'plan.noVmids': {},
  'plan.noBridges': {},
  'plan.noTags': {},
  'plan.noDisk': {},
  'row.machine': { file: 'profiles/netlab.yml', machine: 'router' },
  'row.noUsers': {},
  'row.realmNotOnCluster': {},
  'row.templateMissing': { template: 9000, cluster: 'lab' },
  'row.templateNameMissing': { name: 'debian tpl', cluster: 'lab' },
  'row.templateNameIsVm': { name: 'debian tpl', cluster: 'lab', vmid: 100 },
  'row.templateAmbiguous': { name: 'debian tpl', ids: '9000 on pve1, 9001 on pve2' },
  'row.notATemplate': { vm: '100 (web server)' },
  'row.ecorouterNics': { max: 31 },
  'row.foreignPending': { list: 'vmbr99 added, vmbr7 changed' },
  'row.everyNodeLeftOut': {},
  'row.notANode': { cluster: 'lab', nodes: 'pve1, pve2' },
  'row.vmidRange': { min: 1000, max: 1999 },
  'row.vmidsNeeded': {},
  'row.node': { node: 'pve1' },
  'row.zone': { zone: 'stands' },
  'row.noFreeBridge': { min: 1000, max: 1999 },
  'row.noFreeTag': { min: 2, max: 4094 },
  'row.storage': { storage: 'local-lvm', node: 'pve2' },
  'row.diskNeeds': { need: '24.0', free: '20.0' },
  'row.more': { count: 12 },
  'row.likewise': {},
  'unplaced.noNode': {},
  'unplaced.memory': { mib: 2048, node: 'pve1', util: '95%', limit: '90%' },
  'unplaced.cpu': { cores: 4, overcommit: 4 },
  'unplaced.recordedOn': { node: 'pve3' },
  'unplaced.notEligible': { node: 'pve3' },
  'node.status': { status: 'offline' },
  'node.noFigures': {},
  'node.networkUnreadable': { error: 'permission check failed' },
  'node.memoryFull': { used: '92%', limit: '90%' },
  'node.cpuFull': { used: '410%', overcommit: 4 },
  'node.foreignPending': { list: 'vmbr99 added' },
  'node.bridgeMissing': { bridge: 'vmbr1', users: 'router, pc' },
  'plan.warnings': {},
  'cli.warning': { message: 'some message from somewhere' },
  'warn.firewallOff': {},
  'warn.passwordNeverShown': { user: 'alice@pve' },
  'warn.foreignApplied': { node: 'pve1', list: 'vmbr99, vmbr98' },
  'warn.templateNode': { file: 'profiles/netlab.yml', machine: 'router', vmid: 9000, node: 'pve2', wanted: 'pve1' },
  'warn.bridgeTaken': { user: 'alice@pve', bridge: 'vmbr1001', node: 'pve1' },
  'warn.vmidTaken': { user: 'alice@pve', vmid: 10001, machine: 'router', name: 'web server' },
  'warn.sharedLan': { machine: 'router', nic: 'net0', bridge: 'vmbr0' },
  'warn.directoryRealm': { count: 3, realms: 'corp (ldap)', users: 'a@corp, b@corp, c@corp' },
  'fail.api': { cluster: 'lab', request: 'POST /nodes/pve1/qemu/9000/clone', status: 500, text: 'storage full' },
  'fail.task': { reason: 'clone failed: no space left on device' },
  'fail.cancelled': {},
  'fail.text': { message: 'something odd happened' },
  'fail.foreignPending': { node: 'pve1', list: 'vmbr99 added, an edit' },
  'fail.sdnBlocked': { list: 'pve1: vmbr99 added' },
  'fail.sdnForeign': { list: 'VNet x1; pve2: vmbr7' },
  'fail.sdnReload': { nodes: [{ node: 'pve2', reason: 'ifupdown2 missing' }, { node: null, reason: 'unreachable' }] },
  'fail.network': { node: 'pve1', reason: 'PUT /nodes/pve1/network failed: 500 busy' },
  'fail.vmidTaken': { vmid: 10001, name: 'web', node: 'pve1' },
  'fail.vmidTakenAfterPlan': { vmid: 10001 },
  'fail.vmVanished': { vmid: 10001 },
  'fail.poolTaken': { pool: 'netlab-alice', comment: 'kept by hand' },
  'fail.bridgeTaken': { bridge: 'vmbr1001', node: 'pve1' },
  'fail.vnetTaken': { vnet: 'x1a2', alias: 'lab net' },
  'fail.replicaTaken': { vmid: 9100, replica: 'tpl-router-pve2' },
  'fail.ipsetUnsettled': { name: 'stands-deny', rounds: 12 },
  'fail.rulesUnsettled': { kind: 'group', name: 'stands-g1' },
  'fail.nicFlagsUnsettled': { vmid: 10001 },
  'fail.vmFirewallUnsettled': { vmid: 10001 },
  'fail.standsFailed': { failed: 2, total: 5 },
  'fail.unknown': {},
  'txt.quoted': { text: 'its description has no marker' },
  'pw.notOnCluster': { vmid: 10001, name: 'alice-router' },
  'pw.leftAlone': { vmid: 10001, reason: { code: 'txt.quoted', params: { text: 'its description has no marker' } } },
  'pw.cannotReadConfig': { reason: 'GET failed: 500 busy' },
  'pw.noStartSnapshot': { vmid: 10001 },
  'pw.gone': { vmid: 10001 },
  'pw.errors': { list: [{ code: 'pw.gone', params: { vmid: 10001 } }, { code: 'pw.noStartSnapshot', params: { vmid: 10002 } }] },
  'pw.alreadyDone': {},
  'lease.busy': {},
  'rec.vm': { vmid: 10001, reason: 'GET failed: 500 busy' },
  'rec.vmNoUser': { vmid: 10001, name: 'lab-vm', group: 'netlab-class' },
  'rec.network': { node: 'pve1', reason: 'GET failed: 500 busy' },
  'rec.bridge': { bridge: 'vmbr1001', node: 'pve1', comment: 'stands:x:y:z' },
  'kept.bridgesOn': { node: 'pve1' },
  'kept.vm': { vmid: 10001, node: 'pve1' },
  'kept.bridge': { bridge: 'vmbr1001', node: 'pve1' },
  'kept.vnet': { vnet: 'x1a2' },
  'kept.acl': { id: '/pool/x|alice@pve|PVEVMUser' },
  'kept.pool': { pool: 'netlab-alice' },
  'kept.user': { user: 'alice@pve' },
  'kept.fwGroup': { name: 'stands-g1' },
  'kept.fwIpset': { name: 'stands-deny' },
  'kept.cannotReadNetwork': { reason: 'GET /nodes/pve1/network failed: 500 busy' },
  'kept.notOurVm': { reason: 'its description has no marker' },
  'kept.notGroups': { kind: 'alias' },
  'kept.notStands': { mark: 'made by hand' },
  'kept.aclUnreadable': {},
  'kept.userNotMarked': {},
  'kept.userHasStands': { groups: 'web, db' },
  'kept.poolHolds': { list: 'qemu/555' },
  'kept.noOurComment': {},
  'clean.foreignPending': { node: 'pve1', list: 'vmbr99 added' },
  'clean.foreignAppeared': { node: 'pve1', list: 'vmbr99 added' },
  'clean.isolationNotRemoved': { reason: 'permission check failed' },
  'clean.cancelled': {},
  'clean.failed': { reason: { code: 'fail.text', params: { message: 'storage full' } } },
  'out.state': { state: 'ready' },
  'out.vmsInState': { count: 3, state: 'stopped' },
  'out.clock': { h: 0, m: 1, s: 5 },
  'out.head': { head: 'consoleError' },
  'out.yes': {},
  'out.no': {},
  'out.errors': {},
  'out.planSummary': { group: 'netlab-class', cluster: 'lab', stands: 3, vms: 9, clone: 'linked', profile: 'netlab', strategy: 'balanced', mode: 'bridges' },
  'out.nodeLeftOut': { reason: 'node is offline' },
  'out.nodeCount': { count: 5, unit: 'stands' },
  'out.recorded': {},
  'out.newUser': {},
  'out.resources': { cores: 4, gib: '6' },
  'out.tag': { tag: 100 },
  'out.vlans': { list: '10,20' },
  'out.moreStands': { count: 5 },
  'out.replicasHead': {},
  'out.replica': { exists: false, vmid: 9100, name: 'tpl-router-pve2', source: 9000, from: 'pve1', on: 'pve2' },
  'out.replicaShared': { exists: true, vmid: 9101, name: 'tpl-9000-shared-ceph', source: 9000, from: 'pve1', storage: 'ceph' },
  'out.replicaSharedNode': { node: 'pve1', storage: 'ceph' },
  'check.head': { ok: false, cluster: 'lab', url: 'https://pve1:8006', verdict: 'missing-privileges' },
  'check.seen': { fingerprint: 'AB:CD' },
  'check.expected': { what: 'AB:CE' },
  'check.lacksHead': { who: { kind: 'token', id: 'stands@pve!deploy' }, count: 3 },
  'check.missing': { what: 'VM.Clone /vms' },
  'check.pveumHint': {},
  'check.problem': { text: 'realm ldap' },
  'check.note': { text: 'node pve2' },
  'check.firewall': { text: 'pve2' },
  'check.ok': { version: '8.4.1', who: { kind: 'user', id: 'root@pam' } },
  'check.unsupported': { cluster: 'lab', version: '7.4', min: '8.1' },
  'check.lacks': { who: { kind: 'token', id: 'stands@pve!deploy' }, count: 2, list: 'VM.Clone /vms; Sys.Audit /' },
  'check.tlsMismatch': { seen: 'AB:CD', expected: 'AB:CE' },
  'check.tlsUntrusted': { code: 'SELF_SIGNED_CERT_IN_CHAIN', seen: 'AB:CD', expected: { code: 'check.expectedSystem', params: {} }, cluster: 'lab' },
  'check.expectedCa': {},
  'check.expectedSystem': {},
  'check.unreachable': { url: 'https://pve1:8006', text: 'connect ECONNREFUSED' },
  'check.refused': { who: { kind: 'apiToken', id: 'stands@pve!deploy' }, url: 'https://pve1:8006', text: 'invalid token value' },
  'check.denied': { text: 'Permission check failed' },
  'check.answered': { url: 'https://pve1:8006', status: 500, text: 'proxy loop detected' },
  'check.priv': { priv: 'VM.Clone', path: '/vms', flat: '/' },
  'check.privsNotVerified': { text: 'Method not implemented' },
  'check.roleMissing': { role: 'StandsStudent', command: 'pveum role add StandsStudent --privs "VM.Audit"' },
  'check.realmMissing': { realm: 'ldap' },
  'check.realmType': { realm: 'ldap', type: 'ldap' },
  'check.noIfupdown2': { node: 'pve2' },
  'check.ifupdown2Unverified': { node: 'pve2', status: 403, text: 'Permission check failed' },
  'check.fwOn': {},
  'check.fwOff': {},
  'check.fwUnread': { status: 403, text: 'Permission check failed' },
  'out.isolationHead': {},
  'out.isoNics': {},
  'out.isoIpset': { ipset: 'stands-deny', list: '', allowIn: true },
  'out.isoRules': { deny: 'stands-deny', allow: 'stands-allow-in' },
  'out.isoNothingCluster': {},
  'out.estimate': { time: 'около 1 мин 40 с', notes: 'пример' },
  'out.estMakes': { count: 2 },
  'out.estReuses': { count: 2 },
  'out.estExist': { count: 3 },
  'out.estMoved': { count: 2, plain: 'около 3 мин' },
  'out.estClusterTiming': {},
  'out.dryRunCreated': {},
  'out.confirmDeploy': { stands: 3, vms: 9, cluster: 'lab' },
  'out.rolledBack': {},
  'out.passwordsWritten': { count: 3, file: '/tmp/creds.csv' },
  'out.newUsers': {},
  'out.deployDone': { status: 'partial', ready: 2, failed: 1, secs: '12.5', group: 'netlab-class', job: 'deploy-20261204T1200-ab12' },
  'out.resumeHint': { group: 'netlab-class' },
  'out.retryHint': {},
  'out.credsOutFailed': { file: '/tmp/creds.csv', message: 'EACCES: permission denied' },
  'out.confirmNeeded': { question: 'Развернуть 3 стенда?' },
  'out.yesNo': {},
  'out.cancelled': {},
  'out.pPlanned': { total: 3 },
  'out.pJobStarted': { job: 'deploy-1', total: 3 },
  'out.pVm': { vm: 10001 },
  'out.pStep': { step: 'clone' },
  'out.pStepDone': { step: 'клонирование' },
  'out.pRetry': { step: 'клонирование' },
  'out.pStandDone': { stand: 'alice@pve' },
  'out.pStandFailed': { stand: 'alice@pve', step: 'клонирование' },
  'out.pProgress': { done: 3, total: 10, eta: '1m05s' },
  'out.pJobFinished': { job: 'deploy-1' },
  'out.pOverall': { steps: 'шагов 3/10', stands: 'стендов готово 1/3', failed: 0, retries: 2, eta: '1m05s' },
  'out.pSteps': { done: 3, total: '10' },
  'out.pStandsDone': { done: 1, total: '3', one: false },
  'out.pStandRow': { stand: 'alice@pve', state: 'клонирование…', steps: 2 },
  'out.pRetries': { count: 2 },
  'out.pRetrying': { step: 'клонирование', message: 'got no worker upid' },
  'out.pFailedAt': { stand: 'alice@pve', step: 'клонирование', message: '«storage full»' },
  'out.statusHead': { cluster: 'lab', at: '2026-12-04 12:00:00' },
  'out.vmsRunning': { running: 3, vms: 5 },
  'out.cpuOf': { pct: '12%', max: 16 },
  'out.lastHour': { avg: '10%', peak: '40%' },
  'out.lastHourWide': { avg: '10%', peak: '40%' },
  'out.memCompact': { used: '12.0', total: '64.0', alloc: '20.0' },
  'out.memWide': { used: '12.0', alloc: '20.0', total: '64.0' },
  'out.shared': {},
  'out.gib': {},
  'out.standsCell': { stands: 3, ready: 2, failed: 1 },
  'out.locked': {},
  'out.leaseEnds': { at: '2026-12-05 12:00' },
  'out.lock': { lock: 'backup' },
  'out.noStands': {},
  'out.runningJob': { id: 'deploy-1', kind: 'deploy', group: 'netlab-class', done: 3, total: 10 },
  'out.standOf': { user: 'alice@pve', group: 'netlab-class' },
  'out.detail': { key: 'state' },
  'out.leaseDetail': { at: '2026-12-05 12:00' },
  'out.noGroup': { group: 'netlab-x', names: 'netlab-class, web' },
  'out.noStandOf': { user: 'bob@pve', group: 'netlab-class', users: 'alice@pve' },
  'out.noGroups': { file: '/var/lib/stands/state.sqlite' },
  'out.cleanupHead': { group: 'netlab-class', cluster: 'lab' },
  'out.nothingLeft': {},
  'out.dryRunRemoved': {},
  'out.confirmCleanup': { stands: 3, vms: 9, group: 'netlab-class' },
  'out.cleanupDone': { status: 'succeeded', vms: 9, bridges: 3, vnets: 0, pools: 3, users: 3, acls: 3 },
  'out.kept': { what: 'bridges on pve1', reason: 'cannot read it' },
  'out.cleanupVms': { list: '10001 router' },
  'out.cleanupRunning': {},
  'out.cleanupBridges': { list: 'vmbr1000@pve1' },
  'out.cleanupVnets': { list: 'x1a2' },
  'out.cleanupPool': { pool: 'netlab-alice' },
  'out.cleanupUser': { user: 'alice@pve' },
  'out.cleanupRecordsOnly': {},
  'out.cleanupFirewall': { list: 'ipset/stands-deny' },
  'out.prepareHead': { profile: 'netlab', cluster: 'lab', nodes: 'pve2, pve3', needed: 4, present: 1, toMake: 3 },
  'out.skipped': { node: 'pve3', reason: 'node is offline' },
  'out.replicaFailed': { error: '«storage full»' },
  'out.replicaMade': { secs: '12.5' },
  'out.replicaPresent': {},
  'out.prepareDone': { made: 2, present: 1, failed: 0 },
  'out.noSecrets': { cluster: 'lab' },
  'out.noReplicas': {},
  'out.noUnused': {},
  'out.unused': { list: '9100 tpl-router-pve2 on pve2' },
  'out.onNode': { vmid: 9100, name: 'tpl-router-pve2', node: 'pve2' },
  'out.confirmPrune': { count: 2 },
  'out.removedReplica': { what: '9100 tpl-router-pve2 на pve2' },
  'out.keptReplica': { what: '9100 tpl-router-pve2 на pve2', reason: '«in use»' },
  'out.powerQuestion': { action: 'reset', group: 'netlab-class', user: 'alice@pve' },
  'out.vmOutcome': { vmid: 10001, name: 'alice-router', outcome: 'already', message: 'ВМ 10001 больше нет' },
  'out.powerDone': { action: 'rollback', group: 'netlab-class', status: 'partial' },
  'out.noLeaseEnded': {},
  'out.leaseEnded': {},
  'out.action': {},
  'out.outcome': {},
  'out.recovered': { cluster: 'lab', file: '/var/lib/stands/state.sqlite', stands: 5, groups: 2, list: 'web, db', vms: 10, bridges: 4, users: 5, replicas: 1, known: 1 },
  'out.nothingToResume': { group: 'netlab-class' },
  'out.resuming': { job: 'deploy-1', group: 'netlab-class', status: 'running' },
  'out.newPassword': { user: 'alice@pve', password: 'Xy7-kq9_Lm2=pQ' },
  'out.newPasswordFile': { user: 'alice@pve', file: '/tmp/alice.csv' },
  'opt.placement': { value: 'nearest' },
  'opt.lease': { value: 'soon' },
  'opt.timeout': { value: 'forever' },
  'opt.prepareNeedsProfile': {},
  'opt.nodesList': {},
  'opt.prepareAndPrune': {},
  'opt.profileNeedsPrepare': {},
  'opt.notANode': { node: 'pve9', cluster: 'lab', nodes: 'pve1, pve2' },
  'opt.fileIsDir': { option: '--out', file: '/tmp' },
  'opt.fileExists': { option: '--out', file: '/tmp/a.csv' },
  'opt.fileFailed': { option: '--out', file: '/x/a.csv', why: { code: 'opt.noDir', params: { dir: '/x' } } },
  'opt.noDir': { dir: '/x' },
};

describe('the engine catalogue', () => {
  it('has the same codes in English and Russian, and every code renders in both with its sample parameters', () => {
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
    expect(allCodes().sort()).toEqual(Object.keys(samples).sort());
    for (const lang of ['en', 'ru'] as Lang[]) {
      for (const code of allCodes()) {
        const m = { code, params: samples[code] } as Msg;
        const t = render(lang, m);
        expect(typeof t, `${lang} ${code}`).toBe('string');
        if (code !== 'cli.configHeadline' || lang === 'ru') expect(t.trim(), `${lang} ${code} is empty`).not.toBe('');
        expect(t, `${lang} ${code}`).not.toMatch(/undefined|\[object Object\]|NaN/);
      }
    }
  });

  it('has no English inside a Russian text except names, parameters and quoted Proxmox text', () => {
    const offenders: string[] = [];
    for (const code of allCodes()) {
      const params = samples[code] as Record<string, unknown>;
      const text = render('ru', { code, params } as Msg);
      // `VLANs 10,20` → `VLAN 10,20`, `VNets x1` → `VNet x1`: a term and names; `txt.quoted` is a quote and nothing else; `prepare.problem` joins two nested texts
      if (!['out.vlans', 'out.cleanupVnets', 'kept.vnet', 'kept.fwIpset', 'txt.quoted', 'prepare.problem'].includes(code)) expect(text, `ru ${code} has no Cyrillic`).toMatch(/[А-Яа-яЁё]/);
      // a single Latin word may be a term; two in a row is English prose
      const runs = foreignRuns(text, params).filter((r) => r.split(' ').length >= 2 || !/^[A-Z0-9]/.test(r));
      if (runs.length) offenders.push(`${code}: ${JSON.stringify(runs)} in ${JSON.stringify(text)}`);
    }
    expect(offenders).toEqual([]);
  });

  it('the check itself catches English left in a Russian string', () => {
    expect(foreignRuns('группа net-1 is busy now', { group: 'net-1' })).toEqual(['is busy now']);
    expect(foreignRuns('ошибка Proxmox VE: «storage full»', {})).toEqual([]);
  });

  it('plurals follow Intl.PluralRules: one/few/many in Russian, one/other in English', () => {
    expect([1, 2, 5, 11, 21, 22, 25, 111].map((n) => count('ru', n, RU.stand))).toEqual([
      '1 стенд',
      '2 стенда',
      '5 стендов',
      '11 стендов',
      '21 стенд',
      '22 стенда',
      '25 стендов',
      '111 стендов',
    ]);
    expect(plural('en', 1, { one: 'stand', other: 'stands' })).toBe('stand');
    expect(plural('en', 0, { one: 'stand', other: 'stands' })).toBe('stands');
    expect(render('ru', { code: 'plan.doesNotFit', params: { unplaced: 3, total: 21, unit: 'stands' } })).toBe(
      'класс не помещается: не удаётся разместить 3 из 21 стенд',
    );
    expect(render('en', { code: 'plan.doesNotFit', params: { unplaced: 3, total: 21, unit: 'vms' } })).toBe(
      'the class does not fit: 3 of 21 VMs cannot be placed',
    );
  });

  it("the bot's catalogue has no '(s)' plurals left, in either language", () => {
    const m = messages('en');
    const r = messages('ru');
    expect(m.queued(1)).toBe('Queued: 1 job ahead on this cluster.');
    expect(m.queued(3)).toBe('Queued: 3 jobs ahead on this cluster.');
    expect(m.planSummary(1, 2, 'lab')).toBe('1 stand, 2 VMs on cluster lab.');
    expect(r.planSummary(2, 5, 'lab')).toBe('2 стенда, 5 ВМ, кластер lab.');
    expect(r.standLimit(1)).toBe('У вас уже 1 стенд, это максимум для студента.');
    expect(m.retries(1)).toBe('1 retry');
    expect(r.retries(3)).toBe('3 повтора');
    expect(r.listErrors('users.txt', 5)).toBe('users.txt: 5 ошибок; ничего не создано.');
    for (const lang of ['en', 'ru'] as Lang[]) {
      const c = messages(lang);
      const texts = [c.queued(2), c.listErrors('f', 2), c.planSummary(2, 2, 'x'), c.planNodeLine('n', 2, 1, 1), c.groupLine('g', 2), c.standLimit(2), c.retries(2), c.progressLine(1, 2)];
      for (const t of texts) expect(t).not.toMatch(/\((s|es|ies)\)|retr\(/);
    }
  });
});

describe('the CLI language', () => {
  it('--lang first, then LC_ALL, LC_MESSAGES, LANG (ru* → ru), else English', () => {
    expect(cliLang('ru', { LANG: 'en_US.UTF-8' })).toBe('ru');
    expect(cliLang('en', { LC_ALL: 'ru_RU.UTF-8' })).toBe('en');
    expect(cliLang(undefined, { LANG: 'ru_RU.UTF-8' })).toBe('ru');
    expect(cliLang(undefined, { LC_ALL: 'C', LANG: 'ru_RU.UTF-8' })).toBe('en');
    expect(cliLang(undefined, { LC_MESSAGES: 'ru_RU', LANG: 'en_GB.UTF-8' })).toBe('ru');
    expect(cliLang(undefined, { LC_ALL: '', LANG: 'ru' })).toBe('ru');
    expect(cliLang(undefined, {})).toBe('en');
    expect(() => cliLang('de', {})).toThrow(/--lang de/);
  });
});
