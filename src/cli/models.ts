/**
 * `transferkit models`: the built-in pretrained backbones, what they take and whether the package that ships them
 * is installed.
 *
 * @module
 */
import { Command } from 'commander';
import { packageRoot } from '../internal.js';
import { PRETRAINED_MODELS, type PretrainedName } from '../node.js';

/** One row of `transferkit models`. */
export interface ModelRow {
  /** Name to pass to `--model`. */
  name: PretrainedName;
  /** `'layers-model'` or `'graph-model'`. */
  format: string;
  /** Input side in pixels. */
  inputSize: number;
  /** Pixel preprocessing. */
  preprocessing: string;
  /** Feature layer and its dimension (layers models). */
  featureLayer: string | null;
  /** Length of the feature vector. */
  featureDim: number | null;
  /** Package that ships the weights. */
  package: string;
  /** Whether that package is installed. */
  installed: boolean;
}

/** The rows `transferkit models` prints. */
export function modelRows(): ModelRow[] {
  let installed = true;
  try {
    packageRoot('nsfwjs', 'the pretrained backbones');
  } catch {
    installed = false;
  }
  return (Object.keys(PRETRAINED_MODELS) as PretrainedName[]).map((name) => {
    const m = PRETRAINED_MODELS[name];
    return {
      name,
      format: m.format,
      inputSize: m.inputSize,
      preprocessing: m.preprocessing,
      featureLayer: m.featureLayer ?? null,
      featureDim: m.featureDim ?? null,
      package: 'nsfwjs',
      installed,
    };
  });
}

/** Builds the `models` sub-command. */
export function modelsCommand(): Command {
  return new Command('models')
    .description(
      'List the built-in pretrained backbones (input size, preprocessing, feature layer, installed or not).',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const rows = modelRows();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const r of rows) {
        process.stdout.write(
          `${r.name.padEnd(17)} ${r.format.padEnd(12)} ${String(r.inputSize).padStart(3)}x${r.inputSize}  features ${r.featureLayer ? `${r.featureLayer} (${r.featureDim}-d)` : '(graph model: no layer name)'}  ${r.installed ? 'installed' : `not installed (npm i ${r.package})`}\n    ${r.preprocessing}\n`,
        );
      }
      if (!rows[0]?.installed)
        process.stdout.write('Install nsfwjs (npm i nsfwjs --legacy-peer-deps) to use them.\n');
    });
}
