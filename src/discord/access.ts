/**
 * Who may do what, decided in memory from the roles that come with every interaction (no API call, so the
 * check fits before the 3 s acknowledgement). Levels nest: admin ⊇ teacher ⊇ student.
 */
export type AccessLevel = 'admin' | 'teacher' | 'student';
export type MemberLevel = AccessLevel | 'none';

const RANK: Record<MemberLevel, number> = { none: 0, student: 1, teacher: 2, admin: 3 };

/** Discord role ids per level, as bot.yml maps them. */
export interface RoleMap {
  admin: string[];
  teacher: string[];
  student: string[];
}

/**
 * A member's role ids. discord.js gives a GuildMember (roles in a cache that only knows roles seen in
 * GUILD_CREATE) or, for an uncached guild, the raw API member with `roles: string[]`; accept both.
 */
export function memberRoleIds(member: unknown): string[] {
  if (!member || typeof member !== 'object') return [];
  const roles = (member as { roles?: unknown }).roles;
  if (Array.isArray(roles)) return roles.map(String);
  const cache = (roles as { cache?: Map<string, unknown> } | undefined)?.cache;
  if (cache && typeof cache.keys === 'function') return [...cache.keys()];
  return [];
}

export function memberLevel(roleIds: readonly string[], roles: RoleMap): MemberLevel {
  const has = (ids: string[]) => ids.some((id) => roleIds.includes(id));
  if (has(roles.admin)) return 'admin';
  if (has(roles.teacher)) return 'teacher';
  if (has(roles.student)) return 'student';
  return 'none';
}

export function allows(level: MemberLevel, needed: AccessLevel): boolean {
  return RANK[level] >= RANK[needed];
}
