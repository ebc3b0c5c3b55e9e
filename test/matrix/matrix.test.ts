/**
 * The compatibility matrix: every architecture of the zoo (tiny, seeded) and the real pretrained nsfwjs models x
 * every primitive. A cell is `ok` (ran and passed its check), `refused` (a typed transferkit error, recorded with its
 * message) or `not-run` (with the reason: e.g. a cell that needs the wasm training kernels on the cpu backend). Any
 * other error fails the test. The results go to test-results/matrix-<backend>.json; `npm run matrix:docs` renders
 * docs/models.md from them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Deconvnet,
  Distiller,
  efficientNetB0,
  FeatureExtractor,
  inceptionNet,
  LayerTransfer,
  listCuts,
  mobileNetV1,
  mobileNetV2,
  mobileNetV3Small,
  resNet18,
  SpecialistEnsemble,
  TransferkitError,
  zeilerFergusCnn,
} from '../../src/index.js';
import { pretrainedIOHandler } from '../../src/node/pretrained.js';
import { loadPretrained } from '../../src/node.js';
import { backendName, expectClose } from '../helpers.js';

type Status = 'ok' | 'refused' | 'not-run';
interface Cell {
  status: Status;
  detail: string;
  ms: number;
}
const PRIMITIVES = [
  'taps',
  'deconvnet',
  'guided',
  'saliency',
  'topK',
  'occlusion',
  'transfer',
  'distill',
  'specialists',
] as const;
type Primitive = (typeof PRIMITIVES)[number];

interface Arch {
  id: string;
  title: string;
  build: () => Promise<tfl.LayersModel | GraphModel>;
  /** A late layer to tap and project from: the last layer of this class (and name part), or a graph node's name. */
  layer: [cls: string, namePart: string] | string;
  /** Number of classes, where the model's output signature does not say (a GraphModel). */
  classes?: number;
  /** Cells that are not run, with the reason. */
  skip?: Partial<Record<Primitive, string>>;
  real?: boolean;
}

const TINY = {
  inputShape: [32, 32, 3] as [number, number, number],
  width: 0.25,
  depth: 0.34,
  numClasses: 4,
  seed: 1,
};
const WASM_TRAIN =
  'needs the wasm training kernels (a conv net trains in seconds there, minutes on pure-JS cpu)';
const REAL_COST =
  'real-sized model: only the cheap cells run in tests (batch 1, wasm; a projection of InceptionV3 costs ~100 s ' +
  'on the shared 2-core machine); speed: `npm run bench -- --only models`';

const ARCHS: Arch[] = [
  {
    id: 'mobilenet_v1',
    title: 'MobileNetV1 (tiny)',
    build: async () => mobileNetV1(TINY),
    layer: ['ReLU', 'conv_pw'],
  },
  {
    id: 'mobilenet_v2',
    title: 'MobileNetV2 (tiny)',
    build: async () => mobileNetV2(TINY),
    layer: ['ReLU', 'expand_relu'],
  },
  {
    id: 'mobilenet_v3_small',
    title: 'MobileNetV3-small (tiny)',
    build: async () => mobileNetV3Small(TINY),
    layer: ['Multiply', 'se_excite'],
  },
  {
    id: 'efficientnet_b0',
    title: 'EfficientNet-B0-style (tiny)',
    build: async () => efficientNetB0(TINY),
    layer: ['Multiply', 'se_excite'],
  },
  {
    id: 'resnet18',
    title: 'ResNet-18-style (tiny)',
    build: async () => resNet18({ ...TINY, width: 0.125 }),
    layer: ['Add', '_add'],
  },
  {
    id: 'inception_net',
    title: 'Inception-style blocks (tiny)',
    build: async () => inceptionNet(TINY),
    layer: ['Concatenate', 'mixed'],
  },
  {
    id: 'nsfwjs_mobilenet_v2',
    title: 'nsfwjs MobileNetV2 (pretrained, 224x224)',
    build: () => loadPretrained('mobilenet_v2'),
    layer: ['ReLU', 'block_13_expand_relu'],
    real: true,
    skip: {
      // the same layer kinds are projected through the tiny MobileNetV2 above; at 224x224 each strategy costs tens
      // of seconds on 2 cores (the depthwise input gradient at large maps), so the suite keeps saliency only
      deconvnet: REAL_COST,
      guided: REAL_COST,
      topK: REAL_COST,
      occlusion: REAL_COST,
      transfer: REAL_COST,
      distill: REAL_COST,
      specialists: REAL_COST,
    },
  },
  {
    id: 'nsfwjs_inception_v3',
    title: 'nsfwjs InceptionV3 (pretrained, 299x299)',
    build: () => loadPretrained('inception_v3'),
    layer: ['Concatenate', 'mixed7'],
    real: true,
    skip: {
      deconvnet: REAL_COST,
      guided: REAL_COST,
      saliency: REAL_COST,
      topK: REAL_COST,
      occlusion: REAL_COST,
      transfer: REAL_COST,
      distill: REAL_COST,
      specialists: REAL_COST,
    },
  },
  {
    id: 'nsfwjs_graph_mobilenet_v2',
    title: 'nsfwjs MobileNetV2 GraphModel (tfjs-converter, 224x224)',
    build: () => loadGraphModel(pretrainedIOHandler('mobilenet_v2_mid')),
    // block 13's expansion ReLU6, as in the LayersModel row above
    layer:
      'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/expanded_conv_13/expand/Relu6',
    classes: 5,
    real: true,
    skip: {
      // projections of this node by node name are checked in test/model/graph-model.test.ts (saliency, and the
      // deconvnet / guided rules against the rule applied by hand); topK below runs the deconvnet rule here
      deconvnet: REAL_COST,
      guided: REAL_COST,
      saliency: REAL_COST,
      distill: REAL_COST,
      specialists: REAL_COST,
    },
  },
];

const results: Record<string, Record<string, Cell>> = {};
const layers: Record<string, string> = {};

/** The last layer of class `cls` whose name contains `part` (a graph node's name as given). */
function lateLayer(model: tfl.LayersModel | GraphModel, ref: [string, string] | string): string {
  if (typeof ref === 'string') return ref;
  const [cls, part] = ref;
  if (!('layers' in model)) throw new Error('matrix: a graph model needs its node by name');
  const found = model.layers.filter((l) => l.getClassName() === cls && l.name.includes(part));
  if (found.length === 0) throw new Error(`matrix: no ${cls} layer named *${part}*`);
  return found[found.length - 1].name;
}

async function finite(t: tf.Tensor): Promise<{ max: number }> {
  const v = await t.data();
  let max = 0;
  for (const x of v) {
    expect(Number.isFinite(x)).toBe(true);
    max = Math.max(max, Math.abs(x));
  }
  return { max };
}

async function cell(arch: string, p: Primitive, run: () => Promise<string>): Promise<void> {
  const t0 = performance.now();
  const before = tf.memory().numTensors;
  let c: Cell;
  try {
    c = { status: 'ok', detail: await run(), ms: 0 };
  } catch (e) {
    if (!(e instanceof TransferkitError)) throw e;
    c = { status: 'refused', detail: `${e.constructor.name}: ${e.message}`, ms: 0 };
  }
  c.ms = Math.round(performance.now() - t0);
  results[arch][p] = c;
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) c.detail += ` (leaks ${leaked} tensor${leaked > 1 ? 's' : ''})`;
  expect(`${arch} ${p}: ${leaked} tensors leaked`).toBe(`${arch} ${p}: 0 tensors leaked`);
}

const backend = backendName();

describe(`compatibility matrix (${backend})`, () => {
  afterAll(() => {
    const dir = path.resolve('test-results');
    mkdirSync(dir, { recursive: true });
    const archs = ARCHS.filter((a) => results[a.id] !== undefined).map((a) => ({
      id: a.id,
      title: a.title,
      layer: layers[a.id] ?? null,
      cells: results[a.id],
    }));
    writeFileSync(
      path.join(dir, `matrix-${backend}.json`),
      `${JSON.stringify({ backend, tfjs: tf.version_core, primitives: PRIMITIVES, architectures: archs }, null, 2)}\n`,
    );
  });

  for (const arch of ARCHS) {
    it(arch.title, async () => {
      results[arch.id] = {};
      if (arch.real && backend !== 'wasm') {
        for (const p of PRIMITIVES) {
          results[arch.id][p] = { status: 'not-run', detail: 'real-sized model: runs on wasm only', ms: 0 };
        }
        return;
      }
      const model = await arch.build();
      const [, h, w, c] = model.inputs[0].shape as number[];
      const n = arch.real ? 1 : 2;
      const x = tf.randomUniform([n, h, w, c], 0, 1, 'float32', 11) as tf.Tensor4D;
      const classes = arch.classes ?? (model.outputs[0].shape?.[1] as number);
      const layer = lateLayer(model, arch.layer);
      layers[arch.id] = layer;
      const before = tf.memory().numTensors;
      try {
        for (const p of PRIMITIVES) {
          const reason = arch.skip?.[p] ?? (p === 'transfer' && backend !== 'wasm' ? WASM_TRAIN : undefined);
          if (reason !== undefined) {
            results[arch.id][p] = { status: 'not-run', detail: reason, ms: 0 };
            continue;
          }
          await cell(arch.id, p, () => runCell(p, layer, model, x, classes));
        }
      } finally {
        x.dispose();
      }
      expect(tf.memory().numTensors).toBe(before - 1); // x was disposed
      model.dispose();
      // every tiny architecture supports every primitive that ran
      if (!arch.real) {
        for (const p of PRIMITIVES) expect([p, results[arch.id][p].status]).not.toEqual([p, 'refused']);
      }
    });
  }
});

async function runCell(
  p: Primitive,
  layer: string,
  model: tfl.LayersModel | GraphModel,
  x: tf.Tensor4D,
  classes: number,
): Promise<string> {
  const n = x.shape[0];
  switch (p) {
    case 'taps': {
      // (a graph's node list ends in constants and identities: the late node alone)
      const fx = new FeatureExtractor(model, {
        taps: 'layers' in model ? [layer, -2] : [layer],
        pool: 'avg',
      });
      const f = fx.extract(x);
      try {
        const dims = f.map((t) => t.shape[1]);
        for (const t of f) {
          expect(t.shape[0]).toBe(n);
          await finite(t);
        }
        return `${fx.taps.map((t) => t.name).join(' + ')}: ${dims.join(' + ')} features`;
      } finally {
        tf.dispose(f);
        fx.dispose();
      }
    }
    case 'deconvnet':
    case 'guided':
    case 'saliency': {
      const dn = new Deconvnet(model, { strategy: p });
      const proj = dn.project(x, { layer: layer, channels: [0, 1] });
      try {
        expect(proj.shape).toEqual([n, 2, ...x.shape.slice(1)]);
        const { max } = await finite(proj);
        if (p === 'saliency' && x.shape[0] > 1) {
          // the saliency projection of the logits with a unit signal is the gradient of the class score
          const s = dn.project(x, { layer: 'logits', channels: [1], signal: 'unit' });
          const g = tf.grad((t: tf.Tensor) =>
            tf.sum(tf.slice((model as tfl.LayersModel).predict(t) as tf.Tensor, [0, 1], [-1, 1])),
          )(x);
          const sv = await s.data();
          const gv = await g.data();
          tf.dispose([s, g]);
          let gm = 0;
          for (const v of gv) gm = Math.max(gm, Math.abs(v));
          expect(gm).toBeGreaterThan(0);
          expectClose(sv, gv, 1e-3 * gm, 1e-3);
        }
        return `${layer}, 2 channels: max |projection| ${max.toExponential(2)}`;
      } finally {
        proj.dispose();
      }
    }
    case 'topK': {
      const dn = new Deconvnet(model);
      const r = await dn.topK(x, { layer, k: 2, channels: [0, 3], crop: false });
      try {
        expect(r.units.length).toBeGreaterThan(0);
        await finite(r.projections);
        return `${r.units.length} units, projections [${r.projections.shape.join(', ')}]`;
      } finally {
        tf.dispose([r.projections, r.patches]);
      }
    }
    case 'occlusion': {
      const dn = new Deconvnet(model);
      const size = Math.max(4, Math.floor(x.shape[1] / 4));
      const r = await dn.occlusion(x, {
        labels: Array.from({ length: n }, (_, i) => i % classes),
        size,
        stride: size,
      });
      try {
        const maps = Object.values(r).filter((v): v is tf.Tensor => v instanceof tf.Tensor);
        for (const t of maps) await finite(t);
        return `${size}x${size} occluder, stride ${size}`;
      } finally {
        tf.dispose(Object.values(r).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
      }
    }
    case 'transfer': {
      // the second valid cut (inside a residual or SE block is refused with InvalidCutError by design)
      if (!('layers' in model)) {
        new LayerTransfer(model as never); // a typed refusal that names GraphModelClassifier
      }
      const cuts = listCuts(model as tfl.LayersModel);
      const t = new LayerTransfer(model as tfl.LayersModel, {
        copy: cuts[Math.min(1, cuts.length - 1)].stages,
        head: { kind: 'replace', numClasses: 3 },
        seed: 1,
      });
      try {
        const frozen = t.freeze();
        const hist = await t.fineTune(
          { x, labels: Array.from({ length: n }, (_, i) => i % 3) },
          { epochs: 1, batchSize: n, learningRate: 1e-3, seed: 1 },
        );
        return `${t.stages} stages, copied ${t.copiedStages}, froze ${frozen.length} layers, 1 step: ${JSON.stringify(hist).slice(0, 60)}`;
      } finally {
        t.dispose();
      }
    }
    case 'distill': {
      const [, h, w, c] = x.shape;
      const student = zeilerFergusCnn({
        inputShape: [h, w, c],
        numClasses: classes,
        filters: [4],
        hidden: [8],
        seed: 2,
      });
      const d = new Distiller(student, model, { temperature: 4, alpha: 0.9 });
      const labels = tf.tensor1d([0, 1].slice(0, n), 'int32');
      try {
        const hist = await d.fit(x, { epochs: 1, batchSize: n, labels });
        expect(Number.isFinite(hist.epochs[0].loss)).toBe(true);
        return `student CNN, 1 epoch, loss ${hist.epochs[0].loss.toFixed(3)}`;
      } finally {
        labels.dispose();
        d.dispose();
        student.dispose();
      }
    }
    case 'specialists': {
      const xs = tf.tidy(() => tf.concat([x, tf.reverse(x, 2)]));
      const labels = Array.from({ length: xs.shape[0] }, (_, i) => i % classes);
      try {
        const e = await SpecialistEnsemble.train(model, xs, labels, {
          clusters: [[0, 1]],
          generalistOutput: 'logits',
          training: { epochs: 1, batchSize: xs.shape[0] },
        });
        try {
          const q = await e.predictProba(x, { candidates: 1 });
          expect(q.shape).toEqual([n, classes]);
          await finite(q);
          q.dispose();
          return '1 specialist (copy of the model) for classes {0, 1}, 1 epoch';
        } finally {
          e.dispose();
        }
      } finally {
        xs.dispose();
      }
    }
  }
}
