/**
 * `transferkit predict`: classify images with a model saved by `transferkit finetune`.
 *
 *   transferkit predict --model out/photos photos/new/*.jpg --top-k 3
 *   transferkit predict --model out/photos some/folder --format csv
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../index.js';
import { listImageFolder } from '../internal.js';
import { type FilePrediction, initBackend, loadFinetuned, predictFiles } from '../node.js';
import { parsePositiveInteger } from './parse.js';

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Formats predictions as JSON (an array) or CSV (`file,rank,class,probability`). */
export function formatPredictions(preds: readonly FilePrediction[], format: 'json' | 'csv'): string {
  if (format === 'json') return `${JSON.stringify(preds, null, 2)}\n`;
  const lines = ['file,rank,class,probability'];
  for (const p of preds) {
    p.top.forEach((t, r) => {
      lines.push(`${csvField(p.file)},${r + 1},${csvField(t.className)},${t.probability.toPrecision(6)}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command (exported for tests): the predictions it printed. */
export async function runPredictCommand(opts: {
  model: string;
  inputs: string[];
  topK: number;
  format: 'json' | 'csv';
  backend: string;
}): Promise<FilePrediction[]> {
  const fn = 'transferkit predict';
  if (opts.inputs.length === 0)
    throw new InvalidArgumentError(fn, 'FILES|DIR', 'image files or a folder', []);
  const files: string[] = [];
  for (const input of opts.inputs) {
    const s = await stat(input).catch(() => undefined);
    if (s === undefined) throw new InvalidArgumentError(fn, 'FILES|DIR', 'existing files or folders', input);
    if (s.isDirectory()) {
      const l = await listImageFolder(input, { fn, argument: 'FILES|DIR' });
      files.push(...l.files);
    } else files.push(input);
  }
  await initBackend(opts.backend);
  const loaded = await loadFinetuned(opts.model);
  try {
    const preds = await predictFiles(loaded, files, { topK: opts.topK });
    process.stdout.write(formatPredictions(preds, opts.format));
    return preds;
  } finally {
    loaded.model.dispose();
  }
}

/** Builds the `predict` sub-command. */
export function predictCommand(): Command {
  return new Command('predict')
    .description('Classify images with a model saved by `transferkit finetune` (top-k classes, JSON or CSV).')
    .requiredOption('--model <dir>', 'folder written by `transferkit finetune --out`')
    .argument('<inputs...>', 'image files or folders')
    .option('--top-k <k>', 'classes per image', parsePositiveInteger, 1)
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'csv']).default('json'))
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .action(
      async (
        inputs: string[],
        opts: { model: string; topK: number; format: 'json' | 'csv'; backend: string },
      ) => {
        await runPredictCommand({ ...opts, inputs });
      },
    );
}
