/**
 * Everything the store holds, as zod schemas (parsed on every read and every write). Objects are strict:
 * an unexpected key — a `password` above all — is refused at write time, so no secret can slip into the file.
 */
import { z } from 'zod';

const isoTime = z.string().min(1);

/**
 * A message as a code and its parameters (src/i18n `Msg`): the faces render it in the reader's language. Kept
 * loose here (any code, any parameters) so a record written by another version still reads; `stored()` in
 * src/i18n falls back to the English text beside it when this version does not know the code.
 */
export const StoredMsg = z.strictObject({ code: z.string(), params: z.unknown() });
export type StoredMsg = z.infer<typeof StoredMsg>;

export const StandStatus = z.enum(['planned', 'deploying', 'ready', 'failed', 'removing', 'removed']);
export type StandStatus = z.infer<typeof StandStatus>;

export const VmStatus = z.enum(['planned', 'cloning', 'cloned', 'configured', 'ready', 'failed', 'removed']);
export type VmStatus = z.infer<typeof VmStatus>;

export const StandVm = z.strictObject({
  machine: z.string(),
  vmid: z.number().int(),
  node: z.string(),
  name: z.string(),
  status: VmStatus,
  /** VMID it was cloned from (the template or its replica): a replica in use is never pruned. */
  template: z.number().int().optional(),
  /** Finished steps (clone, config, snapshot, start…), for resume. */
  steps: z.array(z.string()).default([]),
});
export type StandVm = z.infer<typeof StandVm>;

export const StandSegment = z.strictObject({
  alias: z.string(),
  kind: z.enum(['bridge', 'vnet']),
  iface: z.string(),
  node: z.string().optional(),
  vlanAware: z.boolean(),
  tag: z.number().int().optional(),
  zone: z.string().optional(),
});
export type StandSegment = z.infer<typeof StandSegment>;

export const HistoryEntry = z.strictObject({
  at: isoTime,
  event: z.string(),
  job: z.string().optional(),
  message: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const StandRecord = z.strictObject({
  cluster: z.string(),
  group: z.string(),
  /** Short user name (the part before `@`). */
  user: z.string(),
  userid: z.string(),
  profile: z.string(),
  pool: z.string(),
  node: z.string(),
  mode: z.enum(['bridges', 'sdn']).default('bridges'),
  vms: z.array(StandVm),
  segments: z.array(StandSegment),
  vlans: z.array(z.number().int()),
  createdUser: z.boolean(),
  /**
   * When the password of the user we created (createdUser) was last shown to a person: printed, written to a
   * credentials file, sent by Discord. Never the password itself. Cleared when a run creates the user anew.
   */
  passwordShownAt: isoTime.optional(),
  poolCreated: z.boolean(),
  aclCreated: z.boolean().default(false),
  status: StandStatus,
  /** Why the stand failed, in English (older readers, --json); `errorMsg` is the same as a code. */
  error: z.string().optional(),
  errorMsg: StoredMsg.optional(),
  discord: z.string().optional(),
  leaseExpiresAt: isoTime.optional(),
  /** `stand`: the stand's VMs are isolated by the Proxmox firewall (src/core/isolation.ts). */
  isolation: z.enum(['none', 'stand']).optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
  history: z.array(HistoryEntry).default([]),
});
export type StandRecord = z.infer<typeof StandRecord>;
export type StandRecordInput = z.input<typeof StandRecord>;

export const GroupRecord = z.strictObject({
  name: z.string(),
  cluster: z.string(),
  profile: z.strictObject({ name: z.string(), file: z.string().optional(), snapshot: z.unknown() }),
  usersFile: z.string().optional(),
  mode: z.enum(['bridges', 'sdn']).optional(),
  createdAt: isoTime,
  updatedAt: isoTime.optional(),
});
export type GroupRecord = z.infer<typeof GroupRecord>;

export const JournalKind = z.enum(['vm', 'pool', 'user', 'acl', 'bridge', 'vnet', 'replica', 'firewall']);
export type JournalKind = z.infer<typeof JournalKind>;

export const JournalEntry = z.strictObject({
  cluster: z.string(),
  kind: JournalKind,
  /** vm/replica: the vmid; pool: pool id; user: userid; acl: `["acl",<path>,<userid>,<role>]` (JSON; older records
   *  `<path>|<userid>|<role>`); bridge: `<node>/<iface>`; vnet: id; firewall: `group/<name>`, `ipset/<name>` (cluster
   *  objects, no group/user) or `vm/<vmid>` (a VM's firewall). */
  id: z.string(),
  /** intended = we are about to create it (may or may not exist); confirmed = created by us. */
  state: z.enum(['intended', 'confirmed']),
  group: z.string().optional(),
  user: z.string().optional(),
  node: z.string().optional(),
  job: z.string().optional(),
  extra: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  intendedAt: isoTime,
  confirmedAt: isoTime.optional(),
});
export type JournalEntry = z.infer<typeof JournalEntry>;
export interface JournalMeta {
  cluster: string;
  group?: string;
  user?: string;
  node?: string;
  job?: string;
  extra?: Record<string, string | number | boolean>;
}

export const JobKind = z.enum(['deploy', 'cleanup', 'reset', 'start', 'stop', 'shutdown', 'expire', 'recover', 'templates']);
export type JobKind = z.infer<typeof JobKind>;
export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const JobRecord = z.strictObject({
  id: z.string(),
  kind: JobKind,
  group: z.string().optional(),
  cluster: z.string().optional(),
  status: JobStatus,
  progress: z.strictObject({ done: z.number(), total: z.number(), message: z.string().optional() }),
  requestedBy: z.strictObject({
    via: z.enum(['cli', 'discord', 'schedule']),
    id: z.string().optional(),
    name: z.string().optional(),
  }),
  /** Where the bot shows this job's progress (message ids only: interaction tokens are not kept). */
  discord: z
    .strictObject({ channelId: z.string(), messageId: z.string().optional(), threadId: z.string().optional() })
    .optional(),
  holder: z.string().optional(),
  error: z.string().optional(),
  errorMsg: StoredMsg.optional(),
  result: z.unknown().optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
  finishedAt: isoTime.optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;
export type JobRecordInput = z.input<typeof JobRecord>;

export const IdentityLink = z.strictObject({
  discordId: z.string(),
  userid: z.string(),
  linkedAt: isoTime,
  linkedBy: z.string().optional(),
});
export type IdentityLink = z.infer<typeof IdentityLink>;

export const AuditEntry = z.strictObject({
  at: isoTime,
  actor: z.string(),
  action: z.string(),
  group: z.string().optional(),
  user: z.string().optional(),
  job: z.string().optional(),
  outcome: z.enum(['ok', 'denied', 'failed', 'partial']).optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const ReplicaRecord = z.strictObject({
  cluster: z.string(),
  sourceVmid: z.number().int(),
  sourceNode: z.string(),
  node: z.string(),
  vmid: z.number().int(),
  name: z.string(),
  storage: z.string().optional(),
  /** One replica on shared storage serving every node (`node` is where it lives: the template's node). */
  shared: z.boolean().optional(),
  createdAt: isoTime,
});
export type ReplicaRecord = z.infer<typeof ReplicaRecord>;
