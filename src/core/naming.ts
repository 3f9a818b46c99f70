/**
 * Names of everything a stand creates. PVE accepts Cyrillic user names, but pool ids, VM names (DNS names), tags,
 * bridge comments and VNet ids must be ASCII and follow PVE's own patterns; everything here is derived with
 * slugify (transliteration + a short hash when information was lost) and made unique within a plan.
 */
import { UserError } from '../errors.js';
import { shortHash, slugify } from '../config/slug.js';
import { msg } from '../i18n/index.js';

/** PVE `verify_poolname`: letters, digits, `.-_`, must start with a letter (a `/` would make it nested). */
export const POOL_ID_RE = /^[A-Za-z][A-Za-z0-9.\-_]*$/;
/** PVE `pve-tag` (case-insensitive): `[a-z0-9_][a-z0-9_\-+.]*`. */
export const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
/** PVE `dns-name`; each label 1–63 characters. */
export const DNS_NAME_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
/** SDN VNet and zone ids: `[a-zA-Z][a-zA-Z0-9]*[a-zA-Z0-9]`, at most 8 characters. */
export const SDN_ID_RE = /^[a-zA-Z][a-zA-Z0-9]{1,7}$/;
/** Group names end up in tags, pool ids, comments and store keys: keep them simple. */
export const GROUP_RE = /^[a-z0-9][a-z0-9._-]{0,39}$/;

export const POOL_ID_MAX = 40;
export const VM_NAME_MAX = 63;
export const TAG_ALL = 'stands';
export const MARKER_PREFIX = 'stands';

export function isValidPoolId(id: string): boolean {
  return POOL_ID_RE.test(id) && id.length <= POOL_ID_MAX;
}
export function isValidVmName(name: string): boolean {
  return DNS_NAME_RE.test(name) && name.length <= VM_NAME_MAX && name.split('.').every((l) => l.length <= 63);
}
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}
export function isValidSdnId(id: string): boolean {
  return SDN_ID_RE.test(id);
}

/**
 * `--group` as given, lowercased. Refused (exit 2) when it cannot be a tag/pool-id fragment as is: a group name is
 * shown to people and matched by cleanup, so it is never silently rewritten beyond case.
 */
export function normalizeGroupName(input: string): string {
  const name = input.trim().toLowerCase();
  if (!GROUP_RE.test(name)) {
    throw new UserError(msg('group.nameInvalid', { input }));
  }
  return name;
}

/** Default group: `<profile>-<list file name>` made valid (e.g. `netlab-users.example`). */
export function defaultGroupName(profileName: string, usersFile?: string): string {
  const base = usersFile ? (usersFile.split(/[\\/]/).pop() ?? usersFile).replace(/\.(txt|csv|ya?ml)$/i, '') : '';
  const raw = base ? `${profileName}-${base}` : profileName;
  if (GROUP_RE.test(raw.toLowerCase())) return raw.toLowerCase();
  const slug = slugify(raw, { maxLength: 40 });
  return GROUP_RE.test(slug) ? slug : `g-${shortHash(raw)}`;
}

/** `stands-<group>`. */
export function groupTag(group: string): string {
  return `${TAG_ALL}-${group.replace(/[^a-z0-9_\-+.]/gi, '-').toLowerCase()}`;
}
export function standTags(group: string): string[] {
  return [TAG_ALL, groupTag(group)];
}

/** The name part of `name@realm`. */
export function userName(userid: string): string {
  const at = userid.lastIndexOf('@');
  return at < 0 ? userid : userid.slice(0, at);
}

export interface StandNames {
  userid: string;
  /** ASCII, `[a-z0-9-]+`, ≤ 24, unique within the plan. */
  slug: string;
  pool: string;
}

const SLUG_MAX = 24;
const PLAIN_ID = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * Slugs and pool ids for every user of a group, unique within it (`ivanov@pve` and `ivanov@ad`, or `Ivanov` and
 * `ivanov`, get a hash of the full userid), and pool ids that avoid `taken` (pools that exist on the cluster and
 * are not this stand's).
 */
export function allocateStandNames(
  group: string,
  userids: readonly string[],
  options: { takenPools?: ReadonlySet<string>; ownPools?: ReadonlyMap<string, string> } = {},
): Map<string, StandNames> {
  const bySlug = new Map<string, string[]>();
  const first = new Map<string, string>();
  for (const userid of userids) {
    const name = userName(userid).toLowerCase();
    // `first.last` and `first_last` are the usual student ids: keep them readable (`first-last`); a collision
    // this creates within the plan gets hashed below. Anything else (Cyrillic, spaces…) goes through slugify.
    const readable = PLAIN_ID.test(name) ? name.replace(/[._]+/g, '-') : undefined;
    const slug =
      readable !== undefined && readable.length <= SLUG_MAX ? readable : slugify(name, { maxLength: SLUG_MAX });
    first.set(userid, slug);
    const list = bySlug.get(slug) ?? [];
    list.push(userid);
    bySlug.set(slug, list);
  }
  const used = new Set<string>();
  const result = new Map<string, StandNames>();
  const takenPools = options.takenPools ?? new Set<string>();
  const usedPools = new Set<string>();
  for (const userid of userids) {
    let slug = first.get(userid) ?? 'x';
    const clash = (bySlug.get(slug)?.length ?? 0) > 1;
    if (clash || used.has(slug)) slug = withHash(slug, userid, SLUG_MAX);
    for (let i = 1; used.has(slug); i++) slug = withHash(slug, `${userid}#${i}`, SLUG_MAX);
    used.add(slug);
    let pool = options.ownPools?.get(userid) ?? poolId(group, slug);
    if (!options.ownPools?.has(userid)) {
      for (let i = 0; takenPools.has(pool) || usedPools.has(pool); i++) {
        pool = poolId(group, withHash(slug, `${group}/${userid}#${i}`, SLUG_MAX));
      }
    }
    usedPools.add(pool);
    result.set(userid, { userid, slug, pool });
  }
  return result;
}

function withHash(slug: string, seed: string, max: number): string {
  const hash = shortHash(seed);
  const room = max - hash.length - 1;
  return `${slug.slice(0, room).replace(/-+$/, '')}-${hash}`.replace(/^-/, '');
}

/**
 * `<group>_<user>`: `_` never appears in a slug, so the split is unambiguous; a letter first, as PVE requires; at
 * most 40 characters, the group part shortened (with a hash of the whole group name) when both do not fit.
 */
export function poolId(group: string, userSlug: string): string {
  const g0 = group.toLowerCase().replace(/[^a-z0-9.\-_]+/g, '-');
  const budget = Math.max(8, POOL_ID_MAX - 1 - userSlug.length);
  const g = g0.length <= budget ? g0 : `${g0.slice(0, budget - 7).replace(/[._-]+$/, '')}-${shortHash(group)}`;
  const id = `${g}_${userSlug}`.slice(0, POOL_ID_MAX);
  return /^[A-Za-z]/.test(id) ? id : `s${id}`.slice(0, POOL_ID_MAX);
}

const machineSlugs = new Map<string, string>();
export function vmName(userSlug: string, machine: string): string {
  // a class has a handful of machine names and thousands of VMs: slugify (a sha256 each) once per name
  let m = machineSlugs.get(machine);
  if (m === undefined) {
    m = slugify(machine, { maxLength: 24 });
    if (machineSlugs.size < 10_000) machineSlugs.set(machine, m);
  }
  const room = VM_NAME_MAX - m.length - 1;
  return `${userSlug.slice(0, room).replace(/-+$/, '')}-${m}`;
}

/**
 * Marker in a bridge comment or VNet alias: `stands:<group>:<user slug>:<alias>`. ASCII only (the slug, not the
 * userid), and within the VNet alias pattern (`[\(\)-_.\w\d\s]`, where `)-_` is a range that includes `:`).
 */
export function segmentMarker(group: string, userSlug: string, alias: string): string {
  return `${MARKER_PREFIX}:${group}:${userSlug}:${alias}`;
}

export function parseSegmentMarker(text: string | undefined): { group: string; user: string; alias: string } | undefined {
  if (!text) return undefined;
  const m = /(?:^|\s)stands:([a-z0-9._-]+):([a-z0-9-]+):([a-z][a-z0-9-]*)(?:\s|$)/.exec(text.trim());
  if (!m) return undefined;
  return { group: m[1] ?? '', user: m[2] ?? '', alias: m[3] ?? '' };
}

/** Description of every VM we create: names the stand, and keeps the full (maybe non-ASCII) userid for recover. */
export function vmDescription(group: string, userid: string, machine: string): string {
  return `Created by pve-stands. group=${group} user=${userid} machine=${machine}`;
}

/** Replica name, as the seed did: `tpl-<vmid>-<node>` (a DNS name). */
export function replicaName(sourceVmid: number, node: string): string {
  const n = slugify(node, { maxLength: 40 });
  return `tpl-${sourceVmid}-${n}`;
}

/** The one replica on shared storage: `tpl-<vmid>-shared-<storage>` (set apart from the per-node `tpl-<vmid>-<node>`). */
export function sharedReplicaName(sourceVmid: number, storage: string): string {
  return `tpl-${sourceVmid}-shared-${slugify(storage, { maxLength: 40 })}`;
}
