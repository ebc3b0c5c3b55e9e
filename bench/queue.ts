/**
 * Bench suite `queue`: throughput of sharded feature extraction on transferkit/queue (BullMQ on a throw-away
 * redis-server on a free loopback port) with 1 worker process vs 2 worker processes.
 *
 * 4,000 generated 32x32 PNG images (2,000 in quick mode), a CNN of ~77 M multiply-adds per image
 * (conv64-pool-conv128-conv128-pool-conv256-gap-fc64), 16 shard jobs: sized so each of the 2 workers computes for
 * >= ~10 s per round on an idle machine (per-job overhead small against it). Three `transferkit worker --backend
 * wasm` processes (the built dist/cli.js when present, else src/cli.ts under tsx) are started once and warmed up
 * on a small 64-image extraction (printed, not in the records): one serves queue `solo`, two serve queue `duo`. Each round enqueues the same extraction on `solo` then on `duo` (interleaved, so a shared,
 * noisy machine slows both alike) and times enqueue -> every job completed. Worker start-up is not timed; the
 * first model load of each worker is (in the warm-up round). Goal on an idle 2-core machine: duo >= 1.7x solo.
 * Each round also reads the worker processes' CPU time (/proc) and the load average; the suite prints the measured
 * speed-up and an idle-machine ESTIMATE (CPU time of the solo worker / CPU time of the busier duo worker).
 * Needs `redis-server` on the PATH (the suite reports a failed record without it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { writePng } from '../src/node/png.js';
import { saveLayersModelTo } from '../src/node/pretrained.js';
import { enqueueExtraction, watchRun } from '../src/queue.js';
import { hasRedisServer, startRedis } from '../test/queue/redis.js';
import { loadNow, pidCpuSeconds, type ScaleFigures, scaleLines } from './cpu.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, failedRecord, makeRecord, median } from './util.js';

const root = path.resolve(import.meta.dirname, '..');

const DIST_CLI = path.join(root, 'dist', 'cli.js');

/** The worker command: the built CLI (dist/cli.js) when present, else the TypeScript source under tsx. */
function workerArgs(): { args: string[]; build: 'dist' | 'tsx' } {
  return existsSync(DIST_CLI)
    ? { args: [DIST_CLI], build: 'dist' }
    : { args: ['--import', 'tsx', path.join(root, 'src/cli.ts')], build: 'tsx' };
}

function startWorker(url: string, queue: string): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(
    process.execPath,
    [...workerArgs().args, 'worker', '--redis', url, '--queue', queue, '--backend', 'wasm'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`worker not ready in 300 s: ${out}`)), 300_000);
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (/ready on/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`worker exited ${code}: ${out}`));
    });
  });
  return { proc, ready };
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const n = opts.quick ? 2000 : 4000;
  const warmN = 64;
  const shards = 16;
  const rounds = opts.quick ? 1 : 3;
  if (!hasRedisServer()) {
    return [failedRecord('queue: 1 vs 2 workers', new Error('redis-server is not installed'), 'image')];
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-bench-queue-'));
  const redis = await startRedis();
  const procs: ChildProcess[] = [];
  try {
    const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
    // ~77 M multiply-adds per image (conv64-pool-conv128-conv128-pool-conv256-gap-fc64): enough work per shard
    // that the per-job overhead (queue round trips, PNG decode, file writes) does not dominate.
    const conv = (filters: number, seed: number, first = false) =>
      tfl.layers.conv2d({
        ...(first ? { inputShape: [32, 32, 3] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(seed),
      });
    const model = tfl.sequential({
      layers: [
        conv(64, 1, true),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        conv(128, 2),
        conv(128, 3),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        conv(256, 4),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 64, activation: 'relu', name: 'fc', kernelInitializer: init(5) }),
      ],
    });
    await saveLayersModelTo(model, path.join(dir, 'model'));
    model.dispose();
    const writeImages = async (folder: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const data = new Uint8ClampedArray(32 * 32 * 4).map((_, k) =>
          k % 4 === 3 ? 255 : ((k * (i + 7) * 13 + i) % 251) & 255,
        );
        await writePng(path.join(folder, `c${i % 4}`, `${String(i).padStart(5, '0')}.png`), {
          width: 32,
          height: 32,
          data,
        });
      }
    };
    const images = path.join(dir, 'images');
    const warmImages = path.join(dir, 'warm-images');
    await writeImages(images, n);
    await writeImages(warmImages, warmN);
    const spec = { model: path.join(dir, 'model', 'model.json'), images, taps: ['fc'] };
    const warmSpec = { ...spec, images: warmImages };
    const workers = [
      startWorker(redis.url, 'solo'),
      startWorker(redis.url, 'duo'),
      startWorker(redis.url, 'duo'),
    ];
    if (workerArgs().build === 'tsx') console.log('queue: dist/cli.js not built; workers run src/ under tsx');
    procs.push(...workers.map((w) => w.proc));
    await Promise.all(workers.map((w) => w.ready));
    const cpuOf = (queue: string) =>
      (queue === 'solo' ? [workers[0]] : workers.slice(1)).map((w) => pidCpuSeconds(w.proc.pid as number));
    const figures: Record<string, { wall: number[]; cpu: number[]; max: number[]; load: number[] }> = {
      solo: { wall: [], cpu: [], max: [], load: [] },
      duo: { wall: [], cpu: [], max: [], load: [] },
    };
    const once = async (queue: string, tag: string): Promise<number> => {
      const load1 = loadNow().load1;
      const c0 = cpuOf(queue);
      const t0 = performance.now();
      const r = await enqueueExtraction({
        connection: redis.url,
        queue,
        spec: tag === 'warm' ? warmSpec : spec,
        shards,
        outDir: path.join(dir, `${queue}-${tag}`),
      });
      const s = await watchRun({ connection: redis.url, queue, jobIds: r.jobIds, timeoutMs: 600_000 });
      if (s.completed !== shards) throw new Error(`${queue}: ${s.completed}/${shards} jobs completed`);
      const wall = performance.now() - t0;
      const used = cpuOf(queue).map((c, i) => c - c0[i]);
      if (tag !== 'warm') {
        const f = figures[queue];
        f.wall.push(wall);
        f.cpu.push(used.reduce((a, b) => a + b, 0));
        f.max.push(Math.max(...used));
        f.load.push(load1);
      }
      return wall;
    };
    // Warm-up (not timed in the records; printed): every worker loads the model once, on a small extraction.
    const warmSolo = await once('solo', 'warm');
    const warmDuo = await once('duo', 'warm');
    console.log(
      `queue warm-up (${warmN} images, ${shards} shards; model load in each worker): ` +
        `1 worker ${(warmSolo / 1000).toFixed(1)} s, 2 workers ${(warmDuo / 1000).toFixed(1)} s (not in the timed rounds)`,
    );
    const solo: number[] = [];
    const duo: number[] = [];
    for (let r = 0; r < rounds; r++) {
      solo.push(await once('solo', `r${r}`));
      duo.push(await once('duo', `r${r}`));
      console.log(
        `  round ${r + 1}/${rounds}: 1 worker ${(solo[r] / 1000).toFixed(1)} s, 2 workers ${(duo[r] / 1000).toFixed(1)} s, ` +
          `load ${figures.duo.load.at(-1)}`,
      );
    }
    const fig = (q: string): ScaleFigures => ({
      wallMs: median(figures[q].wall),
      cpuS: median(figures[q].cpu),
      maxWorkerCpuS: median(figures[q].max),
      load1: median(figures[q].load),
    });
    const [f1, f2] = [fig('solo'), fig('duo')];
    const extra = (f: ScaleFigures) => ({
      images: n,
      shards,
      build: workerArgs().build,
      rounds,
      cpuS: +f.cpuS.toFixed(1),
      coresUsed: +(f.cpuS / (f.wallMs / 1000)).toFixed(2),
      load1: f.load1,
    });
    const one = makeRecord(`queue: ${n} images, 16 shards, 1 worker process (wasm)`, median(solo), {
      unit: 'image',
      perOp: n,
      extra: extra(f1),
    });
    const two = makeRecord(`queue: ${n} images, 16 shards, 2 worker processes (wasm)`, median(duo), {
      unit: 'image',
      perOp: n,
      extra: { ...extra(f2), idleEstimate: +(f1.cpuS / f2.maxWorkerCpuS).toFixed(2) },
    });
    console.log(
      `\n${scaleLines(`queue (sharded extraction, worker processes, ${workerArgs().build === 'dist' ? 'built dist/cli.js' : 'src/ under tsx'})`, f1, f2)}\n`,
    );
    return [one, addRatios(two, one)];
  } catch (e) {
    return [failedRecord('queue: 1 vs 2 workers', e, 'image')];
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await redis.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

export const suite: BenchSuite = {
  id: 'queue',
  title: 'sharded extraction on BullMQ/Redis: 1 vs 2 worker processes',
  run,
};
