// The cells of the backend matrix: every transferkit primitive run once on tiny, deterministic inputs, returning
// the numbers it produced. The SAME code runs in Node on the cpu backend (the reference) and in headless Chromium on
// webgl, webgpu, wasm and cpu (test/browser/matrix/run.mjs bundles it with the built package), so the two sets of
// numbers can be compared cell by cell. It receives tfjs-core and transferkit as arguments and imports nothing
// (types only), so one bundle serves every backend of the page.
import type * as TF from '@tensorflow/tfjs-core';
import type * as TK from '../../../src/index.js';

/** What one cell produced: named vectors of numbers (continuous) and of integers (decisions), or why it refused. */
export interface CellResult {
  /** 'ok': ran; 'refused': threw a typed transferkit error (the message says why); 'failed': threw anything else. */
  status: 'ok' | 'refused' | 'failed';
  /** Continuous outputs, compared within a tolerance. */
  values: Record<string, number[]>;
  /** Discrete outputs (classes, ranks), compared exactly. */
  ints: Record<string, number[]>;
  /** The error's class and message when the cell did not run. */
  error?: string;
  /** Wall time of the cell, ms. */
  ms: number;
  /** Tensors left behind by the cell (must be 0). */
  leaked: number;
}

/** The cells in table order, with the words the docs print for each. */
export const CELLS = [
  ['features', 'FeatureExtractor: conv1 + pool2 + fc1 taps, avg pool, L2'],
  ['deconvnet', 'Deconvnet.project, strategy deconvnet'],
  ['guided', 'Deconvnet.project, strategy guided'],
  ['saliency', 'Deconvnet.project, strategy saliency'],
  ['topk', 'Deconvnet.topK (k = 2, two conv2 channels)'],
  ['occlusion', 'Deconvnet.occlusion (8 px square, stride 10)'],
  ['transfer', 'LayerTransfer: copy to conv2 + one fine-tuning epoch'],
  ['patches', 'PatchSampler grid, cropBoxes, predictPatches + aggregatePatchScores'],
  ['distill', 'DistillationLoss + gradient, one Distiller epoch'],
  ['ensemble', 'SpecialistEnsemble.train + predict (combineKL)'],
  ['svm', 'LinearSvm fit + predictScores'],
  ['softmax', 'SoftmaxRegression fit + predictScores'],
] as const;

// Training cells use plain SGD (or, where the primitive only offers Adam, a small learning rate): Adam divides each
// gradient by its own running magnitude, so a weight whose gradient is exactly 0 on cpu and 1e-9 on a GPU backend
// (float32 noise behind a dead ReLU) moves by 0 on one and by ~lr on the other. That is Adam's sign-like step, not a
// backend error, and no tolerance could tell it from a real one.

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG): the same inputs on every backend. */
function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/**
 * Runs every cell on the current backend of `tf` and returns the results by cell name. `only` limits the run to
 * some cells.
 */
export async function runCells(
  tf: typeof TF,
  tk: typeof TK,
  only?: readonly string[],
): Promise<Record<string, CellResult>> {
  const N = 6;
  const labels = [0, 1, 2, 3, 0, 1];
  const images = () => tf.tensor4d(uniform(N * 28 * 28, 7), [N, 28, 28, 1]);
  const cnn = () =>
    tk.zeilerFergusCnn({ filters: [4, 8], kernelSizes: [3, 3], hidden: [16], numClasses: 4, seed: 1 });
  const flat = async (t: TF.Tensor) => Array.from(await t.data());
  const weights = async (m: { getWeights(): TF.Tensor[] }) => {
    const out: number[] = [];
    for (const w of m.getWeights()) out.push(...(await w.data()));
    return out;
  };

  const cells: Record<string, () => Promise<Omit<CellResult, 'status' | 'ms' | 'leaked'>>> = {
    async features() {
      const x = images();
      const model = cnn();
      const fx = new tk.FeatureExtractor(model, {
        taps: ['conv1', 'pool2', 'fc1'],
        pool: 'avg',
        normalize: 'l2',
      });
      const outs = fx.extract(x);
      const values = { conv1: await flat(outs[0]), pool2: await flat(outs[1]), fc1: await flat(outs[2]) };
      tf.dispose([x, ...outs]);
      fx.dispose();
      model.dispose();
      return { values, ints: {} };
    },
    ...Object.fromEntries(
      (['deconvnet', 'guided', 'saliency'] as const).map((strategy) => [
        strategy,
        async () => {
          const x = images();
          const model = cnn();
          const dn = new tk.Deconvnet(model);
          const conv = dn.project(x, { layer: 'conv2', channels: [0, 3], position: 'max', strategy });
          const logits = dn.projectUnits(
            x,
            labels.map((c, image) => ({ image, channel: c })),
            { layer: 'logits', strategy, signal: 'unit' },
          );
          const values = { conv2: await flat(conv), logits: await flat(logits) };
          tf.dispose([x, conv, logits]);
          dn.dispose();
          model.dispose();
          return { values, ints: {} };
        },
      ]),
    ),
    async topk() {
      const x = images();
      const model = cnn();
      const dn = new tk.Deconvnet(model);
      const top = await dn.topK(x, { layer: 'conv2', k: 2, channels: [0, 3] });
      const units = top.units.flat();
      const values = {
        scores: units.map((u) => u.score),
        projections: await flat(top.projections),
        patches: await flat(top.patches),
      };
      const ints = { units: units.flatMap((u) => [u.index, u.y, u.x]) };
      tf.dispose([x, top.projections, top.patches]);
      dn.dispose();
      model.dispose();
      return { values, ints };
    },
    async occlusion() {
      const x = images();
      const model = cnn();
      const dn = new tk.Deconvnet(model);
      const occ = await dn.occlusion(x, { labels, size: 8, stride: 10, layer: 'conv2' });
      const values = {
        probability: await flat(occ.probability),
        baseline: occ.baseline,
        featureActivity: occ.featureActivity ? await flat(occ.featureActivity) : [],
      };
      const ints = { predicted: await flat(occ.predicted) };
      tf.dispose([x, occ.probability, occ.predicted, ...(occ.featureActivity ? [occ.featureActivity] : [])]);
      dn.dispose();
      model.dispose();
      return { values, ints };
    },
    async transfer() {
      const x = images();
      const model = cnn();
      const t = new tk.LayerTransfer(model, {
        copy: { name: 'conv2' },
        head: { kind: 'replace', numClasses: 3 },
        seed: 1,
      });
      const copied = await weights(t.model);
      await t.fineTune(
        { x, labels: labels.map((l) => l % 3) },
        { epochs: 1, batchSize: 3, learningRate: 0.1, copiedLearningRate: 0.01, optimizer: 'sgd', seed: 1 },
      );
      const tuned = await weights(t.model);
      const out = t.model.predict(x) as TF.Tensor;
      const values = { copied, tuned, logits: await flat(out) };
      tf.dispose([x, out]);
      t.dispose();
      model.dispose();
      return { values, ints: { copiedLayers: [t.copiedLayers.length] } };
    },
    async patches() {
      const x = images();
      const model = cnn();
      const grid = new tk.PatchSampler({ scales: 2, overlap: 0.5 }).grid({ height: 28, width: 28 });
      const crops = tk.cropBoxes(x, [0, 0, 14, 14, 5, 7, 27, 20, 3, 3, 17, 27], [0, 2, 5], [12, 12]);
      const scores = await tk.predictPatches(model, x, grid, [28, 28], { activation: 'softmax' });
      const power = tk.aggregatePatchScores(scores, { method: 'power', power: 5 });
      const max = tk.aggregatePatchScores(scores, { method: 'max' });
      const first = tf.slice(scores, [0, 0, 0], [1, -1, -1]) as TF.Tensor3D;
      const map = tk.localizationMap(first, grid);
      const values = {
        crops: await flat(crops),
        scores: await flat(scores),
        power: await flat(power),
        max: await flat(max),
        map: await flat(map),
      };
      tf.dispose([x, crops, scores, power, max, first, map]);
      model.dispose();
      return { values, ints: { patches: [grid.count] } };
    },
    async distill() {
      const x = images();
      const teacher = cnn();
      const student = tk.zeilerFergusCnn({
        filters: [2, 4],
        kernelSizes: [3, 3],
        hidden: [8],
        numClasses: 4,
        seed: 2,
      });
      const loss = new tk.DistillationLoss({ temperature: 4, alpha: 0.5 });
      const y = tf.tensor1d(labels, 'int32');
      const tLogits = teacher.predict(x) as TF.Tensor2D;
      const s0 = student.predict(x) as TF.Tensor2D;
      const value = loss.compute(s0, tLogits, y);
      const grad = tf.grad((s: TF.Tensor) => loss.compute(s as TF.Tensor2D, tLogits, y) as TF.Scalar)(s0);
      const optimizer = tf.train.sgd(0.1);
      const distiller = new tk.Distiller(student, teacher, { temperature: 4, alpha: 0.5, optimizer });
      await distiller.fit(x, { labels: y, epochs: 1, batchSize: 3, seed: 1 });
      const after = student.predict(x) as TF.Tensor;
      const values = {
        loss: await flat(value),
        gradient: await flat(grad),
        studentWeights: await weights(student),
        studentLogits: await flat(after),
      };
      tf.dispose([x, y, tLogits, s0, value, grad, after]);
      distiller.dispose();
      optimizer.dispose();
      student.dispose();
      teacher.dispose();
      return { values, ints: {} };
    },
    async ensemble() {
      const x = images();
      const generalist = cnn();
      const ensemble = await tk.SpecialistEnsemble.train(generalist, x, labels, {
        clusters: [
          [0, 1],
          [2, 3],
        ],
        training: { epochs: 1, batchSize: 3, learningRate: 1e-4 },
        sampling: { seed: 1 },
      });
      const q = await ensemble.predictProba(x, { candidates: 2 });
      const pg = tf.tensor2d([0.5, 0.3, 0.1, 0.1, 0.1, 0.2, 0.3, 0.4], [2, 4]);
      const pm = tf.tensor2d([0.6, 0.3, 0.1, 0.2, 0.2, 0.6], [2, 3]);
      const active = tf.tensor2d([1, 0], [2, 1]);
      const kl = await tk.combineKL(pg, [{ probabilities: pm, classes: [1, 2] }], active);
      const values = { predict: await flat(q), combineKL: await flat(kl.probabilities) };
      tf.dispose([x, q, pg, pm, active, kl.probabilities]);
      ensemble.dispose();
      generalist.dispose();
      return { values, ints: {} };
    },
    ...Object.fromEntries(
      (['svm', 'softmax'] as const).map((kind) => [
        kind,
        async () => {
          const n = 24;
          const d = 5;
          const raw = uniform(n * d, 11);
          const y = Array.from({ length: n }, (_, i) => i % 3);
          // Three classes, shifted apart along features 0-2 so the problem is well-posed.
          for (let i = 0; i < n; i++) raw[i * d + y[i]] += 1.5;
          const x = tf.tensor2d(raw, [n, d]);
          const clf =
            kind === 'svm'
              ? // tol 0: Newton-CG runs to the optimum (float32 resolution), which every backend shares; at the
                // default tol (1e-3 of the initial gradient) each backend stops at its own nearby point (~5e-3 apart).
                new tk.LinearSvm({ C: 1, numClasses: 3, epochs: 50, tol: 0 })
              : new tk.SoftmaxRegression({ l2: 1e-2, numClasses: 3, epochs: 50 });
          await clf.fit(x, y);
          const scores = await clf.predictScores(x);
          const values = { scores: await flat(scores) };
          const ints = { predict: Array.from(await clf.predict(x)) };
          tf.dispose([x, scores]);
          clf.dispose();
          return { values, ints };
        },
      ]),
    ),
  };

  const results: Record<string, CellResult> = {};
  for (const [name] of CELLS) {
    if (only && !only.includes(name)) continue;
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    try {
      const r = await cells[name]();
      results[name] = { status: 'ok', ...r, ms: 0, leaked: 0 };
    } catch (e) {
      const err = e as Error;
      results[name] = {
        status: e instanceof tk.TransferkitError ? 'refused' : 'failed',
        values: {},
        ints: {},
        error: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`,
        ms: 0,
        leaked: 0,
      };
    }
    results[name].ms = performance.now() - t0;
    results[name].leaked = tf.memory().numTensors - before;
  }
  return results;
}
