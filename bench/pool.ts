/**
 * The `pool` suite: both cores for independent work. A TransferExperiment grid (MNIST 0-4 vs 5-9, the report's
 * small zoo CNN, 4 seeds, n = 1..2) through `runTransferExperimentInWorkers` with 2 workers vs 1 worker (the same
 * code path, one thread), rounds interleaved, medians; in the full run also the plain sequential
 * `TransferExperiment.run()` on the main thread. The numbers of the runs must agree (checked, not timed).
 *
 * It measures the BUILT library, as a user gets it: `dist/node.js` and its `dist/pool-worker.js`, with the model
 * factory in a plain .mjs (bench/pool-factory.mjs) that imports `dist/index.js`. Under tsx the pool would run the
 * worker from src/ and every worker thread would compile the library at start-up (seconds per thread, per round),
 * which is not what a user pays. Run `npm run build` first; without dist/ the suite reports a failed record saying so.
 *
 * The pool is opened per call (as users call it), so each timed run includes opening the pool and starting its
 * threads; that start-up is measured apart first (a one-network grid on a few digits, 1 and 2 workers) and printed,
 * and the grid is sized so each worker trains for >= ~10 s at 2 workers (full run; ~5 s in --quick).
 * Each run also records the CPU time the process used (every thread: the workers' and the main thread's) and the
 * load average; on a shared machine the measured speed-up is bounded by the idle cores, so the suite prints an
 * idle-machine ESTIMATE as well: CPU time of 1 worker / (CPU time of 2 workers / 2) (the seeds split evenly over
 * the two workers; per-thread CPU time is not readable in Node 20). Labelled as an estimate, not a measurement.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as Index from '../src/index.js';
import { registerTrainingKernels, unregisterTrainingKernels } from '../src/index.js';
import type * as Node from '../src/node.js';
import { loadNow, processCpuSeconds, type ScaleFigures, scaleLines } from './cpu.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, failedRecord, makeRecord, median } from './util.js';

const root = path.resolve(import.meta.dirname, '..');
const DIST_NODE = path.join(root, 'dist', 'node.js');
const DIST_INDEX = path.join(root, 'dist', 'index.js');
const DIST_WORKER = path.join(root, 'dist', 'pool-worker.js');
const FACTORY_FILE = fileURLToPath(new URL('./pool-factory.mjs', import.meta.url));
const FACTORY = { module: FACTORY_FILE, exportName: 'smallCnn' };

function numbers(r: Index.TransferResults): string {
  return JSON.stringify(r.runs.map((x) => [x.kind, x.n, x.seed, x.accuracy, x.trainLoss]));
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const missing = [DIST_NODE, DIST_INDEX, DIST_WORKER].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    const msg = `needs the built library (missing ${missing.map((f) => path.relative(root, f)).join(', ')}): run \`npm run build\` first`;
    console.log(`pool: ${msg}`);
    return [failedRecord('TransferExperiment grid in worker threads', new Error(msg), 'network')];
  }
  // The built entries (plain JS: nothing compiled at run time, in this thread or the workers).
  const tk = (await import(pathToFileURL(DIST_NODE).href)) as typeof Node;
  const tkIndex = (await import(pathToFileURL(DIST_INDEX).href)) as typeof Index;
  const factory = (await import(pathToFileURL(FACTORY_FILE).href)) as {
    smallCnn: (numClasses: number, seed: number) => tfl.LayersModel;
  };
  // The training kernels: the bench registered src/'s on wasm; the built library keeps its own registry (and tells
  // its workers what IT registered), so swap to dist/'s for this suite and back afterwards.
  const hadSrcKernels = unregisterTrainingKernels('wasm').length > 0;
  tkIndex.registerTrainingKernels('wasm');
  const perClass = opts.quick ? 300 : 450;
  const epochs = 2;
  const seeds = [1, 2, 3, 4];
  const rounds = opts.quick ? 1 : 3;
  const withMain = !opts.quick;
  const mnist = await tk.loadMnist({ seed: 0, testFraction: 0.25, limitPerClass: perClass });
  const data = {
    train: { x: mnist.train.x, labels: mnist.train.labels },
    test: { x: mnist.test.x, labels: mnist.test.labels },
    classesA: [0, 1, 2, 3, 4],
    classesB: [5, 6, 7, 8, 9],
  };
  const experiment = { seeds, ns: [1, 2], training: { epochs, batchSize: 32, learningRate: 0.01 } };
  type Key = 'w1' | 'w2' | 'main';
  const t: Record<Key, number[]> = { w1: [], w2: [], main: [] };
  const cpu: Record<Key, number[]> = { w1: [], w2: [], main: [] };
  const loads: Record<Key, number[]> = { w1: [], w2: [], main: [] };
  const startup: Record<'w1' | 'w2', number> = { w1: Number.NaN, w2: Number.NaN };
  let reference: string | undefined;
  let networks = 0;
  try {
    // Start-up, measured apart: open a pool, start its threads, import the built worker and the factory, init the
    // backend in each thread, train one tiny network (10 digits/class, 1 epoch), close the pool.
    const tiny = await tk.loadMnist({ seed: 0, testFraction: 0.5, limitPerClass: 10 });
    try {
      for (const key of ['w1', 'w2'] as const) {
        const t0 = performance.now();
        await tk.runTransferExperimentInWorkers(
          {
            train: { x: tiny.train.x, labels: tiny.train.labels },
            test: { x: tiny.test.x, labels: tiny.test.labels },
            classesA: [0, 1, 2, 3, 4],
            classesB: [5, 6, 7, 8, 9],
          },
          {
            seeds: key === 'w2' ? [1, 2] : [1],
            ns: [1],
            training: { epochs: 1, batchSize: 32 },
            modelFactory: FACTORY,
            workers: key === 'w2' ? 2 : 1,
          },
        );
        startup[key] = performance.now() - t0;
      }
    } finally {
      tiny.dispose();
    }
    console.log(
      `pool start-up (open pool + threads + built worker + backend + one tiny network per thread, then close): ` +
        `1 worker ${(startup.w1 / 1000).toFixed(1)} s, 2 workers ${(startup.w2 / 1000).toFixed(1)} s ` +
        '(included once in every timed grid run below)',
    );
    const order: Key[] = withMain ? ['w2', 'w1', 'main'] : ['w2', 'w1'];
    for (let r = 0; r < rounds; r++) {
      for (const key of order) {
        loads[key].push(loadNow().load1);
        const c0 = processCpuSeconds();
        const t0 = performance.now();
        const res =
          key === 'main'
            ? await new tkIndex.TransferExperiment(data, {
                ...experiment,
                modelFactory: factory.smallCnn,
              }).run()
            : await tk.runTransferExperimentInWorkers(data, {
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
        console.log(
          `  round ${r + 1}/${rounds} ${key === 'main' ? 'main thread' : `${key.slice(1)} worker(s)`}: ` +
            `${(t[key].at(-1)! / 1000).toFixed(1)} s wall, ${cpu[key].at(-1)!.toFixed(1)} s CPU, load ${loads[key].at(-1)}`,
        );
      }
    }
  } catch (e) {
    return [failedRecord('TransferExperiment grid in worker threads', e, 'network')];
  } finally {
    mnist.dispose();
    tkIndex.unregisterTrainingKernels('wasm');
    if (hadSrcKernels) registerTrainingKernels('wasm');
  }
  const extra = {
    build: 'dist',
    seeds: seeds.length,
    networks,
    epochs,
    digitsPerClass: perClass,
    rounds,
    cores: os.cpus().length,
    identical: 'yes',
  };
  const name = (w: string) =>
    `TransferExperiment grid (${seeds.length} seeds, ${networks} networks, ${epochs} epochs, ${perClass} digits/class), ${w}`;
  const main = withMain
    ? makeRecord(name('main thread, sequential'), median(t.main), {
        unit: 'network',
        perOp: networks,
        extra: { ...extra, cpuS: +median(cpu.main).toFixed(1), load1: median(loads.main) },
      })
    : undefined;
  const fig = (k: 'w1' | 'w2', workers: number): ScaleFigures => ({
    wallMs: median(t[k]),
    cpuS: median(cpu[k]),
    maxWorkerCpuS: median(cpu[k]) / workers,
    load1: median(loads[k]),
  });
  const [f1, f2] = [fig('w1', 1), fig('w2', 2)];
  const cpuExtra = (f: ScaleFigures, k: 'w1' | 'w2') => ({
    cpuS: +f.cpuS.toFixed(1),
    coresUsed: +(f.cpuS / (f.wallMs / 1000)).toFixed(2),
    load1: f.load1,
    startupMs: Math.round(startup[k]),
  });
  const w1 = makeRecord(name('--workers 1'), f1.wallMs, {
    unit: 'network',
    perOp: networks,
    extra: { ...extra, ...cpuExtra(f1, 'w1') },
  });
  const w2 = addRatios(
    makeRecord(name('--workers 2'), f2.wallMs, {
      unit: 'network',
      perOp: networks,
      extra: { ...extra, ...cpuExtra(f2, 'w2'), idleEstimate: +(f1.cpuS / f2.maxWorkerCpuS).toFixed(2) },
    }),
    w1,
    main,
  );
  console.log(`\n${scaleLines('pool (TransferExperiment grid in worker threads, built dist/)', f1, f2)}`);
  const net = (ms: number) => ms - Math.max(startup.w1, 0);
  console.log(
    `  without start-up (wall - 1-worker start-up): ${(net(f1.wallMs) / 1000).toFixed(1)} s -> ` +
      `${((f2.wallMs - startup.w2) / 1000).toFixed(1)} s = ${(net(f1.wallMs) / (f2.wallMs - startup.w2)).toFixed(2)}x\n`,
  );
  return main ? [main, w1, w2] : [w1, w2];
}

export const suite: BenchSuite = {
  id: 'pool',
  title:
    'Both cores: a TransferExperiment grid in worker threads (built dist/), 2 workers vs 1 (same run, interleaved)',
  run,
};
