/** Seeded randomness (mulberry32): fault draws, MACs, durations and background load repeat for one rngSeed. */
export interface Rng {
  next(): number;
  int(lo: number, hiExclusive: number): number;
  hex(bytes: number): string;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo)),
    hex: (bytes) => {
      let s = '';
      for (let i = 0; i < bytes; i++) s += Math.floor(next() * 256).toString(16).padStart(2, '0');
      return s.toUpperCase();
    },
  };
}

/** A new MAC with Proxmox's OUI BC:24:11 (pve-cluster DataCenterConfig.pm default mac_prefix). */
export function newMac(rng: Rng): string {
  const h = rng.hex(3);
  return `BC:24:11:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}
