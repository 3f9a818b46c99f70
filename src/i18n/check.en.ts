/**
 * `stands check`, in English: the verdict, its one line, what is missing, problems and notes. `check.ru.ts` is typed
 * as `CheckCatalog`. The English is byte for byte what `stands check` always printed.
 */
import { t, type Nested } from './nested.js';

export type CheckVerdictWord = 'ok' | 'unreachable' | 'tls-mismatch' | 'bad-credentials' | 'missing-privileges' | 'missing-prerequisites' | 'unsupported-version';
export type Who = { kind: 'token' | 'apiToken' | 'user'; id: string };
const who = (w: Who): string => `${w.kind === 'token' ? 'token' : w.kind === 'apiToken' ? 'API token' : 'user'} ${w.id}`;

export const checkEn = {
  'check.head': (p: { ok: boolean; cluster: string; url: string; verdict: CheckVerdictWord }) => `${p.ok ? 'OK' : 'FAILED'} ${p.cluster} (${p.url}): ${p.verdict}`,
  'check.seen': (p: { fingerprint: string }) => `seen:     ${p.fingerprint}`,
  'check.expected': (p: { what: string }) => `expected: ${p.what}`,
  'check.lacksHead': (p: { who: Who; count: number }) => `${who(p.who)} lacks ${p.count} ${p.count === 1 ? 'grant' : 'grants'}`,
  'check.missing': (p: { what: string }) => `missing ${p.what}`,
  'check.pveumHint': () => 'the per-path pveum commands: README, "Proxmox set-up"',
  'check.problem': (p: { text: string }) => `problem: ${p.text}`,
  'check.note': (p: { text: string }) => `note: ${p.text}`,
  'check.firewall': (p: { text: string }) => `datacenter firewall: ${p.text}`,
  // ---- the one line of a verdict
  'check.ok': (p: { version: string; who: Who }) => `connected to Proxmox VE ${p.version} with ${who(p.who)}`,
  'check.unsupported': (p: { cluster: string; version: string; min: string }) =>
    `cluster ${p.cluster} runs Proxmox VE ${p.version}; pve-stands needs ${p.min} or newer (the pools API changed in 8.1): upgrade the cluster`,
  'check.lacks': (p: { who: Who; count: number; list: string }) => `${who(p.who)} lacks ${p.count} ${p.count === 1 ? 'grant' : 'grants'}: ${p.list}`,
  'check.tlsMismatch': (p: { seen: string; expected: string }) => `TLS certificate fingerprint mismatch: seen ${p.seen}, expected ${p.expected}`,
  'check.tlsUntrusted': (p: { code: string; seen: string; expected: Nested; cluster: string }) =>
    `TLS certificate not trusted (${p.code}): seen ${p.seen}, expected ${t(p.expected)}; ` +
    `to trust this server, set tls.fingerprint: "${p.seen}" for cluster ${p.cluster}`,
  'check.expectedCa': () => 'a certificate signed by the configured CA',
  'check.expectedSystem': () => 'a certificate trusted by the system CAs',
  'check.unreachable': (p: { url: string; text: string }) => `cannot reach ${p.url}: ${p.text}`,
  'check.refused': (p: { who: Who; url: string; text: string }) => `${who(p.who)} was refused by ${p.url} (401 ${p.text})`,
  'check.denied': (p: { text: string }) => `permission denied: ${p.text}`,
  'check.answered': (p: { url: string; status: number; text: string }) => `${p.url} answered ${p.status} ${p.text}`,
  // ---- what is missing: a privilege on a path
  'check.priv': (p: { priv: string; path: string; flat?: string; here?: boolean }) =>
    `${p.priv} on ${p.path}` +
    (p.here ? ' (granted there without propagation; the engine works below it)' : p.flat ? ` (granted on ${p.flat} without propagation)` : ''),
  // ---- problems and notes
  'check.privsNotVerified': (p: { text: string }) => `privileges not verified: the server does not implement GET /access/permissions (${p.text})`,
  'check.roleMissing': (p: { role: string; command: string }) =>
    `role ${p.role} does not exist and the API token may not create roles (that takes Sys.Modify on /access): create it once with: ${p.command}`,
  'check.realmMissing': (p: { realm: string }) => `realm ${p.realm} does not exist on the cluster`,
  'check.realmType': (p: { realm: string; type: string }) =>
    `realm ${p.realm} is of type ${p.type}: Proxmox takes passwords only for pve and pam users, so stands cannot set student passwords there`,
  'check.noIfupdown2': (p: { node: string }) => `node ${p.node}: ifupdown2 is not installed, so Proxmox cannot apply the stands' bridges (apt install ifupdown2)`,
  'check.ifupdown2Unverified': (p: { node: string; status: number; text: string }) => `node ${p.node}: ifupdown2 not verified (${p.status} ${p.text})`,
  // ---- the datacenter firewall
  'check.fwOn': () => 'on: profiles with isolation: stand can be deployed',
  'check.fwOff': () => 'off: profiles with isolation: stand are refused until an admin enables it (README, "Isolation")',
  'check.fwUnread': (p: { status: number; text: string }) => `not read (${p.status} ${p.text}): profiles with isolation: stand are refused`,
};

export type CheckCatalog = { [K in keyof typeof checkEn]: (typeof checkEn)[K] };
