/**
 * How we recognise our own objects on the cluster (the cluster is the truth; the store is the memory). Cleanup
 * touches an object only when the store records it AND the cluster marks it ours:
 * - VMs: tags `stands;stands-<group>`, or (before the config write) the name we gave it and the description;
 * - pools: comment `stands:<group>:<userid>`;
 * - users: comment `stands: created for <group>`;
 * - bridges / VNets: comment / alias `stands:<group>:<slug>:<alias>` (naming.ts segmentMarker).
 */
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
