/**
 * The plan: everything a deploy will create, computed before anything is created. ENGINE-PLAN owns these types;
 * the executor (runDeploy) reads them and never re-decides a node, a VMID or a bridge.
 */
import type { TimingModel } from './timing-model.js';
import { UserError } from '../errors.js';
import type { IsolationPlan } from './isolation.js';
import { render, text, type Lang, type Msg } from '../i18n/index.js';

export type NetworkMode = 'bridges' | 'sdn';
export type CloneMode = 'linked' | 'full';
/** `node:<name>` pins every stand to one node. */
export type PlacementStrategy = 'balanced' | 'round-robin' | 'pack' | `node:${string}`;

export function isPlacementStrategy(s: string): s is PlacementStrategy {
  return s === 'balanced' || s === 'round-robin' || s === 'pack' || /^node:.+$/.test(s);
}

/** One NIC the VM must end with: `net<index>` = `value` (e.g. `virtio,bridge=vmbr1000,tag=100`). */
export interface NicPlan {
  index: number;
  value: string;
}

export interface VmPlan {
  /** Machine name from the profile. */
  machine: string;
  vmid: number;
  /** DNS-valid `<user>-<machine>`. */
  name: string;
  node: string;
  /** Where to clone from: the source template, or its replica on `node` (see DeployPlan.replicas). */
  templateVmid: number;
  templateNode: string;
  /** The original template (for the record; equals templateVmid unless a replica is used). */
  sourceTemplateVmid: number;
  full: boolean;
  /** Target storage, full clones only (PVE refuses `storage` for linked clones). */
  storage?: string;
  /** Left out = keep the template's value. */
  cores?: number;
  memory?: number;
  /** Resources this VM adds to its node (profile value, else the template's). */
  effectiveCores: number;
  effectiveMemoryMiB: number;
  device: 'linux' | 'ecorouter';
  /** Exactly the NICs the VM must end with. */
  nets: NicPlan[];
  /** `netK` the template brings beyond `nets`: the executor deletes them (`delete=net3,net4`). */
  deleteNets: number[];
  /** `stands;stands-<group>` as a list. */
  tags: string[];
  description: string;
  /** The store already records this VM (re-run): the executor verifies it and skips what is done. */
  recorded: boolean;
}

export interface SegmentPlan {
  alias: string;
  kind: 'bridge' | 'vnet';
  /** `vmbr1000` (bridges mode) or the VNet id (sdn mode). */
  iface: string;
  /** Node of the bridge (bridges mode only; VNets are cluster-wide). */
  node?: string;
  vlanAware: boolean;
  /** SDN: the VNet's tag (VLAN id or VNI). */
  tag?: number;
  /** SDN zone of the VNet. */
  zone?: string;
  /** Comment/alias on the object marking it ours: `stands:<group>:<user>:<alias>`. */
  comment: string;
  /** Already recorded in the store for this stand (re-run). */
  recorded: boolean;
}

export interface StandPlan {
  /** `<group>/<userid>`: the store key. */
  key: string;
  group: string;
  /** PVE userid `name@realm` as given. */
  userid: string;
  /** ASCII slug of the user's name used in derived names. */
  slug: string;
  displayName?: string;
  discord?: string;
  email?: string;
  pool: string;
  /** Main node (bridges mode: every VM is here). */
  node: string;
  vms: VmPlan[];
  segments: SegmentPlan[];
  /** VLAN tags used by this stand's NICs (`alias.N`). */
  vlans: number[];
  /** The PVE user exists already on the cluster (so we will not create it and must not delete it). */
  userExists: boolean;
  /**
   * The realm's type when PVE keeps no password for its users (ldap, ad, openid): the user is created without
   * one (PVE refuses it: "can't set password on auth type 'ldap'") and signs in with the directory's password.
   */
  directoryRealm?: string;
  memoryMiB: number;
  cores: number;
  /** Stand already in the store (a re-run of the same group). */
  recorded: boolean;
  /** The profile says `isolation: stand`: the firewall stage isolates every VM (src/core/deploy/firewall.ts). */
  isolated?: boolean;
  warnings: string[];
}

/**
 * A copy of a template on node-local storage, for clones on other nodes. Per node: full clone → template →
 * migrate to `targetNode`. Shared (`shared: true`): ONE copy on a shared storage that supports linked clones, made
 * on the template's node (full clone with `storage=` → template, no migration; `targetNode` = `sourceNode`); every
 * VM on any node clones from it with `target=`.
 */
export interface ReplicaPlan {
  sourceVmid: number;
  sourceNode: string;
  /** Where the replica lives (the source node for a shared replica). */
  targetNode: string;
  vmid: number;
  name: string;
  /** Storage the replica's disks live on: the template's (per node) or the shared storage. */
  storage: string;
  /** Already recorded and present on the cluster: reuse, nothing to do. */
  exists: boolean;
  /** One replica on shared storage serving every node. */
  shared?: boolean;
  /** Disk format of the replica's full clone (qcow2 on file-based shared storage, for linked clones). */
  format?: 'qcow2';
}

export interface NodeProjection {
  node: string;
  online: boolean;
  maxCpu: number;
  maxMemMiB: number;
  /** Configured memory / cores of every non-template VM already on the node (running or not). */
  baseMemMiB: number;
  baseCores: number;
  addedMemMiB: number;
  addedCores: number;
  /** (base + added) / max; CPU over maxCpu × overcommit. */
  memUtil: number;
  cpuUtil: number;
  stands: number;
  excluded?: string;
}

export interface ExcludedNode {
  node: string;
  reason: string;
  /** The reason as a code (rendered in the user's language); `reason` is its English text. */
  reasonMsg?: Msg;
}

export interface DeployPlan {
  cluster: string;
  group: string;
  profile: { name: string; file: string; snapshot: unknown };
  usersFile?: string;
  mode: NetworkMode;
  strategy: PlacementStrategy;
  clone: CloneMode;
  start: boolean;
  /** ISO time the stands' lease ends, if any. */
  leaseExpiresAt?: string;
  leaseMs?: number;
  aclRole: string;
  sdnZone?: string;
  /** Present when the profile says `isolation: stand`: the firewall objects the deploy writes. */
  isolation?: IsolationPlan;
  stands: StandPlan[];
  replicas: ReplicaPlan[];
  nodes: NodeProjection[];
  excluded: ExcludedNode[];
  /** Nodes whose network must be applied (bridges mode), or all nodes (sdn). */
  applyNodes: string[];
  /** The warnings in English (logs, job records, older readers). */
  warnings: string[];
  /**
   * The same warnings, index for index, as codes to render in the user's language; a plain string is kept as is
   * (a config file's `file:line: detail`, as the validator wrote it). Absent in plans recorded before it existed.
   */
  warningMsgs?: (Msg | string)[];
  createdAt: string;
  /** Limits the plan was checked against. */
  limits: { memory: number; cpuOvercommit: number };
  /** How long the deploy should take (estimate.ts), when the planner could estimate it. */
  estimate?: PlanEstimate;
}

/** The planner's estimate of a deploy's makespan, as shown with the plan. */
export interface PlanEstimate {
  /** PVE-time ms from start to the last stand ready */
  ms: number;
  /** "about 1 min 40 s" */
  text: string;
  /** replicas the deploy will make, and those it reuses (made earlier, e.g. by `stands templates --prepare`) */
  replicasToMake: number;
  replicasReused: number;
  /** the strategy's own placement's estimate, when time-aware placement moved stands */
  strategyMs?: number;
  /** stands moved from the strategy's placement to save time */
  moved: number;
  /** where the task durations came from: the simulator's defaults, or this cluster's recent tasks */
  timing: 'defaults' | 'cluster';
  /** the task durations themselves (PVE-time ms): the deploy's waits poll near these expected ends */
  model?: Omit<TimingModel, 'sources'>;
}

/** One row of a refusal table. */
export interface RefusalRow {
  subject: string;
  problem: string;
  /** Codes for subject and problem, rendered in the user's language; the strings are their English text. */
  subjectMsg?: Msg;
  problemMsg?: Msg;
}

/** A refusal row from codes (the English strings are kept for logs and old readers). */
export function refusalRow(subject: string | Msg, problem: string | Msg): RefusalRow {
  return {
    subject: text('en', subject),
    problem: text('en', problem),
    ...(typeof subject === 'string' ? {} : { subjectMsg: subject }),
    ...(typeof problem === 'string' ? {} : { problemMsg: problem }),
  };
}

/**
 * A plan that cannot be carried out: a missing template, no eligible node, a class that does not fit.
 * Exit 2, nothing created. `table` is printable as is; `rows` feed the bot's embed.
 */
export class PlanRefusedError extends UserError {
  override readonly name: string = 'PlanRefusedError';
  readonly rows: RefusalRow[];
  readonly table: string;
  readonly nodes: NodeProjection[];
  readonly excluded: ExcludedNode[];
  /** The summary's code (`msg` would render the table too; the faces render rows themselves). */
  readonly summaryMsg?: Msg;
  constructor(
    summary: string | Msg,
    details: { rows: RefusalRow[]; table: string; nodes?: NodeProjection[]; excluded?: ExcludedNode[] },
  ) {
    const head = text('en', summary);
    super(details.table ? `${head}\n${details.table}` : head, { exitCode: 2 });
    if (typeof summary !== 'string') this.summaryMsg = summary;
    this.rows = details.rows;
    this.table = details.table;
    this.nodes = details.nodes ?? [];
    this.excluded = details.excluded ?? [];
  }
  get summary(): string {
    return this.message.split('\n')[0] ?? '';
  }
  /** The summary in a language. */
  summaryText(lang: Lang): string {
    return this.summaryMsg ? render(lang, this.summaryMsg) : this.summary;
  }
  override text(lang: Lang): string {
    return this.summaryText(lang);
  }
}

export type EngineEventType =
  | 'planned'
  | 'job-started'
  | 'step-started'
  | 'step-finished'
  | 'retry'
  | 'stand-done'
  | 'stand-failed'
  | 'progress'
  | 'job-finished';

export interface EngineEvent {
  type: EngineEventType;
  job: string;
  stand?: string;
  vm?: number;
  step?: string;
  /** In English (logs); `msg` is the same as a code, when there is one (a stand's failure). */
  message?: string;
  msg?: Msg;
  done?: number;
  total?: number;
  etaMs?: number;
}

export type EngineEventHandler = (event: EngineEvent) => void;
