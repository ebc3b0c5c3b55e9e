import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, lineChart, tensorToRgbaGrid } from '../../src/index.js';
import {
  barChart,
  colormap,
  escapeXml,
  heatMap,
  labelledGridSvg,
  niceTicks,
  toRgbaGrid,
} from '../../src/internal.js';
import { expectNoLeak } from '../helpers.js';
import { checkXml } from './xml.js';

describe('checkXml (the test oracle itself)', () => {
  it('accepts well-formed and rejects malformed markup', () => {
    expect(checkXml('<svg a="1"><g><rect/></g></svg>')).toEqual(['svg', 'g', 'rect']);
    expect(() => checkXml('<svg><g></svg>')).toThrow();
    expect(() => checkXml('<svg>a < b</svg>')).toThrow();
    expect(() => checkXml('<svg>a & b</svg>')).toThrow();
    expect(() => checkXml('<svg a=1></svg>')).toThrow();
  });
});

describe('lineChart', () => {
  it('draws every series, error bars, a legend and escaped labels as well-formed SVG', () => {
    const svg = lineChart({
      title: 'acc <train & test>',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: [
        { name: 'train', x: [1, 2, 3], y: [0.5, 0.8, 0.9] },
        {
          name: 'test "held out"',
          x: [1, 2, 3],
          y: [0.4, Number.NaN, 0.85],
          err: [0.05, 0, 0.02],
          dashed: true,
        },
      ],
    });
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(names.filter((n) => n === 'circle')).toHaveLength(5); // NaN point skipped
    expect(svg).toContain('acc &lt;train &amp; test&gt;');
    expect(svg).toContain('test &quot;held out&quot;');
    expect(svg).toContain('stroke-dasharray');
    // Two error bars (the zero one is not drawn) + two series lines = four paths.
    expect(names.filter((n) => n === 'path')).toHaveLength(4);
  });

  it('places points on the scale: larger y is higher up', () => {
    const svg = lineChart({ series: [{ name: 'a', x: [0, 1], y: [0, 1] }], yMin: 0, yMax: 1 });
    const cy = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(cy[1]).toBeLessThan(cy[0]);
  });

  it('rejects mismatched arrays', () => {
    expect(() => lineChart({ series: [{ name: 'a', x: [1, 2], y: [1] }] })).toThrow(/options.series\[0\]/);
    expect(() => lineChart({ series: [] })).toThrow(InvalidArgumentError);
    expect(() => lineChart({ series: [{ name: 'a', x: [1], y: [1], err: [1, 2] }] })).toThrow(/err/);
  });
});

describe('barChart and heatMap', () => {
  it('draws one bar per series and category', () => {
    const svg = barChart({
      categories: ['a', 'b', 'c'],
      series: [
        { name: 's1', values: [1, 2, 3], err: [0.1, 0.2, 0.3] },
        { name: 's2', values: [3, 2, -1] },
      ],
      title: 'bars',
    });
    expect(checkXml(svg).filter((n) => n === 'rect')).toHaveLength(1 + 6 + 1); // background, bars, legend box
    expect(() => barChart({ categories: ['a'], series: [{ name: 's', values: [1, 2] }] })).toThrow(
      /1 values/,
    );
  });

  it('colours every cell, outlines blocks and rejects blocks outside the matrix', () => {
    const values = [
      [1, 0.2, 0],
      [0.2, 1, 0],
      [0, 0, 1],
    ];
    const svg = heatMap({
      values,
      rowLabels: ['a', 'b', 'c'],
      colLabels: ['a', 'b', 'c'],
      blocks: [
        { start: 0, end: 2, label: 'cluster' },
        { rows: [2, 3], cols: [2, 3] },
      ],
      showValues: true,
      title: 'sim',
    });
    const names = checkXml(svg);
    expect(svg.match(/stroke="#ff2d55"/g)).toHaveLength(2);
    // 1 background + 9 cells + 2 blocks + 20 colour-bar steps
    expect(names.filter((n) => n === 'rect')).toHaveLength(32);
    expect(svg).toContain(`fill="#fde725"`); // value 1 = viridis top
    expect(() => heatMap({ values, blocks: [{ start: 2, end: 4 }] })).toThrow(/options.blocks\[0\]/);
    expect(() => heatMap({ values: [[1, 2], [3]] })).toThrow(/options.values\[1\]/);
  });
});

describe('helpers', () => {
  it('makes round ticks covering the range, escapes text and interpolates colour maps', () => {
    expect(niceTicks(0, 0.97, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 7, 6)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(escapeXml(`<a href='x'>&</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
    expect(colormap('greys', 0.5)).toEqual([128, 128, 128]);
    expect(colormap('diverging', 0.5)).toEqual([247, 247, 247]);
    expect(colormap('viridis', 0)).toEqual([68, 1, 84]);
  });
});

describe('toRgbaGrid', () => {
  it('lays tiles out with padding, normalises per tile and upscales', () => {
    // Two 2x2 grey tiles: [0, 1, 2, 3] and [10, 10, 10, 20].
    const grid = toRgbaGrid(
      { data: [0, 1, 2, 3, 10, 10, 10, 20], count: 2, height: 2, width: 2, channels: 1 },
      { cols: 2, pad: 1, scale: 2 },
    );
    expect([grid.width, grid.height]).toEqual([1 + 2 * (4 + 1), 1 + 4 + 1]);
    expect(grid.tiles).toEqual([
      { x: 1, y: 1, width: 4, height: 4 },
      { x: 6, y: 1, width: 4, height: 4 },
    ]);
    const px = (x: number, y: number) =>
      Array.from(grid.data.slice((y * grid.width + x) * 4, (y * grid.width + x) * 4 + 4));
    expect(px(0, 0)).toEqual([255, 255, 255, 255]); // padding
    expect(px(1, 1)).toEqual([0, 0, 0, 255]); // tile 0 min -> black
    expect(px(2, 2)).toEqual([0, 0, 0, 255]); // same source pixel, upscaled
    expect(px(3, 1)).toEqual([85, 85, 85, 255]); // value 1 of 0..3 (row 0, column 1)
    expect(px(3, 3)).toEqual([255, 255, 255, 255]); // value 3 -> white
    expect(px(8, 3)).toEqual([255, 255, 255, 255]); // tile 1's max (20) -> white
    expect(px(6, 1)).toEqual([0, 0, 0, 255]); // tile 1's min (10) -> black
  });

  it('supports global, symmetric and RGB tiles, and rejects wrong sizes', () => {
    const g = toRgbaGrid(
      { data: [0, 2, 4, 4], count: 2, height: 1, width: 2, channels: 1 },
      { normalize: 'global', pad: 0, cols: 2 },
    );
    expect(Array.from(g.data.filter((_, i) => i % 4 === 0))).toEqual([0, 128, 255, 255]);
    const s = toRgbaGrid(
      { data: [-2, 0, 1], count: 1, height: 1, width: 3, channels: 1 },
      { normalize: 'symmetric', pad: 0 },
    );
    expect(Array.from(s.data.filter((_, i) => i % 4 === 0))).toEqual([0, 128, 191]);
    const rgb = toRgbaGrid(
      { data: [1, 0, 0], count: 1, height: 1, width: 1, channels: 3 },
      { normalize: 'none', pad: 0 },
    );
    expect(Array.from(rgb.data)).toEqual([255, 0, 0, 255]);
    expect(() => toRgbaGrid({ data: [1, 2], count: 1, height: 2, width: 2, channels: 1 })).toThrow(
      /tiles.data.*4 values/,
    );
  });

  it('reads tensors without leaking and wraps grids with captions', async () => {
    const x = tf.tidy(() => tf.reshape(tf.range(0, 2 * 3 * 3), [2, 3, 3, 1]));
    await expectNoLeak(() => tensorToRgbaGrid(x).then(() => undefined));
    const grid = await tensorToRgbaGrid(x, { pad: 0, cols: 2 });
    expect([grid.width, grid.height]).toEqual([6, 3]);
    x.dispose();
    const svg = labelledGridSvg('data:image/png;base64,AAAA', grid, ['a & b', 'c']);
    expect(checkXml(svg).filter((n) => n === 'text')).toHaveLength(2);
    expect(svg).toContain('a &amp; b');
    expect(() => labelledGridSvg('x', grid, ['1', '2', '3'])).toThrow(/at most 2 labels/);
  });
});
