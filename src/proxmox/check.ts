import { connect as tlsConnect } from 'node:tls';
import type { ProxmoxClient } from './client.js';
import { isSupportedVersion, unsupportedVersionMessage } from './version.js';
import { ProxmoxApiError } from './errors.js';
import { normalizeFingerprint, TLS_TRUST_CODES } from './http.js';

/**
 * Privileges the deployer's token/user needs on `/` (propagated). The README's
 * `pveum role add StandsDeployer -privs "…"` line is built from this list.
 */
export const REQUIRED_PRIVILEGES = [
  { priv: 'Sys.Audit', why: 'read nodes, load and the cluster inventory' },
  { priv: 'Sys.Modify', why: 'create and apply Linux bridges on nodes' },
  { priv: 'VM.Allocate', why: 'create (clone into) and destroy stand VMs' },
  { priv: 'VM.Clone', why: 'clone templates' },
  { priv: 'VM.Audit', why: 'read VM config and status' },
  { priv: 'VM.Config.CPU', why: 'set cores' },
  { priv: 'VM.Config.Memory', why: 'set memory' },
  { priv: 'VM.Config.Network', why: 'attach NICs to stand networks' },
  { priv: 'VM.Config.Options', why: 'set name, description, tags' },
  { priv: 'VM.Config.Disk', why: 'templates and disk options' },
  { priv: 'VM.PowerMgmt', why: 'start, stop and reset stands' },
  { priv: 'VM.Snapshot', why: 'snapshots for stand resets' },
  { priv: 'VM.Snapshot.Rollback', why: 'roll stands back to their snapshot' },
  { priv: 'VM.Migrate', why: 'move VMs between nodes' },
  { priv: 'VM.Console', why: 'grant console access to students' },
  { priv: 'Datastore.AllocateSpace', why: 'allocate clone disks' },
  { priv: 'Datastore.Audit', why: 'read storage capacity' },
  { priv: 'Pool.Allocate', why: 'create and delete stand pools' },
  { priv: 'Pool.Audit', why: 'read pools' },
  { priv: 'User.Modify', why: 'create student users' },
  { priv: 'Realm.AllocateUser', why: 'create users in the pve realm' },
  { priv: 'Permissions.Modify', why: 'grant students access to their pool' },
  { priv: 'SDN.Use', why: 'attach VMs to bridges and VNets' },
  { priv: 'SDN.Allocate', why: 'create SDN zones and VNets' },
  { priv: 'SDN.Audit', why: 'read SDN config' },
] as const;

export const REQUIRED_PRIVILEGE_NAMES: readonly string[] = REQUIRED_PRIVILEGES.map((p) => p.priv);

/** The README's set-up lines: a role with exactly the deployer's privileges, granted on / to the token. */
export function deployerRoleCommands(tokenId = 'stands@pve!deployer', role = 'StandsDeployer'): string[] {
  const [user, name] = tokenId.split('!');
  return [
    `pveum role add ${role} -privs "${REQUIRED_PRIVILEGE_NAMES.join(',')}"`,
    `pveum user add ${user}`,
    `pveum user token add ${user} ${name} --privsep 0`,
    `pveum acl modify / -user ${user} -role ${role}`,
  ];
}

export type CheckVerdict =
  | 'ok'
  | 'unreachable'
  | 'tls-mismatch'
  | 'bad-credentials'
  | 'missing-privileges'
  | 'unsupported-version';

export interface ConnectionCheck {
  cluster: string;
  url: string;
  verdict: CheckVerdict;
  /** One line a user can act on. */
  message: string;
  auth?: 'token' | 'ticket';
  version?: string;
  /** tls-mismatch: the server's sha256 fingerprint and what was expected (a pin, or "trusted by …"). */
  seen?: string;
  expected?: string;
  /** missing-privileges: what the deployer lacks on `/`, and everything it needs. */
  missing?: string[];
  required?: readonly string[];
  /** Things not verified (e.g. the server does not implement GET /access/permissions). */
  notes?: string[];
}

/** The server certificate's sha256 fingerprint, read without trusting it (for "seen … expected …"). */
export function probeFingerprint(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = tlsConnect({
      host: u.hostname,
      port: Number(u.port || 8006),
      rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(u.hostname) ? {} : { servername: u.hostname }),
    });
    const done = (v: string | undefined): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.once('secureConnect', () => {
      const fp = sock.getPeerCertificate()?.fingerprint256;
      done(fp ? normalizeFingerprint(fp) : undefined);
    });
    sock.once('error', () => done(undefined));
  });
}

export async function runConnectionCheck(client: ProxmoxClient): Promise<ConnectionCheck> {
  const c = client.cluster;
  const base = { cluster: c.name, url: c.url, auth: client.authMode } as const;
  let version: string;
  let release: string | undefined;
  try {
    const v = await client.version({ attempts: 2 });
    version = v.version;
    release = v.release;
  } catch (err) {
    return failureVerdict(client, err);
  }
  if (!isSupportedVersion(release ?? version)) {
    return { ...base, verdict: 'unsupported-version', version, message: unsupportedVersionMessage(c.name, version) };
  }
  const notes: string[] = [];
  try {
    const perms = await client.permissions({ path: '/' });
    const have = perms['/'] ?? {};
    const missing = REQUIRED_PRIVILEGE_NAMES.filter((p) => !have[p]);
    if (missing.length > 0) {
      const who = client.authMode === 'token' ? `token ${c.tokenId}` : `user ${c.user}`;
      return {
        ...base,
        verdict: 'missing-privileges',
        version,
        missing,
        required: REQUIRED_PRIVILEGE_NAMES,
        message: `${who} lacks ${missing.length} ${missing.length === 1 ? 'privilege' : 'privileges'} on /: ${missing.join(', ')}`,
      };
    }
  } catch (err) {
    if (err instanceof ProxmoxApiError && (err.status === 501 || err.status === 404)) {
      notes.push(`privileges not verified: the server does not implement GET /access/permissions (${err.pveMessage})`);
    } else {
      return failureVerdict(client, err);
    }
  }
  return {
    ...base,
    verdict: 'ok',
    version,
    message: `connected to Proxmox VE ${version} with ${client.authMode === 'token' ? `token ${c.tokenId}` : `user ${c.user}`}`,
    ...(notes.length ? { notes } : {}),
  };
}

async function failureVerdict(client: ProxmoxClient, err: unknown): Promise<ConnectionCheck> {
  const c = client.cluster;
  const base = { cluster: c.name, url: c.url, auth: client.authMode } as const;
  if (!(err instanceof ProxmoxApiError)) throw err;
  if (err.code === 'ERR_TLS_FINGERPRINT_MISMATCH') {
    const seen = (await probeFingerprint(c.url)) ?? 'unknown';
    const expected = normalizeFingerprint(c.tls.fingerprint ?? '');
    return {
      ...base,
      verdict: 'tls-mismatch',
      seen,
      expected,
      message: `TLS certificate fingerprint mismatch: seen ${seen}, expected ${expected}`,
    };
  }
  if (err.code && TLS_TRUST_CODES.has(err.code)) {
    const seen = (await probeFingerprint(c.url)) ?? 'unknown';
    const expected = c.tls.ca || c.tls.caPem ? 'a certificate signed by the configured CA' : 'a certificate trusted by the system CAs';
    return {
      ...base,
      verdict: 'tls-mismatch',
      seen,
      expected,
      message:
        `TLS certificate not trusted (${err.code}): seen ${seen}, expected ${expected}; ` +
        `to trust this server, set tls.fingerprint: "${seen}" for cluster ${c.name}`,
    };
  }
  if (err.status === 0) {
    return { ...base, verdict: 'unreachable', message: `cannot reach ${c.url}: ${err.pveMessage}` };
  }
  if (err.status === 401) {
    const who = client.authMode === 'token' ? `API token ${c.tokenId}` : `user ${c.user}`;
    return { ...base, verdict: 'bad-credentials', message: `${who} was refused by ${c.url} (401 ${err.pveMessage})` };
  }
  if (err.status === 403) {
    return {
      ...base,
      verdict: 'missing-privileges',
      missing: [],
      required: REQUIRED_PRIVILEGE_NAMES,
      message: `permission denied: ${err.pveMessage}`,
    };
  }
  if (err.status >= 500) {
    return { ...base, verdict: 'unreachable', message: `${c.url} answered ${err.status} ${err.pveMessage}` };
  }
  throw err;
}
