/**
 * `transferkit merge`: check a folder of feature shards (written by `transferkit features --shard i/n` or queue
 * workers) and merge them into the feature file the single-process extraction writes, byte for byte.
 *
 *   transferkit merge shards/ --out all.tkf
 *
 * @module
 */
import { Command } from 'commander';
import { mergeFeatures } from '../node.js';

/** Builds the `merge` sub-command. */
export function mergeCommand(): Command {
  return new Command('merge')
    .description(
      'Merge feature shards (transferkit features --shard i/n) into one feature file, byte-identical to a single-process extraction; fails naming any missing, truncated, foreign or mismatched shard.',
    )
    .argument('<dir>', 'folder of shard-*-of-*.tkf files and their .json manifests')
    .requiredOption('--out <file>', 'feature file to write (.tkf)')
    .action(async (dir: string, opts: { out: string }) => {
      const { shards, features } = await mergeFeatures(dir, { out: opts.out });
      process.stdout.write(
        `${shards} shards, ${features.matrices[0].rows} rows; ${features.matrices.map((m) => `${m.name}: ${m.cols}-d`).join(', ')} -> ${opts.out}\n`,
      );
    });
}
