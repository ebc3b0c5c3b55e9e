/**
 * `transferkit transfer`: Yosinski et al.'s transferability grid (AnB/BnB/AnB+/BnB+ for every n and seed) on this
 * machine, its seeds spread over worker threads (`--workers`, default one per core); the same flags describe the
 * grid as `transferkit enqueue transfer`, and `--out` holds the same resumable results JSON.
 *
 *   transferkit transfer --ns 1,2,3 --seeds 1,2,3,4 --workers 2 --out transfer.json
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { Command, Option } from 'commander';
import { summarizeTransfer, type TransferResults, transferTable } from '../index.js';
import { defaultWorkers } from '../internal.js';
import { writeFileAtomic } from '../node/shards.js';
import { initBackend, runTransferExperimentInWorkers } from '../node.js';
import { checkTransferGrid } from '../queue/transfer-grid-spec.js';
import { loadTransferGridData } from '../queue/transfer-jobs.js';
import { parsePositiveInteger } from './parse.js';
import { addTransferGridOptions, transferGridOf } from './queue.js';

/** Builds the `transfer` sub-command. */
export function transferCommand(): Command {
  const cmd = new Command('transfer').description(
    "Run Yosinski et al.'s transferability grid (baseA, baseB, AnB, BnB, AnB+, BnB+ per n and seed) with the seeds in worker threads.",
  );
  return addTransferGridOptions(cmd)
    .option('--workers <n>', 'worker threads (default: one per core)', parsePositiveInteger)
    .addOption(
      new Option('--backend <name>', 'tfjs backend of the workers')
        .choices(['auto', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option('--out <file>', 'results JSON: networks it holds are not trained again; saved after every seed')
    .action(async (opts: Record<string, unknown>) => {
      const grid = checkTransferGrid('transferkit transfer', transferGridOf(opts));
      await initBackend(opts.backend as string);
      const out = opts.out as string | undefined;
      const resume =
        out !== undefined && existsSync(out)
          ? (JSON.parse(await readFile(out, 'utf8')) as TransferResults)
          : undefined;
      const [train, test] = await loadTransferGridData(grid.data);
      const workers = (opts.workers as number | undefined) ?? defaultWorkers();
      try {
        const t0 = performance.now();
        const results = await runTransferExperimentInWorkers(
          { train, test, classesA: grid.classesA, classesB: grid.classesB },
          {
            modelFactory: grid.model,
            ns: grid.ns,
            seeds: grid.seeds,
            kinds: grid.kinds,
            training: grid.training,
            resume,
            workers,
            onRun:
              out === undefined ? undefined : (_run, so) => writeFileAtomic(out, JSON.stringify(so, null, 1)),
            onProgress: (e) => process.stderr.write(`\rseeds ${e.done}/${e.total}   `),
          },
        );
        process.stderr.write('\n');
        if (out !== undefined) await writeFileAtomic(out, JSON.stringify(results, null, 1));
        const { header, rows } = transferTable(summarizeTransfer(results));
        process.stdout.write(`${[header, ...rows].map((r) => r.join('\t')).join('\n')}\n`);
        process.stdout.write(
          `${results.runs.length} networks (${resume?.runs.length ?? 0} resumed) with ${workers} worker(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      } finally {
        tf.dispose([train.x, test.x]);
      }
    });
}
