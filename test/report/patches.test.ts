/**
 * The patches section: its paired bootstrap interval of mAP over test scenes (checked against closed cases and a
 * plain-loop mAP), and the render of a fixed result (a real quick run, images shrunk) with the interval and verdict.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/index.js';
import {
  type PatchesResult,
  pairedMapIntervals,
  patches,
  patchesVerdict,
} from '../../src/report/sections/patches/index.js';
import { checkXml } from '../render/xml.js';

const wellFormed = (html: string) => checkXml(`<div>${html.replace(/<img([^>]*?)\/?>/g, '<img$1/>')}</div>`);
const ctx = { mode: 'quick', seed: 0, backend: 'wasm' } as const;

function fixture(): PatchesResult {
  return JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'patches.json'), 'utf8')) as PatchesResult;
}

/** mAP by a plain loop: per class, precision at each positive's rank (no ties in these scores), averaged. */
function plainMap(scores: number[][], truth: boolean[][]): number {
  const aps: number[] = [];
  for (let c = 0; c < truth[0].length; c++) {
    const order = scores.map((s, i) => [s[c], i] as const).sort((a, b) => b[0] - a[0]);
    let hits = 0;
    let sum = 0;
    order.forEach(([, i], rank) => {
      if (truth[i][c]) {
        hits++;
        sum += hits / (rank + 1);
      }
    });
    if (hits > 0) aps.push(sum / hits);
  }
  return aps.reduce((a, b) => a + b, 0) / aps.length;
}

describe('patches section: paired bootstrap of mAP over test scenes', () => {
  const rng = new Rng(5);
  const n = 40;
  const truth = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.next() < 0.3));
  const noisy = truth.map((t) => t.map((v) => (v ? 0.4 : 0) + rng.next()));
  const random = truth.map((t) => t.map(() => rng.next()));
  const boot = { seed: 3, resamples: 100 };

  it('estimates the full-sample mAPs and their difference; brackets them; is seeded', () => {
    const iv = pairedMapIntervals(noisy, random, truth, boot);
    expect(iv.patches.estimate).toBeCloseTo(plainMap(noisy, truth), 12);
    expect(iv.whole.estimate).toBeCloseTo(plainMap(random, truth), 12);
    expect(iv.gain.estimate).toBeCloseTo(plainMap(noisy, truth) - plainMap(random, truth), 12);
    for (const i of [iv.patches, iv.whole, iv.gain]) {
      expect(i.lo).toBeLessThanOrEqual(i.estimate);
      expect(i.hi).toBeGreaterThanOrEqual(i.estimate);
      expect(i.n).toBe(n);
    }
    expect(pairedMapIntervals(noisy, random, truth, boot)).toEqual(iv);
  });

  it('closed cases: the same scores give a zero-width gain; a perfect ranking gives mAP 1 on every resample', () => {
    const same = pairedMapIntervals(noisy, noisy, truth, boot);
    expect([same.gain.lo, same.gain.estimate, same.gain.hi]).toEqual([0, 0, 0]);
    const perfect = truth.map((t) => t.map((v) => (v ? 1 : 0) + 0.001 * rng.next()));
    const p = pairedMapIntervals(perfect, random, truth, boot);
    expect([p.patches.lo, p.patches.hi]).toEqual([1, 1]);
    expect(p.gain.lo).toBeGreaterThan(0);
  });

  it('refuses score rows that do not match the scenes', () => {
    expect(() => pairedMapIntervals(noisy.slice(1), random, truth, boot)).toThrow(/one score row per scene/);
  });
});

describe('patches section: render from a fixed result', () => {
  it('renders the claim with its interval and verdict, the AP table and figures, escaped and well formed', () => {
    const r = fixture();
    const html = patches.render(r, ctx);
    expect(() => wellFormed(html)).not.toThrow();
    expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
    for (const t of [
      'Oquab',
      'mAP',
      'LayerTransfer',
      'bootstrap over the test scenes',
      '(1/M) Σᵢ y(Pᵢ, C)^5',
    ]) {
      expect(html).toContain(t);
    }
    expect(patchesVerdict(r)).toBe(r.intervals!.gain.lo > 0 ? 'holds' : 'inconclusive');
    expect(html).toContain('<span class="ok">holds</span>');
    expect((html.match(/<figure/g) ?? []).length).toBe(r.samples.length);
    expect((html.match(/<img /g) ?? []).length).toBe(r.samples.reduce((a, s) => a + s.maps.length, 0));
    const [h] = patches.headlines?.(r) ?? [];
    expect(h.claim).toMatch(/vs whole images \(holds\)$/);
    expect(h.ours).toMatch(
      /^\d+\.\d \[\d+\.\d, \d+\.\d\] \(95% CI, n = 150\) vs \d+\.\d \[.*mAP; \+\d+\.\d \[/,
    );
    // the fixture's fresh quick run (seed 0, wasm)
    expect(h.ours).toContain('58.8 [55.8, 64.4] (95% CI, n = 150) vs 24.4 [22.8, 29.7]');
    expect(h.ours).toContain('+34.5 [+28.6, +39.7] (95% CI, n = 150) points');
  });

  it('escapes text from the results, and renders results cached without an interval as inconclusive', () => {
    const r = fixture();
    const hostile = {
      ...r,
      methods: [{ ...r.methods[0], name: 'whole <script>x</script>' }, ...r.methods.slice(1)],
    };
    const html = patches.render(hostile, ctx);
    expect(html).toContain('whole &lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    const old = { ...r, intervals: undefined, config: undefined };
    const oldHtml = patches.render(old, ctx);
    expect(() => wellFormed(oldHtml)).not.toThrow();
    expect(oldHtml).toContain('<span class="na">inconclusive</span>');
    expect(patches.headlines?.(old)[0].ours).toContain('(no interval)');
  });
});
