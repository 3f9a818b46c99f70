/**
 * The plan and refusals as text tables (CLI) and as plain data (the bot's embed). No colours: the same text goes
 * to a terminal, a log file, a test assertion or a Discord code block.
 */
import Table from 'cli-table3';
import { pct } from './placement.js';
import type { DeployPlan, ExcludedNode, NodeProjection, RefusalRow, StandPlan } from './types.js';

const plain = { head: [] as string[], border: [] as string[] };

function table(head: string[]): Table.Table {
  return new Table({ head, style: plain });
}

const gib = (mib: number): string => `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)} GiB`;

export interface PlanNodeRow {
  node: string;
  stands: number;
  memory: string;
  cpu: string;
  note: string;
}
export interface PlanStandRow {
  user: string;
  node: string;
  pool: string;
  vmids: string;
  networks: string;
  resources: string;
  note: string;
}
export interface PlanTableData {
  summary: string;
  nodes: PlanNodeRow[];
  stands: PlanStandRow[];
  replicas: string[];
  excluded: ExcludedNode[];
  /** `isolation: stand`: the firewall objects the deploy writes (empty when the stands are not isolated). */
  isolation: string[];
  warnings: string[];
}

function nodeRow(n: NodeProjection, unit: string): PlanNodeRow {
  const memUsed = n.baseMemMiB + n.addedMemMiB;
  const coresUsed = n.baseCores + n.addedCores;
  return {
    node: n.node,
    stands: n.stands,
    memory: n.online ? `${gib(memUsed)} / ${gib(n.maxMemMiB)} (${pct(n.memUtil)}), +${gib(n.addedMemMiB)}` : '-',
    cpu: n.online ? `${coresUsed} vCPU on ${n.maxCpu} cores (${pct(n.cpuUtil)} of the overcommit limit)` : '-',
    note: n.excluded ? `left out: ${n.excluded}` : n.stands > 0 ? `${n.stands} ${unit}` : '',
  };
}

function networksOf(s: StandPlan): string {
  if (s.segments.length === 0) return '-';
  const segs = s.segments.map((g) => `${g.alias}=${g.iface}${g.tag !== undefined ? `(tag ${g.tag})` : ''}${g.vlanAware ? ' vlan-aware' : ''}`);
  return s.vlans.length > 0 ? `${segs.join(', ')}; VLANs ${s.vlans.join(',')}` : segs.join(', ');
}

function standRow(s: StandPlan): PlanStandRow {
  const nodes = [...new Set(s.vms.map((v) => v.node))];
  const notes: string[] = [];
  if (s.recorded) notes.push('recorded (re-run)');
  if (!s.userExists) notes.push('new user');
  notes.push(...s.warnings);
  return {
    user: s.userid,
    node: nodes.join(', '),
    pool: s.pool,
    vmids: s.vms.map((v) => `${v.vmid} ${v.machine}`).join(', '),
    networks: networksOf(s),
    resources: `${s.cores} cores, ${gib(s.memoryMiB)}`,
    note: notes.join('; '),
  };
}

export function planTableData(plan: DeployPlan): PlanTableData {
  const vms = plan.stands.reduce((n, s) => n + s.vms.length, 0);
  const summary =
    `group ${plan.group} on ${plan.cluster}: ${plan.stands.length} stands, ${vms} VMs (${plan.clone} clones), ` +
    `profile ${plan.profile.name}, placement ${plan.strategy}, networks ${plan.mode}`;
  const unit = plan.mode === 'bridges' ? 'stands' : 'VMs';
  return {
    summary,
    nodes: plan.nodes.map((n) => nodeRow(n, unit)),
    stands: plan.stands.map(standRow),
    replicas: plan.replicas.map(
      (r) =>
        `${r.exists ? 'reuse' : 'create'} replica ${r.vmid} (${r.name}) of template ${r.sourceVmid} from ${r.sourceNode} on ${r.targetNode}`,
    ),
    excluded: plan.excluded,
    isolation: plan.isolation?.objects ?? [],
    warnings: plan.warnings,
  };
}

/** The plan as text. `maxStands` limits the per-stand table (the rest is summarised). */
export function renderPlan(plan: DeployPlan, o: { maxStands?: number } = {}): string {
  const d = planTableData(plan);
  const out: string[] = [d.summary];
  const nodes = table(['node', 'memory (allocated / total)', 'CPU', 'note']);
  for (const n of d.nodes) nodes.push([n.node, n.memory, n.cpu, n.note]);
  out.push(nodes.toString());
  const max = o.maxStands ?? Infinity;
  const stands = table(['user', 'node', 'pool', 'VMIDs', 'bridges / VLANs', 'resources', 'note']);
  for (const s of d.stands.slice(0, max)) stands.push([s.user, s.node, s.pool, s.vmids, s.networks, s.resources, s.note]);
  out.push(stands.toString());
  if (d.stands.length > max) out.push(`… and ${d.stands.length - max} more stands`);
  if (d.replicas.length > 0) out.push(['Template replicas:', ...d.replicas.map((r) => `  ${r}`)].join('\n'));
  if (d.isolation.length > 0) out.push(['Isolation (Proxmox firewall, objects marked ours):', ...d.isolation.map((l) => `  ${l}`)].join('\n'));
  if (d.excluded.length > 0) out.push(['Nodes left out:', ...d.excluded.map((e) => `  ${e.node}: ${e.reason}`)].join('\n'));
  if (d.warnings.length > 0) out.push(['Warnings:', ...d.warnings.map((w) => `  ${w}`)].join('\n'));
  return out.join('\n');
}

/** The table a PlanRefusedError carries. */
export function renderRefusal(rows: readonly RefusalRow[], nodes: readonly NodeProjection[], excluded: readonly ExcludedNode[]): string {
  const out: string[] = [];
  if (rows.length > 0) {
    const t = table(['what', 'problem']);
    for (const r of rows) t.push([r.subject, r.problem]);
    out.push(t.toString());
  }
  if (nodes.length > 0) {
    const t = table(['node', 'memory (allocated / total)', 'CPU', 'note']);
    for (const n of nodes) {
      const r = nodeRow(n, 'placed');
      t.push([r.node, r.memory, r.cpu, r.note]);
    }
    out.push(t.toString());
  }
  const notInNodes = excluded.filter((e) => !nodes.some((n) => n.node === e.node && n.excluded));
  if (notInNodes.length > 0) out.push(['Nodes left out:', ...notInNodes.map((e) => `  ${e.node}: ${e.reason}`)].join('\n'));
  return out.join('\n');
}
