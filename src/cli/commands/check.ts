import { loadConnections, pickCluster } from '../../config/connections.js';
import { ProxmoxClient } from '../../proxmox/client.js';
import type { ConnectionCheck } from '../../proxmox/check.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';

export interface CheckOptions {
  cluster?: string;
  json?: boolean;
}

/** `stands check`: the client's connection test, as one verdict. Exit 0 ok, 1 a failed check, 2 bad config. */
export async function checkCommand(opts: CheckOptions, env: CommandEnv): Promise<number> {
  const connections = await loadConnections(env.paths.configDir, { env: env.io.env });
  const cluster = pickCluster(connections, opts.cluster);
  const client = new ProxmoxClient(cluster, { logger: env.logger.child({ cluster: cluster.name }) });
  let result: ConnectionCheck;
  try {
    result = await client.check();
  } finally {
    await client.close();
  }
  if (opts.json) printJson(env.io, result);
  else print(env.io, formatCheck(result));
  return result.verdict === 'ok' ? EXIT_OK : EXIT_PARTIAL;
}

export function formatCheck(r: ConnectionCheck): string {
  const lines = [`${r.verdict === 'ok' ? 'OK' : 'FAILED'} ${r.cluster} (${r.url}): ${r.verdict}`, `  ${r.message}`];
  if (r.verdict === 'tls-mismatch') {
    lines.push(`  seen:     ${r.seen ?? 'unknown'}`, `  expected: ${r.expected ?? 'unknown'}`);
  }
  if (r.missing && r.missing.length > 0) lines.push(`  missing privileges: ${r.missing.join(', ')}`);
  if (r.verdict === 'missing-privileges' && r.required) lines.push(`  required on /: ${r.required.join(', ')}`);
  for (const note of r.notes ?? []) lines.push(`  note: ${note}`);
  if (r.firewall) lines.push(`  datacenter firewall: ${r.firewall.message}`);
  return lines.join('\n');
}
