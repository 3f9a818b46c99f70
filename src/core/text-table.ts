/**
 * Plain-text tables that fit a terminal: columns separated by two spaces, a header line, no borders and no
 * separator lines between rows. Widths are display widths (a Cyrillic letter is one column, a CJK ideograph or
 * an emoji two, a combining mark none; ANSI colour codes none), so a class list in any script lines up.
 *
 * When the natural width exceeds the terminal, the columns marked `shrink` give way first (the widest first):
 * `truncate` cuts a cell with "…", `wrap` continues it on the next lines. A row stays one line unless a cell
 * wraps or holds a newline.
 */

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const ZERO_WIDTH_RE = /^(?:\p{Mark}|\p{Default_Ignorable_Code_Point}|\p{Control})+$/u;
const EMOJI_RE = /\p{Extended_Pictographic}/u;

/** East Asian Wide and Fullwidth ranges (Unicode 15, UAX #11), the ones a class list can meet. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xa960 && cp <= 0xa97f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe10 && cp <= 0xfe19) ||
    (cp >= 0xfe30 && cp <= 0xfe6f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function graphemeWidth(g: string): number {
  if (ZERO_WIDTH_RE.test(g)) return 0;
  const cp = g.codePointAt(0) ?? 0;
  if (isWide(cp)) return 2;
  // an emoji sequence (ZWJ, variation selector 16) is drawn two columns wide
  if (EMOJI_RE.test(g) && (g.includes('\u200d') || g.includes('\ufe0f'))) return 2;
  return 1;
}

export function stripAnsi(s: string): string {
  return s.replace(ANSI_RE, '');
}

/** Columns the text takes on a terminal. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const { segment } of segmenter.segment(stripAnsi(s))) w += graphemeWidth(segment);
  return w;
}

/** Cuts plain text to `width` columns, ending with "…" when something was cut. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const { segment } of segmenter.segment(stripAnsi(s))) {
    const gw = graphemeWidth(segment);
    if (w + gw > width - 1) break;
    out += segment;
    w += gw;
  }
  return `${out}…`;
}

/** Splits plain text into lines of at most `width` columns, at spaces where it can. */
export function wrap(s: string, width: number): string[] {
  if (width <= 0) return [''];
  const out: string[] = [];
  for (const para of s.split('\n')) {
    let line = '';
    for (const word of para.split(/(?<= )/)) {
      if (displayWidth(line + word.trimEnd()) <= width) {
        line += word;
        continue;
      }
      if (line.trim() !== '') out.push(line.trimEnd());
      line = '';
      let rest = word;
      while (displayWidth(rest.trimEnd()) > width) {
        let piece = '';
        let w = 0;
        for (const { segment } of segmenter.segment(rest)) {
          const gw = graphemeWidth(segment);
          if (w + gw > width) break;
          piece += segment;
          w += gw;
        }
        if (piece === '') break;
        out.push(piece);
        rest = rest.slice(piece.length);
      }
      line = rest;
    }
    out.push(line.trimEnd());
  }
  return out;
}

export interface Column {
  head: string;
  /** Gives way when the table is too wide: `truncate` ends the cell with "…", `wrap` continues below. */
  shrink?: 'truncate' | 'wrap';
  /** Gives way before the other shrinkable columns (down to its minimum). */
  first?: boolean;
  /** Narrowest width it is shrunk to (default: the header's width, at most 12). */
  min?: number;
  align?: 'left' | 'right';
  /** Colour for a cell, applied after fitting (the text passed in is already cut to width). */
  paint?: (text: string, value: string) => string;
}

export interface TableOptions {
  /** The terminal's width in columns. */
  width: number;
}

const GAP = '  ';

/** Renders rows under a header so that no line is wider than `width`. */
export function renderTable(columns: Column[], rows: readonly (readonly (string | number)[])[], o: TableOptions): string {
  const cells = rows.map((r) => columns.map((_, i) => String(r[i] ?? '')));
  const natural = columns.map((c, i) =>
    Math.max(displayWidth(c.head), ...cells.map((r) => Math.max(...r[i]!.split('\n').map(displayWidth)))),
  );
  const widths = [...natural];
  const total = (): number => widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  const minOf = (i: number): number => Math.min(natural[i]!, columns[i]!.min ?? Math.min(displayWidth(columns[i]!.head), 12));
  // shrinkable columns give way, the widest first (so a long name and a long link share the cut), each down to
  // its minimum; then, if still too wide, every column, widest first
  const shrinkable = columns.map((c, i) => (c.shrink ? i : -1)).filter((i) => i >= 0);
  for (const i of shrinkable.filter((k) => columns[k]!.first)) widths[i] = Math.max(minOf(i), widths[i]! - Math.max(0, total() - o.width));
  while (total() > o.width) {
    let widest = -1;
    for (const i of shrinkable) if (widths[i]! > minOf(i) && (widest < 0 || widths[i]! >= widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]! -= 1;
  }
  while (total() > o.width) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > 1 && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]! -= 1;
  }

  const pad = (text: string, i: number): string => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - displayWidth(text)));
    return columns[i]!.align === 'right' ? fill + text : text + fill;
  };
  const lines: string[] = [];
  const emit = (row: string[], head: boolean): void => {
    const parts = row.map((value, i) => {
      const w = widths[i]!;
      const c = columns[i]!;
      const text = head ? value : stripAnsi(value);
      return c.shrink === 'wrap' && !head ? wrap(text, w) : text.split('\n').map((l) => truncate(l, w));
    });
    const height = Math.max(...parts.map((p) => p.length));
    for (let k = 0; k < height; k++) {
      const line = parts
        .map((p, i) => {
          const text = p[k] ?? '';
          const padded = pad(text, i);
          const paint = columns[i]!.paint;
          return !head && paint && text !== '' ? padded.replace(text, paint(text, row[i]!)) : padded;
        })
        .join(GAP)
        .trimEnd();
      lines.push(displayWidth(line) > o.width ? truncate(line, o.width) : line);
    }
  };
  emit(columns.map((c) => c.head), true);
  for (const r of cells) emit(r, false);
  return lines.join('\n');
}

/** Compresses VMIDs: [101,102,103,105] → "101–103, 105". */
export function compactIds(ids: readonly number[]): string {
  const s = [...new Set(ids)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? `${s[i]}` : j === i + 1 ? `${s[i]}, ${s[j]}` : `${s[i]}–${s[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/**
 * Wraps every line of `text` wider than `width` at spaces; continuation lines keep the line's indent plus two
 * spaces. Lines that fit (tables rendered for this width) are left as they are.
 */
export function fitText(text: string, width: number): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (displayWidth(line) <= width) {
      out.push(line);
      continue;
    }
    const indent = /^ */.exec(line)![0];
    const more = `${indent}  `;
    const [first = '', ...rest] = wrap(line.slice(indent.length), Math.max(1, width - indent.length));
    out.push(indent + first);
    // the continuation is re-wrapped at the narrower width
    const tail = rest.join(' ');
    if (tail) for (const l of wrap(tail, Math.max(1, width - more.length))) out.push(more + l);
  }
  return out.join('\n');
}
