/**
 * The CLI's own output in English: table heads, summary lines, progress lines, prompts. Every text here is what
 * the CLI printed before it spoke Russian, byte for byte (tests and the README capture pin it). `cli.ru.ts` is
 * typed as `CliCatalog`. `--json` keeps its keys and codes in English whatever the language.
 */
import { t, type Nested } from './nested.js';
import { count, EN } from './plural.js';

const n = (x: number, forms: keyof typeof EN): string => count('en', x, EN[forms]);
const nn = (x: number, one: string, other: string): string => count('en', x, { one, other });

/** State words of stands, VMs, jobs and replicas (the value stays English in --json and colours). */
export type StateWord =
  | 'planned' | 'deploying' | 'ready' | 'failed' | 'removing' | 'removed' | 'cancelled' | 'partial' | 'succeeded'
  | 'running' | 'stopped' | 'paused' | 'missing' | 'unknown' | 'online' | 'offline' | 'not-done' | 'kept' | 'queued';

export const cliEn = {
  // ---- words used in several tables
  'out.state': (p: { state: string }) => p.state,
  /** `3 stopped` in a stand's state: VMs counted by state. */
  'out.vmsInState': (p: { count: number; state: string }) => `${p.count} ${p.state}`,
  /** A duration on a progress line: `45s`, `1m05s`, `2h03m`. */
  'out.clock': (p: { h: number; m: number; s: number }) =>
    p.h ? `${p.h}h${String(p.m).padStart(2, '0')}m` : p.m ? `${p.m}m${String(p.s).padStart(2, '0')}s` : `${p.s}s`,
  'out.head': (p: { head: Head }): string => HEADS_EN[p.head],
  'out.yes': () => 'yes',
  'out.no': () => 'no',
  'out.errors': () => 'Errors:',
  // ---- the deploy plan (src/core/plan-table.ts)
  'out.planSummary': (p: { group: string; cluster: string; stands: number; vms: number; clone: string; profile: string; strategy: string; mode: string }) =>
    `group ${p.group} on ${p.cluster}: ${p.stands} stands, ${p.vms} VMs (${p.clone} clones), ` +
    `profile ${p.profile}, placement ${p.strategy}, networks ${p.mode}`,
  'out.nodeLeftOut': (p: { reason: string }) => `left out: ${p.reason}`,
  'out.nodeCount': (p: { count: number; unit: 'stands' | 'vms' }) => `${p.count} ${p.unit === 'stands' ? 'stands' : 'VMs'}`,
  'out.recorded': () => 'recorded (re-run)',
  'out.newUser': () => 'new user',
  'out.resources': (p: { cores: number; gib: string }) => `${p.cores} cores, ${p.gib} GiB`,
  'out.tag': (p: { tag: number }) => `(tag ${p.tag})`,
  'out.vlans': (p: { list: string }) => `VLANs ${p.list}`,
  'out.moreStands': (p: { count: number }) => `… and ${p.count} more stands`,
  'out.replicasHead': () => 'Template replicas:',
  'out.replica': (p: { exists: boolean; vmid: number; name: string; source: number; from: string; on: string }) =>
    `${p.exists ? 'reuse' : 'create'} replica ${p.vmid} (${p.name}) of template ${p.source} from ${p.from} on ${p.on}`,
  'out.replicaShared': (p: { exists: boolean; vmid: number; name: string; source: number; from: string; storage: string }) =>
    `${p.exists ? 'reuse' : 'create'} replica ${p.vmid} (${p.name}) of template ${p.source} from ${p.from} on shared storage ${p.storage}, for every node`,
  /** the node cell of a shared replica in the templates tables */
  'out.replicaSharedNode': (p: { node: string; storage: string }) => `${p.node} (shared ${p.storage})`,
  'out.isolationHead': () => 'Isolation (Proxmox firewall, objects marked ours):',
  'out.isoNics': () => 'every stand VM: firewall=1 on each NIC; firewall on, policy in DROP, out ACCEPT, DHCP allowed',
  'out.isoIpset': (p: { ipset: string; list: string; allowIn: boolean }) =>
    `every stand VM: IPSet ${p.ipset}: ${p.list || (p.allowIn ? '(empty: nothing outside a stand may connect in)' : '')}`,
  'out.isoRules': (p: { deny: string; allow: string }) =>
    `every stand VM: rules out DROP to +guest/${p.deny}; in ACCEPT from +guest/${p.allow}; in ACCEPT on each private-segment NIC`,
  'out.isoNothingCluster': () => 'nothing at cluster level (no security group, no cluster IPSet)',
  'out.estimate': (p: { time: string; notes: string }) => `Estimated time: ${p.time}${p.notes ? ` (${p.notes})` : ''}`,
  'out.estMakes': (p: { count: number }) => `makes ${p.count} template replica${p.count === 1 ? '' : 's'} first`,
  'out.estReuses': (p: { count: number }) => `reuses ${p.count}`,
  'out.estExist': (p: { count: number }) =>
    `its ${p.count} template replica${p.count === 1 ? '' : 's'} exist${p.count === 1 ? 's' : ''}: makes none`,
  'out.estMoved': (p: { count: number; plain: string }) =>
    `${p.count} stand${p.count === 1 ? '' : 's'} placed for time (the plain balanced placement: ${p.plain})`,
  'out.estClusterTiming': () => "task durations from this cluster's recent tasks",
  // ---- deploy and its result
  'out.dryRunCreated': () => '\nDry run: nothing was created.',
  'out.confirmDeploy': (p: { stands: number; vms: number; cluster: string }) =>
    `Deploy ${nn(p.stands, 'stand', 'stands')}, ${nn(p.vms, 'VM', 'VMs')}, on cluster ${p.cluster}?`,
  'out.rolledBack': () => ' (rolled back)',
  'out.passwordsWritten': (p: { count: number; file: string }) =>
    `\n${nn(p.count, 'new password', 'new passwords')} written to ${p.file} (mode 0600; not shown, not stored elsewhere)`,
  'out.newUsers': () => 'New users (passwords are shown only now — hand them out, they are not stored):',
  'out.deployDone': (p: { status: string; ready: number; failed: number; secs: string; group: string; job: string }) =>
    `\n${p.status}: ${p.ready} ready, ${p.failed} failed in ${p.secs}s (group ${p.group}, job ${p.job})`,
  'out.resumeHint': (p: { group: string }) => `Interrupted: run \`stands resume --group ${p.group}\` (or the same deploy again) to finish.`,
  'out.retryHint': () => 'Run the same command again to retry the failed stands (finished ones are left as they are).',
  'out.credsOutFailed': (p: { file: string; message: string }) =>
    `--credentials-out ${p.file}: ${p.message}; the passwords are printed instead`,
  // ---- prompts (src/cli/confirm.ts)
  'out.confirmNeeded': (p: { question: string }) =>
    `${p.question.replace(/\?$/, '')}: confirmation needed, and this is not a terminal — nothing was done; re-run with --yes`,
  'out.yesNo': () => '[y/N]',
  'out.cancelled': () => 'cancelled: nothing was done',
  // ---- progress lines without a terminal (src/cli/progress.ts)
  'out.pPlanned': (p: { total?: number }) => `planned${p.total !== undefined ? ` ${p.total} stands` : ''}`,
  'out.pJobStarted': (p: { job: string; total?: number }) => `job ${p.job} started${p.total !== undefined ? ` (${p.total} stands)` : ''}`,
  'out.pVm': (p: { vm: number }) => ` vm ${p.vm}`,
  'out.pStep': (p: { step: string }): string => STEPS_EN[p.step] ?? p.step,
  'out.pStepDone': (p: { step: string }) => `${p.step} done`,
  'out.pRetry': (p: { step: string }) => `retry${p.step ? ` ${p.step}` : ''}:`,
  'out.pStandDone': (p: { stand: string }) => `${p.stand} done`,
  'out.pStandFailed': (p: { stand: string; step: string }) => `${p.stand} FAILED${p.step ? ` at ${p.step}` : ''}:`,
  'out.pProgress': (p: { done: number; total: number; eta: string }) => `progress ${p.done}/${p.total}${p.eta ? `, ETA ${p.eta}` : ''}`,
  'out.pJobFinished': (p: { job: string }) => `job ${p.job} finished`,
  'out.pOverall': (p: { steps: string; stands: string; failed: number; retries: number; eta: string }) =>
    `${p.steps} | ${p.stands} | ${p.failed} failed | ${n(p.retries, 'retry')} | ETA ${p.eta}`,
  'out.pSteps': (p: { done: number; total: string }) => `${p.done}/${p.total} steps`,
  'out.pStandsDone': (p: { done: number; total: string; one: boolean }) => `${p.done}/${p.total} ${p.one ? 'stand' : 'stands'} done`,
  'out.pStandRow': (p: { stand: string; state: string; steps: number }) => `  ${p.stand}  ${p.state}  (${p.steps} steps done)`,
  'out.pRetries': (p: { count: number }) => n(p.count, 'retry'),
  'out.pRetrying': (p: { step: string; message: string }) => `retrying ${p.step}: ${p.message}`.trim(),
  'out.pFailedAt': (p: { stand: string; step: string; message: string }) => `${p.stand} failed${p.step ? ` at ${p.step}` : ''}: ${p.message}`,
  // ---- status and list
  'out.statusHead': (p: { cluster: string; at: string }) => `Cluster ${p.cluster} at ${p.at} UTC`,
  'out.vmsRunning': (p: { running: number; vms: number }) => `${p.running}/${p.vms} running`,
  'out.cpuOf': (p: { pct: string; max: number }) => `${p.pct} of ${p.max}`,
  'out.lastHour': (p: { avg: string; peak: string }) => `, 1h ${p.avg}/${p.peak}`,
  'out.lastHourWide': (p: { avg: string; peak: string }) => `\n1h avg ${p.avg}, peak ${p.peak}`,
  'out.memCompact': (p: { used: string; total: string; alloc: string }) => `${p.used}/${p.total} GiB, alloc ${p.alloc}`,
  'out.memWide': (p: { used: string; alloc: string; total: string }) => `${p.used} used, ${p.alloc} allocated / ${p.total} GiB`,
  'out.shared': () => ' (shared)',
  'out.gib': () => 'GiB',
  'out.standsCell': (p: { stands: number; ready: number; failed: number }) => `${p.stands} (${p.ready} ready${p.failed ? `, ${p.failed} failed` : ''})`,
  'out.locked': () => ' (locked)',
  'out.leaseEnds': (p: { at: string }) => `\nlease ends ${p.at}`,
  'out.lock': (p: { lock: string }) => ` (lock ${p.lock})`,
  'out.noStands': () => 'No stands recorded in the state file for this cluster.',
  'out.runningJob': (p: { id: string; kind: string; group: string; done: number; total: number }) =>
    `running job ${p.id}: ${p.kind}${p.group ? ` ${p.group}` : ''} ${p.done}/${p.total}`,
  'out.standOf': (p: { user: string; group: string }) => `Stand of ${p.user} in group ${p.group}`,
  'out.detail': (p: { key: 'state' | 'node' | 'pool' | 'lease' | 'error' | 'console' }) => `${p.key}:`.padEnd(9),
  'out.leaseDetail': (p: { at: string }) => `ends ${p.at} UTC`,
  'out.noGroup': (p: { group: string; names: string }) =>
    p.names ? `group ${p.group} does not exist; groups in the state file: ${p.names}` : `group ${p.group} does not exist: the state file has no groups`,
  'out.noStandOf': (p: { user: string; group?: string; users: string }) =>
    `no stand of ${p.user}${p.group ? ` in group ${p.group}` : ''}` + (p.users ? `; stands here belong to: ${p.users}` : ''),
  'out.noGroups': (p: { file: string }) => `no groups in ${p.file}`,
  // ---- cleanup
  'out.cleanupHead': (p: { group: string; cluster: string }) => `Cleanup of group ${p.group} on cluster ${p.cluster}:`,
  'out.nothingLeft': () => '  nothing of ours is left',
  'out.dryRunRemoved': () => '\nDry run: nothing was removed.',
  'out.confirmCleanup': (p: { stands: number; vms: number; group: string }) =>
    `Remove ${nn(p.stands, 'stand', 'stands')} with ${nn(p.vms, 'VM', 'VMs')} of group ${p.group}?`,
  'out.cleanupDone': (p: { status: string; vms: number; bridges: number; vnets: number; pools: number; users: number; acls: number }) =>
    `${p.status}: removed ${nn(p.vms, 'VM', 'VMs')}, ${nn(p.bridges, 'bridge', 'bridges')}, ${nn(p.vnets, 'VNet', 'VNets')}, ${nn(p.pools, 'pool', 'pools')}, ` +
    `${nn(p.users, 'user', 'users')}, ${nn(p.acls, 'ACL entry', 'ACL entries')}`,
  'out.kept': (p: { what: string; reason: string }) => `kept: ${p.what}: ${p.reason}`,
  'out.cleanupVms': (p: { list: string }) => `VMs ${p.list}`,
  'out.cleanupRunning': () => ' (running)',
  'out.cleanupBridges': (p: { list: string }) => `bridges ${p.list}`,
  'out.cleanupVnets': (p: { list: string }) => `VNets ${p.list}`,
  'out.cleanupPool': (p: { pool: string }) => `pool ${p.pool}`,
  'out.cleanupUser': (p: { user: string }) => `user ${p.user}`,
  'out.cleanupRecordsOnly': () => 'nothing left on the cluster (records only)',
  'out.cleanupFirewall': (p: { list: string }) => `firewall (no isolated stand left): ${p.list}`,
  // ---- templates
  'out.prepareHead': (p: { profile: string; cluster: string; nodes: string; needed: number; present: number; toMake: number }) =>
    `profile ${p.profile} on ${p.cluster}, nodes ${p.nodes}: ${p.needed} template ${p.needed === 1 ? 'replica' : 'replicas'} needed, ${p.present} present, ${p.toMake} to make`,
  'out.skipped': (p: { node: string; reason: string }) => `  skipped ${p.node}: ${p.reason}`,
  'out.replicaFailed': (p: { error: string }) => `failed: ${p.error}`,
  'out.replicaMade': (p: { secs: string }) => `made in ${p.secs} s`,
  'out.replicaPresent': () => 'present',
  'out.prepareDone': (p: { made: number; present: number; failed: number }) => `${p.made} made, ${p.present} present, ${p.failed} failed`,
  'out.noSecrets': (p: { cluster: string }) => `note: no Proxmox secrets for cluster ${p.cluster}: listed from the state file, presence not checked`,
  'out.noReplicas': () => 'no template replicas recorded',
  'out.noUnused': () => 'no unused template replicas',
  'out.unused': (p: { list: string }) => `Unused replicas: ${p.list}`,
  'out.onNode': (p: { vmid: number; name: string; node: string }) => `${p.vmid} ${p.name} on ${p.node}`,
  'out.confirmPrune': (p: { count: number }) => `Remove ${nn(p.count, 'unused template replica', 'unused template replicas')}?`,
  'out.removedReplica': (p: { what: string }) => `removed ${p.what}`,
  'out.keptReplica': (p: { what: string; reason: string }) => `kept ${p.what}: ${p.reason}`,
  // ---- power, expire, recover, resume, password
  'out.powerQuestion': (p: { action: 'reset' | 'stop' | 'shutdown'; user?: string; group: string }) =>
    `${POWER_Q_EN[p.action]}: ${p.user ? `${p.user}'s stand in group ${p.group}` : `every stand of group ${p.group}`}?`,
  'out.vmOutcome': (p: { vmid: number; name: string; outcome: string; message: string }) =>
    `${p.vmid} ${p.name}: ${p.outcome}${p.message ? ` (${p.message})` : ''}`,
  'out.powerDone': (p: { action: string; group: string; status: string }) => `${p.action} ${p.group}: ${p.status}`,
  'out.noLeaseEnded': () => 'no lease has ended',
  'out.leaseEnded': () => 'lease ended',
  'out.action': () => 'action',
  'out.outcome': () => 'outcome',
  'out.recovered': (p: { cluster: string; file: string; stands: number; groups: number; list: string; vms: number; bridges: number; users: number; replicas: number; known: number }) =>
    `recovered from ${p.cluster} into ${p.file}: ${nn(p.stands, 'stand', 'stands')} in ${nn(p.groups, 'group', 'groups')}` +
    `${p.list ? ` (${p.list})` : ''}, ${nn(p.vms, 'VM', 'VMs')}, ${nn(p.bridges, 'bridge', 'bridges')}, ${nn(p.users, 'user', 'users')}, ` +
    `${nn(p.replicas, 'template replica', 'template replicas')}; ${p.known === 1 ? '1 stand was' : `${p.known} stands were`} already recorded`,
  'out.nothingToResume': (p: { group?: string }) => `nothing to resume: no unfinished deploy jobs${p.group ? ` in group ${p.group}` : ''}`,
  'out.resuming': (p: { job: string; group: string; status: string }) => `resuming ${p.job} (group ${p.group}, ${p.status})`,
  'out.newPassword': (p: { user: string; password: string }) => `new password for ${p.user} (shown only now, not stored): ${p.password}`,
  'out.newPasswordFile': (p: { user: string; file: string }) => `new password for ${p.user} written to ${p.file} (mode 0600; not shown, not stored elsewhere)`,
  // ---- bad options (exit 2, nothing done)
  'opt.placement': (p: { value: string }) => `--placement ${p.value}: expected balanced, round-robin, pack or node:<name>`,
  'opt.lease': (p: { value: string }) => `--lease ${p.value}: expected a duration such as "45m", "4h", "1h30m", "2d" or "1w"`,
  'opt.timeout': (p: { value: string }) => `--timeout ${p.value}: expected a duration such as 90s or 2m`,
  'opt.prepareNeedsProfile': () => '--prepare needs --profile <name or file>',
  'opt.nodesList': () => '--nodes: expected node names separated by commas, e.g. pve2,pve3',
  'opt.prepareAndPrune': () => '--prepare and --prune do not go together',
  'opt.profileNeedsPrepare': () => '--profile and --nodes go with --prepare',
  'opt.notANode': (p: { node: string; cluster: string; nodes: string }) => `--nodes: ${p.node} is not a node of cluster ${p.cluster} (nodes: ${p.nodes})`,
  'opt.fileIsDir': (p: { option: string; file: string }) => `${p.option} ${p.file}: is a directory`,
  'opt.fileExists': (p: { option: string; file: string }) => `${p.option} ${p.file}: the file exists; nothing was done (add --force to replace it)`,
  'opt.fileFailed': (p: { option: string; file: string; why: Nested }) => `${p.option} ${p.file}: ${t(p.why)}; nothing was done`,
  'opt.noDir': (p: { dir: string }) => `no directory ${p.dir}`,
};

const POWER_Q_EN = {
  reset: 'Roll back to the `start` snapshot (students lose their changes)',
  stop: 'Stop the VMs',
  shutdown: 'Shut the VMs down (ACPI; stopped if still running after the timeout)',
} as const;

/** Table heads. */
export type Head = keyof typeof HEADS_EN;
export const HEADS_EN = {
  user: 'user',
  node: 'node',
  pool: 'pool',
  vmids: 'VMIDs',
  vms: 'VMs',
  vmid: 'VMID',
  bridgesVlans: 'bridges / VLANs',
  bridges: 'bridges',
  resources: 'resources',
  note: 'note',
  status: 'status',
  state: 'state',
  consoleError: 'console / error',
  console: 'console',
  password: 'password',
  group: 'group',
  cluster: 'cluster',
  profile: 'profile',
  stands: 'stands',
  created: 'created',
  job: 'job',
  error: 'error',
  vmsDestroyed: 'VMs destroyed',
  replica: 'replica',
  ofTemplate: 'of template',
  present: 'present',
  usedBy: 'used by',
  name: 'name',
  machine: 'machine',
  lock: 'lock',
  cpu: 'CPU',
  cpu1h: 'CPU (1h avg/peak)',
  memory: 'memory',
  memory1h: 'memory (1h avg/peak)',
  storage: 'storage',
  vmsRunning: 'VMs running',
} as const;

/** Step names of the engine's events (the key stays English in events and logs). */
export const STEPS_EN: Record<string, string> = {};

export type CliCatalog = { [K in keyof typeof cliEn]: (typeof cliEn)[K] };
