/**
 * `transferkit features`: extract CNN features of a folder of images (one sub-folder per class) with any layers
 * model or a bundled pretrained backbone, and save them in the feature file format for `transferkit svm`.
 *
 *   transferkit features --model pretrained:mobilenet_v2 --images data/shapes --out shapes.tkf --norm l2
 *   transferkit features --model out/cnn/model.json --list-taps
 *   transferkit features --model m.json --images data --shard 2/8 --out shards/   (then: transferkit merge shards/)
 *
 * @module
 */
import { Command, Option } from 'commander';
import { InvalidArgumentError, type ShardSpec } from '../index.js';
import { listImages, listTaps, loadModelArg, parseShard, shardBaseName, shardFromEnv } from '../internal.js';
import { extractFeatures, initBackend, saveFeatureShard, saveFeatures } from '../node.js';
import { addFeatureOptions, extractionSpecOf, parseNumber, parseTap } from './parse.js';

export { listImages, loadModelArg };

/** The shard this run extracts: `--shard i/n`, else `JOB_COMPLETION_INDEX` with `--shard-count` (or the env). */
function shardOf(opts: Record<string, unknown>): ShardSpec | undefined {
  if (typeof opts.shard === 'string') return parseShard(opts.shard, 'transferkit features', '--shard');
  const count = opts.shardCount as number | undefined;
  if (count !== undefined && !(Number.isInteger(count) && count >= 1)) {
    throw new InvalidArgumentError('transferkit features', '--shard-count', 'an integer >= 1', count);
  }
  const s = shardFromEnv(process.env, count);
  if (count !== undefined && s === undefined) {
    throw new InvalidArgumentError(
      'transferkit features',
      '--shard-count',
      'JOB_COMPLETION_INDEX set in the environment (or use --shard i/n)',
      'no JOB_COMPLETION_INDEX',
    );
  }
  return s;
}

/** Builds the `features` sub-command. */
export function featuresCommand(): Command {
  const cmd = new Command('features')
    .description(
      'Extract features of hidden layers (DeCAF / "CNN features off-the-shelf") for a folder of images, one sub-folder per class, into a feature file.',
    )
    .requiredOption(
      '--model <spec>',
      "'pretrained:mobilenet_v2', 'pretrained:inception_v3' or the path of a model.json",
    )
    .option('--images <dir>', 'folder of PNG/JPEG images, one sub-folder per class')
    .option('--list <file>', "text file of images, one 'path' or 'path<TAB>label' per line")
    .option(
      '--idx <file>',
      'IDX file of images [count, h, w(, c)] (MNIST format); --idx-labels <file> for labels',
    )
    .option('--idx-labels <file>', 'with --idx: IDX file of the labels')
    .option(
      '--tap <layer>',
      'layer name or index (negative from the end); repeatable (default: the feature layer of a pretrained model, else -2)',
      parseTap,
    );
  return addFeatureOptions(cmd)
    .option('--out <file>', 'feature file to write (.tkf); with --shard, the folder of shards')
    .option(
      '--shard <i/n>',
      'extract only shard i of n (0-based, contiguous rows); merge with `transferkit merge`',
    )
    .option(
      '--shard-count <n>',
      'number of shards, the index read from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)',
      parseNumber,
    )
    .option('--list-taps', 'list the layers of the model with their output shapes and exit')
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      await initBackend(opts.backend as string);
      const { model, defaultTap } = await loadModelArg(opts.model as string);
      try {
        if (opts.listTaps) {
          for (const t of listTaps(model)) {
            process.stdout.write(
              `${'  '.repeat(t.depth)}${t.name}\t${t.className}\t[${t.outputShape.map((d) => d ?? 'N').join(', ')}]\n`,
            );
          }
          return;
        }
        if (typeof opts.images !== 'string' && typeof opts.list !== 'string' && typeof opts.idx !== 'string')
          cmd.error('error: --images <dir>, --list <file> or --idx <file> is required (or --list-taps)', {
            exitCode: 2,
          });
        if (typeof opts.out !== 'string') cmd.error('error: --out <file> is required', { exitCode: 2 });
        const shard = shardOf(opts);
        const spec = extractionSpecOf(opts);
        const t0 = Date.now();
        const r = await extractFeatures(spec, {
          shard,
          loaded: { model, defaultTap },
          onProgress: (e) => process.stderr.write(`\rextract ${e.done}/${e.total}`),
        });
        process.stderr.write('\n');
        const out = opts.out as string;
        const where = shard ? `${out}/${shardBaseName(shard)}.tkf` : out;
        if (shard) await saveFeatureShard(out, shard, r.matrices, r);
        else await saveFeatures(out, r.matrices, { labels: r.labels, meta: r.meta });
        const classes = r.meta.classes as string[];
        process.stdout.write(
          `${r.end - r.start} images${shard ? ` (rows ${r.start}-${r.end - 1} of ${r.total})` : ''}, ${classes.length} classes; ${r.matrices.map((f) => `${f.name}: ${f.cols}-d`).join(', ')}; ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${where}\n`,
        );
      } finally {
        model.dispose();
      }
    });
}
