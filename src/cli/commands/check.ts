import { loadConnections, pickCluster } from '../../config/connections.js';
import { loadSettings, type Settings } from '../../config/settings.js';
import { ProxmoxClient } from '../../proxmox/client.js';
import { runConnectionCheck, type CheckScope, type ConnectionCheck } from '../../proxmox/check.js';
import { EXIT_CLUSTER, EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';

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
  else print(env.io, formatCheck(result));
  return result.verdict === 'ok' ? EXIT_OK : EXIT_CLUSTER;
}

export function formatCheck(r: ConnectionCheck): string {
  const lines = [`${r.verdict === 'ok' ? 'OK' : 'FAILED'} ${r.cluster} (${r.url}): ${r.verdict}`];
  if (r.verdict !== 'missing-privileges' && r.verdict !== 'missing-prerequisites') lines.push(`  ${r.message}`);
  if (r.verdict === 'tls-mismatch') {
    lines.push(`  seen:     ${r.seen ?? 'unknown'}`, `  expected: ${r.expected ?? 'unknown'}`);
  }
  if (r.verdict === 'missing-privileges') {
    lines.push(`  ${r.message.split(':')[0]}:`);
    for (const m of r.missing ?? []) lines.push(`    missing ${m}`);
    if (!r.missing?.length) lines.push(`  ${r.message}`);
    lines.push('  the per-path pveum commands: README, "Proxmox set-up"');
  }
  for (const p of r.problems ?? []) lines.push(`  problem: ${p}`);
  for (const note of r.notes ?? []) lines.push(`  note: ${note}`);
  if (r.firewall) lines.push(`  datacenter firewall: ${r.firewall.message}`);
  return lines.join('\n');
}
