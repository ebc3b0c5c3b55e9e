/**
 * The `ensemble` suite: what the specialists' KL combination (Hinton et al. 2015, eq. 5) costs at inference.
 *
 * - `combineKL` batched with the default probability preconditioner,
 * - the same with plain gradient descent on the logits (momentum 0.8), the paper's literal recipe,
 * - the preconditioned solve run one row at a time (the baseline for batching),
 *
 * all to the same tolerance (1e-5 on the largest |dL/dz|). Rows are synthetic: sharp random distributions over N
 * classes, M specialists of 5 classes each, 2 of them active per row. Quick: N = 20, M = 4, 256 rows; full:
 * N = 100, M = 20, 1,024 rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { combineKL, Rng } from '../src/index.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, timeMedian } from './util.js';

function sharp(rng: Rng, n: number): number[] {
  const w = Array.from({ length: n }, () => Math.exp(3 * rng.normal()));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const n = opts.quick ? 20 : 100;
  const m = opts.quick ? 4 : 20;
  const rows = opts.quick ? 256 : 1024;
  const single = opts.quick ? 16 : 32;
  const samples = opts.quick ? 2 : 3;
  const rng = new Rng(0);
  const classes = Array.from({ length: m }, (_, j) => Array.from({ length: 5 }, (_, i) => (5 * j + i) % n));
  const pg = tf.tensor2d(Array.from({ length: rows }, () => sharp(rng, n)));
  const ps = classes.map(() => tf.tensor2d(Array.from({ length: rows }, () => sharp(rng, 6))));
  const activeValues = Array.from({ length: rows }, () => {
    const a = new Array<number>(m).fill(0);
    for (const j of rng.sample([...Array(m).keys()], 2)) a[j] = 1;
    return a;
  });
  const active = tf.tensor2d(activeValues);
  const specs = ps.map((p, j) => ({ probabilities: p as tf.Tensor2D, classes: classes[j] }));
  const label = `N = ${n}, ${m} specialists, 2 active`;
  const records: BenchRecord[] = [];
  const solve = async (options: Parameters<typeof combineKL>[3], g = pg, s = specs, a = active) => {
    const r = await combineKL(g as tf.Tensor2D, s, a as tf.Tensor2D, { tolerance: 1e-5, ...options });
    r.probabilities.dispose();
    return r;
  };
  try {
    const pre = await solve({});
    const tPre = await timeMedian(() => solve({}), { samples });
    const batched = makeRecord(
      `${tf.getBackend()}: combineKL batched, preconditioned (${label})`,
      tPre.medianMs,
      {
        unit: 'row',
        perOp: rows,
        extra: { rows, iterations: pre.iterations, converged: String(pre.converged) },
      },
    );
    const plainOpts = { preconditioner: 'none' as const, momentum: 0.8, maxIterations: 5000 };
    const plain = await solve(plainOpts);
    const tPlain = await timeMedian(() => solve(plainOpts), { samples: 1, warmUp: 0 });
    const plainRec = makeRecord(
      `${tf.getBackend()}: combineKL batched, plain gradient descent (${label})`,
      tPlain.medianMs,
      {
        unit: 'row',
        perOp: rows,
        extra: { rows, iterations: plain.iterations, converged: String(plain.converged) },
      },
    );
    // Row by row: the first `single` rows solved one at a time.
    const slices = Array.from({ length: single }, (_, i) => ({
      g: tf.slice(pg, i, 1),
      s: specs.map((sp) => ({
        probabilities: tf.slice(sp.probabilities, i, 1) as tf.Tensor2D,
        classes: sp.classes,
      })),
      a: tf.slice(active, i, 1),
    }));
    try {
      const tRow = await timeMedian(
        async () => {
          for (const r of slices) await solve({}, r.g as tf.Tensor2D, r.s, r.a as tf.Tensor2D);
        },
        { samples },
      );
      const rowRec = makeRecord(
        `${tf.getBackend()}: combineKL one row at a time, preconditioned (${label})`,
        tRow.medianMs,
        {
          unit: 'row',
          perOp: single,
          extra: { rows: single },
        },
      );
      addRatios(batched, plainRec, rowRec);
      records.push(batched, plainRec, rowRec);
    } finally {
      for (const r of slices) tf.dispose([r.g, r.a, ...r.s.map((x) => x.probabilities)]);
    }
  } finally {
    tf.dispose([pg, active, ...ps]);
  }
  return records;
}

/** The specialist-ensemble benchmark suite. */
export const suite: BenchSuite = {
  id: 'ensemble',
  title:
    "Specialists' KL combination (eq. 5): batched and preconditioned vs plain gradient descent vs row by row",
  run,
};
