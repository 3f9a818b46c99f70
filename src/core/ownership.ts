/**
 * How we recognise our own objects on the cluster (the cluster is the truth; the store is the memory). Cleanup
 * touches an object only when the store records it AND the cluster marks it ours:
 * - VMs: everything recorded at creation matches (vmOwnership below: the per-VM creation marker in the
 *   description, the name, the node or pool, the group's tag or description);
 * - pools: comment `stands:<group>:<userid>`;
 * - users: comment `stands: created for <group>`;
 * - bridges / VNets: comment / alias `stands:<group>:<slug>:<alias>` (naming.ts segmentMarker).
 */
import { randomBytes } from 'node:crypto';
import { groupTag, parseSegmentMarker } from './naming.js';

export function poolComment(group: string, userid: string, profile?: string): string {
  // the profile rides along so `stands recover` can rebuild the group record exactly
  return profile ? `stands:${group}:${userid} profile=${profile}` : `stands:${group}:${userid}`;
}

export function parsePoolComment(comment: string | undefined): { group: string; userid: string; profile?: string } | undefined {
  const m = /^stands:([a-z0-9._-]+):(\S+@\S+?)(?:\s+profile=(\S+))?$/.exec(comment?.trim() ?? '');
  if (!m) return undefined;
  return { group: m[1]!, userid: m[2]!, ...(m[3] ? { profile: m[3] } : {}) };
}

export function userComment(group: string): string {
  return `stands: created for ${group}`;
}

export function isOurUserComment(comment: string | undefined): boolean {
  return /^stands: created for /.test(comment?.trim() ?? '');
}

export function splitTags(tags: string | undefined): string[] {
  return (tags ?? '')
    .split(/[;,\s]+/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

export function hasGroupTag(tags: string | undefined, group: string): boolean {
  return splitTags(tags).includes(groupTag(group));
}

/** Groups named by a VM's `stands-<group>` tags. */
export function groupsFromTags(tags: string | undefined): string[] {
  return splitTags(tags)
    .filter((t) => t.startsWith('stands-'))
    .map((t) => t.slice('stands-'.length));
}

/** `Created by pve-stands. group=<g> user=<userid> machine=<m>` (naming.ts vmDescription). */
export function parseVmDescription(text: string | undefined): { group: string; userid: string; machine: string } | undefined {
  const m = /Created by pve-stands\. group=(\S+) user=(\S+) machine=(\S+)/.exec(text ?? '');
  return m ? { group: m[1]!, userid: decodeURIComponent(m[2]!), machine: m[3]! } : undefined;
}

export function isOurSegmentComment(comment: string | undefined): boolean {
  return parseSegmentMarker(comment) !== undefined;
}

/** One ACL entry we granted: the object of an `acl` journal record. */
export interface AclGrant {
  path: string;
  userid: string;
  role: string;
}

/**
 * The journal id of an ACL grant: a JSON array, so no character of a user name (`|`, `,`, quotes…) can shift its
 * parts. Records written before this form (`<path>|<userid>|<role>`) are still read by `parseAclId`.
 */
export function aclId(path: string, userid: string, role: string): string {
  return JSON.stringify(['acl', path, userid, role]);
}

export function parseAclId(id: string): AclGrant | undefined {
  if (id.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(id);
      if (Array.isArray(v) && v.length === 4 && v[0] === 'acl' && v.slice(1).every((x) => typeof x === 'string')) {
        return { path: v[1] as string, userid: v[2] as string, role: v[3] as string };
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
  // legacy `path|userid|role`: a path and a role never hold "|", so the first and last separators are the real ones
  const first = id.indexOf('|');
  const last = id.lastIndexOf('|');
  if (first <= 0 || last <= first) return undefined;
  return { path: id.slice(0, first), userid: id.slice(first + 1, last), role: id.slice(last + 1) };
}

/** The same grant, whatever form its id was written in. */
export function sameAcl(id: string, g: AclGrant): boolean {
  const p = parseAclId(id);
  return !!p && p.path === g.path && p.userid === g.userid && p.role === g.role;
}

/**
 * The creation marker of a stand VM: a random value made for that one VM at clone time, recorded in the journal
 * (`extra.marker`) and written into the VM's description. A clone of a stand VM copies the description, tags and
 * all, but under another VMID, so its marker is not the one recorded for the VMID it now sits under.
 */
export function newVmMarker(): string {
  return randomBytes(8).toString('hex');
}

export function withVmMarker(description: string, marker: string): string {
  return `${description} stands-id=${marker}`;
}

export function vmMarkerOf(description: string | undefined): string | undefined {
  return /(?:^|\s)stands-id=([0-9a-f]{16})(?:\s|$)/.exec(description ?? '')?.[1];
}

/** What we recorded when we created a VM (stand record and journal). */
export interface RecordedVm {
  vmid: number;
  group: string;
  userid: string;
  name?: string;
  node?: string;
  pool?: string;
  marker?: string;
}

/** What the cluster says about the VM under that VMID now (cluster resources + its config). */
export interface LiveVm {
  node?: string;
  pool?: string;
  name?: string;
  tags?: string;
  description?: string;
  template?: boolean | number;
}

/**
 * Is the VM now under `rec.vmid` the one we created? Everything recorded must match, not a tag alone: the
 * creation marker (when recorded: every VM made since markers exist), the name, the node or the stand's pool, and
 * the group's tag or description. Cleanup, reset, start/stop and expiry act only on `ours`; the reason is reported.
 */
export function vmOwnership(rec: RecordedVm, live: LiveVm): { ours: true } | { ours: false; reason: string } {
  const no = (reason: string) => ({ ours: false as const, reason });
  if (live.template) return no('it is a template');
  if (rec.marker !== undefined && vmMarkerOf(live.description) !== rec.marker) {
    return no(`its creation marker is not the one recorded for VMID ${rec.vmid} (another VM took the VMID, or a copy of ours)`);
  }
  if (rec.name && live.name !== undefined && live.name !== rec.name) return no(`it is named ${live.name}, not ${rec.name}`);
  if (rec.marker === undefined && rec.name && live.name === undefined) return no('it has no name, and no creation marker was recorded');
  const sameNode = rec.node !== undefined && live.node === rec.node;
  const inPool = rec.pool !== undefined && live.pool === rec.pool;
  if (!sameNode && !inPool) {
    return no(`it is on ${live.node ?? 'an unknown node'} in ${live.pool ? `pool ${live.pool}` : 'no pool'}, not where it was created`);
  }
  const desc = parseVmDescription(live.description);
  const marked = hasGroupTag(live.tags, rec.group) || (desc?.group === rec.group && desc.userid === rec.userid);
  if (!marked) return no(`it is not marked as ${rec.group}'s`);
  if (desc && (desc.group !== rec.group || desc.userid !== rec.userid)) return no(`its description names ${desc.userid} in ${desc.group}`);
  return { ours: true };
}
