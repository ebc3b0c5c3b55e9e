/**
 * Report section `patches`: Oquab et al. (2014)'s multi-scale patches on synthetic multi-digit scenes.
 *
 * The run's reference CNN, trained on isolated MNIST digits (object-centred "source" images), is the source. Two targets are trained on
 * cluttered scenes with several digits, both with Oquab's adaptation block (FCa, FCb) on the frozen copied layers:
 * one on whole scenes (resized to the CNN's 28x28 input, multi-hot soft targets), one on labelled patches (Oquab's
 * rule, 10 digits + background, background sub-sampled 1:1 and re-drawn every epoch). Both are evaluated as
 * multi-label classifiers on held-out scenes made of held-out digits: per-class AP and mAP, the patch model's image
 * scores from the power mean (k = 5), the max and the mean of its patch scores.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  aggregatePatchScores,
  averagePrecision,
  colormap,
  generateScenes,
  LayerTransfer,
  localizationMap,
  PatchDataset,
  type PatchGrid,
  PatchSampler,
  patchGridSvg,
  predictPatches,
  type RgbaImage,
  Rng,
  type Scene,
  scenesToTensor,
} from '../../index.js';
import { pngDataUri } from '../../node.js';
import { sharedMnist, sharedReferenceCnn } from '../shared.js';
import type { ReportContext, ReportSection } from '../types.js';

const NUM_CLASSES = 10;
const CROP: [number, number] = [28, 28];

/** Per-class AP and mAP of one way of scoring the test scenes. */
export interface ScoredMethod {
  /** Name shown in the table. */
  name: string;
  /** Average precision of each digit (NaN when the digit never occurs in the test scenes). */
  ap: number[];
  /** Mean of the defined APs. */
  map: number;
}

/** One sample scene for the figures. */
export interface PatchSample {
  /** SVG of the scene with its objects and its positive patches. */
  gridSvg: string;
  /** Localisation maps (PNG data URIs) of up to two of the digits present, with their power-mean scores. */
  maps: { digit: number; png: string; score: number }[];
  /** The digits present. */
  truth: number[];
  /** The three digits with the highest power-mean scores. */
  ranked: number[];
}

/** The JSON result of the section. */
export interface PatchesResult {
  mode: 'quick' | 'full';
  seconds: number;
  canvas: number;
  trainScenes: number;
  testScenes: number;
  grid: { patches: number; sizes: number[]; minOverlap: number; coverage: number; density: number };
  labels: { positives: number; background: number; dropped: number; backgroundKeptPerEpoch: number };
  source: { digits: number; epochs: number; testAccuracy: number };
  training: {
    patchEpochs: number;
    patchSteps: number;
    wholeEpochs: number;
    wholeSteps: number;
    patchLoss: number[];
    wholeLoss: number[];
  };
  methods: ScoredMethod[];
  /** mAP of a random ranking (the mean prevalence of the digits in the test scenes). */
  chanceMap: number;
  samples: PatchSample[];
  /** Adaptation head built with LayerTransfer (true) or directly (false). */
  usedLayerTransfer: boolean;
  /** Which average precision was used. */
  apSource: string;
}

function scoreMethod(name: string, scores: Float32Array, truth: boolean[][]): ScoredMethod {
  const n = truth.length;
  const ap: number[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const s = new Float32Array(n);
    const p: boolean[] = [];
    for (let i = 0; i < n; i++) {
      s[i] = scores[i * NUM_CLASSES + c];
      p.push(truth[i][c]);
    }
    ap.push(averagePrecision(s, p));
  }
  const defined = ap.filter((a) => Number.isFinite(a));
  return { name, ap, map: defined.reduce((a, b) => a + b, 0) / Math.max(1, defined.length) };
}

/** Scenes `[N, H, W, 1]` to the CNN's input: 3x3 box blur (against aliasing) then bilinear resize to 28x28. */
function toNetworkInput(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.image.resizeBilinear(tf.avgPool(images, 3, 1, 'same'), CROP, false, true));
}

function softmaxCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(yTrue, yPred);
}

function greyPng(pixels: Float32Array, h: number, w: number): string {
  const data = new Uint8ClampedArray(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
    data.set([v, v, v, 255], 4 * i);
  }
  return pngDataUri({ width: w, height: h, data } satisfies RgbaImage);
}

function mapPng(values: Float32Array, h: number, w: number): string {
  let hi = 0;
  for (const v of values) hi = Math.max(hi, v);
  const data = new Uint8ClampedArray(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    const [r, g, b] = colormap('viridis', hi > 0 ? values[i] / hi : 0);
    data.set([r, g, b, 255], 4 * i);
  }
  return pngDataUri({ width: w, height: h, data });
}

/** A frozen copy of the digit CNN's body with Oquab's adaptation block (FCa -> dropout -> FCb) as its head. */
function adaptedModel(
  cnn: tfl.LayersModel,
  numClasses: number,
  seed: number,
): { model: tfl.LayersModel; owner: { dispose(): void }; viaTransfer: boolean } {
  const t = new LayerTransfer(cnn, {
    head: { kind: 'adaptation', numClasses, hiddenUnits: 256, dropout: 0.2 },
    seed,
  });
  t.freeze();
  const optimizer = tf.train.adam(3e-3);
  t.model.compile({ optimizer, loss: softmaxCrossEntropy });
  // Disposing the model does not free its optimizer's slots (Adam's moments): the owner frees both.
  const owner = {
    dispose: () => {
      optimizer.dispose();
      t.dispose();
    },
  };
  return { model: t.model, owner, viaTransfer: true };
}

async function evaluateScenes(
  model: tfl.LayersModel,
  images: tf.Tensor4D,
  grid: PatchGrid,
  ctx: ReportContext,
  phase: string,
): Promise<tf.Tensor3D> {
  return predictPatches(model, images, grid, CROP, {
    activation: 'softmax',
    batchSize: 512,
    onProgress: (e) => ctx.progress({ ...e, phase }),
  });
}

async function run(ctx: ReportContext): Promise<PatchesResult> {
  const t0 = performance.now();
  const quick = ctx.mode === 'quick';
  const canvas = 96;
  const cfg = quick
    ? {
        trainScenes: 300,
        testScenes: 150,
        patchEpochs: 3,
        wholeEpochs: 40,
        scales: 6,
        smallest: 0.22,
      }
    : {
        trainScenes: 1200,
        testScenes: 500,
        patchEpochs: 4,
        wholeEpochs: 60,
        scales: 8,
        smallest: 0.125,
      };
  const split = await sharedMnist(ctx);
  // The run's reference CNN (owned by the runner, shared with other sections): the "source" network.
  const reference = await sharedReferenceCnn(ctx);
  const cnn = reference.model;

  const sceneOpts = { canvasSize: canvas, minScale: 24, maxScale: 48, minObjects: 1, maxObjects: 3 } as const;
  const train: Scene[] = generateScenes(split.train, {
    ...sceneOpts,
    count: cfg.trainScenes,
    seed: ctx.seed + 1,
  });
  const test: Scene[] = generateScenes(split.test, {
    ...sceneOpts,
    count: cfg.testScenes,
    seed: ctx.seed + 2,
  });
  const trainX = scenesToTensor(train);
  const testX = scenesToTensor(test);
  const sampler = new PatchSampler({ scales: cfg.scales, smallest: cfg.smallest, overlap: 0.5 });
  const grid = sampler.grid({ height: canvas, width: canvas });
  const owners: { dispose(): void }[] = [];
  try {
    // Patch model: adaptation layers trained on labelled patches (10 digits + background).
    const data = new PatchDataset(
      trainX,
      train.map((s) => s.objects),
      sampler,
      {
        numClasses: NUM_CLASSES,
        cropSize: CROP,
        batchSize: 64,
        backgroundRatio: 1,
        multiObject: 'drop',
        seed: ctx.seed,
      },
    );
    const sel = data.selection(0);
    const patch = adaptedModel(cnn, NUM_CLASSES + 1, ctx.seed);
    owners.push(patch.owner);
    const patchLoss: number[] = [];
    let patchSteps = 0;
    const stepsPerEpoch = Math.ceil(sel.image.length / 64);
    for (let epoch = 0; epoch < cfg.patchEpochs; epoch++) {
      let sum = 0;
      let n = 0;
      for await (const b of data.batches(epoch)) {
        try {
          const loss = (await patch.model.trainOnBatch(b.x, b.y)) as number;
          sum += loss * b.image.length;
          n += b.image.length;
        } finally {
          tf.dispose([b.x, b.y]);
        }
        patchSteps++;
        ctx.progress({
          phase: 'patches: patch model',
          done: patchSteps,
          total: stepsPerEpoch * cfg.patchEpochs,
        });
      }
      patchLoss.push(sum / n);
    }

    // Whole-image model: the same adaptation on whole scenes, multi-hot soft targets.
    const whole = adaptedModel(cnn, NUM_CLASSES, ctx.seed);
    owners.push(whole.owner);
    const wholeX = toNetworkInput(trainX);
    const targets = new Float32Array(train.length * NUM_CLASSES);
    train.forEach((s, i) => {
      const present = [...new Set(s.objects.map((o) => o.label))];
      for (const c of present) targets[i * NUM_CLASSES + c] = 1 / present.length;
    });
    const wholeY = tf.tensor2d(targets, [train.length, NUM_CLASSES]);
    const wholeLoss: number[] = [];
    let wholeSteps = 0;
    const rng = new Rng(ctx.seed + 3);
    try {
      for (let epoch = 0; epoch < cfg.wholeEpochs; epoch++) {
        const order = rng.permutation(train.length);
        let sum = 0;
        for (let s = 0; s < order.length; s += 32) {
          const idx = tf.tensor1d(order.slice(s, s + 32), 'int32');
          const xb = tf.gather(wholeX, idx);
          const yb = tf.gather(wholeY, idx);
          try {
            sum += ((await whole.model.trainOnBatch(xb, yb)) as number) * idx.shape[0];
          } finally {
            tf.dispose([idx, xb, yb]);
          }
          wholeSteps++;
        }
        wholeLoss.push(sum / order.length);
        ctx.progress({ phase: 'patches: whole-image model', done: epoch + 1, total: cfg.wholeEpochs });
      }
    } finally {
      tf.dispose([wholeX, wholeY]);
    }

    // Evaluation on held-out scenes.
    const truth = test.map((s) => {
      const t = new Array<boolean>(NUM_CLASSES).fill(false);
      for (const o of s.objects) t[o.label] = true;
      return t;
    });
    const methods: ScoredMethod[] = [];
    const testIn = toNetworkInput(testX);
    const wholeScores = tf.tidy(() => tf.softmax(whole.model.predict(testIn) as tf.Tensor2D));
    methods.push(
      scoreMethod(
        'whole image (adaptation on resized scenes)',
        (await wholeScores.data()) as Float32Array,
        truth,
      ),
    );
    tf.dispose([testIn, wholeScores]);

    const patchScores = await evaluateScenes(patch.model, testX, grid, ctx, 'patches: scoring test patches');
    const digitScores = tf.tidy(() => tf.slice(patchScores, [0, 0, 0], [-1, -1, NUM_CLASSES]) as tf.Tensor3D);
    for (const method of ['power', 'max', 'mean'] as const) {
      const agg = aggregatePatchScores(digitScores, { method, power: 5 });
      const label = method === 'power' ? 'patches, power mean k = 5 (Oquab)' : `patches, ${method}`;
      methods.push(scoreMethod(label, (await agg.data()) as Float32Array, truth));
      agg.dispose();
    }
    // Ablation: the digit CNN as is (no background class, no adaptation) on the same patches.
    const rawScores = await evaluateScenes(cnn, testX, grid, ctx, 'patches: digit CNN on patches');
    const rawAgg = aggregatePatchScores(rawScores, { method: 'power', power: 5 });
    methods.push(
      scoreMethod('digit CNN as is on patches, power mean', (await rawAgg.data()) as Float32Array, truth),
    );
    tf.dispose([rawScores, rawAgg]);

    // Figures: three test scenes with at least two digits.
    const picks = test
      .map((s, i) => [s, i] as const)
      .filter(([s]) => s.objects.length >= 2)
      .slice(0, 3);
    const power = aggregatePatchScores(digitScores, { method: 'power', power: 5 });
    const powerData = await power.data();
    power.dispose();
    const samples: PatchSample[] = [];
    for (const [scene, i] of picks) {
      const scoresI = tf.tidy(
        () => tf.squeeze(tf.slice(digitScores, [i, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D,
      );
      const maps = localizationMap(scoresI, grid);
      const all = await maps.data();
      tf.dispose([scoresI, maps]);
      const truth = [...new Set(scene.objects.map((o) => o.label))].sort((a, b) => a - b);
      const labels = sampler.label(grid, scene.objects, { numClasses: NUM_CLASSES });
      samples.push({
        gridSvg: patchGridSvg(grid, {
          imageHref: greyPng(scene.pixels, canvas, canvas),
          objects: scene.objects,
          labels,
          positivesOnly: true,
          zoom: 2,
        }),
        maps: truth.slice(0, 2).map((c) => {
          const one = new Float32Array(canvas * canvas);
          for (let p = 0; p < one.length; p++) one[p] = all[p * NUM_CLASSES + c];
          return { digit: c, png: mapPng(one, canvas, canvas), score: powerData[i * NUM_CLASSES + c] };
        }),
        truth,
        ranked: Array.from({ length: NUM_CLASSES }, (_, c) => c)
          .sort((a, b) => powerData[i * NUM_CLASSES + b] - powerData[i * NUM_CLASSES + a])
          .slice(0, 3),
      });
    }
    digitScores.dispose();
    patchScores.dispose();

    const positives = data.labels.reduce((a, l) => a + l.positives, 0);
    const background = data.labels.reduce((a, l) => a + l.background, 0);
    const dropped = data.labels.reduce((a, l) => a + l.dropped, 0);
    return {
      mode: ctx.mode,
      seconds: (performance.now() - t0) / 1000,
      canvas,
      trainScenes: train.length,
      testScenes: test.length,
      grid: {
        patches: grid.count,
        sizes: grid.scales.map((s) => s.size),
        minOverlap: grid.minOverlap,
        coverage: grid.coverage,
        density: grid.density,
      },
      labels: { positives, background, dropped, backgroundKeptPerEpoch: sel.background },
      source: {
        digits: split.train.size,
        epochs: reference.config.epochs,
        testAccuracy: reference.test.accuracy,
      },
      training: {
        patchEpochs: cfg.patchEpochs,
        patchSteps,
        wholeEpochs: cfg.wholeEpochs,
        wholeSteps,
        patchLoss,
        wholeLoss,
      },
      methods,
      chanceMap:
        truth[0].map((_, c) => truth.filter((t) => t[c]).length / truth.length).reduce((a, b) => a + b, 0) /
        NUM_CLASSES,
      samples,
      usedLayerTransfer: patch.viaTransfer,
      apSource: 'averagePrecision of transferkit (non-interpolated, tied scores as one threshold)',
    };
  } finally {
    for (const o of owners) o.dispose();
    tf.dispose([trainX, testX]);
  }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '–');

/** The paper's headline figure (Oquab et al. 2014, patches with the power mean), in the text and the headline. */
const PAPER_VOC_MAP = '77.7 mAP on VOC 2007';

/** The patch model's power-mean scores and the whole-image model's, the two methods the section compares. */
function keyMethods(r: PatchesResult): { power?: ScoredMethod; whole?: ScoredMethod } {
  return {
    power: r.methods.find((m) => m.name.startsWith('patches, power')),
    whole: r.methods.find((m) => m.name.startsWith('whole')),
  };
}

function render(r: PatchesResult): string {
  const { power, whole } = keyMethods(r);
  const rows = r.methods
    .map(
      (m) =>
        `<tr><td>${esc(m.name)}</td><td><b>${pct(m.map)}</b></td>${m.ap.map((a) => `<td>${pct(a)}</td>`).join('')}</tr>`,
    )
    .join('');
  const head = `<tr><th>image scores from</th><th>mAP</th>${Array.from({ length: NUM_CLASSES }, (_, c) => `<th>${c}</th>`).join('')}</tr>`;
  const figs = r.samples
    .map(
      (s) => `<figure style="display:inline-block;margin:0 12px 12px 0;vertical-align:top">
<div style="display:flex;gap:6px">${s.gridSvg}${s.maps
        .map(
          (m) =>
            `<img src="${m.png}" width="${2 * r.canvas}" height="${2 * r.canvas}" style="image-rendering:pixelated" alt="localisation map of ${m.digit}"/>`,
        )
        .join('')}</div>
<figcaption>digits ${s.truth.join(', ')} (top power-mean scores: ${s.ranked.join(', ')}). Left: the positive patches
(class colours) and object boxes; then the localisation map of ${s.maps.map((m) => `${m.digit} (score ${m.score.toExponential(1)})`).join(' and ')}.</figcaption></figure>`,
    )
    .join('');
  const gain = power && whole ? 100 * (power.map - whole.map) : Number.NaN;
  const verdict =
    gain > 0
      ? `beats the whole-image model by <b>${gain.toFixed(1)}</b> mAP points`
      : `does not beat the whole-image model here (${gain.toFixed(1)} mAP points)`;
  return `
<p>Oquab et al. (2014) adapt an ImageNet CNN to Pascal VOC's cluttered scenes by training two new fully connected
layers (FCa, FCb) on about 500 square patches per image at 8 scales, labelled positive for an object when
|P∩B| ≥ 0.2|P| and |P∩B| ≥ 0.6|B|, with patches matching several objects dropped and background sub-sampled; an
image's score for class C is (1/M) Σ<sub>i</sub> y(P<sub>i</sub>, C)<sup>5</sup>. They report <b>${PAPER_VOC_MAP}</b>
(state of the art then), well above training on whole images.</p>
<p>Here the "source" is the report's reference CNN trained on ${r.source.digits} isolated MNIST digits
(${r.source.epochs} epochs, test accuracy ${pct(r.source.testAccuracy)}%), and the "target" is ${r.trainScenes} synthetic ${r.canvas}×${r.canvas}
scenes with 1-3 digits of 24-48 px among clutter; evaluation on ${r.testScenes} held-out scenes made of held-out digits.
Both targets keep the copied layers frozen and train Oquab's adaptation block (${r.usedLayerTransfer ? 'built with <code>LayerTransfer</code>' : 'built directly with tfjs-layers'}).
The grid has ${r.grid.patches} patches per scene at ${r.grid.sizes.length} scales (sides ${r.grid.sizes.join(', ')} px,
neighbour overlap ≥ ${pct(r.grid.minOverlap)}%, coverage ${pct(r.grid.coverage)}%), resized to 28×28 by one
<code>cropAndResize</code> per batch. Training patches: ${r.labels.positives} positives, ${r.labels.background}
background (${r.labels.backgroundKeptPerEpoch} drawn per epoch), ${r.labels.dropped} dropped (several digits).</p>
<table class="num"><thead>${head}</thead><tbody>${rows}</tbody></table>
<p>Per-class average precision (%) on held-out scenes; a random ranking scores ${pct(r.chanceMap)} mAP (the mean
prevalence of a digit). The patch model's power mean ${verdict}. The patch model trained for ${r.training.patchSteps} steps
(${r.training.patchEpochs} epochs; loss ${r.training.patchLoss.map((l) => l.toFixed(3)).join(' → ')}), the whole-image
model for ${r.training.wholeSteps} steps (${r.training.wholeEpochs} epochs; loss ${r.training.wholeLoss[0]?.toFixed(3)} →
${r.training.wholeLoss.at(-1)?.toFixed(3)}).</p>
${figs}
<p><b>What differs from the paper.</b> Digits on a ${r.canvas}-pixel canvas instead of VOC photographs, a
two-layer CNN pretrained on a few thousand digits instead of ImageNet's 1.2 M images, FCa of 256 units instead of 2048,
dropout 0.2 between them, no fine-tuning of the copied layers, ${r.mode === 'quick' ? 'a smaller grid (fewer patches per image) and few epochs (quick mode)' : 'the paper-like grid'}.
The mechanism is the same: a source network trained on centred objects transfers to cluttered multi-object scenes
when it is trained and evaluated on patches that look like its source images, and the power mean turns patch scores
into image scores. The whole-image baseline sees each digit shrunk by ${(r.canvas / 28).toFixed(1)}×, the "capture
bias" Oquab et al. describe. Dropout masks are not seeded in tfjs-layers, so mAPs move by a few points between
runs; the ordering of the rows has been stable in our runs. AP: ${esc(r.apSource)}. Run time ${r.seconds.toFixed(0)} s (${r.mode}).</p>`;
}

/** The `patches` section of the report. */
export const patches: ReportSection<PatchesResult> = {
  id: 'patches',
  title: 'Multi-scale patches and transfer to cluttered scenes (Oquab et al. 2014)',
  run,
  render: (result) => render(result),
  headlines(r) {
    const { power, whole } = keyMethods(r);
    return [
      {
        claim: 'Multi-label mAP on cluttered scenes: patches (power mean, k = 5) vs whole images',
        paper: `${PAPER_VOC_MAP} (patches), well above whole-image training`,
        ours: `${pct(power?.map ?? Number.NaN)} vs ${pct(whole?.map ?? Number.NaN)} mAP (chance ${pct(r.chanceMap)}; ${r.testScenes} digit scenes)`,
      },
    ];
  },
};
