/**
 * The deconvnet section: its scene classifier built as a LayerTransfer cut (copied weights, frozen, shared layers
 * freed once), the per-scene occlusion measure against a plain loop, and the render of a fixed result (a real quick
 * run, PNGs shrunk to 1x1) with the interval and verdict.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { Deconvnet, type OcclusionResult, type Scene, zeilerFergusCnn } from '../../src/index.js';
import {
  buildSceneModel,
  type DeconvnetSectionResult,
  deconvnet,
  deconvnetConfig,
  deconvnetIntervals,
  sceneOcclusion,
} from '../../src/report/sections/deconvnet/index.js';
import { checkXml } from '../render/xml.js';

const wellFormed = (html: string) => checkXml(`<div>${html.replace(/<img([^>]*?)\/?>/g, '<img$1/>')}</div>`);

function fixture(): DeconvnetSectionResult {
  return JSON.parse(
    readFileSync(path.join(__dirname, 'fixtures', 'deconvnet.json'), 'utf8'),
  ) as DeconvnetSectionResult;
}

describe('deconvnet section: scene classifier as a LayerTransfer cut', () => {
  const cfg = { ...deconvnetConfig('quick').scenes, canvas: 20, headFilters: 4 };

  it('copies and freezes conv1/conv2, stacks the conv head on pool2 at the scene size, and frees everything once', async () => {
    const base = zeilerFergusCnn({
      inputShape: [14, 14, 1],
      filters: [3, 4],
      kernelSizes: [3, 3],
      hidden: [8],
      seed: 1,
    });
    const before = tf.memory().numTensors;
    const warn = vi.spyOn(console, 'warn');
    const { model, copiedLayers } = buildSceneModel(base, cfg, 0);
    expect(copiedLayers).toEqual(['conv1', 'conv2']);
    expect(model.inputs[0].shape).toEqual([null, 20, 20, 1]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    expect(model.layers.map((l) => l.name)).toEqual([
      'scene',
      'conv1',
      'pool1',
      'conv2',
      'pool2',
      'conv3',
      'gmp',
      'logits',
    ]);
    // copied values in new variables; frozen: only the head trains
    for (const name of ['conv1', 'conv2']) {
      const [kb, bb] = base.getLayer(name).getWeights();
      const [kt, bt] = model.getLayer(name).getWeights();
      expect(Array.from(await kt.data())).toEqual(Array.from(await kb.data()));
      expect(Array.from(await bt.data())).toEqual(Array.from(await bb.data()));
      expect(model.getLayer(name).trainable).toBe(false);
      expect(base.getLayer(name).trainable).toBe(true);
    }
    expect(model.trainableWeights.map((w) => w.originalName.split('/')[0])).toEqual([
      'conv3',
      'conv3',
      'logits',
      'logits',
    ]);
    // the Deconvnet reads the shared layers' nodes of this model (not the transfer copy's): occlusion at conv3 runs
    const x = tf.randomUniform([2, 20, 20, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const dn = new Deconvnet(model);
    const occ = await dn.occlusion(x, { labels: [1, 2], size: 6, stride: 7, layer: 'conv3' });
    expect(occ.probability.shape).toEqual([2, 3, 3]);
    // the copy was built for the scene size: tfjs does not warn about a mismatched input shape
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    tf.dispose([x, occ.probability, occ.predicted, occ.featureActivity!]);
    dn.dispose();
    model.dispose();
    // the transfer copy was freed when the model was built, the scene model frees the shared layers: nothing left
    expect(tf.memory().numTensors).toBe(before);
    expect(base.getLayer('conv1').getWeights()[0].isDisposed).toBe(false);
    base.dispose();
  });

  it('sceneOcclusion: the strongest drop, its box test, chance and correctness per scene (plain-loop oracle)', async () => {
    // one 10x10 scene, box rows 2..6, cols 4..8; 3x3 occluder positions 0, 4, 7 (centre +1.5)
    const scene = { objects: [{ label: 3, box: [2, 4, 6, 8] }] } as unknown as Scene;
    const probability = tf.tensor3d([0.9, 0.8, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9], [1, 3, 3]);
    const occ = {
      probability,
      rows: [0, 4, 7],
      cols: [0, 4, 7],
      size: 3,
      baseline: [0.95],
    } as unknown as OcclusionResult;
    const r = await sceneOcclusion(occ, [scene], [3], 3);
    // centres 1.5, 5.5, 8.5: rows in [2, 6) -> 5.5; cols in [4, 8) -> 5.5; the minimum (0.1) is at (1, 1): inside
    expect(r.points).toEqual({ inside: [1], chance: [1 / 9], correct: [1] });
    expect(r.meanDrop).toBeCloseTo(0.85, 6);
    const r2 = await sceneOcclusion(
      occ,
      [{ objects: [{ label: 3, box: [0, 0, 3, 3] }] } as unknown as Scene],
      [5],
      3,
    );
    expect(r2.points).toEqual({ inside: [0], chance: [1 / 9], correct: [0] });
    probability.dispose();
  });
});

describe('deconvnet section: render from a fixed result', () => {
  const ctx = { mode: 'quick', seed: 0, backend: 'wasm' } as const;

  it('renders the occlusion claim with its bootstrap interval over scenes and a verdict, escaped and well formed', () => {
    const r = fixture();
    const html = deconvnet.render(r, ctx);
    expect(() => wellFormed(html)).not.toThrow();
    expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
    expect(html).toContain('Zeiler');
    expect(html).toContain('copied from the MNIST CNN by LayerTransfer');
    expect(html).toContain(`bootstrap over the ${r.scenes.test} test scenes`);
    const iv = deconvnetIntervals(r);
    expect(iv.verdict).toBe('holds');
    // the interval brackets the point estimates read back from the per-scene values
    const p = r.scenes.perScene!;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(iv.inside!.estimate).toBeCloseTo(r.scenes.insideBox, 12);
    expect(iv.overChance!.estimate).toBeCloseTo(mean(p.inside) - mean(p.chance), 12);
    expect(iv.overChance!.lo).toBeLessThan(iv.overChance!.estimate);
    expect(iv.overChance!.hi).toBeGreaterThan(iv.overChance!.estimate);
    expect(html).toContain('<span class="ok">holds</span>');
    const [h] = deconvnet.headlines?.(r) ?? [];
    expect(h.claim).toMatch(/above chance \(holds\)$/);
    // the fixture's fresh quick run (seed 0, wasm): the interval recomputed from its per-scene values
    expect(h.ours).toBe(
      '92.0% [88.0, 95.5] (95% CI, n = 200) of 200 clutter scenes (chance 22.7%; +69.3 [+65.4, +72.7] (95% CI, n = 200) points)',
    );
    expect(h.ours).toMatch(
      /^\d+\.\d% \[\d+\.\d, \d+\.\d\] \(95% CI, n = \d+\) of \d+ clutter scenes \(chance \d+\.\d%; \+\d+\.\d \[/,
    );
  });

  it('renders results cached without per-scene values as inconclusive, with no interval', () => {
    const r = fixture();
    const old = { ...r, config: undefined, scenes: { ...r.scenes, perScene: undefined } };
    const html = deconvnet.render(old, ctx);
    expect(() => wellFormed(html)).not.toThrow();
    expect(html).toContain('<span class="na">inconclusive</span>');
    expect(deconvnet.headlines?.(old)[0].ours).toContain('no interval');
  });
});
