import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { differingPixels, loadChartSvg, rasteriseChart, renderLoadChart, withoutText } from '../../src/discord/chart.js';

function series() {
  const t0 = 1_700_000_000;
  return ['pve1', 'pve2', 'pve3'].map((node, k) => ({
    node,
    points: Array.from({ length: 60 }, (_, i) => ({ t: t0 + i * 60, cpu: 0.1 + 0.1 * k + 0.05 * Math.sin(i / 5), mem: 0.3 + 0.2 * k })),
  }));
}

describe('load chart', () => {
  it('renders a PNG of the requested size with the nodes drawn in their colours', () => {
    const png = PNG.sync.read(renderLoadChart(series(), { width: 640, height: 360, title: 'CPU and memory, last hour' }));
    expect([png.width, png.height]).toEqual([640, 360]);
    const colours = new Set<string>();
    let nonWhite = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
      if (r < 250 || g < 250 || b < 250) nonWhite++;
      colours.add(`${r >> 4},${g >> 4},${b >> 4}`);
    }
    // not blank: a real share of the pixels is drawn, in many colours (three node lines, grid, text)
    expect(nonWhite / (png.width * png.height)).toBeGreaterThan(0.02);
    expect(colours.size).toBeGreaterThan(10);
    // the first node's line colour (#1e88e5) is present
    let blue = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === 0x1e && png.data[i + 1] === 0x88 && png.data[i + 2] === 0xe5) blue++;
    expect(blue).toBeGreaterThan(50);
  });

  it('draws its labels with the shipped font (Latin and Cyrillic), not the host\'s fonts', () => {
    for (const title of ['CPU and memory, last hour', 'ЦП и память за последний час']) {
      const svg = loadChartSvg(series(), { width: 640, height: 360, title });
      const bare = withoutText(svg);
      expect(bare).not.toContain('<text');
      // every label removed changes what is drawn: title, 6 axis labels, 2 panel names, 3 legend entries
      const drawn = differingPixels(rasteriseChart(svg), rasteriseChart(bare));
      expect(drawn, `pixels that differ with the labels removed (title ${title})`).toBeGreaterThan(1500);
      // the title alone is drawn: a render without it differs in the title's area
      const untitled = loadChartSvg(series(), { width: 640, height: 360 });
      expect(differingPixels(rasteriseChart(svg), rasteriseChart(untitled))).toBeGreaterThan(300);
    }
  });

  it('escapes node names in the SVG', () => {
    expect(loadChartSvg([{ node: '<pve&1>', points: [] }])).toContain('&#60;pve&#38;1&#62;');
  });

  it('renders an empty chart (no rrd data yet) without throwing', () => {
    const png = PNG.sync.read(renderLoadChart([], { width: 200, height: 120 }));
    expect(png.width).toBe(200);
  });
});
