/**
 * Downloading a user-list attachment: only from Discord's attachment hosts or hosts bot.yml allows (tests serve
 * files from loopback that way), only text files of the user-list kinds, never more than the size limit (the
 * declared size is checked first, then the bytes as they stream in), no redirects. What the bytes say is then
 * checked by parseUserList (encoding, binary content, every line), so the rules live in one place.
 */
import { UserError } from '../errors.js';
import type { Messages } from './i18n.js';

export const DISCORD_ATTACHMENT_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'];
export const USER_LIST_EXTENSIONS = ['.txt', '.csv', '.yml', '.yaml'];
export const DEFAULT_MAX_ATTACHMENT_BYTES = 1024 * 1024;

export interface AttachmentRef {
  url: string;
  name: string;
  size: number;
  contentType?: string | null;
}

export interface DownloadOptions {
  /** Extra allowed hosts from bot.yml: `host` or `host:port`. */
  allowedHosts?: string[];
  maxBytes?: number;
  timeoutMs?: number;
  m: Messages;
}

export function hostAllowed(url: URL, extra: string[] = []): boolean {
  if (DISCORD_ATTACHMENT_HOSTS.includes(url.hostname)) return url.protocol === 'https:';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  return extra.some((h) => h === url.host || h === url.hostname);
}

export async function downloadAttachment(a: AttachmentRef, o: DownloadOptions): Promise<Buffer> {
  const max = o.maxBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
  const m = o.m;
  const lower = a.name.toLowerCase();
  if (!USER_LIST_EXTENSIONS.some((ext) => lower.endsWith(ext))) throw new UserError(m.attachmentType(a.name));
  // Windows reports .csv as application/vnd.ms-excel; the bytes are checked below whatever the label says
  if (a.contentType && !/^(text\/|application\/(x-)?yaml|application\/csv|application\/vnd\.ms-excel|application\/octet-stream)/i.test(a.contentType)) {
    throw new UserError(m.attachmentType(a.name));
  }
  if (a.size > max) throw new UserError(m.attachmentTooBig(a.size, max));
  let url: URL;
  try {
    url = new URL(a.url);
  } catch {
    throw new UserError(m.attachmentHost('?'));
  }
  if (!hostAllowed(url, o.allowedHosts)) throw new UserError(m.attachmentHost(url.host));
  const timeoutMs = o.timeoutMs ?? 15_000;
  // one deadline for the whole download (headers and body): a server that stalls mid-body ends in the same
  // user-facing message as one that never answers, never in "internal error"
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = (err: unknown) => signal.aborted || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'));
  const timeoutError = () => new UserError(m.attachmentTimeout(Math.round(timeoutMs / 100) / 10));
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'manual', signal });
  } catch (err) {
    if (timedOut(err)) throw timeoutError();
    throw new UserError(m.attachmentFetch(err instanceof Error ? err.message : String(err)));
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new UserError(m.attachmentFetch(`HTTP ${res.status}`));
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        throw new UserError(m.attachmentTooBig(total, max));
      }
      chunks.push(Buffer.from(value));
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    await reader.cancel().catch(() => undefined);
    if (timedOut(err)) throw timeoutError();
    throw new UserError(m.attachmentFetch(err instanceof Error ? err.message : String(err)));
  }
  // encoding and content (UTF-8, no binary, UTF-16 named as such) are parseUserList's checks, with file and line
  const bytes = Buffer.concat(chunks);
  return bytes;
}
