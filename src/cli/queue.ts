/**
 * The queue commands (`transferkit/queue`, BullMQ on Redis):
 *
 *   transferkit enqueue --redis redis://127.0.0.1:6379 --model m.json --images data --shards 16 --out shards/ [--wait]
 *   transferkit worker --redis redis://127.0.0.1:6379 [--concurrency 1]
 *   transferkit status --redis redis://127.0.0.1:6379
 *
 * @module
 */
import { Command, Option } from 'commander';
import { initBackend, mergeFeatures } from '../node.js';
import { DEFAULT_QUEUE, enqueueExtraction, queueStatus, runWorker, watchRun } from '../queue.js';
import { addFeatureOptions, extractionSpecOf, parseInteger, parseTap } from './parse.js';

const redisOption = () =>
  new Option('--redis <url>', 'Redis URL').default(process.env.TRANSFERKIT_REDIS ?? 'redis://127.0.0.1:6379');
const queueOption = () => new Option('--queue <name>', 'queue name').default(DEFAULT_QUEUE);

/** Builds the `enqueue` sub-command. */
export function enqueueCommand(): Command {
  const cmd = new Command('enqueue')
    .description(
      'Enqueue a feature extraction as shard jobs on a BullMQ queue (Redis); workers (`transferkit worker`) run them.',
    )
    .addOption(redisOption())
    .addOption(queueOption())
    .requiredOption('--model <spec>', "'pretrained:<name>' or the path of a model.json (workers must see it)")
    .option('--images <dir>', 'folder of PNG/JPEG images, one sub-folder per class')
    .option('--list <file>', "text file of images, one 'path' or 'path<TAB>label' per line")
    .option('--tap <layer>', 'layer name or index; repeatable', parseTap);
  return addFeatureOptions(cmd)
    .requiredOption('--shards <n>', 'number of shard jobs', parseInteger)
    .requiredOption('--out <dir>', 'folder the workers write the shards into')
    .option('--attempts <n>', 'tries per job', parseInteger, 3)
    .option('--wait', 'follow the run until every job finished, then print the summary')
    .option('--merge <file>', 'with --wait: merge the shards into this feature file')
    .action(async (opts: Record<string, unknown>) => {
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
    });
}

/** Builds the `worker` sub-command. */
export function workerCommand(): Command {
  return new Command('worker')
    .description('Run queued extraction jobs until stopped (SIGINT/SIGTERM finish the current job first).')
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
          const s = e.shard ? ` shard ${e.shard.index}/${e.shard.count}` : '';
          if (e.type === 'completed')
            process.stdout.write(`completed ${e.jobId}${s}: ${e.result?.rows} rows, ${e.result?.ms} ms\n`);
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
