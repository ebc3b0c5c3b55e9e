/**
 * The queue commands (`transferkit/queue`, BullMQ on Redis):
 *
 *   transferkit enqueue --redis redis://127.0.0.1:6379 --model m.json --images data --shards 16 --out shards/ [--wait]
 *   transferkit enqueue transfer --redis redis://127.0.0.1:6379 --ns 1,2,3 --seeds 1,2,3 --out transfer.json [--wait]
 *   transferkit worker --redis redis://127.0.0.1:6379 [--concurrency 1]
 *   transferkit status --redis redis://127.0.0.1:6379
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import type { TransferKind, TransferResults } from '../index.js';
import { TRANSFER_KINDS } from '../internal.js';
import { initBackend, mergeFeatures } from '../node.js';
import {
  DEFAULT_QUEUE,
  enqueueExtraction,
  enqueueTransferGrid,
  followTransferGrid,
  queueStatus,
  runWorker,
  type TransferGridSpec,
  watchRun,
} from '../queue.js';
import { addFeatureOptions, extractionSpecOf, parseInteger, parseNumber, parseTap } from './parse.js';

const redisOption = () =>
  new Option('--redis <url>', 'Redis URL').default(process.env.TRANSFERKIT_REDIS ?? 'redis://127.0.0.1:6379');
const queueOption = () => new Option('--queue <name>', 'queue name').default(DEFAULT_QUEUE);

/** A comma-separated list of integers, e.g. `1,2,3`. */
function parseIntList(v: string): number[] {
  const out = v.split(',').map((p) => Number(p.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n))) {
    throw new CommanderArgumentError('expected integers separated by commas, e.g. 1,2,3.');
  }
  return out;
}

function parseKinds(v: string): TransferKind[] {
  const out = v.split(',').map((p) => p.trim()) as TransferKind[];
  if (out.some((k) => !TRANSFER_KINDS.includes(k))) {
    throw new CommanderArgumentError(`expected kinds among ${TRANSFER_KINDS.join(', ')}.`);
  }
  return out;
}

function parseJsonObject(v: string): Record<string, unknown> {
  try {
    const o = JSON.parse(v) as unknown;
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) return o as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CommanderArgumentError('expected a JSON object.');
}

/** The report's quick transfer network: the zoo CNN at half width. */
const DEFAULT_ARCH = { inputShape: [28, 28, 1], filters: [8, 16], kernelSizes: [5, 3], hidden: [64] };

/** Adds the flags that describe a TransferExperiment grid (shared by `enqueue transfer` and local runs). */
export function addTransferGridOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data <source>', 'data set').choices(['mnist', 'idx']).default('mnist'))
    .option('--idx-images <file>', 'with --data idx: IDX file of the images [count, h, w(, c)]')
    .option('--idx-labels <file>', 'with --data idx: IDX file of the labels [count]')
    .option('--data-seed <n>', 'seed of the train/test split', parseInteger, 0)
    .option('--test-fraction <f>', 'fraction of each class held out for testing', parseNumber, 0.25)
    .option('--per-class <n>', 'at most this many items per class', parseInteger, 400)
    .option(
      '--arch <json>',
      'options of the zoo CNN (zeilerFergusCnn) as JSON',
      parseJsonObject,
      DEFAULT_ARCH,
    )
    .option(
      '--factory <module#export>',
      'an ES module export (numClasses, seed) => LayersModel, instead of --arch',
    )
    .option('--classes-a <list>', 'classes of task A', parseIntList, [0, 1, 2, 3, 4])
    .option('--classes-b <list>', 'classes of task B', parseIntList, [5, 6, 7, 8, 9])
    .requiredOption('--ns <list>', 'values of n (stages copied), e.g. 1,2,3', parseIntList)
    .option('--seeds <list>', 'one repeat per seed', parseIntList, [1, 2, 3])
    .option('--kinds <list>', `treatments among ${TRANSFER_KINDS.join(',')}`, parseKinds, [...TRANSFER_KINDS])
    .option('--epochs <n>', 'epochs of every network', parseInteger, 1)
    .option('--batch-size <n>', 'mini-batch size', parseInteger, 32)
    .option('--learning-rate <lr>', 'Adam learning rate', parseNumber, 0.01);
}

/** The grid described by {@link addTransferGridOptions}' flags. */
export function transferGridOf(opts: Record<string, unknown>): TransferGridSpec {
  const factory = opts.factory as string | undefined;
  const [module, exportName] = factory?.split('#') ?? [];
  return {
    data: {
      source: opts.data as 'mnist' | 'idx',
      images: opts.idxImages as string | undefined,
      labels: opts.idxLabels as string | undefined,
      seed: opts.dataSeed as number,
      testFraction: opts.testFraction as number,
      limitPerClass: opts.perClass as number,
    },
    model: factory
      ? { module, exportName: exportName || 'default' }
      : { zoo: 'zeilerFergusCnn', options: opts.arch as object },
    classesA: opts.classesA as number[],
    classesB: opts.classesB as number[],
    ns: opts.ns as number[],
    seeds: opts.seeds as number[],
    kinds: opts.kinds as TransferKind[],
    training: {
      epochs: opts.epochs as number,
      batchSize: opts.batchSize as number,
      learningRate: opts.learningRate as number,
      optimizer: 'adam',
    },
  };
}

/** Builds `enqueue transfer`: a TransferExperiment grid as one job per network. */
function enqueueTransferCommand(): Command {
  const cmd = new Command('transfer')
    .description(
      'Enqueue a TransferExperiment grid (Yosinski et al.) as one job per network; --out holds the resumable results JSON.',
    )
    .addOption(redisOption())
    .addOption(queueOption());
  return addTransferGridOptions(cmd)
    .requiredOption(
      '--out <file>',
      'results JSON: networks it holds are not enqueued again; written as jobs finish (with --wait)',
    )
    .option('--attempts <n>', 'tries per job', parseInteger, 3)
    .option('--wait', 'follow the grid until every job finished, saving the results after each network')
    .action(async (opts: Record<string, unknown>) => {
      const out = opts.out as string;
      const resume = existsSync(out)
        ? (JSON.parse(await readFile(out, 'utf8')) as TransferResults)
        : undefined;
      const target = { connection: opts.redis as string, queue: opts.queue as string };
      const run = await enqueueTransferGrid({
        ...target,
        grid: transferGridOf(opts),
        resume,
        attempts: opts.attempts as number,
      });
      process.stdout.write(
        `grid ${run.runId}: ${run.jobIds.length} networks on queue ${run.queue}` +
          (resume ? ` (${resume.runs.length} already in ${out})` : '') +
          '\n',
      );
      if (!opts.wait) return;
      const { results, summary } = await followTransferGrid({
        ...target,
        run,
        out,
        onProgress: (p) => process.stderr.write(`\rnetworks ${p.finished}/${p.jobs}   `),
      });
      process.stderr.write('\n');
      for (const f of summary.failed) process.stdout.write(`failed ${f.jobId}: ${f.reason}\n`);
      process.stdout.write(
        `${summary.completed}/${summary.jobs} jobs completed, ${summary.failed.length} failed; ${results.runs.length} networks in ${out}\n`,
      );
      if (summary.failed.length > 0) process.exitCode = 1;
    });
}

/** Builds the `enqueue` sub-command (a feature extraction; `enqueue transfer` for a TransferExperiment grid). */
export function enqueueCommand(): Command {
  const cmd = new Command('enqueue')
    .description(
      'Enqueue a feature extraction as shard jobs on a BullMQ queue (Redis); workers (`transferkit worker`) run them.',
    )
    .addOption(redisOption())
    .addOption(queueOption())
    // Checked in the action: commander checks a parent's required options for its sub-commands too.
    .option(
      '--model <spec>',
      "'pretrained:<name>' or the path of a model.json (workers must see it; required)",
    )
    .option('--images <dir>', 'folder of PNG/JPEG images, one sub-folder per class')
    .option('--list <file>', "text file of images, one 'path' or 'path<TAB>label' per line")
    .option('--idx <file>', 'IDX file of images [count, h, w(, c)] (MNIST format, raw or gzip)')
    .option('--idx-labels <file>', 'with --idx: IDX file of the labels')
    .option('--tap <layer>', 'layer name or index; repeatable', parseTap);
  return (
    addFeatureOptions(cmd)
      .option('--shards <n>', 'number of shard jobs (required)', parseInteger)
      .option('--out <dir>', 'folder the workers write the shards into (required)')
      .option('--attempts <n>', 'tries per job', parseInteger, 3)
      .option('--wait', 'follow the run until every job finished, then print the summary')
      .option('--merge <file>', 'with --wait: merge the shards into this feature file')
      // Options after `transfer` are the sub-command's (both have --out, --redis, --queue).
      .enablePositionalOptions()
      .addCommand(enqueueTransferCommand())
      .action(async (opts: Record<string, unknown>) => {
        for (const [key, flag] of [
          ['model', '--model <spec>'],
          ['shards', '--shards <n>'],
          ['out', '--out <dir>'],
        ] as const) {
          if (opts[key] === undefined) cmd.error(`error: required option '${flag}' not specified`);
        }
        const spec = extractionSpecOf(opts);
        const target = { connection: opts.redis as string, queue: opts.queue as string };
        const run = await enqueueExtraction({
          ...target,
          spec,
          shards: opts.shards as number,
          outDir: opts.out as string,
          attempts: opts.attempts as number,
        });
        process.stdout.write(
          `run ${run.runId}: ${run.jobIds.length} jobs on queue ${run.queue} -> ${run.outDir}\n`,
        );
        if (!opts.wait) return;
        const summary = await watchRun({
          ...target,
          jobIds: run.jobIds,
          onProgress: (p) =>
            process.stderr.write(`\rjobs ${p.finished}/${p.jobs}, images ${p.done}/${p.total || '?'}   `),
        });
        process.stderr.write('\n');
        for (const f of summary.failed) process.stdout.write(`failed ${f.jobId}: ${f.reason}\n`);
        process.stdout.write(
          `${summary.completed}/${summary.jobs} jobs completed, ${summary.failed.length} failed, ${summary.results.reduce((s, r) => s + r.rows, 0)} rows\n`,
        );
        if (summary.failed.length > 0) {
          process.exitCode = 1;
          return;
        }
        if (typeof opts.merge === 'string') {
          const { shards } = await mergeFeatures(run.outDir, { out: opts.merge });
          process.stdout.write(`merged ${shards} shards -> ${opts.merge}\n`);
        }
      })
  );
}

/** Builds the `worker` sub-command. */
export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'Run queued jobs (extraction shards, transfer networks) until stopped (SIGINT/SIGTERM finish the current job first).',
    )
    .addOption(redisOption())
    .addOption(queueOption())
    .option('--concurrency <n>', 'jobs at once in this process', parseInteger, 1)
    .option(
      '--lock-ms <n>',
      "a job's lock; a dead worker's job is retried after about this",
      parseInteger,
      30000,
    )
    .option('--stalled-ms <n>', 'how often to look for stalled jobs', parseInteger, 30000)
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .action(async (opts: Record<string, unknown>) => {
      await initBackend(opts.backend as string);
      const worker = await runWorker({
        connection: opts.redis as string,
        queue: opts.queue as string,
        concurrency: opts.concurrency as number,
        lockDuration: opts.lockMs as number,
        stalledInterval: opts.stalledMs as number,
        onEvent: (e) => {
          const s = e.shard
            ? ` shard ${e.shard.index}/${e.shard.count}`
            : e.network
              ? ` ${e.network.kind} n=${e.network.n} seed=${e.network.seed}`
              : '';
          const r = e.result;
          if (e.type === 'completed' && r !== undefined && 'rows' in r)
            process.stdout.write(`completed ${e.jobId}${s}: ${r.rows} rows, ${r.ms} ms\n`);
          else if (e.type === 'completed' && r !== undefined && 'run' in r)
            process.stdout.write(
              `completed ${e.jobId}${s}: accuracy ${r.run.accuracy.toFixed(4)}, ${Math.round(r.run.ms)} ms\n`,
            );
          else if (e.type === 'failed') process.stdout.write(`failed ${e.jobId}${s}: ${e.reason}\n`);
          else process.stdout.write(`started ${e.jobId}${s}\n`);
        },
      });
      process.stdout.write(`worker ${process.pid} ready on ${opts.redis} queue ${opts.queue}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void worker.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stdout.write(`worker ${process.pid} stopped after ${worker.completed} jobs\n`);
    });
}

/** Builds the `status` sub-command. */
export function statusCommand(): Command {
  return new Command('status')
    .description("Print the queue's job counts and its latest failures.")
    .addOption(redisOption())
    .addOption(queueOption())
    .action(async (opts: Record<string, unknown>) => {
      const s = await queueStatus({ connection: opts.redis as string, queue: opts.queue as string });
      const c = s.counts;
      process.stdout.write(
        `queue ${s.queue}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.completed} completed, ${c.failed} failed\n`,
      );
      for (const f of s.failed)
        process.stdout.write(`failed ${f.jobId} (${f.attempts} tries): ${f.reason}\n`);
    });
}
