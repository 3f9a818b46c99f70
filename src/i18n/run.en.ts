/**
 * What an engine run reports afterwards, in English: why a stand failed (kept in its record as `errorMsg`), the
 * warnings and outcomes of cleanup, power, lease expiry and recovery. `run.ru.ts` is typed as `RunCatalog`.
 * The English text of a failure is byte for byte what the records' `error` field always held.
 */
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
};

export type RunCatalog = { [K in keyof typeof runEn]: (typeof runEn)[K] };
