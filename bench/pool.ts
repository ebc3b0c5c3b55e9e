/**
 * The `pool` suite: both cores for independent work. A small TransferExperiment grid (MNIST 0-4 vs 5-9, the
 * report's small zoo CNN, 1 epoch, 4 seeds, n = 1..2) through `runTransferExperimentInWorkers` with 2 workers
 * vs 1 worker (the same code path, one thread), rounds interleaved, medians; also the plain sequential
 * `TransferExperiment.run()` on the main thread. The numbers of the runs must agree (checked, not timed).
 * Each run also records the CPU time the process used (every thread: the workers' and the main thread's) and the
 * load average; on a shared machine the measured speed-up is bounded by the idle cores, so the suite prints an
 * idle-machine ESTIMATE as well: CPU time of 1 worker / (CPU time of 2 workers / 2) (the seeds split evenly over
 * the two workers; per-thread CPU time is not readable in Node 20). Labelled as an estimate, not a measurement.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { TransferExperiment, type TransferResults } from '../src/index.js';
import { runTransferExperimentInWorkers } from '../src/node/pool.js';
import { loadMnist } from '../src/node.js';
import { loadNow, processCpuSeconds, type ScaleFigures, scaleLines } from './cpu.js';
import { smallCnn } from './pool-factory.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, makeRecord, median } from './util.js';

const FACTORY = {
  module: fileURLToPath(new URL('./pool-factory.ts', import.meta.url)),
  exportName: 'smallCnn',
};

function numbers(r: TransferResults): string {
  return JSON.stringify(r.runs.map((x) => [x.kind, x.n, x.seed, x.accuracy, x.trainLoss]));
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const perClass = opts.quick ? 60 : 150;
  const seeds = opts.quick ? [1, 2] : [1, 2, 3, 4];
  const rounds = opts.quick ? 1 : 3;
  const mnist = await loadMnist({ seed: 0, testFraction: 0.25, limitPerClass: perClass });
  const data = {
    train: { x: mnist.train.x, labels: mnist.train.labels },
    test: { x: mnist.test.x, labels: mnist.test.labels },
    classesA: [0, 1, 2, 3, 4],
    classesB: [5, 6, 7, 8, 9],
  };
  const experiment = { seeds, ns: [1, 2], training: { epochs: 1, batchSize: 32, learningRate: 0.01 } };
  const t: Record<'w1' | 'w2' | 'main', number[]> = { w1: [], w2: [], main: [] };
  const cpu: Record<'w1' | 'w2' | 'main', number[]> = { w1: [], w2: [], main: [] };
  const loads: Record<'w1' | 'w2' | 'main', number[]> = { w1: [], w2: [], main: [] };
  const load: number[] = [];
  let reference: string | undefined;
  let networks = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const key of ['w2', 'w1', 'main'] as const) {
        load.push(os.loadavg()[0]);
        loads[key].push(loadNow().load1);
        const c0 = processCpuSeconds();
        const t0 = performance.now();
        const res =
          key === 'main'
            ? await new TransferExperiment(data, { ...experiment, modelFactory: smallCnn }).run()
            : await runTransferExperimentInWorkers(data, {
                ...experiment,
                modelFactory: FACTORY,
                workers: key === 'w2' ? 2 : 1,
              });
        t[key].push(performance.now() - t0);
        cpu[key].push(processCpuSeconds() - c0);
        networks = res.runs.length;
        reference ??= numbers(res);
        if (numbers(res) !== reference)
          throw new Error(`pool: ${key} gave different numbers than the first run`);
      }
    }
  } finally {
    mnist.dispose();
  }
  const extra = {
    seeds: seeds.length,
    networks,
    rounds,
    loadMedian: +median(load).toFixed(2),
    cores: os.cpus().length,
    identical: 'yes',
  };
  const name = (w: string) =>
    `TransferExperiment grid (${seeds.length} seeds, ${networks} networks, ${perClass} digits/class), ${w}`;
  const main = makeRecord(name('main thread, sequential'), median(t.main), {
    unit: 'network',
    perOp: networks,
    extra,
  });
  const fig = (k: 'w1' | 'w2', workers: number): ScaleFigures => ({
    wallMs: median(t[k]),
    cpuS: median(cpu[k]),
    maxWorkerCpuS: median(cpu[k]) / workers,
    load1: median(loads[k]),
  });
  const [f1, f2] = [fig('w1', 1), fig('w2', 2)];
  const cpuExtra = (f: ScaleFigures) => ({
    cpuS: +f.cpuS.toFixed(1),
    coresUsed: +(f.cpuS / (f.wallMs / 1000)).toFixed(2),
    load1: f.load1,
  });
  const w1 = makeRecord(name('--workers 1'), f1.wallMs, {
    unit: 'network',
    perOp: networks,
    extra: { ...extra, ...cpuExtra(f1) },
  });
  const w2 = addRatios(
    makeRecord(name('--workers 2'), f2.wallMs, {
      unit: 'network',
      perOp: networks,
      extra: { ...extra, ...cpuExtra(f2), idleEstimate: +(f1.cpuS / f2.maxWorkerCpuS).toFixed(2) },
    }),
    w1,
    main,
  );
  console.log(`\n${scaleLines('pool (TransferExperiment grid in worker threads)', f1, f2)}\n`);
  return [main, w1, w2];
}

export const suite: BenchSuite = {
  id: 'pool',
  title: 'Both cores: a TransferExperiment grid in worker threads, 2 workers vs 1 (same run, interleaved)',
  run,
};
