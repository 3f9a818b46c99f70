export const MIN_PVE_VERSION = { major: 8, minor: 1 } as const;

/** 'pve-manager/9.1.2/…' or '9.1.2' or '8.1' → { major, minor } */
export function parsePveVersion(v: string): { major: number; minor: number } | undefined {
  const m = /(\d+)\.(\d+)/.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function isSupportedVersion(v: string): boolean {
  const p = parsePveVersion(v);
  if (!p) return false;
  return p.major > MIN_PVE_VERSION.major || (p.major === MIN_PVE_VERSION.major && p.minor >= MIN_PVE_VERSION.minor);
}

export function unsupportedVersionMessage(cluster: string, version: string): string {
  return (
    `cluster ${cluster} runs Proxmox VE ${version}; pve-stands needs ${MIN_PVE_VERSION.major}.${MIN_PVE_VERSION.minor} ` +
    `or newer (the pools API changed in 8.1): upgrade the cluster`
  );
}
