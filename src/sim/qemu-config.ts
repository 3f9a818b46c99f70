/** Parsing and printing of the qemu config values the simulator interprets (netN, disks, tags). */
import type { Rng } from './rng.js';
import { newMac } from './rng.js';

export type VmConfig = Record<string, string | number>;

export const NIC_MODELS = [
  'e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er',
  'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3',
];
const MODEL_SET = new Set(NIC_MODELS);

export interface Nic {
  model: string;
  mac?: string;
  bridge?: string;
  tag?: number;
  /** other keys, kept in order (firewall, link_down, mtu, queues, rate, trunks) */
  rest: [string, string][];
}

export function parseNet(value: string): Nic {
  const nic: Nic = { model: 'virtio', rest: [] };
  for (const part of value.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? undefined : part.slice(eq + 1);
    if (MODEL_SET.has(k)) {
      nic.model = k;
      if (v) nic.mac = v.toUpperCase();
    } else if (k === 'model' && v) nic.model = v;
    else if (k === 'macaddr' && v) nic.mac = v.toUpperCase();
    else if (k === 'bridge' && v) nic.bridge = v;
    else if (k === 'tag' && v) nic.tag = Number(v);
    else if (v !== undefined) nic.rest.push([k, v]);
  }
  return nic;
}

/** PVE prints the MAC on the model key: `virtio=BC:24:11:…,bridge=vmbr0,tag=100`. */
export function formatNet(nic: Nic): string {
  const parts = [nic.mac ? `${nic.model}=${nic.mac}` : nic.model];
  if (nic.bridge) parts.push(`bridge=${nic.bridge}`);
  for (const [k, v] of nic.rest.filter(([k]) => k === 'firewall')) parts.push(`${k}=${v}`);
  for (const [k, v] of nic.rest.filter(([k]) => k === 'link_down')) parts.push(`${k}=${v}`);
  for (const [k, v] of nic.rest.filter(([k]) => k !== 'firewall' && k !== 'link_down')) parts.push(`${k}=${v}`);
  if (nic.tag !== undefined) parts.push(`tag=${nic.tag}`);
  return parts.join(',');
}

/** A netK written without a MAC gets a fresh one; with one, it keeps it (qemu-server parse_net + fill MAC). */
export function normalizeNet(value: string, rng: Rng): string {
  const nic = parseNet(value);
  if (!nic.mac) nic.mac = newMac(rng);
  return formatNet(nic);
}

export const NET_KEY = /^net(\d+)$/;
export const DISK_KEY = /^(scsi|virtio|sata|ide|efidisk|tpmstate)(\d+)$/;

export interface Disk {
  key: string;
  storage: string;
  volname: string;
  sizeGiB: number;
}

export function parseSize(s: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s ?? '');
  if (!m) return 0;
  const n = Number(m[1]);
  return { K: n / 1024 / 1024, M: n / 1024, G: n, T: n * 1024, '': n / 1024 ** 3 }[m[2] as 'K' | 'M' | 'G' | 'T' | '']!;
}

export function disksOf(config: VmConfig): Disk[] {
  const out: Disk[] = [];
  for (const [key, raw] of Object.entries(config)) {
    if (!DISK_KEY.test(key)) continue;
    const value = String(raw);
    if (/(^|,)media=cdrom(,|$)/.test(value) || value.startsWith('none')) continue;
    const first = value.split(',')[0]!;
    const colon = first.indexOf(':');
    if (colon < 0) continue;
    const size = /(?:^|,)size=([^,]+)/.exec(value)?.[1];
    out.push({ key, storage: first.slice(0, colon), volname: first.slice(colon + 1), sizeGiB: parseSize(size) });
  }
  return out;
}

/** A `media=cdrom` drive: an ISO, the host drive (`cdrom`) or a cloud-init volume. `none` (ejected) is left out. */
export interface Cdrom {
  key: string;
  /** `storage:volname`, or `cdrom` for the host's drive */
  volid: string;
  storage?: string;
  volname?: string;
  /** qemu-server Drive.pm drive_is_cloudinit: the volume is named `[vm-N-]cloudinit[.fmt]` */
  cloudinit: boolean;
}

export function cdromsOf(config: VmConfig): Cdrom[] {
  const out: Cdrom[] = [];
  for (const [key, raw] of Object.entries(config)) {
    if (!DISK_KEY.test(key)) continue;
    const value = String(raw);
    if (!/(^|,)media=cdrom(,|$)/.test(value)) continue;
    const volid = value.split(',')[0]!;
    if (volid === 'none' || volid === '' || volid.startsWith('media=')) continue;
    const colon = volid.indexOf(':');
    const cloudinit = /[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|cow|qcow|qcow2|qed|vmdk|cloop))?$/.test(volid);
    out.push({ key, volid, ...(colon > 0 ? { storage: volid.slice(0, colon), volname: volid.slice(colon + 1) } : {}), cloudinit });
  }
  return out;
}

export const formatSize = (gib: number): string => (Number.isInteger(gib) ? `${gib}G` : `${Math.round(gib * 1024)}M`);

/**
 * Tags as PVE stores them (pve-guest-common src/PVE/GuestHelpers.pm get_unique_tags, called by qemu-server
 * PVE/API2/Qemu.pm on create and update): split on `,` `;` and spaces (PVE::Tools::split_list), then, with the
 * default datacenter.cfg `tag-style` (not case-sensitive, ordering by name), lowercased, sorted and deduplicated,
 * joined with `;`.
 */
export function normalizeTags(value: string): string {
  const tags = value.split(/[;,\s\0]+/).filter(Boolean).map((t) => t.toLowerCase());
  return [...new Set(tags)].sort().join(';');
}
