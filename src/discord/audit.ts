/**
 * Audit: every mutating action and every refusal — who, what, outcome — goes to the store's audit log and, when
 * bot.yml names one, to the audit channel. Posting is best effort (the store entry is the record).
 */
import { Routes, type Client } from 'discord.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { messages, type Lang } from './i18n.js';

export interface AuditInput {
  actor: string;
  actorId: string;
  action: string;
  outcome: 'ok' | 'denied' | 'failed' | 'partial';
  group?: string;
  user?: string;
  job?: string;
  details?: Record<string, string | number | boolean | null>;
}

export function createAuditor(o: { store: Store; client: Client; channelId?: string; lang: Lang; logger: Logger }) {
  const m = messages(o.lang);
  return async function audit(e: AuditInput): Promise<void> {
    try {
      await o.store.audit.append({
        actor: `discord:${e.actorId} (${e.actor})`,
        action: e.action,
        outcome: e.outcome,
        ...(e.group ? { group: e.group } : {}),
        ...(e.user ? { user: e.user } : {}),
        ...(e.job ? { job: e.job } : {}),
        ...(e.details ? { details: e.details } : {}),
      });
    } catch (err) {
      o.logger.error({ err, action: e.action }, 'audit log write failed');
    }
    if (!o.channelId) return;
    const target = [e.group, e.user].filter(Boolean).join('/') || '-';
    const line = m.auditLine(`<@${e.actorId}>`, e.action, target, e.outcome) + (e.job ? ` (${e.job})` : '');
    try {
      await o.client.rest.post(Routes.channelMessages(o.channelId), {
        body: { content: line.slice(0, 2000), allowed_mentions: { parse: [] } },
      });
    } catch (err) {
      o.logger.warn({ err, action: e.action }, 'audit channel post failed');
    }
  };
}
