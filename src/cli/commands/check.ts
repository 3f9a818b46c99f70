import { loadConnections, pickCluster } from '../../config/connections.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import { ProxmoxClient } from '../../proxmox/client.js';
import { runConnectionCheck, type CheckScope, type ConnectionCheck } from '../../proxmox/check.js';
import { EXIT_CLUSTER, EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { langOf } from '../lang.js';
import { render, say, type Lang, type Msg } from '../../i18n/index.js';
import type { Who } from '../../i18n/check.en.js';

export interface CheckOptions {
  cluster?: string;
  json?: boolean;
}

/** What the engine will touch with these settings: realms, network mode and SDN zone, the students' role. */
export function checkScope(settings: Settings): CheckScope {
  const custom = settings.acl.customRole;
  return {
    realms: [...new Set([settings.realm, ...settings.allowedRealms])],
    mode: settings.network.mode,
    ...(settings.network.mode === 'sdn' ? { sdnZone: settings.network.sdn.zone } : {}),
    studentRole: custom?.name ?? settings.acl.role,
    ...(custom ? { studentRolePrivs: custom.privs } : {}),
  };
}

/**
 * `stands check`: the connection test and every path the engine will touch, as one verdict. Exit 0 ok, 3 the
 * cluster cannot be used (unreachable, TLS mismatch, bad credentials, missing privileges or prerequisites,
 * unsupported version), 2 bad config.
 */
export async function checkCommand(opts: CheckOptions, env: CommandEnv): Promise<number> {
  const connections = await loadConnections(env.paths.configDir, { env: env.io.env });
  const settings = await loadSettings(env.paths.configDir, { env: env.io.env });
  const cluster = pickCluster(connections, opts.cluster);
  const client = new ProxmoxClient(cluster, { logger: env.logger.child({ cluster: cluster.name }) });
  let result: ConnectionCheck;
  try {
    result = await runConnectionCheck(client, checkScope(settings));
  } finally {
    await client.close();
  }
  if (opts.json) printJson(env.io, result);
  else print(env.io, formatCheck(result, langOf(env)));
  return result.verdict === 'ok' ? EXIT_OK : EXIT_CLUSTER;
}

/** The check in the reader's language (`--json` keeps the English texts and carries the codes beside them). */
export function formatCheck(r: ConnectionCheck, lang: Lang = 'en'): string {
  const said = (m: Msg | undefined, english: string): string => (m ? render(lang, m) : english);
  const lines = [say(lang, 'check.head', { ok: r.verdict === 'ok', cluster: r.cluster, url: r.url, verdict: r.verdict })];
  if (r.verdict !== 'missing-privileges' && r.verdict !== 'missing-prerequisites') lines.push(`  ${said(r.messageMsg, r.message)}`);
  if (r.verdict === 'tls-mismatch') {
    lines.push(`  ${say(lang, 'check.seen', { fingerprint: r.seen ?? 'unknown' })}`, `  ${say(lang, 'check.expected', { what: r.expected ?? 'unknown' })}`);
  }
  if (r.verdict === 'missing-privileges') {
    const m = r.messageMsg;
    lines.push(`  ${m?.code === 'check.lacks' ? say(lang, 'check.lacksHead', m.params as { who: Who; count: number }) : r.message.split(':')[0]}:`);
    const missing = r.missingMsgs ?? [];
    (r.missing ?? []).forEach((text, i) => lines.push(`    ${say(lang, 'check.missing', { what: said(missing[i], text) })}`));
    if (!r.missing?.length) lines.push(`  ${said(r.messageMsg, r.message)}`);
    lines.push(`  ${say(lang, 'check.pveumHint')}`);
  }
  (r.problems ?? []).forEach((p, i) => lines.push(`  ${say(lang, 'check.problem', { text: said(r.problemMsgs?.[i], p) })}`));
  (r.notes ?? []).forEach((n, i) => lines.push(`  ${say(lang, 'check.note', { text: said(r.noteMsgs?.[i], n) })}`));
  if (r.firewall) lines.push(`  ${say(lang, 'check.firewall', { text: said(r.firewall.messageMsg, r.firewall.message) })}`);
  return lines.join('\n');
}
