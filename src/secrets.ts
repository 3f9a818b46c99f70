/**
 * Live secrets of this process, redacted by value: generated passwords, API token secrets and passwords from the
 * connections, Proxmox tickets and CSRF tokens, the bot token and interaction tokens. The log writer checks every
 * line against them (src/log.ts) and the store checks every record (src/store/store.ts), so a secret that reaches
 * a message, an error or a nested string by some future code path is still never written. Redaction by key name
 * (log.ts SECRET_KEYS) stays as the first line; this is the second.
 */
export const REDACTED = '[redacted]';

/** Shorter values are not tracked: they would censor ordinary words. Every secret we make is longer. */
const MIN_LENGTH = 8;
/** Oldest entries go first past this many (a bot running for months generates passwords without end). */
const MAX_ENTRIES = 50_000;

const live = new Set<string>();
let pattern: RegExp | undefined;
let dirty = false;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Adds a secret (and its JSON-escaped and URL-encoded forms, as it may appear inside a serialized record). */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < MIN_LENGTH) return;
  for (const form of new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)])) {
    if (live.has(form)) continue;
    live.add(form);
    dirty = true;
  }
  while (live.size > MAX_ENTRIES) {
    const oldest = live.values().next().value as string;
    live.delete(oldest);
  }
}

export function forgetSecret(value: string): void {
  for (const form of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) if (live.delete(form)) dirty = true;
}

/** Interaction and webhook tokens inside Discord API paths: `/webhooks/<id>/<token>` → `/webhooks/<id>/:token`. */
const TOKEN_PATH_RE = /(\/(?:webhooks|interactions)\/\d{5,25}\/)[A-Za-z0-9._~-]{16,}/g;

export function redactTokenPaths(text: string): string {
  return text.replace(TOKEN_PATH_RE, '$1:token');
}

/** `text` with every live secret (longest first) and every token path replaced. */
export function redactSecrets(text: string): string {
  let out = redactTokenPaths(text);
  if (live.size === 0) return out;
  if (dirty || !pattern) {
    pattern = new RegExp([...live].sort((a, b) => b.length - a.length).map(escapeRe).join('|'), 'g');
    dirty = false;
  }
  out = out.replace(pattern, REDACTED);
  return out;
}

/** True when `text` holds a live secret (tests, and callers that would rather refuse than redact). */
export function containsSecret(text: string): boolean {
  return redactSecrets(text) !== text;
}

/** A copy of a JSON-like value with every string redacted (store records). */
export function redactDeep<T>(value: T): T {
  if (live.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecrets(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
