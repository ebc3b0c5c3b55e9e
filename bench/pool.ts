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
 * The worker threads stay warm between calls (transferkit/node keeps its pool open for 15 s after a call): each
 * configuration is timed COLD (the pool closed first with `closeWorkerPool()`, so the run pays for starting its
 * threads, importing the library and V8 optimising its code in the background) and then WARM (the next call, on
 * the same threads), in each round; the grid is sized so each worker trains for >= ~10 s at 2 workers (full run;
 * ~5 s in --quick).
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
  type Key = 'w1cold' | 'w1' | 'w2cold' | 'w2' | 'main';
  const keys: Key[] = ['w2cold', 'w2', 'w1cold', 'w1', 'main'];
  const perKey = () => Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
  const [t, cpu, loads] = [perKey(), perKey(), perKey()];
  let reference: string | undefined;
  let networks = 0;
  try {
    const order = keys.filter((k) => withMain || k !== 'main');
    for (let r = 0; r < rounds; r++) {
      for (const key of order) {
        const workers = key.startsWith('w2') ? 2 : 1;
        if (key.endsWith('cold')) await tk.closeWorkerPool();
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
                workers,
              });
        t[key].push(performance.now() - t0);
        cpu[key].push(processCpuSeconds() - c0);
        networks = res.runs.length;
        reference ??= numbers(res);
        if (numbers(res) !== reference)
          throw new Error(`pool: ${key} gave different numbers than the first run`);
        console.log(
          `  round ${r + 1}/${rounds} ${key === 'main' ? 'main thread' : `${workers} worker(s)${key.endsWith('cold') ? ', cold' : ', warm'}`}: ` +
            `${(t[key].at(-1)! / 1000).toFixed(1)} s wall, ${cpu[key].at(-1)!.toFixed(1)} s CPU, load ${loads[key].at(-1)}`,
        );
      }
    }
  } catch (e) {
    return [failedRecord('TransferExperiment grid in worker threads', e, 'network')];
  } finally {
    await tk.closeWorkerPool();
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
  const fig = (k: Key, workers: number): ScaleFigures => ({
    wallMs: median(t[k]),
    cpuS: median(cpu[k]),
    maxWorkerCpuS: median(cpu[k]) / workers,
    load1: median(loads[k]),
  });
  const cpuExtra = (f: ScaleFigures) => ({
    cpuS: +f.cpuS.toFixed(1),
    coresUsed: +(f.cpuS / (f.wallMs / 1000)).toFixed(2),
    load1: f.load1,
  });
  const pair = (cold: boolean) => {
    const [k1, k2]: Key[] = cold ? ['w1cold', 'w2cold'] : ['w1', 'w2'];
    const [f1, f2] = [fig(k1, 1), fig(k2, 2)];
    const how = cold ? 'cold (threads started by the call)' : 'warm (the threads of the previous call)';
    const w1 = makeRecord(name(`--workers 1, ${how}`), f1.wallMs, {
      unit: 'network',
      perOp: networks,
      extra: { ...extra, ...cpuExtra(f1) },
    });
    const w2 = addRatios(
      makeRecord(name(`--workers 2, ${how}`), f2.wallMs, {
        unit: 'network',
        perOp: networks,
        extra: { ...extra, ...cpuExtra(f2), idleEstimate: +(f1.cpuS / f2.maxWorkerCpuS).toFixed(2) },
      }),
      w1,
      main,
    );
    console.log(
      `\n${scaleLines(`pool, ${how} (TransferExperiment grid in worker threads, built dist/)`, f1, f2)}`,
    );
    return [w1, w2];
  };
  const cold = pair(true);
  const warm = pair(false);
  const startup = (w: Key, c: Key) => ((median(t[c]) - median(t[w])) / 1000).toFixed(1);
  console.log(
    `  start-up paid by a cold call (cold - warm wall): 1 worker ${startup('w1', 'w1cold')} s, 2 workers ${startup('w2', 'w2cold')} s\n`,
  );
  return [...(main ? [main] : []), ...cold, ...warm];
}

export const suite: BenchSuite = {
  id: 'pool',
  title:
    'Both cores: a TransferExperiment grid in worker threads (built dist/), 2 workers vs 1 (same run, interleaved)',
  run,
};
