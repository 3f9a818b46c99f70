/**
 * Finds English left in a Russian text: what remains once parameters (names, numbers, Proxmox's own text), quoted
 * parts («…», `…`), option names (--flag) and terms that are the same in both languages are taken out. Shared by
 * the catalogue test and the tests that run the CLI and the bot in Russian.
 */

/** Words a Russian text may carry in Latin letters: product names, units, Proxmox's own terms and option names. */
export const ALLOWED_TERMS = new Set(
  'Proxmox VE VMID VMIDs SDN TLS API vCPU ecorouter net0 vmbrN full true pve-stands group start balanced round-robin pack node IPSet VNet VNets ACCEPT DROP REJECT DHCP ACL VLAN UTC'.split(' '),
);

function flatten(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap(flatten);
  if (typeof v === 'object') return Object.values(v).flatMap(flatten);
  return [String(v)];
}

/** Every run of Latin words left (a run of one word is a candidate term; see `englishRuns`). */
export function foreignRuns(text: string, params: Record<string, unknown> | string[], allowed: Iterable<string> = []): string[] {
  let rest = text;
  // parameters (longest first), also as JSON.stringify quoted them
  const values = flatten(params)
    .filter((v) => v !== '')
    .sort((a, b) => b.length - a.length);
  for (const v of values) rest = rest.split(JSON.stringify(v)).join(' ◆ ').split(v).join(' ◆ ');
  rest = rest.replace(/«[^»]*»/g, ' ◆ ').replace(/`[^`]*`/g, ' ◆ ').replace(/--[a-z-]+/g, ' ◆ ');
  const ok = new Set([...ALLOWED_TERMS, ...allowed]);
  const words = rest.split(/[\s,.;:()–—…|/]+/).filter(Boolean);
  const runs: string[] = [];
  let run: string[] = [];
  for (const w of words) {
    if (/^[A-Za-z][A-Za-z0-9.-]*$/.test(w) && !ok.has(w)) run.push(w);
    else {
      if (run.length) runs.push(run.join(' '));
      run = [];
    }
  }
  if (run.length) runs.push(run.join(' '));
  return runs;
}

/** English prose left in a Russian text: two Latin words in a row, or one that is not a capitalised term. */
export function englishRuns(text: string, params: Record<string, unknown> | string[] = [], allowed: Iterable<string> = []): string[] {
  return foreignRuns(text, params, allowed).filter((r) => r.split(' ').length >= 2 || !/^[A-Z0-9]/.test(r));
}
