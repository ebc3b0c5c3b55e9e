/**
 * Report section `deconvnet`: Zeiler & Fergus (2013) on the reference CNN trained on MNIST and on synthetic scenes.
 *
 * - Fig. 2 in small: for each feature map of conv1, conv2 and fc1, the top-9 activations over the MNIST test digits
 *   projected to pixels by the deconvnet, beside the image patches (cropped to the unit's receptive field).
 * - The three backward rules side by side (deconvnet, guided backprop, gradient saliency) for the correct class.
 * - Section 4.2's occlusion maps on digits and on scenes, and the measured claim: on single-digit scenes with clutter,
 *   the occluder position that lowers the correct class's probability most lies inside the digit's box.
 *
 * The scene classifier keeps the reference CNN's convolutional layers (copied, frozen) and trains a new head (a conv
 * layer and global max pooling) on 40x40 scenes.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  Deconvnet,
  evaluateClassifier,
  generateScenes,
  type RgbaImage,
  type Scene,
  scenesToTensor,
  type TopKResult,
  topKFigure,
  trainClassifier,
} from '../../index.js';
import { pngDataUri, toRgbaGrid } from '../../internal.js';
import { claimsTable, figure, note, paragraph, pct, table } from '../html.js';
import { sharedMnist, sharedReferenceCnn } from '../shared.js';
import type { ReportContext, ReportSection } from '../types.js';
import {
  type MobilenetDeconvResult,
  renderMobilenetDeconv,
  runMobilenetDeconv,
} from './deconvnet-mobilenet.js';

/** One layer's fig.-2 grid. */
export interface LayerFigure {
  layer: string;
  channels: number;
  shown: number;
  receptiveField: [number, number];
  png: string;
  /** Mean top-1 activation over the shown channels. */
  meanTop: number;
}

/** The JSON results of the section. */
export interface DeconvnetSectionResult {
  mode: 'quick' | 'full';
  backend: string;
  seconds: number;
  mnist: {
    scanned: number;
    testAccuracy: number;
    layers: LayerFigure[];
    topKSeconds: number;
    strategiesPng: string;
    occlusionPng: string;
    occlusionSamples: number;
    /** Mean over samples of (baseline - lowest probability). */
    meanDrop: number;
  };
  scenes: {
    canvas: number;
    train: number;
    test: number;
    epochs: number;
    accuracy: number;
    occluder: number;
    stride: number;
    /** Fraction of test scenes whose strongest drop (occluder centre) lies inside the object's box. */
    insideBox: number;
    /** The same among correctly classified scenes. */
    insideBoxCorrect: number;
    correct: number;
    /** Expected fraction if the lowest position were random (mean share of positions whose centre is in the box). */
    chance: number;
    meanDrop: number;
    occlusionPng: string;
    topPng: string;
  };
  /** Top-9 grids of the pretrained MobileNetV2 (absent in results cached before it was added). */
  mobilenet?: MobilenetDeconvResult;
}

function hcat(images: RgbaImage[], gap = 4, bg = 255): RgbaImage {
  const width = images.reduce((a, im) => a + im.width, 0) + gap * (images.length - 1);
  const height = Math.max(...images.map((im) => im.height));
  const data = new Uint8ClampedArray(width * height * 4).fill(bg);
  let ox = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) {
      data.set(im.data.subarray(y * im.width * 4, (y + 1) * im.width * 4), (y * width + ox) * 4);
    }
    ox += im.width + gap;
  }
  return { width, height, data };
}

function vcat(images: RgbaImage[], gap = 4, bg = 255): RgbaImage {
  const width = Math.max(...images.map((im) => im.width));
  const height = images.reduce((a, im) => a + im.height, 0) + gap * (images.length - 1);
  const data = new Uint8ClampedArray(width * height * 4).fill(bg);
  let oy = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) {
      data.set(im.data.subarray(y * im.width * 4, (y + 1) * im.width * 4), (oy + y) * width * 4);
    }
    oy += im.height + gap;
  }
  return { width, height, data };
}

/** Draws a 1-pixel red rectangle (scaled coordinates) on an RGBA image in place. */
function outline(im: RgbaImage, box: [number, number, number, number], scale: number, pad: number): void {
  const [y1, x1, y2, x2] = box.map((v) => v * scale + pad);
  const set = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= im.width || y >= im.height) return;
    im.data.set([230, 30, 30, 255], (y * im.width + x) * 4);
  };
  for (let x = x1; x < x2; x++) {
    set(x, y1);
    set(x, y2 - 1);
  }
  for (let y = y1; y < y2; y++) {
    set(x1, y);
    set(x2 - 1, y);
  }
}

function single(
  data: ArrayLike<number>,
  h: number,
  w: number,
  scale: number,
  normalize: 'tile' | 'none' | 'symmetric',
  colormap: 'greys' | 'viridis' = 'greys',
): RgbaImage {
  return toRgbaGrid(
    { data, count: 1, height: h, width: w, channels: 1 },
    { pad: 1, scale, normalize, colormap },
  );
}

async function layerFigure(dn: Deconvnet, top: TopKResult, shown: number): Promise<LayerFigure> {
  const png = pngDataUri(await topKFigure(top, { scale: 2, maxChannels: shown }));
  const firsts = top.units.slice(0, shown).map((u) => u[0]?.score ?? 0);
  return {
    layer: top.layer,
    channels: dn.layerInfo(top.layer).channels,
    shown,
    receptiveField: top.receptiveField.size,
    png,
    meanTop: firsts.reduce((a, b) => a + b, 0) / Math.max(1, firsts.length),
  };
}

async function run(ctx: ReportContext): Promise<DeconvnetSectionResult> {
  const t0 = Date.now();
  const full = ctx.mode === 'full';
  const mnist = await sharedMnist(ctx);
  const cnn = await sharedReferenceCnn(ctx);
  const dn = new Deconvnet(cnn.model);
  const tracked: tf.Tensor[] = [];
  try {
    // --- fig. 2: top-9 per channel of each layer over the test digits
    const scanned = Math.min(mnist.test.size, full ? 2000 : 1000);
    const images = tf.slice(mnist.test.x, 0, scanned);
    tracked.push(images);
    const tk = Date.now();
    const layers: LayerFigure[] = [];
    for (const [layer, shown] of [
      ['conv1', 16],
      ['conv2', full ? 32 : 16],
      ['fc1', full ? 32 : 16],
    ] as const) {
      const channels = Array.from({ length: Math.min(shown, dn.layerInfo(layer).channels) }, (_, i) => i);
      const top = await dn.topK(images, {
        layer,
        k: 9,
        channels,
        batchSize: 100,
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet top-9 ${layer} ${e.phase}` }),
      });
      try {
        layers.push(await layerFigure(dn, top, channels.length));
      } finally {
        tf.dispose([top.projections, top.patches]);
      }
    }
    const topKSeconds = (Date.now() - tk) / 1000;

    // --- strategies side by side: projection of the correct class's logit
    const sample = 6;
    const sx = tf.slice(mnist.test.x, 0, sample) as tf.Tensor4D;
    tracked.push(sx);
    const labels = mnist.test.labels.slice(0, sample);
    const units = labels.map((c, i) => ({ image: i, channel: c }));
    const columns: RgbaImage[] = [
      toRgbaGrid(
        { data: await sx.data(), count: sample, height: 28, width: 28, channels: 1 },
        { cols: 1, pad: 1, scale: 2 },
      ),
    ];
    for (const strategy of ['deconvnet', 'guided', 'saliency'] as const) {
      const p = dn.projectUnits(sx, units, { layer: 'logits', strategy, signal: 'unit' });
      try {
        columns.push(
          toRgbaGrid(
            { data: await p.data(), count: sample, height: 28, width: 28, channels: 1 },
            { cols: 1, pad: 1, scale: 2, normalize: 'symmetric' },
          ),
        );
      } finally {
        p.dispose();
      }
    }
    const strategiesPng = pngDataUri(hcat(columns, 6));

    // --- occlusion on digits
    const occ = await dn.occlusion(sx, {
      labels,
      size: 8,
      stride: 2,
      layer: 'conv2',
      onProgress: (e) => ctx.progress({ ...e, phase: 'deconvnet occlusion (digits)' }),
    });
    const mnistOcc = await occlusionFigure(sx, occ, 28, 28, null);
    tf.dispose([occ.probability, occ.predicted, occ.featureActivity!]);

    // --- scenes: frozen conv layers of the reference CNN + a new head, trained on single-digit scenes
    const canvas = 40;
    const sceneOpts = {
      canvasSize: canvas,
      minScale: 20,
      maxScale: 30,
      minObjects: 1,
      maxObjects: 1,
      strokes: 2,
      fragments: 1,
    };
    const trainScenes = generateScenes(
      { pixels: mnist.train.pixels, labels: mnist.train.labels, height: 28, width: 28 },
      { ...sceneOpts, count: full ? 6000 : 3000, seed: ctx.seed + 41 },
    );
    const testScenes = generateScenes(
      { pixels: mnist.test.pixels, labels: mnist.test.labels, height: 28, width: 28 },
      { ...sceneOpts, count: full ? 400 : 200, seed: ctx.seed + 42 },
    );
    const trX = scenesToTensor(trainScenes);
    const trY = tf.tensor1d(
      trainScenes.map((s) => s.objects[0].label),
      'int32',
    );
    const teX = scenesToTensor(testScenes);
    const teLabels = testScenes.map((s) => s.objects[0].label);
    const teY = tf.tensor1d(teLabels, 'int32');
    tracked.push(trX, trY, teX, teY);
    // the MNIST CNN's conv layers (copied, frozen) + a trainable conv3 and global max pooling: a head that does not
    // have to learn every position of the digit from 3,000 scenes (a flatten + dense head reached ~60% here)
    const sceneModel = tfl.sequential({
      name: 'scene_cnn',
      layers: [
        tfl.layers.conv2d({
          inputShape: [canvas, canvas, 1],
          filters: 16,
          kernelSize: 5,
          activation: 'relu',
          name: 'conv1',
        }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
        tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', name: 'conv2' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
        tfl.layers.conv2d({
          filters: 64,
          kernelSize: 3,
          activation: 'relu',
          name: 'conv3',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: ctx.seed + 43 }),
        }),
        tfl.layers.globalMaxPooling2d({ name: 'gmp' }),
        tfl.layers.dense({
          units: 10,
          name: 'logits',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: ctx.seed + 44 }),
        }),
      ],
    });
    try {
      for (const name of ['conv1', 'conv2']) {
        const layer = sceneModel.getLayer(name);
        layer.setWeights(cnn.model.getLayer(name).getWeights());
        layer.trainable = false;
      }
      const epochs = full ? 10 : 6;
      await trainClassifier(sceneModel, trX, trY, {
        epochs,
        batchSize: 64,
        learningRate: 2e-3,
        seed: ctx.seed,
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet scene head ${e.phase}` }),
      });
      const ev = await evaluateClassifier(sceneModel, { x: teX, labels: teY });
      const sdn = new Deconvnet(sceneModel);
      const size = 10;
      const stride = 3;
      const socc = await sdn.occlusion(teX, {
        labels: teLabels,
        size,
        stride,
        layer: 'conv3',
        batchSize: 128,
        onProgress: (e) => ctx.progress({ ...e, phase: 'deconvnet occlusion (scenes)' }),
      });
      let inside = 0;
      let insideCorrect = 0;
      let correct = 0;
      let chance = 0;
      let drop = 0;
      const probs = await socc.probability.data();
      const base = tf.tidy(() => tf.argMax(sceneModel.predict(teX) as tf.Tensor, 1));
      const basePred = await base.data();
      base.dispose();
      const nr = socc.rows.length;
      const nc = socc.cols.length;
      testScenes.forEach((s, i) => {
        const [y1, x1, y2, x2] = s.objects[0].box;
        const inBox = (r: number, c: number) => {
          const cy = socc.rows[r] + size / 2;
          const cx = socc.cols[c] + size / 2;
          return cy >= y1 && cy < y2 && cx >= x1 && cx < x2;
        };
        let best = 0;
        let hits = 0;
        for (let q = 0; q < nr * nc; q++) {
          if (probs[i * nr * nc + q] < probs[i * nr * nc + best]) best = q;
          if (inBox(Math.floor(q / nc), q % nc)) hits++;
        }
        chance += hits / (nr * nc);
        drop += socc.baseline[i] - probs[i * nr * nc + best];
        const ok = inBox(Math.floor(best / nc), best % nc);
        if (ok) inside++;
        if (basePred[i] === teLabels[i]) {
          correct++;
          if (ok) insideCorrect++;
        }
      });
      const shownScenes = tf.slice(teX, 0, 6) as tf.Tensor4D;
      tracked.push(shownScenes);
      const sceneFig = await occlusionFigure(
        shownScenes,
        {
          probability: tf.slice(socc.probability, 0, 6),
          featureActivity: tf.slice(socc.featureActivity!, 0, 6),
        },
        canvas,
        canvas,
        testScenes.slice(0, 6),
        true,
      );
      tf.dispose([socc.probability, socc.predicted, socc.featureActivity!]);
      const stop = await sdn.topK(teX, {
        layer: 'conv3',
        k: 9,
        channels: Array.from({ length: full ? 32 : 16 }, (_, i) => i),
        batchSize: 100,
        onProgress: (e) => ctx.progress({ ...e, phase: `deconvnet top-9 scenes ${e.phase}` }),
      });
      let topPng: string;
      try {
        topPng = pngDataUri(await topKFigure(stop, { scale: 2 }));
      } finally {
        tf.dispose([stop.projections, stop.patches]);
      }
      const n = testScenes.length;
      const mobilenet = await runMobilenetDeconv(ctx, {
        pixels: mnist.test.pixels,
        labels: mnist.test.labels,
      });
      return {
        mode: ctx.mode,
        backend: ctx.backend,
        seconds: (Date.now() - t0) / 1000,
        mnist: {
          scanned,
          testAccuracy: cnn.test.accuracy,
          layers,
          topKSeconds,
          strategiesPng,
          occlusionPng: mnistOcc.png,
          occlusionSamples: sample,
          meanDrop: mnistOcc.meanDrop,
        },
        scenes: {
          canvas,
          train: trainScenes.length,
          test: n,
          epochs,
          accuracy: ev.accuracy,
          occluder: size,
          stride,
          insideBox: inside / n,
          insideBoxCorrect: correct > 0 ? insideCorrect / correct : Number.NaN,
          correct,
          chance: chance / n,
          meanDrop: drop / n,
          occlusionPng: sceneFig.png,
          topPng,
        },
        mobilenet,
      };
    } finally {
      sceneModel.dispose();
    }
  } finally {
    tf.dispose(tracked);
    dn.dispose();
  }
}

/** Rows of [image (with the object's box) | probability map | feature-map activity]; disposes `occ`'s slices when asked. */
async function occlusionFigure(
  images: tf.Tensor4D,
  occ: { probability: tf.Tensor; featureActivity?: tf.Tensor; baseline?: number[] },
  h: number,
  w: number,
  scenes: Scene[] | null,
  disposeMaps = false,
): Promise<{ png: string; meanDrop: number }> {
  try {
    const [n, r, c] = occ.probability.shape;
    const pv = await occ.probability.data();
    const fv = occ.featureActivity ? await occ.featureActivity.data() : null;
    const iv = await images.data();
    const scale = 3;
    const mapScale = Math.max(1, Math.round((h * scale) / r));
    const rows: RgbaImage[] = [];
    let drop = 0;
    for (let i = 0; i < n; i++) {
      const img = single(iv.subarray(i * h * w, (i + 1) * h * w), h, w, scale, 'none');
      if (scenes) outline(img, scenes[i].objects[0].box, scale, 1);
      const probs = pv.subarray(i * r * c, (i + 1) * r * c);
      const parts = [img, single(probs, r, c, mapScale, 'none', 'viridis')];
      if (fv) parts.push(single(fv.subarray(i * r * c, (i + 1) * r * c), r, c, mapScale, 'tile', 'viridis'));
      rows.push(hcat(parts, 4));
      if (occ.baseline) drop += occ.baseline[i] - Math.min(...probs);
    }
    return { png: pngDataUri(vcat(rows, 4)), meanDrop: occ.baseline ? drop / n : Number.NaN };
  } finally {
    if (disposeMaps)
      tf.dispose([occ.probability, occ.featureActivity ?? null].filter((t): t is tf.Tensor => t !== null));
  }
}

/** The paper's occlusion finding (Fig. 7), shared by the claims table and the headline. */
const PAPER_OCCLUSION = 'Fig. 7: the probability drops when the object is covered';

function render(r: DeconvnetSectionResult): string {
  const s = r.scenes;
  const m = r.mnist;
  return [
    paragraph(
      "Zeiler & Fergus map a feature map's activity back to pixels with a deconvnet: unpooling with the recorded " +
        'max-pooling switches, ReLU on the signal coming back, and the transposed filters of each convolution. ' +
        'transferkit runs the same backward machinery with three rules at the ReLUs (deconvnet, guided backprop, ' +
        'gradient) and is tested against tf.customGrad oracles on cpu and wasm.',
    ),
    claimsTable([
      {
        claim:
          'Top-9 projections show what each feature map responds to; units of higher layers see larger parts of the image',
        paper: 'Fig. 2 (ImageNet, 5 layers): edges and colours, then textures, object parts, whole objects',
        ours: m.layers.map((l) => `${l.layer}: ${l.receptiveField.join('x')} px`).join(', '),
        holds: m.layers.every(
          (l, i) =>
            i === 0 ||
            l.receptiveField[0] * l.receptiveField[1] >
              m.layers[i - 1].receptiveField[0] * m.layers[i - 1].receptiveField[1],
        ),
        note: 'MNIST digits and a 2-conv CNN; judge the grids below (conv1: strokes; conv2: stroke ends, junctions, curves; fc1: whole digits).',
      },
      {
        claim:
          "Occluding the object makes the correct class's probability drop (the model localises the object)",
        paper: PAPER_OCCLUSION,
        ours: `strongest drop inside the digit's box on ${pct(s.insideBox, 1)} of ${s.test} scenes (${pct(s.insideBoxCorrect, 1)} of the ${s.correct} classified correctly); chance ${pct(s.chance, 1)}`,
        holds: s.insideBox > Math.max(0.5, s.chance),
        note: `${s.canvas}x${s.canvas} single-digit scenes with strokes and digit fragments as clutter; a ${s.occluder}px square, stride ${s.stride}.`,
      },
    ]),
    table(
      ['layer', 'channels shown', 'receptive field', 'mean top-1 activation'],
      m.layers.map((l) => [
        l.layer,
        `${l.shown} of ${l.channels}`,
        `${l.receptiveField[0]}x${l.receptiveField[1]}`,
        l.meanTop,
      ]),
      `Top-9 over ${m.scanned} MNIST test digits (${m.topKSeconds.toFixed(1)} s for scanning and projecting all three layers)`,
    ),
    ...m.layers.map((l) =>
      figure(
        { src: l.png, alt: `top-9 of ${l.layer}` },
        `${l.layer}: for each feature map, the 9 strongest activations projected to pixels (left, grey = 0) beside the ${l.receptiveField.join('x')} input patches that caused them (right).`,
      ),
    ),
    figure(
      { src: m.strategiesPng, alt: 'strategies' },
      'Correct-class logit projected to pixels: input, deconvnet (Z&F), guided backprop (Springenberg et al.), gradient (saliency).',
    ),
    figure(
      { src: m.occlusionPng, alt: 'occlusion on digits' },
      `Occlusion on digits (8px square, stride 2): image, probability of the correct class (viridis, 0..1), total activity of the strongest conv2 feature map. Mean drop ${pct(m.meanDrop, 1)}.`,
    ),
    table(
      ['scene classifier', 'value'],
      [
        ['training scenes', s.train],
        ['test scenes', s.test],
        [
          'epochs of the new head (conv3 + global max pooling + dense; conv1/conv2 copied from the MNIST CNN, frozen)',
          s.epochs,
        ],
        ['test accuracy', pct(s.accuracy, 1)],
        ['strongest drop inside the box', pct(s.insideBox, 1)],
        ['chance level', pct(s.chance, 1)],
        ['mean probability drop at the strongest position', pct(s.meanDrop, 1)],
      ],
    ),
    figure(
      { src: s.occlusionPng, alt: 'occlusion on scenes' },
      "Occlusion on scenes: the scene with the digit's box (red), the correct class's probability, the strongest conv3 feature map's activity.",
    ),
    figure(
      { src: s.topPng, alt: 'top-9 on scenes' },
      'conv3 of the scene classifier: top-9 projections and their receptive-field patches among clutter.',
    ),
    renderMobilenetDeconv(r.mobilenet),
    note(
      `What differs: 28x28 digits and 40x40 scenes instead of ImageNet, two conv layers instead of five, switches ` +
        `chosen as the first maximum of each window (the paper does not say how ties break). ${r.backend} backend, ` +
        `${r.seconds.toFixed(1)} s.`,
    ),
  ].join('\n');
}

/** The deconvnet report section (id `'deconvnet'`). */
export const deconvnet: ReportSection<DeconvnetSectionResult> = {
  id: 'deconvnet',
  title: 'Zeiler & Fergus (2013): visualising and understanding convolutional networks',
  // 2: adds the pretrained MobileNetV2 top-9 grids (`mobilenet`)
  version: 2,
  run,
  render,
  headlines: (r) => [
    {
      claim: "Occlusion: the strongest drop of the correct class's probability lies inside the object's box",
      paper: PAPER_OCCLUSION,
      ours: `${pct(r.scenes.insideBox, 1)} of ${r.scenes.test} clutter scenes (chance ${pct(r.scenes.chance, 1)})`,
    },
  ],
};
