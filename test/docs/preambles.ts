/**
 * Hidden preambles of the docs' ts blocks (see test/docs/blocks.ts): the imports and values a fragment uses without
 * declaring them. A block names one in the HTML comment before its fence: `<!-- docs-test: {"preamble": "NAME"} -->`.
 * Preambles of blocks that also run declare real (small) values; those of compile-only blocks may `declare` them.
 */
export interface Preamble {
  /** Module -> imported names (`'* as tf'` for a namespace import, `'type X'` for a type-only import). */
  imports?: Record<string, string[]>;
  /** Statements declaring the values the fragment uses. */
  code?: string;
}

const TF = { '@tensorflow/tfjs-core': ['* as tf'] };
const TFL = { '@tensorflow/tfjs-layers': ['* as tfl'] };

export const PREAMBLES: Record<string, Preamble> = {
  /** tfjs-core as `tf`, tfjs-layers as `tfl`, and the deconvnet rule registry. */
  'deconv-rules': {
    imports: { ...TF, ...TFL, transferkit: ['gradientRule', 'registerDeconvRule'] },
  },
  /** A small untrained CNN `model`, two 28x28 `images` (also the `dataset`) and their `labels`. */
  'deconv-model': {
    imports: {
      ...TF,
      transferkit: ['Deconvnet', 'topKFigure', 'zeilerFergusCnn'],
      'transferkit/node': ['writePng'],
    },
    code: `
const model = zeilerFergusCnn({ filters: [4, 10], hidden: [16], numClasses: 10, seed: 0 });
const images = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const dataset = images;
const labels = [3, 7];`,
  },
  /** A linear teacher's weights `w` [784, 10] and a small `student` MLP. */
  'byom-teacher': {
    imports: { ...TF, transferkit: ['Distiller', 'hintonMlp', 'type PredictModel'] },
    code: `
const w = tf.randomNormal([784, 10], 0, 0.05, 'float32', 0) as tf.Tensor2D;
const student = hintonMlp({ hidden: [8], seed: 1 });`,
  },
  /** A `teacher` MLP and a transfer set `x` [64, 28, 28, 1] / `y` (int32 labels) with a validation set `xVal` / `yVal`. */
  distill: {
    imports: { ...TF, transferkit: ['hintonMlp'] },
    code: `
const teacher = hintonMlp({ hidden: [16], seed: 0 });
const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32');
const xVal = tf.randomUniform([20, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
const yVal = tf.tensor1d(Array.from({ length: 20 }, (_, i) => i % 10), 'int32');`,
  },
  /** A `teacher` and a `student` MLP, a transfer set `x` [64, 28, 28, 1] / `y` (int32 labels). */
  'distill-student': {
    imports: { ...TF, transferkit: ['hintonMlp'] },
    code: `
const teacher = hintonMlp({ hidden: [16], seed: 0 });
const student = hintonMlp({ hidden: [8], seed: 1 });
const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32');`,
  },
  /** The 'distill-student' values, a distillation `loss`, and one batch `xb` / `yb` / `teacherLogitsBatch`. */
  'distill-step': {
    imports: { ...TF, transferkit: ['DistillationLoss', 'hintonMlp'] },
    code: `
const teacher = hintonMlp({ hidden: [16], seed: 0 });
const student = hintonMlp({ hidden: [8], seed: 1 });
const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32');
const loss = new DistillationLoss({ temperature: 4, alpha: 0.9 });
const xb = tf.slice(x, 0, 16);
const yb = tf.slice(y, 0, 16);
const teacherLogitsBatch = teacher.predict(xb) as tf.Tensor2D;`,
  },
  /** A small residual network `resnet` (the zoo's ResNet-18 at 32x32, a quarter of the width). */
  resnet: {
    imports: { transferkit: ['resNet18'] },
    code: `
const resnet = resNet18({ inputShape: [32, 32, 3], numClasses: 10, width: 0.25, seed: 0 });`,
  },
  /** Declared (compile-only) values for the patch API overview. */
  'patches-overview': {
    imports: {
      ...TF,
      transferkit: [
        'aggregatePatchScores',
        'boxIoU',
        'cropBoxes',
        'cropGridChunks',
        'intersectionOverArea',
        'localizationMap',
        'PatchDataset',
        'PatchSampler',
        'patchGridSvg',
        'pixelToNormalized',
        'predictPatches',
        'selectTrainingPatches',
        'type PatchLabels',
        'type PredictModel',
        'type PixelBox',
        'type SceneObject',
      ],
    },
    code: `
declare const a: PixelBox;
declare const b: PixelBox;
declare const n: PixelBox;
declare const size: { height: number; width: number };
declare const flat: Float32Array;
declare const height: number;
declare const width: number;
declare const objects: SceneObject[];
declare const imageObjects: SceneObject[][];
declare const perImageLabels: PatchLabels[];
declare const images: tf.Tensor4D;
declare const flatBoxes: Float32Array;
declare const boxImage: Int32Array;
declare const maxChunkBytes: number;
declare const model: PredictModel;
declare const epoch: number;
declare const scales: number[];
declare const positivesOnly: boolean;
declare const imageHref: string;
declare const zoom: number;`,
  },
  /** Declared (compile-only) arguments of the TransferExperiment signature. */
  'transfer-signature': {
    imports: {
      ...TF,
      ...TFL,
      transferkit: ['TransferExperiment', 'type TransferExperimentOptions', 'type TransferExperimentData'],
    },
    code: `
declare const train: TransferExperimentData['train'];
declare const test: TransferExperimentData['test'];
declare const classesA: number[];
declare const classesB: number[];
declare const modelFactory: TransferExperimentOptions['modelFactory'];
declare const seeds: TransferExperimentOptions['seeds'];
declare const ns: TransferExperimentOptions['ns'];
declare const kinds: TransferExperimentOptions['kinds'];
declare const training: TransferExperimentOptions['training'];
declare const resume: TransferExperimentOptions['resume'];
declare const onRun: TransferExperimentOptions['onRun'];
declare const onProgress: TransferExperimentOptions['onProgress'];`,
  },
};
