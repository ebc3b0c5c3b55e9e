/**
 * Argument parsers shared by the sub-commands (commander calls them with the raw string; a bad value becomes
 * commander's one-line "error: option ... argument ... is invalid" with exit code 1).
 *
 * @module
 */
import { type Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import type { NormMode, PoolMode, ResizeMode } from '../index.js';
import { NORM_MODES, POOL_MODES } from '../internal.js';
import type { ExtractionSpec } from '../node.js';

/** A finite number. */
export function parseNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CommanderArgumentError('expected a number.');
  return n;
}

/** A number > 0. */
export function parsePositiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CommanderArgumentError('expected a number > 0.');
  return n;
}

/** An integer. */
export function parseInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CommanderArgumentError('expected an integer.');
  return n;
}

/** An integer >= 1. */
export function parsePositiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommanderArgumentError('expected an integer >= 1.');
  return n;
}

/** A repeatable `--tap`: a layer name, or an index (negative from the end). */
export function parseTap(v: string, prev: (string | number)[] = []): (string | number)[] {
  return [...prev, /^-?\d+$/.test(v) ? Number(v) : v];
}

/**
 * The feature-processing options of `transferkit features` and `transferkit enqueue` (one definition, so both
 * commands take and default them alike): `--pool`, `--norm`, `--resize`, `--scale`, `--offset`, `--augment`,
 * `--memory-mb`.
 */
export function addFeatureOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--pool <mode>', 'pooling of conv maps').choices([...POOL_MODES]).default('flatten'),
    )
    .addOption(new Option('--norm <mode>', 'normalisation').choices([...NORM_MODES]).default('none'))
    .addOption(
      new Option('--resize <mode>', 'fit images to the model input')
        .choices(['stretch', 'center-crop'])
        .default('stretch'),
    )
    .option('--scale <x>', 'preprocessing: pixels in [0, 1] times this', parseNumber, 1)
    .option('--offset <x>', 'preprocessing: added after scaling', parseNumber, 0)
    .option('--augment', 'average the features of 10 views (centre + 4 corner crops, mirrored)')
    .option('--memory-mb <n>', 'memory budget of one batch of activations', parseNumber, 64);
}

/**
 * The extraction job that `transferkit features` and `transferkit enqueue` describe with their shared flags
 * (`--model`, `--images` / `--list`, `--tap` and {@link addFeatureOptions}).
 */
export function extractionSpecOf(opts: Record<string, unknown>): ExtractionSpec {
  return {
    model: opts.model as string,
    images: opts.images as string | undefined,
    list: opts.list as string | undefined,
    idx: opts.idx as string | undefined,
    idxLabels: opts.idxLabels as string | undefined,
    taps: opts.tap as (string | number)[] | undefined,
    pool: opts.pool as PoolMode,
    norm: opts.norm as NormMode,
    resize: opts.resize as ResizeMode,
    scale: opts.scale as number,
    offset: opts.offset as number,
    augment: Boolean(opts.augment),
    memoryMB: opts.memoryMb as number,
  };
}
