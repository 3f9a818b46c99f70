/**
 * connections.yml: the Proxmox VE clusters we talk to. Our own format (`clusters:` + `default:`) and the two
 * formats of the tool we replace (see docs/configuration.md) are read into one model, `ClusterConfig`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { decodeText, describeFsError } from './text-input.js';
import {
  expandEnv,
  issueAt,
  loadYamlFile,
  parseYaml,
  sortIssues,
  strictObject,
  suggest,
  throwIfIssues,
  validate,
  type YamlSource,
} from './yaml-source.js';

export const CONNECTIONS_FILE = 'connections.yml';
export const DEFAULT_MAX_IN_FLIGHT = 6;
export const DEFAULT_PVE_PORT = 8006;

export interface TlsConfig {
  /** sha256 of the server certificate, `AB:CD:…` uppercase with colons, as PVE shows it. */
  fingerprint?: string;
  /** Absolute path of a CA certificate (PEM) to trust. */
  ca?: string;
  /** The CA certificate itself (read from `ca`, or given inline). */
  caPem?: string;
  /** Skip certificate verification. Only ever true when the file says so explicitly. */
  insecure: boolean;
}

export interface ClusterConfig {
  name: string;
  /** `https://host:8006`, no trailing slash, no `/api2/json`. */
  url: string;
  tokenId?: string;
  tokenSecret?: string;
  user?: string;
  password?: string;
  tls: TlsConfig;
  maxInFlight: number;
  consoleUrl?: string;
}

export interface Connections {
  clusters: Record<string, ClusterConfig>;
  default: string;
  file: string;
}

export interface LoadConnectionsOptions {
  /** Environment for `${VAR}` expansion (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Read this file instead of `<configDir>/connections.yml`. */
  file?: string;
  /**
   * false: the caller only reads the state file (`stands list`, `stands templates`): secrets (token_secret,
   * password, token_value and their *_file forms) are neither read nor required, so their environment variables
   * may be unset. The clusters come back without them.
   */
  secrets?: boolean;
}

const SECRET_FIELDS = ['token_secret', 'token_secret_file', 'password', 'password_file', 'token_value', 'token_value_file'];

/** The parsed YAML without its secret fields (a copy; only the clusters' own keys are looked at). */
function withoutSecrets(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const strip = (clusters: unknown): unknown => {
    if (!clusters || typeof clusters !== 'object' || Array.isArray(clusters)) return clusters;
    const out: Record<string, unknown> = {};
    for (const [name, c] of Object.entries(clusters)) {
      if (!c || typeof c !== 'object' || Array.isArray(c)) out[name] = c;
      else out[name] = Object.fromEntries(Object.entries(c).filter(([k]) => !SECRET_FIELDS.includes(k)));
    }
    return out;
  };
  const r = raw as Record<string, unknown>;
  return 'clusters' in r ? { ...r, clusters: strip(r.clusters) } : strip(r);
}

const CLUSTER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const clusterName = z.string().regex(CLUSTER_NAME_RE, 'cluster names use letters, digits, "_", "." and "-"');
/** PVE's own patterns (pve-userid, pve-tokenid): realm and token name start with a letter, at least 2 chars. */
export const USERID_RE = /^[^\s:/@]+@[A-Za-z][A-Za-z0-9._-]+$/;
export const TOKEN_ID_RE = /^[^\s:/@]+@[A-Za-z][A-Za-z0-9._-]+![A-Za-z][A-Za-z0-9._-]+$/;

/** Secrets are never echoed in errors (zod's default message would print a numeric password). */
const secret = z.string({ error: 'expected a string: put the value in quotes' });

const TlsSchema = strictObject({
  fingerprint: z.string().optional(),
  ca: z.string().optional(),
  insecure: z.boolean().optional(),
});

const ClusterSchema = strictObject({
  url: z.string(),
  token_id: z.string().optional(),
  token_secret: secret.optional(),
  token_secret_file: z.string().optional(),
  user: z.string().optional(),
  password: secret.optional(),
  password_file: z.string().optional(),
  tls: TlsSchema.optional(),
  max_in_flight: z.number().int().min(1).max(64).optional(),
  console_url: z.string().optional(),
});

export const ConnectionsFile = strictObject({
  clusters: z.record(clusterName, ClusterSchema),
  default: z.string().optional(),
});
export type ConnectionsFile = z.infer<typeof ConnectionsFile>;

/** The design document's `{name: {host, user, password, use_token, token_name, token_value}}` and lazy_teacher's
 * `{name: {host, port, token, login, password}}`, plus our `tls`/`verify_ssl` so a seed file can be made safe. */
const SeedClusterSchema = strictObject({
  host: z.string(),
  port: z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}$/, 'expected a port number')]).optional(),
  user: z.string().optional(),
  login: z.string().optional(),
  password: secret.optional(),
  password_file: z.string().optional(),
  use_token: z.boolean().optional(),
  token_name: z.string().optional(),
  token_value: secret.optional(),
  token_value_file: z.string().optional(),
  token: secret.optional(),
  verify_ssl: z.boolean().optional(),
  tls: TlsSchema.optional(),
  max_in_flight: z.number().int().min(1).max(64).optional(),
  console_url: z.string().optional(),
});
export const SeedConnectionsFile = z.record(clusterName, SeedClusterSchema);
export type SeedConnectionsFile = z.infer<typeof SeedConnectionsFile>;

/** `ab cd:EF…` or 64 hex digits → `AB:CD:EF:…`; undefined when it is not a sha256 fingerprint. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replace(/^sha256[:=]?\s*/i, '').replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** Normalise a cluster URL: https only, no trailing slash or `/api2/json`. */
export function normalizeUrl(text: string): { url: string } | { error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: `"${text}" is not a URL (expected https://host:8006)` };
  }
  if (u.protocol !== 'https:') return { error: `"${text}": the Proxmox API is only spoken over https://` };
  if (u.username || u.password) return { error: 'credentials do not belong in the URL; use token_id/token_secret' };
  if (u.search || u.hash) return { error: `"${text}": a query or fragment does not belong in the URL` };
  const path = u.pathname.replace(/\/+$/, '').replace(/\/api2\/json$/, '');
  return { url: `${u.protocol}//${u.host}${path}` };
}

interface RawCluster {
  url?: string;
  urlPath: PropertyKey[];
  tokenId?: string;
  tokenIdPath?: PropertyKey[];
  tokenSecret?: string;
  tokenSecretFile?: string;
  tokenSecretPath: PropertyKey[];
  user?: string;
  userPath?: PropertyKey[];
  password?: string;
  passwordFile?: string;
  passwordPath: PropertyKey[];
  tls?: { fingerprint?: string; ca?: string; insecure?: boolean };
  insecureFromSeed?: boolean;
  maxInFlight?: number;
  consoleUrl?: string;
}

export async function loadConnections(configDir: string, options: LoadConnectionsOptions = {}): Promise<Connections> {
  const file = options.file ?? join(configDir, CONNECTIONS_FILE);
  const { source, value } = await loadYamlFile(file);
  const secrets = options.secrets ?? true;
  return parseConnectionsValue(secrets ? value : withoutSecrets(value), source, options.env ?? process.env, secrets);
}

/** Parse connections from YAML text (tests, `stands check`); `file` names it in errors and anchors relative paths. */
export async function parseConnections(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Connections> {
  const decoded = decodeText(text, file);
  if ('issue' in decoded) throw new ConfigError(decoded.issue);
  const parsed = parseYaml(decoded.text, file);
  throwIfIssues(parsed.issues);
  return parseConnectionsValue(parsed.value, parsed.source, env);
}

async function parseConnectionsValue(raw: unknown, source: YamlSource, env: NodeJS.ProcessEnv, secrets = true): Promise<Connections> {
  const file = source.file;
  if (raw === null || raw === undefined) {
    throw new ConfigError({ file, message: 'empty file: expected "clusters:" with at least one cluster' });
  }
  const expanded = expandEnv(raw, source, env);
  const issues: InputIssue[] = [...expanded.issues];
  const value = expanded.value;
  const own = typeof value === 'object' && value !== null && !Array.isArray(value) && 'clusters' in value;

  const raws: Record<string, RawCluster> = {};
  let defaultName: string | undefined;
  if (own) {
    const res = validate(ConnectionsFile, value, source);
    if (!res.ok) throw new ConfigError(sortIssues([...issues, ...res.issues]));
    // Values of unset variables are empty: checking them would only repeat the same problem.
    throwIfIssues(issues);
    for (const [name, c] of Object.entries(res.data.clusters)) {
      const p = ['clusters', name];
      raws[name] = {
        url: c.url,
        urlPath: [...p, 'url'],
        tokenId: c.token_id,
        tokenIdPath: [...p, 'token_id'],
        tokenSecret: c.token_secret,
        tokenSecretFile: c.token_secret_file,
        tokenSecretPath: [...p, c.token_secret_file !== undefined ? 'token_secret_file' : 'token_secret'],
        user: c.user,
        userPath: [...p, 'user'],
        password: c.password,
        passwordFile: c.password_file,
        passwordPath: [...p, c.password_file !== undefined ? 'password_file' : 'password'],
        tls: c.tls,
        maxInFlight: c.max_in_flight,
        consoleUrl: c.console_url,
      };
      if (c.token_secret !== undefined && c.token_secret_file !== undefined) {
        issues.push(issueAt(source, [...p, 'token_secret_file'], 'give token_secret or token_secret_file, not both'));
      }
      if (c.password !== undefined && c.password_file !== undefined) {
        issues.push(issueAt(source, [...p, 'password_file'], 'give password or password_file, not both'));
      }
    }
    defaultName = res.data.default;
    if (defaultName !== undefined && !(defaultName in raws)) {
      issues.push(
        issueAt(source, ['default'], `no cluster named "${defaultName}" (known: ${Object.keys(raws).join(', ') || 'none'})`),
      );
    }
  } else {
    // `cluster:` or `Clusters:` would otherwise read as a seed-format cluster of that name.
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        // a seed cluster has `host`; a misspelt `clusters:` holds clusters instead
        const holdsClusters = v !== null && typeof v === 'object' && !('host' in v);
        const hint = holdsClusters ? suggest(k, ['clusters']) : undefined;
        if (hint) throw new ConfigError(issueAt(source, [k], `unknown key (did you mean "${hint}"?)`));
      }
    }
    const res = validate(SeedConnectionsFile, value, source);
    if (!res.ok) throw new ConfigError(sortIssues([...issues, ...res.issues]));
    throwIfIssues(issues);
    for (const [name, c] of Object.entries(res.data)) {
      const r = fromSeed(name, c, source, issues, secrets);
      if (r) raws[name] = r;
    }
  }
  if (Object.keys(raws).length === 0 && issues.length === 0) {
    issues.push({ file, line: 1, path: own ? 'clusters' : undefined, message: 'no clusters defined' });
  }

  const clusters: Record<string, ClusterConfig> = {};
  const baseDir = dirname(resolve(file));
  for (const [name, r] of Object.entries(raws)) {
    const c = await finishCluster(name, r, source, baseDir, issues, own ? ['clusters', name] : [name], secrets);
    if (c) clusters[name] = c;
  }
  throwIfIssues(issues);
  return { clusters, default: defaultName ?? Object.keys(clusters)[0]!, file };
}

function fromSeed(name: string, c: SeedConnectionsFile[string], source: YamlSource, issues: InputIssue[], secrets = true): RawCluster | undefined {
  const p = [name];
  // `host: "ip:8006"` (design document) or `host` + `port` (lazy_teacher); an https:// prefix is tolerated.
  let host = c.host.trim().replace(/^https:\/\//i, '').replace(/\/+$/, '');
  if (/^http:\/\//i.test(host)) {
    issues.push(issueAt(source, [...p, 'host'], 'the Proxmox API is only spoken over https://'));
    return undefined;
  }
  const hasPort = /:\d+$/.test(host) && !/^\[[^\]]*\]$/.test(host);
  if (c.port !== undefined) {
    if (hasPort) {
      issues.push(issueAt(source, [...p, 'port'], 'the port is given twice (in host and in port)'));
      return undefined;
    }
    host = `${host}:${c.port}`;
  } else if (!hasPort) host = `${host}:${DEFAULT_PVE_PORT}`;

  if (c.user !== undefined && c.login !== undefined) {
    issues.push(issueAt(source, [...p, 'login'], 'give user or login, not both'));
  }
  const user = c.user ?? c.login;
  const userPath = [...p, c.user !== undefined ? 'user' : 'login'];
  const r: RawCluster = {
    url: `https://${host}`,
    urlPath: [...p, 'host'],
    tokenSecretPath: [...p, 'token_value'],
    passwordPath: [...p, c.password_file !== undefined ? 'password_file' : 'password'],
    password: c.password,
    passwordFile: c.password_file,
    tls: c.tls,
    maxInFlight: c.max_in_flight,
    consoleUrl: c.console_url,
  };
  if (c.verify_ssl === false) r.insecureFromSeed = true;

  if (c.token !== undefined) {
    // lazy_teacher: `token` is `user@realm!name=secret` (PVE's header form), `name=secret` with `login`, or a
    // bare secret with `login: user@realm!name`.
    const eq = c.token.indexOf('=');
    r.tokenSecretPath = [...p, 'token'];
    r.tokenIdPath = [...p, 'token'];
    if (eq >= 0) {
      const idPart = c.token.slice(0, eq);
      r.tokenSecret = c.token.slice(eq + 1);
      if (idPart.includes('!')) r.tokenId = idPart;
      else if (user && !user.includes('!')) r.tokenId = `${user}!${idPart}`;
      else {
        issues.push(issueAt(source, [...p, 'token'], 'a token "name=secret" needs login: user@realm'));
        return undefined;
      }
    } else if (user?.includes('!')) {
      r.tokenId = user;
      r.tokenIdPath = userPath;
      r.tokenSecret = c.token;
    } else {
      issues.push(
        issueAt(source, [...p, 'token'], 'cannot tell the token id: write token as "user@realm!name=secret", or set login: user@realm!name'),
      );
      return undefined;
    }
    if (user && !user.includes('!')) {
      r.user = user;
      r.userPath = userPath;
    }
    return r;
  }

  if (c.use_token === true) {
    if (!user) {
      issues.push(issueAt(source, [...p], 'use_token: true needs user (the token owner, e.g. root@pam)'));
      return undefined;
    }
    if (c.token_name === undefined) {
      issues.push(issueAt(source, [...p, 'token_name'], 'required key is missing (use_token is true)'));
      return undefined;
    }
    if (c.token_value === undefined && c.token_value_file === undefined && secrets) {
      issues.push(issueAt(source, [...p, 'token_value'], 'required key is missing (use_token is true)'));
      return undefined;
    }
    r.tokenId = `${user}!${c.token_name}`;
    r.tokenIdPath = [...p, 'token_name'];
    r.tokenSecret = c.token_value;
    r.tokenSecretFile = c.token_value_file;
    r.tokenSecretPath = [...p, c.token_value_file !== undefined ? 'token_value_file' : 'token_value'];
    // The design document kept the user's password next to the token; keep it for ticket-only operations.
    if (c.password !== undefined || c.password_file !== undefined) {
      r.user = user;
      r.userPath = userPath;
    }
    return r;
  }
  if (c.token_name !== undefined || c.token_value !== undefined) {
    issues.push(issueAt(source, [...p, c.token_name !== undefined ? 'token_name' : 'token_value'], 'set use_token: true to use the API token'));
    return undefined;
  }
  r.user = user;
  r.userPath = userPath;
  return r;
}

async function readSecretFile(
  path: string,
  baseDir: string,
  source: YamlSource,
  keyPath: PropertyKey[],
  issues: InputIssue[],
): Promise<string | undefined> {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    const text = (await readFile(abs, 'utf8')).replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
    if (text.trim() === '') {
      issues.push(issueAt(source, keyPath, `${path}: the file is empty`));
      return undefined;
    }
    return text;
  } catch (err) {
    issues.push(issueAt(source, keyPath, `${path}: ${describeFsError(err)}`));
    return undefined;
  }
}

async function finishCluster(
  name: string,
  r: RawCluster,
  source: YamlSource,
  baseDir: string,
  issues: InputIssue[],
  p: PropertyKey[],
  secrets = true,
): Promise<ClusterConfig | undefined> {
  const before = issues.length;
  const url = normalizeUrl(r.url ?? '');
  if ('error' in url) issues.push(issueAt(source, r.urlPath, url.error));

  let tokenSecret = r.tokenSecret;
  if (r.tokenSecretFile !== undefined) {
    tokenSecret = await readSecretFile(r.tokenSecretFile, baseDir, source, r.tokenSecretPath, issues);
  }
  let password = r.password;
  if (r.passwordFile !== undefined) {
    password = await readSecretFile(r.passwordFile, baseDir, source, r.passwordPath, issues);
  }
  if (r.tokenId !== undefined && !TOKEN_ID_RE.test(r.tokenId)) {
    issues.push(issueAt(source, r.tokenIdPath ?? p, `"${r.tokenId}" is not a token id (expected user@realm!name, e.g. stands@pve!bot)`));
  }
  if (r.user !== undefined && !USERID_RE.test(r.user)) {
    issues.push(issueAt(source, r.userPath ?? p, `"${r.user}" is not a user id (expected name@realm, e.g. root@pam)`));
  }
  if (secrets && r.tokenId !== undefined && tokenSecret === undefined && r.tokenSecretFile === undefined) {
    issues.push(issueAt(source, [...p, 'token_secret'], 'token_id is set but token_secret (or token_secret_file) is missing'));
  }
  if (r.tokenId === undefined && r.tokenSecret !== undefined) {
    issues.push(issueAt(source, r.tokenSecretPath, 'token_secret is set but token_id is missing'));
  }
  if (secrets && r.user !== undefined && password === undefined && r.passwordFile === undefined && r.tokenId === undefined) {
    issues.push(issueAt(source, [...p, 'password'], 'user is set but password (or password_file) is missing'));
  }
  if (r.user === undefined && (r.password !== undefined || r.passwordFile !== undefined)) {
    issues.push(issueAt(source, r.passwordPath, 'password is set but user is missing'));
  }
  if (r.tokenId === undefined && r.user === undefined && issues.length === before) {
    issues.push(issueAt(source, p, 'no credentials: set token_id + token_secret (preferred) or user + password'));
  }

  const tls: TlsConfig = { insecure: r.tls?.insecure === true || r.insecureFromSeed === true };
  if (r.tls?.fingerprint !== undefined) {
    const fp = normalizeFingerprint(r.tls.fingerprint);
    if (fp) tls.fingerprint = fp;
    else {
      issues.push(
        issueAt(source, [...p, 'tls', 'fingerprint'], 'expected the sha256 fingerprint: 32 hex bytes such as "AB:CD:…" (pvenode cert info)'),
      );
    }
  }
  if (r.tls?.ca !== undefined) {
    const ca = r.tls.ca.trim();
    if (ca.startsWith('-----BEGIN')) tls.caPem = ca;
    else {
      const abs = isAbsolute(ca) ? ca : resolve(baseDir, ca);
      tls.ca = abs;
      try {
        const pem = await readFile(abs, 'utf8');
        if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
          issues.push(issueAt(source, [...p, 'tls', 'ca'], `${ca}: not a PEM certificate`));
        } else tls.caPem = pem;
      } catch (err) {
        issues.push(issueAt(source, [...p, 'tls', 'ca'], `${ca}: ${describeFsError(err)}`));
      }
    }
  }
  let consoleUrl: string | undefined;
  if (r.consoleUrl !== undefined) {
    try {
      const cu = new URL(r.consoleUrl);
      if (cu.protocol !== 'https:' && cu.protocol !== 'http:') throw new Error('scheme');
      consoleUrl = r.consoleUrl.replace(/\/+$/, '');
    } catch {
      issues.push(issueAt(source, [...p, 'console_url'], `"${r.consoleUrl}" is not an http(s) URL`));
    }
  }
  if (issues.length > before || 'error' in url) return undefined;
  const c: ClusterConfig = { name, url: url.url, tls, maxInFlight: r.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT };
  if (r.tokenId !== undefined) {
    c.tokenId = r.tokenId;
    c.tokenSecret = tokenSecret;
  }
  if (r.user !== undefined && (password !== undefined || !secrets)) {
    c.user = r.user;
    c.password = password;
  }
  if (consoleUrl !== undefined) c.consoleUrl = consoleUrl;
  return c;
}

/** The cluster to use: the named one, or the file's default. */
export function pickCluster(connections: Connections, name?: string): ClusterConfig {
  const n = name ?? connections.default;
  const c = connections.clusters[n];
  if (!c) {
    throw new ConfigError({
      file: connections.file,
      message: `no cluster named "${n}" (known: ${Object.keys(connections.clusters).join(', ')})`,
    });
  }
  return c;
}
