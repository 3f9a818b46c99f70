/**
 * Durations in config files and commands: `90m`, `4h`, `1h30m`, `2d`, `1w` (also `s`). Leases, warnings and
 * timeouts use them; a bare number is refused because "4" could mean hours or days.
 */
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const DURATION_RE = /^(?:\d+[smhdw])+$/;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!DURATION_RE.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total > 0 ? total : undefined;
}

export const DURATION_HINT = 'expected a duration such as "45m", "4h", "1h30m", "2d" or "1w"';
