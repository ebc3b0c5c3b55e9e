/**
 * transferkit/queue against a real redis-server (started here on a free loopback port, stopped after) and real
 * worker processes (`transferkit worker`), with faults: a worker killed with SIGKILL mid-job, a corrupt image, Redis
 * killed and restarted between enqueue and work (AOF on). Runs in the cpu project only: the workers are separate
 * processes with their own backend, so a second run under the wasm project would test nothing new.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { enqueueCommand, statusCommand } from '../../src/cli/queue.js';
import { listInputs } from '../../src/internal.js';
import { writePng } from '../../src/node/png.js';
import { saveLayersModelTo } from '../../src/node/pretrained.js';
import {
  type ExtractionSpec,
  encodeIdx,
  extractFeatures,
  loadFeatures,
  mergeFeatures,
  saveFeatures,
} from '../../src/node.js';
import {
  enqueueExtraction,
  QueueConnectionError,
  queueStatus,
  runWorker,
  watchRun,
} from '../../src/queue.js';
import { backendName } from '../helpers.js';
import { hasRedisServer, startRedis, type TestRedis } from './redis.js';

const root = path.resolve(import.meta.dirname, '../..');
const IMAGES = 600;
// Locally without redis-server the suite is skipped with a warning; under CI=true it runs and fails loudly.
const runHere = backendName() === 'cpu' && (hasRedisServer() || process.env.CI === 'true');
if (backendName() === 'cpu' && !runHere) {
  console.warn('test/queue: redis-server not installed, queue tests SKIPPED (they fail under CI=true)');
}

let dir = '';
/** Image i's RGBA bytes (8 x 8, class i % 3). */
const pixels = (i: number) =>
  new Uint8ClampedArray(8 * 8 * 4).map((_, k) =>
    k % 4 === 3 ? 255 : ((i % 3) * 60 + ((k * (i + 5) * 13 + i) % 120)) % 256,
  );
let spec: ExtractionSpec;
let reference: Buffer;
const procs: ChildProcess[] = [];

interface WorkerProc {
  proc: ChildProcess;
  lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

/** `transferkit worker` in its own process (through tsx), with short lock/stall times so a dead worker's job moves on. */
function startWorker(url: string, queue: string): WorkerProc {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'src/cli.ts'),
      'worker',
      '--redis',
      url,
      '--queue',
      queue,
      '--backend',
      'cpu',
      '--lock-ms',
      '1500',
      '--stalled-ms',
      '500',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  procs.push(proc);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  proc.stdout?.on('data', (b: Buffer) => {
    buf += b.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  let err = '';
  proc.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return {
    proc,
    lines,
    waitFor(re, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`worker: no line ${re} in ${ms} ms; got:\n${lines.join('\n')}\n${err}`)),
          ms,
        );
        const check = () => {
          const hit = lines.map((l) => l.match(re)).find((m) => m !== null);
          if (hit) {
            clearTimeout(t);
            resolve(hit);
          } else if (proc.exitCode !== null) {
            clearTimeout(t);
            reject(new Error(`worker exited ${proc.exitCode}:\n${lines.join('\n')}\n${err}`));
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  w.proc.kill('SIGTERM');
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      w.proc.kill('SIGKILL');
      resolve();
    }, 10_000);
    w.proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe.runIf(runHere)('transferkit/queue on a real redis-server', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tk-queue-'));
    const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 3],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          name: 'conv',
          kernelInitializer: init(1),
        }),
        tfl.layers.flatten({ name: 'flat' }),
        tfl.layers.dense({ units: 6, activation: 'relu', name: 'fc', kernelInitializer: init(2) }),
      ],
    });
    await saveLayersModelTo(model, path.join(dir, 'model'));
    const images = path.join(dir, 'images');
    for (let i = 0; i < IMAGES; i++) {
      const data = pixels(i);
      await writePng(path.join(images, `c${i % 3}`, `img${String(i).padStart(4, '0')}.png`), {
        width: 8,
        height: 8,
        data,
      });
    }
    spec = { model: path.join(dir, 'model', 'model.json'), images, taps: ['conv', 'fc'], pool: 'avg' };
    // The single-process reference, in this process (cpu backend, like the workers).
    const r = await extractFeatures(spec, { loaded: { model } });
    await saveFeatures(path.join(dir, 'single.tkf'), r.matrices, { labels: r.labels, meta: r.meta });
    reference = await readFile(path.join(dir, 'single.tkf'));
    model.dispose();
  });

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await redis?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const timings: Record<string, number> = {};
  it('3 workers, one SIGKILLed mid-job: its job is taken over and the merge equals one process', async () => {
    const out = path.join(dir, 'shards');
    const run = await enqueueExtraction({
      connection: redis.url,
      queue: 'kill',
      spec,
      shards: 12,
      outDir: out,
    });
    expect(run.jobIds).toHaveLength(12);
    // Enqueueing the same run again adds nothing (job ids derive from the run).
    const again = await enqueueExtraction({
      connection: redis.url,
      queue: 'kill',
      spec,
      shards: 12,
      outDir: out,
    });
    expect(again.jobIds).toEqual(run.jobIds);
    expect((await queueStatus({ connection: redis.url, queue: 'kill' })).counts.waiting).toBe(12);

    // Three workers; the first to start a job is killed with SIGKILL while it holds the job's lock.
    const t0 = Date.now();
    const workers = [0, 1, 2].map(() => startWorker(redis.url, 'kill'));
    let victim: WorkerProc | undefined;
    let killedJob = '';
    for (let i = 0; victim === undefined && i < 2400; i++) {
      for (const w of workers) {
        const hit = w.lines.map((l) => /^started (\S+)/.exec(l)).find((m) => m !== null);
        if (hit) {
          victim = w;
          killedJob = hit[1];
          w.proc.kill('SIGKILL');
          break;
        }
      }
      if (victim === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    if (victim === undefined) throw new Error('no worker started a job within 120 s');
    const others = workers.filter((w) => w !== victim);
    timings.start = Date.now() - t0;
    const progress: number[] = [];
    const summary = await watchRun({
      connection: redis.url,
      queue: 'kill',
      jobIds: run.jobIds,
      timeoutMs: 60_000,
      onProgress: (p) => progress.push(p.finished),
    });
    timings.run = Date.now() - t0;
    console.log(
      `queue test: first job started after ${timings.start} ms, 12 jobs done after ${timings.run} ms`,
    );
    expect(summary.finishedAll).toBe(true);
    expect(summary.failed).toEqual([]);
    expect(summary.completed).toBe(12);
    expect(summary.results.reduce((s, r) => s + r.rows, 0)).toBe(IMAGES);
    const takenOver = summary.results[run.jobIds.indexOf(killedJob)];
    expect(takenOver.pid).not.toBe(victim.proc.pid);
    expect(new Set(summary.results.map((r) => r.pid)).size).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)).toBe(12);
    const { bytes } = await mergeFeatures(out, { out: path.join(dir, 'merged.tkf') });
    expect(Buffer.compare(Buffer.from(bytes), reference)).toBe(0);
    expect((await readdir(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const status = await queueStatus({ connection: redis.url, queue: 'kill' });
    expect(status.counts).toMatchObject({ completed: 12, failed: 0, active: 0, waiting: 0 });

    // A corrupt image: the job fails visibly, naming the file, and leaves no shard behind.
    const bad = path.join(dir, 'bad-images');
    await mkdir(path.join(bad, 'x'), { recursive: true });
    for (let i = 0; i < 6; i++) {
      await copyFile(
        path.join(spec.images as string, 'c0', `img${String(3 * i).padStart(4, '0')}.png`),
        path.join(bad, 'x', `ok${i}.png`),
      );
    }
    await writeFile(path.join(bad, 'x', 'ok5.png'), 'not a png at all');
    const badOut = path.join(dir, 'bad-shards');
    const badRun = await enqueueExtraction({
      connection: redis.url,
      queue: 'kill',
      spec: { ...spec, images: bad },
      shards: 2,
      outDir: badOut,
    });
    const badSummary = await watchRun({
      connection: redis.url,
      queue: 'kill',
      jobIds: badRun.jobIds,
      timeoutMs: 20_000,
    });
    expect(badSummary.completed).toBe(1);
    expect(badSummary.failed).toHaveLength(1);
    expect(badSummary.failed[0].jobId).toBe(badRun.jobIds[1]);
    expect(badSummary.failed[0].reason).toMatch(/ok5\.png/);
    expect((await readdir(badOut)).sort()).toEqual(['shard-00000-of-00002.json', 'shard-00000-of-00002.tkf']);
    await expect(mergeFeatures(badOut)).rejects.toThrow(/shard-00001-of-00002\.tkf.*missing/);
    const failedStatus = await queueStatus({ connection: redis.url, queue: 'kill' });
    expect(failedStatus.failed.map((f) => f.reason).join()).toMatch(/ok5\.png/);
    await Promise.all(others.map(stopWorker));
  }, 300_000); // worker start-up dominates: ~3 s idle, over a minute on this shared machine under load

  it('an unreachable Redis fails fast with a typed error naming the URL', async () => {
    const gone = await startRedis();
    const url = gone.url;
    await gone.dispose();
    const t0 = Date.now();
    const e = await runWorker({ connection: url, connectTimeoutMs: 1000 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(QueueConnectionError);
    expect((e as QueueConnectionError).url).toBe(url);
    expect((e as Error).message).toContain(url);
    await expect(enqueueExtraction({ connection: url, spec, shards: 2, outDir: dir })).rejects.toThrow(
      QueueConnectionError,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(queueStatus({ connection: 'http://127.0.0.1:1' })).rejects.toThrow(/Redis URL/);
  });

  it('CLI: enqueue --wait --merge with a worker, then status', async () => {
    const worker = await runWorker({ connection: redis.url, queue: 'cli' });
    const out: string[] = [];
    const spyOut = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const spyErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const merged = path.join(dir, 'cli-merged.tkf');
    try {
      await enqueueCommand().parseAsync(
        [
          '--redis',
          redis.url,
          '--queue',
          'cli',
          '--model',
          spec.model,
          '--images',
          spec.images as string,
          '--tap',
          'conv',
          '--tap',
          'fc',
          '--pool',
          'avg',
          '--shards',
          '3',
          '--out',
          path.join(dir, 'cli-shards'),
          '--wait',
          '--merge',
          merged,
        ],
        { from: 'user' },
      );
      await statusCommand().parseAsync(['--redis', redis.url, '--queue', 'cli'], { from: 'user' });
    } finally {
      spyOut.mockRestore();
      spyErr.mockRestore();
      await worker.close();
    }
    const text = out.join('');
    expect(text).toMatch(/3\/3 jobs completed, 0 failed, 600 rows/);
    expect(text).toMatch(/queue cli: 0 waiting, 0 active, 0 delayed, 3 completed, 0 failed/);
    expect(Buffer.compare(await readFile(merged), reference)).toBe(0);
  });

  it('an IDX file as input: shard jobs whose merge equals one process and the same pixels as PNG files', async () => {
    // The PNG folder's images, in its row order, as one IDX file [600, 8, 8, 3] and an IDX file of labels.
    const inputs = await listInputs(spec);
    const order = inputs.files.map((f) => Number(/img(\d+)\.png$/.exec(f)?.[1]));
    const rgb = new Uint8Array(IMAGES * 8 * 8 * 3);
    order.forEach((i, row) => {
      const px = pixels(i);
      for (let p = 0; p < 64; p++) for (let q = 0; q < 3; q++) rgb[(row * 64 + p) * 3 + q] = px[p * 4 + q];
    });
    const idx = path.join(dir, 'images-idx3-ubyte');
    const idxLabels = path.join(dir, 'labels-idx1-ubyte');
    await writeFile(idx, encodeIdx({ type: 'uint8', dims: [IMAGES, 8, 8, 3], data: rgb }));
    await writeFile(
      idxLabels,
      encodeIdx({ type: 'uint8', dims: [IMAGES], data: Uint8Array.from(inputs.labels) }),
    );
    const idxSpec: ExtractionSpec = { ...spec, images: undefined, idx, idxLabels };
    const worker = await runWorker({ connection: redis.url, queue: 'idx' });
    try {
      const run = await enqueueExtraction({
        connection: redis.url,
        queue: 'idx',
        spec: idxSpec,
        shards: 3,
        outDir: path.join(dir, 'idx-shards'),
      });
      const summary = await watchRun({
        connection: redis.url,
        queue: 'idx',
        jobIds: run.jobIds,
        timeoutMs: 60_000,
      });
      expect(summary.completed).toBe(3);
    } finally {
      await worker.close();
    }
    const merged = path.join(dir, 'idx-merged.tkf');
    await mergeFeatures(path.join(dir, 'idx-shards'), { out: merged });
    const single = await extractFeatures(idxSpec);
    await saveFeatures(path.join(dir, 'idx-single.tkf'), single.matrices, {
      labels: single.labels,
      meta: single.meta,
    });
    expect(Buffer.compare(await readFile(merged), await readFile(path.join(dir, 'idx-single.tkf')))).toBe(0);
    // The same pixels as the PNG files: the same features and labels; rows named <file>#<row>.
    const a = await loadFeatures(merged);
    const b = await loadFeatures(path.join(dir, 'single.tkf'));
    expect(a.labels).toEqual(b.labels);
    expect(a.matrices.map((m) => Array.from(m.data))).toEqual(b.matrices.map((m) => Array.from(m.data)));
    expect((a.meta.files as string[])[5]).toBe('images-idx3-ubyte#5');
    // Bad input fails before anything is enqueued.
    await expect(
      enqueueExtraction({
        connection: redis.url,
        spec: { ...idxSpec, idxLabels: idx },
        shards: 2,
        outDir: dir,
      }),
    ).rejects.toThrow(/idxLabels.*600 integer labels/);
    await expect(
      enqueueExtraction({
        connection: redis.url,
        spec: { ...idxSpec, images: spec.images },
        shards: 2,
        outDir: dir,
      }),
    ).rejects.toThrow(/exactly one of/);
  });

  it('with AOF on, jobs enqueued before Redis is killed and restarted are all done after', async () => {
    const aof = await startRedis({ aof: true });
    try {
      const out = path.join(dir, 'aof-shards');
      const run = await enqueueExtraction({
        connection: aof.url,
        queue: 'aof',
        spec,
        shards: 4,
        outDir: out,
      });
      await aof.stop('SIGKILL');
      await aof.restart();
      expect((await queueStatus({ connection: aof.url, queue: 'aof' })).counts.waiting).toBe(4);
      const worker = await runWorker({ connection: aof.url, queue: 'aof' });
      try {
        const summary = await watchRun({
          connection: aof.url,
          queue: 'aof',
          jobIds: run.jobIds,
          timeoutMs: 30_000,
        });
        expect(summary.completed).toBe(4);
        expect(worker.modelsLoaded).toBe(1); // one model load for the four jobs
      } finally {
        await worker.close();
      }
      const { bytes } = await mergeFeatures(out);
      expect(Buffer.compare(Buffer.from(bytes), reference)).toBe(0);
    } finally {
      await aof.dispose();
    }
  });
});
