/**
 * The network alias grammar of a profile's `networks:` list (and of the seed's `bridge:` values), one entry per
 * NIC in order:
 *   `**<bridge>`     an existing bridge, used as is (e.g. `**vmbr0`)
 *   `<alias>`        a private segment of this stand (`[a-z][a-z0-9-]*`)
 *   `<alias>.<N>`    the same segment, the NIC tagged with VLAN N (1–4094)
 * Anything else is an error. Pure: the engine reuses it.
 */

export type NetworkRef = { kind: 'bridge'; bridge: string } | { kind: 'segment'; alias: string; vlan?: number };

export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;
/** Aliases end up in bridge comments and SDN VNet names; keep them short. */
export const ALIAS_MAX_LENGTH = 32;
/** Linux interface names: IFNAMSIZ is 16 bytes with the terminating NUL. */
export const BRIDGE_NAME_MAX_LENGTH = 15;

const ALIAS_RE = /^[a-z][a-z0-9-]*$/;
const BRIDGE_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export type NetworkAliasResult = { ok: true; ref: NetworkRef } | { ok: false; message: string };

export function parseNetworkAlias(text: string): NetworkAliasResult {
  const quoted = JSON.stringify(text);
  if (text.startsWith('**')) {
    const bridge = text.slice(2);
    if (bridge === '') return { ok: false, message: `${quoted}: "**" must be followed by a bridge name, e.g. "**vmbr0"` };
    if (!BRIDGE_RE.test(bridge)) {
      return {
        ok: false,
        message: `${quoted}: "${bridge}" is not a valid bridge name (a letter, then letters, digits, "_", "." or "-")`,
      };
    }
    if (bridge.length > BRIDGE_NAME_MAX_LENGTH) {
      return { ok: false, message: `${quoted}: bridge name is longer than ${BRIDGE_NAME_MAX_LENGTH} characters` };
    }
    return { ok: true, ref: { kind: 'bridge', bridge } };
  }
  const dot = text.indexOf('.');
  const alias = dot < 0 ? text : text.slice(0, dot);
  if (!ALIAS_RE.test(alias)) {
    return {
      ok: false,
      message:
        `${quoted} is not a network alias: expected "**<bridge>", "<alias>" or "<alias>.<vlan>", ` +
        'where an alias is a lowercase letter followed by lowercase letters, digits or "-"',
    };
  }
  if (alias.length > ALIAS_MAX_LENGTH) {
    return { ok: false, message: `${quoted}: alias is longer than ${ALIAS_MAX_LENGTH} characters` };
  }
  if (dot < 0) return { ok: true, ref: { kind: 'segment', alias } };
  const vlanText = text.slice(dot + 1);
  if (!/^[0-9]+$/.test(vlanText)) {
    return { ok: false, message: `${quoted}: VLAN "${vlanText}" is not a number (expected ${VLAN_MIN}–${VLAN_MAX})` };
  }
  const vlan = Number(vlanText);
  if (vlan < VLAN_MIN || vlan > VLAN_MAX) {
    return { ok: false, message: `${quoted}: VLAN ${vlanText} is out of range (expected ${VLAN_MIN}–${VLAN_MAX})` };
  }
  return { ok: true, ref: { kind: 'segment', alias, vlan } };
}

/** The alias text of a reference (inverse of `parseNetworkAlias`). */
export function formatNetworkRef(ref: NetworkRef): string {
  if (ref.kind === 'bridge') return `**${ref.bridge}`;
  return ref.vlan === undefined ? ref.alias : `${ref.alias}.${ref.vlan}`;
}
