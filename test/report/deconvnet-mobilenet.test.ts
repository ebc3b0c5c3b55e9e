/**
 * Render test of the deconvnet section's MobileNetV2 part from a fixed result (shape of a real quick run, PNGs
 * shrunk to 1x1): no model is loaded or run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type DeconvnetSectionResult,
  deconvnet,
  type MobilenetDeconvResult,
  mobilenetDeconvConfig,
  renderMobilenetDeconv,
} from '../../src/report/sections/deconvnet/index.js';
import { checkXml } from '../render/xml.js';

function json<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(__dirname, 'fixtures', name), 'utf8')) as T;
}

const ctx = { mode: 'quick', seed: 0, backend: 'wasm' } as const;
const wellFormed = (html: string) => checkXml(`<div>${html.replace(/<img([^>]*?)\/?>/g, '<img$1/>')}</div>`);

describe('deconvnet section: pretrained MobileNetV2 top-9 grids', () => {
  const base = json<DeconvnetSectionResult>('deconvnet.json');
  const mobilenet = json<MobilenetDeconvResult>('deconvnet-mobilenet.json');

  it('renders a table row and a figure per layer, after the digit CNN, naming the images and the strategy', () => {
    const html = deconvnet.render({ ...base, mobilenet }, ctx);
    expect(() => wellFormed(html)).not.toThrow();
    expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
    // after the MNIST / scene figures
    expect(html.indexOf('MobileNetV2')).toBeGreaterThan(html.indexOf('top-9 on scenes'));
    for (const l of ['block_6_expand_relu', 'block_13_expand_relu']) {
      expect(html).toContain(`alt="MobileNetV2 top-9 of ${l}"`);
    }
    expect(html).toContain('59x59');
    expect(html).toContain('267x267');
    expect(html).toContain('0, 1 of 576');
    expect(html).toContain('guided backprop');
    expect(html).toContain('NSFW');
    expect(html).toContain('digit scenes');
    expect(html).toContain('Top-9 over 16 scenes, batch 16: 17.4 s in all');
    expect((html.match(/<img /g) ?? []).length).toBe(
      (deconvnet.render(base, ctx).match(/<img /g) ?? []).length + 2,
    );
  });

  it('renders results cached before the part existed unchanged, and says why when it was skipped', () => {
    expect(deconvnet.render(base, ctx)).not.toContain('MobileNetV2');
    expect(renderMobilenetDeconv(undefined)).toBe('');
    const skipped = renderMobilenetDeconv({
      skipped: "optional dependency 'nsfwjs' is not installed <npm i nsfwjs>",
    });
    expect(() => wellFormed(skipped)).not.toThrow();
    expect(skipped).toContain('skipped');
    expect(skipped).toContain('&lt;npm i nsfwjs&gt;');
    expect(skipped).not.toContain('<img');
  });

  it('keeps quick mode small: one batch of scenes and 2 channels of the late block; full adds block 6', () => {
    const q = mobilenetDeconvConfig('quick');
    expect(q.images).toBeLessThanOrEqual(q.batchSize);
    expect(q.layers.map((l) => l.layer)).toEqual(['block_13_expand_relu']);
    expect(q.layers[0].channels).toHaveLength(2);
    const f = mobilenetDeconvConfig('full');
    expect(f.images).toBeGreaterThan(q.images);
    expect(f.layers.map((l) => l.layer)).toEqual(['block_6_expand_relu', 'block_13_expand_relu']);
  });
});
