/**
 * Unknown option keys (issue 15): each public entry rejects a misspelt option with a typed InvalidArgumentError that
 * names the key and suggests the closest known one, before any tensor is allocated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  clusterClasses,
  hintonMlp,
  InvalidArgumentError,
  labelPatches,
  lineChart,
  MlSvmClassifier,
  SpecialistEnsemble,
  selectTrainingPatches,
  softTargets,
  stratifiedSplit,
  zeilerFergusCnn,
} from '../../src/index.js';
import { barChart, heatMap } from '../../src/internal.js';
import { expectThrowsNoLeak } from '../helpers.js';

// misspelt keys are passed on purpose, past the option types
type Any = any;

const teacher = tf.tensor2d([[0.5, 0.5]]); // made once, outside the leak count

const cases: [name: string, typo: string, right: string, call: () => unknown][] = [
  [
    'stratifiedSplit',
    'testFracton',
    'testFraction',
    () => stratifiedSplit([0, 1, 0, 1], { testFracton: 0.5 } as Any),
  ],
  ['clusterClasses', 'methd', 'method', () => clusterClasses([0.5, 0.5], 2, { methd: 'kmeans' } as Any)],
  [
    'labelPatches',
    'numClases',
    'numClasses',
    () => labelPatches([[0, 0, 4, 4]], [], { numClases: 2 } as Any),
  ],
  ['selectTrainingPatches', 'sed', 'seed', () => selectTrainingPatches([], { sed: 1 } as Any)],
  ['lineChart', 'serie', 'series', () => lineChart({ serie: [] } as Any)],
  ['barChart', 'categores', 'categories', () => barChart({ categores: [] } as Any)],
  ['heatMap', 'value', 'values', () => heatMap({ value: [[1]] } as Any)],
  ['zeilerFergusCnn', 'numClass', 'numClasses', () => zeilerFergusCnn({ numClass: 10 } as Any)],
  ['hintonMlp', 'dropot', 'dropout', () => hintonMlp({ dropot: 0.5 } as Any)],
  ['softTargets', 'outputKnd', 'outputKind', () => softTargets(teacher, 1, { outputKnd: 'logits' } as Any)],
  ['MlSvmClassifier', 'kernal', 'kernel', () => new MlSvmClassifier({ kernal: 'linear' } as Any)],
  [
    'SpecialistEnsemble',
    'numClases',
    'numClasses',
    () => new SpecialistEnsemble({ predict: (x: tf.Tensor) => x } as Any, [], { numClases: 2 } as Any),
  ],
];

describe('unknown option keys', () => {
  it.each(cases)(
    '%s rejects options.%s and suggests `%s`, allocating nothing',
    async (name, typo, right, call) => {
      await expectThrowsNoLeak(call, InvalidArgumentError, `\`options.${typo}\` passed to \`${name}\``);
      try {
        call();
      } catch (e) {
        expect((e as Error).message).toContain(`did you mean \`${right}\`?`);
      }
    },
  );
});
