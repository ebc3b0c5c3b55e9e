/**
 * The specialists section: Hinton, Vinyals & Dean (2015), section 5, at MNIST scale. A deliberately weak generalist
 * (a tiny MLP), the confusable classes it finds (clustering of its predictions on held-out digits), specialists
 * copied from it and trained on enriched data with a dustbin class, the KL combination of eq. 5 at test time, the
 * gain by number of specialists covering the true class (the paper's Table 4), and the ensemble distilled back
 * into one model of the generalist's size (the step the paper left undone).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  type ClassClustering,
  clusterClasses,
  distillEnsemble,
  heatMap,
  hintonMlp,
  LayerTransfer,
  Rng,
  SpecialistEnsemble,
  trainClassifier,
} from '../../index.js';
import { claimsTable, figure, note, paragraph, pct, table } from '../html.js';
import { sharedMnist } from '../shared.js';
import type { ReportContext, ReportMode, ReportSection } from '../types.js';

/** The recipe in each mode. */
export interface SpecialistsConfig {
  /** Hidden layer sizes of the generalist (and of the distilled student). */
  hidden: number[];
  /** Epochs of the generalist. */
  generalistEpochs: number;
  /** Fraction of the training part held out to cluster the generalist's predictions. */
  heldOutFraction: number;
  /** Largest k tried by each clustering (k searched from 2). */
  kMax: number;
  /** Epochs of each specialist on its enriched sample. */
  specialistEpochs: number;
  /** Fraction of a specialist's sample drawn from its subset (paper: 0.5). */
  subsetFraction: number;
  /** Numbers of candidate classes n evaluated (paper: n = 1). */
  candidates: number[];
  /** Epochs of the distilled student. */
  distillEpochs: number;
  /** Distillation temperature. */
  temperature: number;
  /** Weight of the soft term in distillation. */
  alpha: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Repeats of the whole experiment with different seeds (data split, initialisations). */
  seeds: number;
}

/**
 * The recipe: a 784-12-10 generalist trained for 2 epochs in `quick` mode (about 90% on the test digits: weak on
 * purpose), 784-16-10 for 4 epochs in `full`.
 *
 * @example
 * ```ts
 * specialistsConfig('quick').hidden; // [12]
 * ```
 */
export function specialistsConfig(mode: ReportMode): SpecialistsConfig {
  const full = mode === 'full';
  return {
    hidden: full ? [10] : [8],
    generalistEpochs: full ? 10 : 6,
    heldOutFraction: 0.2,
    kMax: 6,
    specialistEpochs: full ? 5 : 3,
    subsetFraction: 0.5,
    candidates: full ? [1, 2, 3] : [1, 2],
    distillEpochs: full ? 5 : 3,
    temperature: 2,
    alpha: 0.7,
    batchSize: 64,
    lr: 3e-3,
    seeds: full ? 3 : 1,
  };
}

/** A clustering as saved in the results. */
export interface ClusteringSummary {
  method: 'covariance' | 'confusion';
  k: number;
  clusters: { classes: number[]; score: number }[];
  /** The affinity behind the scores (correlation, or symmetrised confusion rates). */
  affinity: number[][];
  search: { k: number; silhouette: number; withinAffinity: number }[];
}

/** One evaluated number of candidates. */
export interface EnsembleScore {
  candidates: number;
  accuracy: number;
  /** Accuracy on test digits whose class some specialist covers (the confusable classes). */
  coveredAccuracy: number;
  /** Test rows where at least one specialist was active, and the accuracies on them. */
  activeRows: number;
  activeGeneralist: number;
  activeEnsemble: number;
  /** Most gradient steps of the KL solve in a chunk, and whether all chunks converged. */
  iterations: number;
  converged: boolean;
  seconds: number;
}

/** One repeat of the experiment. */
export interface SpecialistsRun {
  seed: number;
  sizes: { train: number; heldOut: number; test: number; covered: number };
  generalist: { accuracy: number; coveredAccuracy: number; perClass: number[]; seconds: number };
  covariance: ClusteringSummary;
  confusion: ClusteringSummary;
  specialists: { classes: number[]; source: string; score: number; dustbinLogitShift: number }[];
  ensemble: EnsembleScore[];
  /** Paper's Table 4: by number of specialists covering the true class (n = first candidates value). */
  byCover: { cover: number; count: number; generalistCorrect: number; ensembleCorrect: number }[];
  /**
   * A copy of the generalist trained `distillEpochs` more epochs on the hard labels: the control for "more
   * training" (the specialists and the distillation add training too).
   */
  longer: { accuracy: number; coveredAccuracy: number; seconds: number };
  /** A copy of the generalist trained `distillEpochs` more epochs on the ensemble's soft targets. */
  distilled: { accuracy: number; coveredAccuracy: number; agreement: number; seconds: number };
  seconds: { specialists: number; total: number };
}

/** The JSON results of the section. */
export interface SpecialistsResult {
  mode: ReportMode;
  backend: string;
  config: SpecialistsConfig;
  /** One entry per seed; the figures show the first. */
  runs: SpecialistsRun[];
  seconds: number;
}

function summarize(c: ClassClustering): ClusteringSummary {
  return {
    method: c.method,
    k: c.k,
    clusters: c.clusters.map((x) => ({ classes: x.classes, score: x.score })),
    affinity: c.affinity,
    search: c.search ?? [],
  };
}

function meanOffDiagonal(m: readonly (readonly number[])[]): number {
  let sum = 0;
  for (let i = 0; i < m.length; i++) for (let j = 0; j < m.length; j++) if (i !== j) sum += m[i][j];
  return sum / (m.length * (m.length - 1));
}

function argmaxRows(values: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

async function predictClasses(model: tfl.LayersModel, x: tf.Tensor): Promise<number[]> {
  const y = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1));
  const v = await y.data();
  y.dispose();
  return Array.from(v);
}

function accuracyOn(
  pred: readonly number[],
  labels: readonly number[],
  keep?: (i: number) => boolean,
): number {
  let n = 0;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    if (keep && !keep(i)) continue;
    n++;
    if (pred[i] === labels[i]) ok++;
  }
  return n ? ok / n : Number.NaN;
}

async function run(ctx: ReportContext): Promise<SpecialistsResult> {
  const t0 = performance.now();
  const cfg = specialistsConfig(ctx.mode);
  const runs: SpecialistsRun[] = [];
  for (let i = 0; i < cfg.seeds; i++) runs.push(await runOnce(ctx, cfg, ctx.seed + 101 * i));
  return {
    mode: ctx.mode,
    backend: ctx.backend,
    config: cfg,
    runs,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function runOnce(ctx: ReportContext, cfg: SpecialistsConfig, seed: number): Promise<SpecialistsRun> {
  const t0 = performance.now();
  const mnist = await sharedMnist(ctx);
  const numClasses = mnist.numClasses;
  const testLabels = mnist.test.labels;
  const rng = new Rng(seed + 8);
  const order = rng.permutation(mnist.train.size);
  const nHeld = Math.round(cfg.heldOutFraction * mnist.train.size);
  const heldIdx = order.slice(0, nHeld);
  const trainIdx = order.slice(nHeld);
  const trainLabels = trainIdx.map((i) => mnist.train.labels[i]);
  const heldLabels = heldIdx.map((i) => mnist.train.labels[i]);
  const gather = (idx: number[]) => tf.tidy(() => tf.gather(mnist.train.x, tf.tensor1d(idx, 'int32')));
  const xTrain = gather(trainIdx);
  const xHeld = gather(heldIdx);
  const yTrain = tf.tensor1d(trainLabels, 'int32');
  const owned: { dispose(): void }[] = [xTrain, xHeld, yTrain];
  try {
    // 1. The weak generalist.
    const tg = performance.now();
    const generalist = hintonMlp({ hidden: cfg.hidden, dropout: 0, inputDropout: 0, seed: seed });
    owned.push(generalist);
    await trainClassifier(generalist, xTrain, yTrain, {
      epochs: cfg.generalistEpochs,
      batchSize: cfg.batchSize,
      learningRate: cfg.lr,
      seed: seed,
      onProgress: (e) => ctx.progress({ ...e, phase: `generalist ${e.phase}` }),
    });
    const generalistSeconds = (performance.now() - tg) / 1000;

    // 2. Confusable classes from its predictions on held-out digits.
    const heldProbs = tf.tidy(() => tf.softmax(generalist.predict(xHeld) as tf.Tensor));
    const p = await heldProbs.data();
    heldProbs.dispose();
    const covariance = clusterClasses(p, numClasses, { k: { min: 2, max: cfg.kMax }, seed: seed });
    const confusion = clusterClasses(p, numClasses, {
      method: 'confusion',
      labels: heldLabels,
      k: { min: 2, max: cfg.kMax },
      seed: seed,
    });
    const sets = new Map<string, { classes: number[]; source: string; score: number }>();
    for (const c of [covariance, confusion]) {
      // Multi-class clusters whose classes are more confusable than an average pair of classes.
      const baseline = meanOffDiagonal(c.affinity);
      for (const cl of c.clusters) {
        if (cl.classes.length < 2 || cl.classes.length >= numClasses || cl.score <= baseline) continue;
        const key = cl.classes.join(',');
        const prev = sets.get(key);
        if (prev) prev.source = 'both';
        else sets.set(key, { classes: cl.classes, source: c.method, score: cl.score });
      }
    }
    if (sets.size === 0) {
      // No cluster beats the average pair: fall back to each method's most confusable multi-class cluster.
      for (const c of [covariance, confusion]) {
        const best = c.clusters.find((cl) => cl.classes.length > 1 && cl.classes.length < numClasses);
        if (best)
          sets.set(best.classes.join(','), { classes: best.classes, source: c.method, score: best.score });
      }
    }
    const chosen = [...sets.values()];
    ctx.log(`specialists: clusters ${chosen.map((s) => `{${s.classes.join(',')}}`).join(' ')}`);

    // 3. Specialists copied from the generalist, trained on enriched samples.
    const ts = performance.now();
    const ensemble = await SpecialistEnsemble.train(generalist, xTrain, trainLabels, {
      clusters: chosen.map((s) => s.classes),
      sampling: { subsetFraction: cfg.subsetFraction, seed: seed },
      training: { epochs: cfg.specialistEpochs, batchSize: cfg.batchSize, learningRate: cfg.lr },
      onProgress: (e) => ctx.progress({ ...e, phase: 'train specialists' }),
    });
    owned.push(ensemble);
    const specialistSeconds = (performance.now() - ts) / 1000;
    const specs = ensemble.specialists;

    // 4. Test: generalist vs ensemble, overall, on covered classes, by cover count.
    const cover = new Array<number>(numClasses).fill(0);
    for (const s of specs) for (const c of s.classes) cover[c]++;
    const covered = (i: number) => cover[testLabels[i]] > 0;
    const gPred = await predictClasses(generalist, mnist.test.x);
    const scores: EnsembleScore[] = [];
    let firstPred: number[] = [];
    for (const n of cfg.candidates) {
      const te = performance.now();
      const r = await ensemble.predictDetailed(mnist.test.x, { candidates: n });
      const q = await r.probabilities.data();
      const act = await r.active.data();
      tf.dispose([r.probabilities, r.generalist, r.active]);
      const ePred = argmaxRows(q, numClasses);
      if (scores.length === 0) firstPred = ePred;
      const m = specs.length;
      const isActive = (i: number) => {
        for (let j = 0; j < m; j++) if (act[i * m + j] > 0) return true;
        return false;
      };
      scores.push({
        candidates: n,
        accuracy: accuracyOn(ePred, testLabels),
        coveredAccuracy: accuracyOn(ePred, testLabels, covered),
        activeRows: testLabels.filter((_, i) => isActive(i)).length,
        activeGeneralist: accuracyOn(gPred, testLabels, isActive),
        activeEnsemble: accuracyOn(ePred, testLabels, isActive),
        iterations: r.iterations,
        converged: r.converged,
        seconds: (performance.now() - te) / 1000,
      });
      ctx.progress({ phase: 'evaluate', done: scores.length, total: cfg.candidates.length });
    }
    const maxCover = Math.max(...cover);
    const byCover = Array.from({ length: maxCover + 1 }, (_, k) => {
      const rows = testLabels.map((_, i) => i).filter((i) => cover[testLabels[i]] === k);
      return {
        cover: k,
        count: rows.length,
        generalistCorrect: rows.filter((i) => gPred[i] === testLabels[i]).length,
        ensembleCorrect: rows.filter((i) => firstPred[i] === testLabels[i]).length,
      };
    });

    // 5. Control: the generalist trained longer on hard labels. Then the ensemble distilled into a copy of the
    //    generalist for the same number of epochs (same size, same start, soft targets instead of labels).
    const tl = performance.now();
    const longerCopy = new LayerTransfer(generalist, { seed });
    owned.push(longerCopy);
    const longerModel = longerCopy.model;
    await trainClassifier(longerModel, xTrain, yTrain, {
      epochs: cfg.distillEpochs,
      batchSize: cfg.batchSize,
      learningRate: cfg.lr,
      seed: seed + 2,
      onProgress: (e) => ctx.progress({ ...e, phase: `longer ${e.phase}` }),
    });
    const lPred = await predictClasses(longerModel, mnist.test.x);
    const longer = {
      accuracy: accuracyOn(lPred, testLabels),
      coveredAccuracy: accuracyOn(lPred, testLabels, covered),
      seconds: (performance.now() - tl) / 1000,
    };
    const td = performance.now();
    const studentCopy = new LayerTransfer(generalist, { seed: seed + 1 });
    owned.push(studentCopy);
    const student = studentCopy.model;
    await distillEnsemble(ensemble, student, xTrain, {
      labels: yTrain,
      temperature: cfg.temperature,
      alpha: cfg.alpha,
      epochs: cfg.distillEpochs,
      batchSize: cfg.batchSize,
      learningRate: cfg.lr,
      seed: seed + 2,
      predict: { candidates: cfg.candidates[0] },
      onProgress: (e) => ctx.progress({ ...e, phase: `distil ${e.phase}` }),
    });
    const sPred = await predictClasses(student, mnist.test.x);
    const distilled = {
      accuracy: accuracyOn(sPred, testLabels),
      coveredAccuracy: accuracyOn(sPred, testLabels, covered),
      agreement: sPred.filter((c, i) => c === firstPred[i]).length / sPred.length,
      seconds: (performance.now() - td) / 1000,
    };

    const perClass = Array.from({ length: numClasses }, (_, c) =>
      accuracyOn(gPred, testLabels, (i) => testLabels[i] === c),
    );
    return {
      seed,
      sizes: {
        train: trainIdx.length,
        heldOut: nHeld,
        test: mnist.test.size,
        covered: testLabels.filter((_, i) => covered(i)).length,
      },
      generalist: {
        accuracy: accuracyOn(gPred, testLabels),
        coveredAccuracy: accuracyOn(gPred, testLabels, covered),
        perClass,
        seconds: generalistSeconds,
      },
      covariance: summarize(covariance),
      confusion: summarize(confusion),
      specialists: chosen.map((s, m) => ({ ...s, dustbinLogitShift: specs[m].dustbinLogitShift })),
      ensemble: scores,
      byCover,
      longer,
      distilled,
      seconds: { specialists: specialistSeconds, total: (performance.now() - t0) / 1000 },
    };
  } finally {
    for (const o of owned.reverse()) o.dispose();
  }
}

/** The clustered matrix with the classes reordered cluster by cluster and multi-class clusters outlined. */
function clusterHeatMap(c: ClusteringSummary, title: string): string {
  const order = c.clusters.flatMap((x) => x.classes);
  const blocks: { start: number; end: number; label: string }[] = [];
  let at = 0;
  c.clusters.forEach((x, i) => {
    if (x.classes.length > 1) blocks.push({ start: at, end: at + x.classes.length, label: `S${i + 1}` });
    at += x.classes.length;
  });
  // The diagonal (variance, or accuracy) would swamp the colour scale: the scale spans the off-diagonal values and
  // the diagonal is drawn at its top.
  const off = order.flatMap((i) => order.filter((j) => j !== i).map((j) => c.affinity[i][j]));
  const lo = Math.min(...off);
  const hi = Math.max(...off);
  const values = order.map((i) => order.map((j) => (i === j ? hi : c.affinity[i][j])));
  const labels = order.map(String);
  return heatMap({
    values,
    rowLabels: labels,
    colLabels: labels,
    blocks,
    title,
    cellSize: 26,
    colormap: 'viridis',
    min: lo,
    max: hi > lo ? hi : lo + 1,
  });
}

/** A percentage, or a dash for a rate over no rows (NaN in the run, null once cached as JSON). */
function rate(v: number | null): string {
  return typeof v === 'number' && Number.isFinite(v) ? pct(v) : '—';
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The paper's JFT accuracies (Table 3), shared by the claims table and the headline. */
const PAPER_ACCURACY = 'JFT: 25.0% → 26.1% (61 specialists)';

/** Averages over the runs (seeds) of the result, and the note that says how many there are. */
function averages(result: SpecialistsResult) {
  const runs = result.runs;
  const avg = (f: (x: SpecialistsRun) => number) => mean(runs.map(f));
  const seedsNote = runs.length > 1 ? ` (mean of ${runs.length} seeds)` : ' (one seed)';
  return { runs, avg, seedsNote };
}

function render(result: SpecialistsResult): string {
  const r = { ...result.runs[0], config: result.config, backend: result.backend };
  const { runs, avg, seedsNote } = averages(result);
  const many = runs.length > 1;
  const first = r.ensemble[0];
  const gain = avg((x) => x.ensemble[0].accuracy - x.generalist.accuracy);
  const fmtSets = (c: ClusteringSummary) =>
    c.clusters
      .filter((x) => x.classes.length > 1)
      .map((x) => `{${x.classes.join(', ')}} (score ${x.score.toFixed(2)})`)
      .join(', ') || 'none';
  const parts: string[] = [];
  parts.push(
    paragraph(
      `Hinton, Vinyals & Dean (2015, section 5) train specialists on subsets of classes that a generalist confuses and ` +
        `combine them at test time by minimising KL(p_g, q) + Σ_m KL(p_m, q) over the full distribution q (eq. 5). ` +
        `Here the generalist is a deliberately weak ${['784', ...r.config.hidden, '10'].join('-')} MLP trained for ` +
        `${r.config.generalistEpochs} epochs on ${r.sizes.train} digits; ${r.sizes.heldOut} held-out digits are used ` +
        `to cluster its predictions; the test set has ${r.sizes.test} digits.`,
    ),
  );
  parts.push(
    claimsTable([
      {
        claim: 'Test accuracy, generalist → generalist + specialists',
        paper: PAPER_ACCURACY,
        ours: `${pct(avg((x) => x.generalist.accuracy))} → ${pct(avg((x) => x.ensemble[0].accuracy))}${seedsNote}, n = ${first.candidates}`,
        holds: gain > 0,
        note: 'MNIST, 10 classes, a tiny MLP instead of a JFT-scale convnet',
      },
      {
        claim: 'Conditional accuracy (test examples of the classes the specialists cover)',
        paper: '43.1% → 45.9%',
        ours: `${pct(avg((x) => x.generalist.coveredAccuracy))} → ${pct(avg((x) => x.ensemble[0].coveredAccuracy))}${seedsNote}; ${runs.map((x) => `${x.sizes.covered} of ${x.sizes.test}`).join(', ')} test digits covered`,
        holds: avg((x) => x.ensemble[0].coveredAccuracy - x.generalist.coveredAccuracy) > 0,
        note: 'paper: accuracy on the examples where specialists apply; here: true class covered by a specialist',
      },
      {
        claim: 'More specialists covering the true class, larger gain',
        paper: 'Table 4: +0.1% (1 specialist) … +1.3% relative (≥ 10)',
        ours: runs
          .map((x) =>
            x.byCover
              .filter((b) => b.count > 0)
              .map(
                (b) =>
                  `${b.cover}: ${b.ensembleCorrect - b.generalistCorrect >= 0 ? '+' : ''}${b.ensembleCorrect - b.generalistCorrect}`,
              )
              .join(', '),
          )
          .join(' | '),
        note: `change in correct test digits by number of covering specialists${many ? ', per seed' : ''}`,
      },
      {
        claim: 'Distilling the ensemble back into one net keeps the gain',
        paper: 'not done',
        ours: `${pct(avg((x) => x.distilled.accuracy))} distilled vs ${pct(avg((x) => x.longer.accuracy))} trained as long on labels (ensemble ${pct(avg((x) => x.ensemble[0].accuracy))})${seedsNote}`,
        holds: avg((x) => x.distilled.accuracy - x.longer.accuracy) > 0,
        note: `both start from the generalist and train ${r.config.distillEpochs} more epochs; agreement with the ensemble ${pct(avg((x) => x.distilled.agreement))}`,
      },
    ]),
  );
  parts.push(
    table(
      [
        'seed',
        'generalist',
        'ensemble (n = 1)',
        'ensemble (n = 2)',
        'generalist trained longer',
        'distilled',
        'specialists',
      ],
      runs.map((x) => [
        x.seed,
        pct(x.generalist.accuracy),
        pct(x.ensemble[0].accuracy),
        x.ensemble[1] ? pct(x.ensemble[1].accuracy) : '',
        pct(x.longer.accuracy),
        pct(x.distilled.accuracy),
        x.specialists.map((sp) => `{${sp.classes.join(',')}}`).join(' '),
      ]),
      'Test accuracy per seed (each seed: its own held-out split, initialisations and clusters).',
    ),
  );
  parts.push(
    paragraph(
      `${many ? `Seed ${r.seed} in detail. ` : ''}Clusters from the covariance of the predicted probabilities (K-means on the columns of the correlation matrix, ` +
        `k = ${r.covariance.k} chosen in 2..${r.config.kMax}): ${fmtSets(r.covariance)}. From the confusion matrix ` +
        `(k = ${r.confusion.k}): ${fmtSets(r.confusion)}. Each distinct multi-class cluster of either method whose ` +
        `confusion score beats the average pair of classes (mean off-diagonal correlation ` +
        `${meanOffDiagonal(r.covariance.affinity).toFixed(3)}, mean confusion rate ` +
        `${meanOffDiagonal(r.confusion.affinity).toFixed(3)}) gets a specialist, so some classes are covered twice. ` +
        `The probabilities of a softmax compete, so every correlation is negative here; confusable pairs are only ` +
        `less negative than the rest.`,
    ),
  );
  parts.push(
    `<div style="display:flex;flex-wrap:wrap;gap:1em">${figure(
      clusterHeatMap(r.covariance, 'Correlation of predicted probabilities'),
      'Held-out digits: correlation between the generalist’s class probabilities (off-diagonal range; the diagonal is drawn at the top), classes reordered by cluster, clusters outlined.',
    )}${figure(
      clusterHeatMap(r.confusion, 'Symmetrised confusion rates'),
      'The confusion-matrix alternative: (M + Mᵀ)/2 of the row-normalised confusion matrix (off-diagonal range).',
    )}</div>`,
  );
  parts.push(
    table(
      ['specialist', 'classes', 'found by', 'confusion score', 'dustbin logit shift'],
      r.specialists.map((s, i) => [
        `S${i + 1}`,
        `{${s.classes.join(', ')}}`,
        s.source,
        s.score,
        s.dustbinLogitShift,
      ]),
      'The specialists: copies of the generalist with a new head (their classes + a dustbin), trained on samples half from their subset.',
    ),
  );
  parts.push(
    table(
      [
        'candidates n',
        'test accuracy',
        'covered-class accuracy',
        'rows with an active specialist',
        'generalist on them',
        'ensemble on them',
        'KL steps (max)',
        'seconds',
      ],
      [
        [
          'generalist alone',
          pct(r.generalist.accuracy),
          rate(r.generalist.coveredAccuracy),
          '',
          '',
          '',
          '',
          '',
        ],
        ...r.ensemble.map((e) => [
          e.candidates,
          pct(e.accuracy),
          rate(e.coveredAccuracy),
          e.activeRows,
          rate(e.activeGeneralist),
          rate(e.activeEnsemble),
          `${e.iterations}${e.converged ? '' : ' (not converged)'}`,
          e.seconds,
        ]),
        [
          'generalist trained longer (control)',
          pct(r.longer.accuracy),
          rate(r.longer.coveredAccuracy),
          '',
          '',
          '',
          '',
          r.longer.seconds,
        ],
        [
          'ensemble distilled into one model',
          pct(r.distilled.accuracy),
          rate(r.distilled.coveredAccuracy),
          '',
          '',
          '',
          '',
          r.distilled.seconds,
        ],
      ],
      'Generalist vs ensemble (eq. 5 solved by preconditioned gradient descent on q’s logits, batched) vs the distilled model.',
    ),
  );
  parts.push(
    table(
      [
        'specialists covering the true class',
        'test digits',
        'generalist correct',
        'ensemble correct',
        'change',
        'relative',
      ],
      r.byCover
        .filter((b) => b.count > 0)
        .map((b) => [
          b.cover,
          b.count,
          b.generalistCorrect,
          b.ensembleCorrect,
          b.ensembleCorrect - b.generalistCorrect,
          b.generalistCorrect ? pct((b.ensembleCorrect - b.generalistCorrect) / b.generalistCorrect) : '',
        ]),
      `As the paper’s Table 4 (n = ${first.candidates}).`,
    ),
  );
  parts.push(
    note(
      `What differs: 10 classes instead of 15,000, so a specialist’s subset is a large share of the data and the ` +
        `dustbin correction counts the rest’s under-sampling too (shift = log((1−π_S)/(1−t_S)) − log(π_S/t_S)); ` +
        `batch K-means with restarts instead of on-line K-means; specialists of the generalist’s own tiny size, ` +
        `trained for ${r.config.specialistEpochs} epochs; ${runs.length} seed(s), and the differences are tens of test digits, so read them as indicative. Specialists took ${r.seconds.specialists.toFixed(1)} s, ` +
        `the section ${result.seconds.toFixed(1)} s on ${r.backend}.`,
    ),
  );
  return parts.join('\n');
}

/** The report section `specialists`. */
export const specialists: ReportSection<SpecialistsResult> = {
  id: 'specialists',
  title: 'Specialist ensembles (Hinton, Vinyals & Dean 2015, section 5)',
  run,
  render,
  headlines(result) {
    const { runs, avg, seedsNote } = averages(result);
    return [
      {
        claim: 'Test accuracy, generalist → generalist + specialists',
        paper: PAPER_ACCURACY,
        ours: `MNIST: ${pct(avg((x) => x.generalist.accuracy))} → ${pct(avg((x) => x.ensemble[0].accuracy))}${seedsNote}, ${runs.map((x) => x.specialists.length).join(' / ')} specialists, n = ${runs[0]?.ensemble[0]?.candidates}`,
      },
    ];
  },
};
