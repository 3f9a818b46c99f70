/**
 * What an engine run reports afterwards, in English: why a stand failed (kept in its record as `errorMsg`), the
 * warnings and outcomes of cleanup, power, lease expiry and recovery. `run.ru.ts` is typed as `RunCatalog`.
 * The English text of a failure is byte for byte what the records' `error` field always held.
 */
import { t, type Nested } from './nested.js';

export const runEn = {
  // ---- why a stand failed (StandRecord.errorMsg, DeployStandResult.errorMsg)
  /** Proxmox answered a request with an error (ProxmoxApiError): its message, as it always read. */
  'fail.api': (p: { cluster?: string; request: string; status: number; text: string }) =>
    `${p.cluster ? `${p.cluster}: ` : ''}${p.request} failed: ${p.status === 0 ? 'no response' : p.status} ${p.text}`.trim(),
  /** A Proxmox task ended with an error: its exit status (and the last line of its log). */
  'fail.task': (p: { reason: string }) => p.reason,
  'fail.cancelled': () => 'the job was cancelled',
  /** A failure with no code of its own (a plain error's first line). */
  'fail.text': (p: { message: string }) => p.message,
  'fail.foreignPending': (p: { node: string; list: string }) =>
    `node ${p.node} has pending network changes that are not ours: ${p.list}; applying would apply them ` +
    `too, so this stand's bridges were not set up (ask their author, or re-run with --apply-foreign-pending)`,
  'fail.sdnBlocked': (p: { list: string }) =>
    `SDN changes cannot be applied: applying reloads every node's network, and there are pending network ` +
    `changes that are not ours (${p.list}); ask their author, or re-run with --apply-foreign-pending`,
  'fail.sdnForeign': (p: { list: string }) =>
    `SDN not applied: pending changes that are not ours: ${p.list} (re-run with --apply-foreign-pending to apply them too)`,
  'fail.sdnReload': (p: { nodes: { node: string | null; reason: string }[] }) =>
    `SDN applied, but ${p.nodes.map((x) => `${x.node ?? 'a node'} (${x.reason})`).join('; ')} did not reload its network, so the stand's VNets are not usable there; ` +
    `fix the node, apply SDN again (Datacenter → SDN → Apply) and re-run the deploy`,
  'fail.network': (p: { node: string; reason: string }) => `network on ${p.node}: ${p.reason}`,
  'fail.vmidTaken': (p: { vmid: number; name?: string; node: string }) =>
    `VMID ${p.vmid} is taken by another VM (${p.name ?? 'unnamed'} on ${p.node}); plan the deploy again`,
  'fail.vmidTakenAfterPlan': (p: { vmid: number; name?: string }) =>
    `VMID ${p.vmid} was taken by another VM (${p.name ?? 'unknown'}) after planning; plan the deploy again`,
  'fail.vmVanished': (p: { vmid: number }) => `VM ${p.vmid} vanished right after its clone finished`,
  'fail.poolTaken': (p: { pool: string; comment?: string }) =>
    `pool ${p.pool} already exists and is not this stand's (comment: ${p.comment ?? 'none'})`,
  'fail.bridgeTaken': (p: { bridge: string; node: string; comment?: string }) =>
    `bridge ${p.bridge} on ${p.node} already exists and is not this stand's (${p.comment ?? 'no comment'})`,
  'fail.vnetTaken': (p: { vnet: string; alias?: string }) => `VNet ${p.vnet} already exists and is not this stand's (${p.alias ?? 'no alias'})`,
  'fail.replicaTaken': (p: { vmid: number; replica: string; name?: string }) =>
    `VMID ${p.vmid} planned for template replica ${p.replica} is taken by ${p.name ?? 'another VM'}`,
  'fail.ipsetUnsettled': (p: { name: string; rounds: number }) => `IPSet ${p.name} did not settle after ${p.rounds} rounds (someone keeps editing it)`,
  'fail.rulesUnsettled': (p: { kind: 'group' | 'vm' | 'cluster'; name: string }) =>
    `firewall rules of ${p.kind === 'group' ? `security group ${p.name}` : p.kind === 'vm' ? `VM ${p.name}` : 'the datacenter'} did not settle (someone keeps editing them)`,
  'fail.nicFlagsUnsettled': (p: { vmid: number }) => `VM ${p.vmid}: its NICs' firewall flags did not settle`,
  'fail.vmFirewallUnsettled': (p: { vmid: number }) => `VM ${p.vmid}: its firewall options did not settle`,
  /** JobRecord.errorMsg of a deploy with failed stands. */
  'fail.standsFailed': (p: { failed: number; total: number }) => `${p.failed} of ${p.total} stands failed`,
  'fail.unknown': () => 'failed',
  /** A text with no code (an engine reason kept in English): as is, quoted in another language. */
  'txt.quoted': (p: { text: string }) => p.text,
  // ---- power (start, stop, shutdown, rollback): per VM, and a stand's failures together
  'pw.notOnCluster': (p: { vmid: number; name: string }) => `VM ${p.vmid} (${p.name}) is not on the cluster`,
  'pw.leftAlone': (p: { vmid: number; reason: Nested }) => `VM ${p.vmid} left alone: ${t(p.reason)}`,
  'pw.cannotReadConfig': (p: { reason: string }) => `cannot read its config: ${p.reason}`,
  'pw.noStartSnapshot': (p: { vmid: number }) => `VM ${p.vmid} has no 'start' snapshot`,
  'pw.gone': (p: { vmid: number }) => `VM ${p.vmid} is gone`,
  'pw.errors': (p: { list: Nested[] }) => p.list.map(t).join('; '),
  'pw.alreadyDone': () => 'already done',
  // ---- lease expiry
  'lease.busy': () => 'another process is expiring this stand',
  // ---- recover
  'rec.vm': (p: { vmid: number; reason: string }) => `VM ${p.vmid}: ${p.reason}`,
  'rec.vmNoUser': (p: { vmid: number; name: string; group: string }) =>
    `VM ${p.vmid} (${p.name}) is tagged ${p.group} but names no user and sits in no stand pool: not recovered`,
  'rec.network': (p: { node: string; reason: string }) => `network of ${p.node}: ${p.reason}`,
  'rec.bridge': (p: { bridge: string; node: string; comment: string }) => `bridge ${p.bridge} on ${p.node} (${p.comment}) matches no recovered stand: left alone`,
  // ---- cleanup: what is kept and why, stand failures, warnings
  'kept.bridgesOn': (p: { node: string }) => `bridges on ${p.node}`,
  'kept.vm': (p: { vmid: number; name?: string; node: string }) => `VM ${p.vmid} (${p.name ?? 'unnamed'}) on ${p.node}`,
  'kept.bridge': (p: { bridge: string; node: string }) => `bridge ${p.bridge} on ${p.node}`,
  'kept.vnet': (p: { vnet: string }) => `VNet ${p.vnet}`,
  'kept.acl': (p: { id: string }) => `ACL record ${p.id}`,
  'kept.pool': (p: { pool: string }) => `pool ${p.pool}`,
  'kept.user': (p: { user: string }) => `user ${p.user}`,
  'kept.fwGroup': (p: { name: string }) => `security group ${p.name}`,
  'kept.fwIpset': (p: { name: string }) => `IPSet ${p.name}`,
  'kept.cannotReadNetwork': (p: { reason: string }) => `cannot read the node's network: ${p.reason}`,
  'kept.notOurVm': (p: { reason: string }) => `recorded, but not the VM we created: ${p.reason}`,
  'kept.notGroups': (p: { mark?: string; kind: 'comment' | 'alias' }) => `not marked as this group's (${p.mark ?? `no ${p.kind}`})`,
  'kept.notStands': (p: { mark?: string }) => `not marked as this stand's (${p.mark ?? 'no comment'})`,
  'kept.aclUnreadable': () => 'cannot read its path, user and role: left alone',
  'kept.userNotMarked': () => 'its comment no longer marks it as created by pve-stands',
  'kept.userHasStands': (p: { groups: string }) => `still has stands in ${p.groups}`,
  'kept.poolHolds': (p: { list: string }) => `still holds ${p.list} (not ours)`,
  'kept.noOurComment': () => 'journaled as ours, but it no longer carries our comment',
  'clean.foreignPending': (p: { node: string; list: string }) =>
    `node ${p.node} has pending network changes that are not ours (${p.list}): its bridges were left in place (cleanup again once they are applied or reverted)`,
  'clean.foreignAppeared': (p: { node: string; list: string }) =>
    `node ${p.node}: someone else's pending network change appeared (${p.list}); our bridge removals are pending, not applied`,
  'clean.isolationNotRemoved': (p: { reason: string }) => `isolation firewall objects not removed: ${p.reason} (the next cleanup retries)`,
  'clean.cancelled': () => 'cancelled',
  /** A stand record whose cleanup failed: the failure's own text after `cleanup: `. */
  'clean.failed': (p: { reason: Nested }) => `cleanup: ${t(p.reason)}`,
};

export type RunCatalog = { [K in keyof typeof runEn]: (typeof runEn)[K] };
