/**
 * The /status chart: nodes' CPU and memory over the last hour, drawn as an SVG string and rasterised in-process
 * with @resvg/resvg-js (no browser, no canvas build). Text is drawn with the font shipped next to this file
 * (fonts/DejaVuSans.ttf, licence in fonts/LICENSE; Latin and Cyrillic), never the host's fonts: a slim container
 * image has none.
 */
import { Resvg, type RenderedImage } from '@resvg/resvg-js';
import { fileURLToPath } from 'node:url';

/** The chart's font: copied to dist/src/discord/fonts by `npm run build`. */
export const CHART_FONT_FILE = fileURLToPath(new URL('./fonts/DejaVuSans.ttf', import.meta.url));

export interface ChartPoint {
  /** Epoch seconds. */
  t: number;
  /** 0..1 */
  cpu: number;
  /** 0..1 */
  mem: number;
}

export interface ChartSeries {
  node: string;
  points: ChartPoint[];
}

const COLORS = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00acc1', '#6d4c41', '#546e7a'];

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  labels?: { cpu: string; memory: string };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function loadChartSvg(series: ChartSeries[], o: ChartOptions = {}): string {
  const W = o.width ?? 800;
  const H = o.height ?? 420;
  const labels = o.labels ?? { cpu: 'CPU', memory: 'Memory' };
  const pad = { l: 48, r: 150, t: 36, b: 24 };
  const gap = 28;
  const panelH = (H - pad.t - pad.b - gap) / 2;
  const plotW = W - pad.l - pad.r;
  const all = series.flatMap((s) => s.points.map((p) => p.t));
  const t1 = all.length ? Math.max(...all) : 3600;
  const t0 = all.length ? Math.min(...all, t1 - 3600) : 0;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => pad.l + ((t - t0) / span) * plotW;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  if (o.title) parts.push(`<text x="${pad.l}" y="22" font-family="sans-serif" font-size="16" fill="#222">${esc(o.title)}</text>`);
  (['cpu', 'mem'] as const).forEach((key, panel) => {
    const top = pad.t + panel * (panelH + gap);
    const y = (v: number) => top + panelH - Math.min(1, Math.max(0, v)) * panelH;
    parts.push(`<rect x="${pad.l}" y="${top}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#bbb"/>`);
    for (const g of [0.25, 0.5, 0.75]) {
      parts.push(`<line x1="${pad.l}" x2="${pad.l + plotW}" y1="${y(g)}" y2="${y(g)}" stroke="#e0e0e0"/>`);
    }
    for (const g of [0, 0.5, 1]) {
      parts.push(`<text x="${pad.l - 6}" y="${y(g) + 4}" text-anchor="end" font-family="sans-serif" font-size="11" fill="#555">${g * 100}%</text>`);
    }
    parts.push(`<text x="${pad.l + 6}" y="${top + 14}" font-family="sans-serif" font-size="12" fill="#333">${esc(key === 'cpu' ? labels.cpu : labels.memory)}</text>`);
    series.forEach((s, i) => {
      const pts = s.points
        .filter((p) => Number.isFinite(p[key]))
        .sort((a, b) => a.t - b.t)
        .map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`);
      if (pts.length === 1) pts.push(pts[0]!.replace(/^[^,]+/, (v) => String(Number(v) + 2)));
      if (pts.length) {
        parts.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`);
      }
    });
  });
  series.forEach((s, i) => {
    const ly = pad.t + 10 + i * 18;
    parts.push(`<rect x="${W - pad.r + 12}" y="${ly - 9}" width="14" height="4" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${W - pad.r + 32}" y="${ly - 3}" font-family="sans-serif" font-size="12" fill="#222">${esc(s.node)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

export function renderLoadChart(series: ChartSeries[], o: ChartOptions = {}): Buffer {
  return Buffer.from(rasteriseChart(loadChartSvg(series, o)).asPng());
}

/** SVG → image with the shipped font only (`sans-serif` in the SVG maps to it). */
export function rasteriseChart(svg: string): RenderedImage {
  const font = {
    loadSystemFonts: false,
    fontFiles: [CHART_FONT_FILE],
    defaultFontFamily: 'DejaVu Sans',
    sansSerifFamily: 'DejaVu Sans',
  };
  return new Resvg(svg, { font }).render();
}

/** The same SVG without its text, to show that text is drawn (scripts/image-check.sh, test/discord/chart.test.ts). */
export function withoutText(svg: string): string {
  return svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, '');
}

/** How many pixels differ between two renders of the same size. */
export function differingPixels(a: RenderedImage, b: RenderedImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error('renders differ in size');
  const pa = a.pixels;
  const pb = b.pixels;
  let n = 0;
  for (let i = 0; i < pa.length; i += 4) {
    if (pa[i] !== pb[i] || pa[i + 1] !== pb[i + 1] || pa[i + 2] !== pb[i + 2] || pa[i + 3] !== pb[i + 3]) n++;
  }
  return n;
}
