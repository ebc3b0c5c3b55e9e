/**
 * The `transferkit` command line. Each sub-command lives in src/cli/<command>.ts and is registered here.
 *
 * @module
 */
import { Command } from 'commander';
import { deconvCommand } from './cli/deconv.js';
import { distillCommand } from './cli/distill.js';
import { reportCliError } from './cli/errors.js';
import { featuresCommand } from './cli/features.js';
import { finetuneCommand } from './cli/finetune.js';
import { mergeCommand } from './cli/merge.js';
import { modelsCommand } from './cli/models.js';
import { patchesCommand } from './cli/patches.js';
import { predictCommand } from './cli/predict.js';
import { enqueueCommand, statusCommand, workerCommand } from './cli/queue.js';
import { reportCommand } from './cli/report.js';
import { svmCommand } from './cli/svm.js';
import { transferCommand } from './cli/transfer.js';

const program = new Command('transferkit')
  .description(
    'What CNNs learn and how it transfers: the paper report and tools for your own models and images.',
  )
  .showHelpAfterError()
  .addCommand(reportCommand())
  .addCommand(distillCommand())
  .addCommand(deconvCommand())
  .addCommand(featuresCommand())
  .addCommand(mergeCommand())
  .addCommand(enqueueCommand())
  .addCommand(workerCommand())
  .addCommand(statusCommand())
  .addCommand(svmCommand())
  .addCommand(transferCommand())
  .addCommand(finetuneCommand())
  .addCommand(predictCommand())
  .addCommand(modelsCommand())
  .addCommand(patchesCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Typed errors and missing files are the user's to fix: one line, no stack (exit codes in src/cli/errors.ts).
  reportCliError(e);
}
