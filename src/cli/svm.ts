/**
 * `transferkit svm`: train a linear SVM (tfjs), softmax regression or the ml-svm adapter on a feature file written
 * by `transferkit features`, and report test accuracy, per-class accuracy and the confusion matrix.
 *
 *   transferkit svm --train shapes.tkf --test-fraction 0.5 --classifier linear-svm --C 1
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import {
  accuracy,
  confusionMatrix,
  type FeatureClassifier,
  type FeatureMatrix,
  InvalidArgumentError,
  LinearSvm,
  MlSvmClassifier,
  type MlSvmKernel,
  perClassAccuracy,
  Rng,
  SoftmaxRegression,
} from '../index.js';
import { ML_SVM_KERNELS } from '../internal.js';
import { initBackend, loadFeatures } from '../node.js';
import { parseNumber } from './parse.js';

function pick(matrices: FeatureMatrix[], tap: string | undefined, file: string): FeatureMatrix {
  if (tap === undefined) return matrices[0];
  const m = matrices.find((x) => x.name === tap);
  if (m === undefined) {
    throw new InvalidArgumentError(
      'transferkit svm',
      '--tap',
      `one of the taps in ${file} (${matrices.map((x) => x.name).join(', ')})`,
      tap,
    );
  }
  return m;
}

/** Builds the `svm` sub-command. */
export function svmCommand(): Command {
  return new Command('svm')
    .description(
      'Train a classifier on a feature file (from `transferkit features`) and report its test accuracy.',
    )
    .requiredOption('--train <file>', 'feature file with labels')
    .option('--test <file>', 'feature file with labels to test on (default: a stratified split of --train)')
    .option(
      '--test-fraction <f>',
      'fraction of each class held out when there is no --test',
      parseNumber,
      0.3,
    )
    .option('--tap <name>', 'which tap of the file (default: the first)')
    .addOption(
      new Option('--classifier <kind>', 'classifier')
        .choices(['linear-svm', 'softmax', 'ml-svm'])
        .default('linear-svm'),
    )
    .option('--C <c>', 'SVM cost C', parseNumber, 1)
    .option('--l2 <lambda>', 'softmax regression L2 penalty', parseNumber, 1e-4)
    .option(
      '--epochs <n>',
      'most iterations of the tfjs classifiers (full batch: Newton steps for linear-svm, L-BFGS for softmax; else Adam epochs)',
      parseNumber,
      300,
    )
    .addOption(new Option('--kernel <name>', 'ml-svm kernel').choices([...ML_SVM_KERNELS]).default('linear'))
    .option('--seed <n>', 'seed of the split', parseNumber, 0)
    .option('--save <file>', 'write the trained classifier as JSON')
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .action(async (opts: Record<string, unknown>) => {
      await initBackend(opts.backend as string);
      const trainFile = await loadFeatures(opts.train as string);
      if (trainFile.labels === undefined) {
        throw new InvalidArgumentError(
          'transferkit svm',
          '--train',
          'a feature file with labels',
          opts.train,
        );
      }
      const tap = opts.tap as string | undefined;
      let train = pick(trainFile.matrices, tap, opts.train as string);
      let yTrain = Array.from(trainFile.labels);
      let test: FeatureMatrix;
      let yTest: number[];
      if (typeof opts.test === 'string') {
        const f = await loadFeatures(opts.test);
        if (f.labels === undefined)
          throw new InvalidArgumentError(
            'transferkit svm',
            '--test',
            'a feature file with labels',
            opts.test,
          );
        test = pick(f.matrices, tap, opts.test);
        yTest = Array.from(f.labels);
      } else {
        const frac = opts.testFraction as number;
        if (!(frac > 0 && frac < 1))
          throw new InvalidArgumentError('transferkit svm', '--test-fraction', 'a number in (0, 1)', frac);
        const rng = new Rng(opts.seed as number);
        const trainIdx: number[] = [];
        const testIdx: number[] = [];
        const classes = [...new Set(yTrain)].sort((a, b) => a - b);
        for (const c of classes) {
          const idx = rng.shuffle(yTrain.flatMap((l, i) => (l === c ? [i] : [])));
          const nTest = Math.max(1, Math.round(idx.length * frac));
          testIdx.push(...idx.slice(0, nTest));
          trainIdx.push(...idx.slice(nTest));
        }
        test = train.select(testIdx);
        yTest = testIdx.map((i) => yTrain[i]);
        train = train.select(trainIdx);
        yTrain = trainIdx.map((i) => yTrain[i]);
      }
      const numClasses = Math.max(...yTrain, ...yTest) + 1;
      const kind = opts.classifier as string;
      const clf: FeatureClassifier =
        kind === 'softmax'
          ? new SoftmaxRegression({ l2: opts.l2 as number, epochs: opts.epochs as number, numClasses })
          : kind === 'ml-svm'
            ? new MlSvmClassifier({ C: opts.C as number, kernel: opts.kernel as MlSvmKernel, numClasses })
            : new LinearSvm({ C: opts.C as number, epochs: opts.epochs as number, numClasses });
      try {
        const rep = await clf.fit(train, yTrain);
        const yhat = await clf.predict(test);
        const names = (trainFile.meta.classes as string[] | undefined) ?? [];
        const label = (k: number) => names[k] ?? String(k);
        const out: string[] = [
          `${kind} on ${train.name} (${train.cols}-d): ${train.rows} train, ${test.rows} test, fit ${(rep.ms / 1000).toFixed(2)} s`,
          `accuracy ${(100 * accuracy(yTest, yhat)).toFixed(2)}%`,
          'per class:',
          ...perClassAccuracy(yTest, yhat, numClasses).map(
            (a, k) => `  ${label(k)}\t${Number.isNaN(a) ? '-' : `${(100 * a).toFixed(1)}%`}`,
          ),
          'confusion (rows: true, columns: predicted):',
          ...confusionMatrix(yTest, yhat, numClasses).map((row, k) => `  ${label(k)}\t${row.join('\t')}`),
        ];
        process.stdout.write(`${out.join('\n')}\n`);
        if (typeof opts.save === 'string') {
          await writeFile(opts.save, JSON.stringify(await clf.save()));
          process.stdout.write(`classifier written to ${opts.save}\n`);
        }
      } finally {
        clf.dispose();
      }
    });
}
