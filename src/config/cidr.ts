/**
 * IPv4/IPv6 addresses and CIDRs as Proxmox firewall IPSets store them: host bits must be clear, a zero prefix is
 * refused, and a full-length prefix (/32, /128) is written as the bare address (pve-firewall Firewall.pm
 * `parse_ip_or_cidr`, `clean_cidr`). `normalizeCidr` returns the form PVE shows when it reads the entry back, so
 * entries can be compared with what is on the cluster.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type CidrResult = { ok: true; cidr: string; version: 4 | 6 } | { ok: false; message: string };

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
function v6ToBig(a: string): bigint {
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) + BigInt(Number.parseInt(g || '0', 16)), 0n);
}
function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16));
  // the canonical compressed form (RFC 5952), as the URL parser writes it
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/** Parse `a.b.c.d[/n]` or an IPv6 address with an optional prefix, refusing what PVE would refuse. */
export function parseCidr(text: string): CidrResult {
  const s = text.trim();
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(s);
  if (!m) return { ok: false, message: `"${text}" is not an address or CIDR (e.g. 192.168.10.0/24)` };
  const addr = m[1]!;
  const version = isIPv4(addr) ? 4 : isIPv6(addr) && !addr.includes('.') ? 6 : 0;
  if (!version) return { ok: false, message: `"${text}" is not an IPv4/IPv6 address or CIDR (e.g. 192.168.10.0/24)` };
  const bits = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix < 1 || prefix > bits) return { ok: false, message: `"${text}": the prefix must be 1–${bits} (Proxmox IPSets refuse /0)` };
  if (version === 4) {
    const n = v4ToInt(addr);
    const size = 2 ** (32 - prefix);
    const net = Math.floor(n / size) * size;
    if (net !== n) return { ok: false, message: `"${text}" has host bits set (did you mean ${intToV4(net)}/${prefix}?)` };
    return { ok: true, cidr: prefix === 32 ? intToV4(n) : `${intToV4(n)}/${prefix}`, version };
  }
  const n = v6ToBig(addr.toLowerCase());
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  if ((n & mask) !== n) return { ok: false, message: `"${text}" has host bits set (did you mean ${bigToV6(n & mask)}/${prefix}?)` };
  return { ok: true, cidr: prefix === 128 ? bigToV6(n) : `${bigToV6(n)}/${prefix}`, version };
}

/** The form PVE reads an IPSet entry back in; `undefined` for text that is not an address or CIDR. */
export function normalizeCidr(text: string): string | undefined {
  const r = parseCidr(text);
  return r.ok ? r.cidr : undefined;
}

/** A host address (no prefix) from `a.b.c.d` or `a.b.c.d/24` (an interface's `cidr`), normalised; else undefined. */
export function hostAddress(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const addr = text.split('/')[0]!.trim();
  return normalizeCidr(addr);
}
