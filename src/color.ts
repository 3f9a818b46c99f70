/**
 * Whether to colour output (the CLI's tables, the pretty log), by the usual conventions: FORCE_COLOR wins when
 * set (`0` or `false` turns colour off, anything else on), then NO_COLOR (any non-empty value turns it off,
 * https://no-color.org), else colour only on a terminal. Node's own `tty.getColorDepth` reads them in this order.
 */
export function colorEnabled(env: NodeJS.ProcessEnv, isTty: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !(force === '0' || force.toLowerCase() === 'false');
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTty;
}

export interface Palette {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (open: number, close: number) => (s: string): string => `\x1b[${open}m${s}\x1b[${close}m`;
const id = (s: string): string => s;

export function palette(on: boolean): Palette {
  return on
    ? { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) }
    : { green: id, red: id, yellow: id, dim: id, bold: id };
}
