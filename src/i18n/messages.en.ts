/**
 * The engine's user-facing texts in English: errors, refusals and their headlines, keyed by a stable code.
 * `messages.ru.ts` is typed as `EngineCatalog`, so a code missing there is a compile error.
 * Parameters are names, numbers and Proxmox's own words; the texts around them are translated.
 */
import { count, EN } from './plural.js';
import { t, type Nested } from './nested.js';

const n = (x: number, forms: keyof typeof EN): string => count('en', x, EN[forms]);

export const en = {
  // ---- headlines of the faces (CLI and bot)
  'cli.error': (p: { message: string }) => `error: ${p.message}`,
  /** Above the problems of a ConfigError (their file:line: path: detail text stays as zod wrote it). */
  'cli.configHeadline': (p: { count: number }) => (p.count > 1 ? `${n(p.count, 'problem')} found:` : ''),
  'cli.internal': (p: { ref: string }) => `internal error, reference ${p.ref}`,
  'cli.interrupted': (p: { reason: string }) => `interrupted (${p.reason}); run the same command again to finish`,
  'cli.proxmox': (p: { message: string }) => `Proxmox VE: ${p.message}`,
  'cli.tls': (p: { message: string }) => p.message,
  'refusal.what': () => 'what',
  'refusal.problem': () => 'problem',
  'refusal.nodesLeftOut': () => 'Nodes left out:',
  'nodes.node': () => 'node',
  'nodes.memory': () => 'memory (allocated / total)',
  'nodes.cpu': () => 'CPU',
  'nodes.note': () => 'note',
  'nodes.memoryCell': (p: { used: string; total: string; util: string; added: string }) => `${p.used} / ${p.total} GiB (${p.util}), +${p.added} GiB`,
  'nodes.cpuCell': (p: { used: number; max: number; util: string }) => `${p.used} vCPU / ${p.max} cores (${p.util} of limit)`,
  'nodes.placed': (p: { count: number }) => `${p.count} placed`,
  'nodes.leftOut': () => 'left out',
  'refusal.planRefused': () => 'The plan was refused; nothing was created.',
  // ---- groups, stands, users
  'group.nameInvalid': (p: { input: string }) =>
    `group name ${JSON.stringify(p.input)} is not valid: use 1–40 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit`,
  'group.otherCluster': (p: { group: string; cluster: string }) => `group ${p.group} already exists on cluster ${p.cluster}; use another --group`,
  'group.otherProfile': (p: { group: string; profile: string; wanted: string }) =>
    `group ${p.group} was deployed with profile ${p.profile}, not ${p.wanted}; use another --group`,
  'group.notFound': (p: { group: string }) => `no group named ${p.group} in the state file`,
  'group.busy': (p: { group: string; holder: string; until: string }) =>
    `group ${p.group} is busy: ${p.holder} is running a job on it (lock held until ${p.until})`,
  'group.noStands': (p: { group: string }) => `no stands in group ${p.group}`,
  'stand.notFound': (p: { user: string; group: string }) => `no stand of ${p.user} in group ${p.group}`,
  'user.notFound': (p: { userid: string; cluster: string }) => `user ${p.userid} does not exist on ${p.cluster}`,
  'user.passwordNotManaged': (p: { userid: string }) =>
    `refusing to change the password of ${p.userid}: pve-stands only manages users it created`,
  'user.passwordNotOurs': (p: { userid: string }) => `refusing to change the password of ${p.userid}: it was not created by pve-stands`,
  'resume.finished': (p: { group: string; job: string }) => `nothing to resume: the last deploy of ${p.group} (${p.job}) finished`,
  'resume.nothing': (p: { group: string }) => `nothing to resume: no unfinished deploy job or group named ${p.group}`,
  'plan.idsKeepTaken': (p: { group: string; cluster: string }) => `group ${p.group}: other deploys on cluster ${p.cluster} keep taking the planned ids; try again`,
  'plan.tooOld': (p: { kind: 'vm' | 'bridge' | 'vnet'; id: string; holder: string; more: number }) =>
    `${p.kind === 'vm' ? 'VMID' : p.kind === 'bridge' ? 'bridge' : 'VNet'} ${p.id} of this plan is now reserved by group ` +
    `${p.holder}${p.more > 0 ? ` (and ${p.more} more)` : ''}: the plan is too old; plan the deploy again`,
  'prepare.cannot': (p: { profile: string; problems: Nested[] }) => `profile ${p.profile} cannot be prepared: ${p.problems.map(t).join('; ')}`,
  /** one problem of a profile's machine: the machine (or template) and what is wrong */
  'prepare.problem': (p: { subject: Nested; problem: Nested }) => `${t(p.subject)}: ${t(p.problem)}`,
  // ---- input values
  'input.placement': (p: { placement: string }) =>
    `placement ${JSON.stringify(p.placement)} is not one of balanced, round-robin, pack, node:<name>`,
  'input.leaseDuration': (p: { lease: string }) => `lease ${JSON.stringify(p.lease)} is not a duration such as 45m, 4h or 2d`,
  'input.leaseOrDate': (p: { lease: string }) => `lease ${JSON.stringify(p.lease)} is neither a duration (4h, 2d) nor a date`,
  // ---- refused plans: headlines
  'plan.emptyList': () => 'the user list is empty',
  'plan.realmMissing': () => 'a realm of the user list does not exist on the cluster',
  'plan.isolationUnread': () => 'isolation: stand needs the datacenter firewall state, and it could not be read',
  'plan.isolationFirewallOff': () => 'the profile asks for isolation: stand, and the datacenter firewall is off (nothing was created)',
  'plan.isolationImpossible': () => 'stand isolation cannot be set up',
  'plan.templateMissing': () => 'a template of the profile is missing',
  'plan.profileUnplannable': () => 'the profile cannot be planned',
  'plan.sdnForeignPending': () =>
    'applying SDN reloads the network of every node, and some nodes carry pending edits that are not ours',
  'plan.noEligibleNode': () => 'no eligible node',
  'plan.noSuchNode': (p: { placement: string }) => `placement ${p.placement}: no such node`,
  'plan.nodeLeftOut': (p: { placement: string }) => `placement ${p.placement}: the node is left out`,
  'plan.doesNotFit': (p: { unplaced: number; total: number; unit: 'stands' | 'vms' }) =>
    `the class does not fit: ${p.unplaced} of ${n(p.total, p.unit === 'stands' ? 'stand' : 'vm')} cannot be placed`,
  'plan.noVmids': () => 'not enough free VMIDs',
  'plan.noBridges': () => 'not enough free bridge numbers',
  'plan.noTags': () => 'not enough free SDN tags',
  'plan.noDisk': () => 'not enough disk space',
  // ---- refused plans: rows
  'row.machine': (p: { file: string; machine: string }) => `${p.file}: machine ${p.machine}`,
  'row.noUsers': () => 'no users',
  'row.realmNotOnCluster': () => "not among the cluster's realms (Datacenter → Permissions → Realms)",
  'row.templateMissing': (p: { template: string | number; cluster: string }) =>
    `template ${p.template} does not exist on cluster ${p.cluster}`,
  'row.templateNameMissing': (p: { name: string; cluster: string }) => `no template named "${p.name}" on cluster ${p.cluster}`,
  'row.templateNameIsVm': (p: { name: string; cluster: string; vmid: number }) =>
    `no template named "${p.name}" on cluster ${p.cluster} (VM ${p.vmid} has that name but is not a template)`,
  'row.templateAmbiguous': (p: { name: string; ids: string }) => `template name "${p.name}" is ambiguous (${p.ids}): use the VMID`,
  'row.notATemplate': (p: { vm: string }) => `VM ${p.vm} is not a template: linked clones need one (or set full: true)`,
  'row.ecorouterNics': (p: { max: number }) => `an ecorouter takes at most ${n(p.max, 'network')} (net0 is its management port)`,
  'row.foreignPending': (p: { list: string }) => `pending network edits by someone else: ${p.list}`,
  'row.everyNodeLeftOut': () => 'every node is left out (see below)',
  'row.notANode': (p: { cluster: string; nodes: string }) => `not a node of cluster ${p.cluster} (nodes: ${p.nodes})`,
  'row.vmidRange': (p: { min: number; max: number }) => `VMID range ${p.min}–${p.max}`,
  'row.vmidsNeeded': () => 'the class needs more ids than are free',
  'row.node': (p: { node: string }) => `node ${p.node}`,
  'row.zone': (p: { zone: string }) => `zone ${p.zone}`,
  'row.noFreeBridge': (p: { min: number; max: number }) => `no free vmbrN left in ${p.min}–${p.max}`,
  'row.noFreeTag': (p: { min: number; max: number }) => `no free tag left in ${p.min}–${p.max}`,
  'row.storage': (p: { storage: string; node?: string }) => (p.node ? `storage ${p.storage} on ${p.node}` : `storage ${p.storage}`),
  'row.diskNeeds': (p: { need: string; free: string }) => `needs ${p.need} GiB, ${p.free} GiB free`,
  'row.more': (p: { count: number }) => `… ${p.count} more`,
  'row.likewise': () => 'likewise',
  'unplaced.noNode': () => 'no eligible node',
  'unplaced.memory': (p: { mib: number; node: string; util: string; limit: string }) =>
    `needs ${p.mib} MiB: even ${p.node} would reach ${p.util} memory (limit ${p.limit})`,
  'unplaced.cpu': (p: { cores: number; overcommit: number }) => `needs ${p.cores} cores: every node would exceed ${p.overcommit}× CPU overcommit`,
  'unplaced.recordedOn': (p: { node: string }) => `recorded on node ${p.node}, which is not eligible`,
  'unplaced.notEligible': (p: { node: string }) => `node ${p.node} is not eligible`,
  'node.status': (p: { status: string }) => `node is ${p.status}`,
  'node.noFigures': () => 'no memory or CPU figures for the node (the API token may lack Sys.Audit on it)',
  'node.networkUnreadable': (p: { error: string }) => `its network configuration could not be read (${p.error})`,
  'node.memoryFull': (p: { used: string; limit: string }) => `memory already ${p.used} allocated (limit ${p.limit})`,
  'node.cpuFull': (p: { used: string; overcommit: number }) => `CPU already ${p.used} of ${p.overcommit}× overcommit allocated`,
  'node.foreignPending': (p: { list: string }) =>
    `pending network edits by someone else (${p.list}): applying our bridges would apply them too`,
  'node.bridgeMissing': (p: { bridge: string; users: string }) => `bridge ${p.bridge} (used by ${p.users}) does not exist there`,
  // ---- plan warnings (DeployPlan.warningMsgs; DeployPlan.warnings keeps these English texts)
  'plan.warnings': () => 'Warnings:',
  'cli.warning': (p: { message: string }) => `warning: ${p.message}`,
  'warn.firewallOff': () =>
    'the datacenter firewall was turned off after planning: the isolation rules are written but do nothing until an admin turns it back on',
  'warn.passwordNeverShown': (p: { user: string }) =>
    `${p.user} was created by an interrupted run, so its password was never shown: set a new one with \`stands password --user ${p.user}\``,
  'warn.foreignApplied': (p: { node: string; list: string }) =>
    `node ${p.node}: applied someone else's pending network changes too (${p.list}), as --apply-foreign-pending asked`,
  'warn.templateNode': (p: { file: string; machine: string; vmid: number; node: string; wanted: string }) =>
    `${p.file}: machine ${p.machine}: template ${p.vmid} is on ${p.node}, not on ${p.wanted} as the profile says`,
  'warn.bridgeTaken': (p: { user: string; bridge: string; node: string }) =>
    `${p.user}: recorded bridge ${p.bridge} on ${p.node} is now someone else's; planning a new one`,
  'warn.vmidTaken': (p: { user: string; vmid: number; machine: string; name: string }) =>
    `${p.user}: recorded VMID ${p.vmid} (${p.machine}) is now VM "${p.name}"; planning a new id`,
  'warn.sharedLan': (p: { machine: string; nic: string; bridge: string }) =>
    `machine ${p.machine}: ${p.nic} on the existing bridge ${p.bridge} puts student VMs on a shared LAN`,
  'warn.directoryRealm': (p: { count: number; realms: string; users: string }) =>
    `${n(p.count, 'user')} of realm ${p.realms} ${p.count === 1 ? 'signs' : 'sign'} in with their directory password: ` +
    `${p.count === 1 ? 'it is' : 'they are'} created without a password and none is shown (${p.users})`,
};

/** Every engine code with the parameters it takes. */
export type EngineCatalog = { [K in keyof typeof en]: (typeof en)[K] };
