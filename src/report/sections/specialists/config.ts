/**
 * The specialists section's recipe per mode and the shape of its results (Hinton, Vinyals & Dean 2015, section 5,
 * on Fashion-MNIST).
 *
 * @module
 */
import type { ReportMode } from '../../types.js';

/** The recipe of the section in one mode. */
export interface SpecialistsConfig {
  /** Fashion-MNIST images kept per class (of 7,000) before the train/test split. */
  limitPerClass: number;
  /** Fraction of each class held out as the test part (never used to choose anything). */
  testFraction: number;
  /** Fraction of the training part held out to find the generalist's confusions. */
  heldOutFraction: number;
  /** Hidden layer sizes of the generalist MLP. */
  hidden: number[];
  /** Epochs of the generalist. */
  generalistEpochs: number;
  /**
   * Epochs of each specialist on its enriched sample, and the extra epochs of the control (the generalist trained
   * on, on all its training data).
   */
  extraEpochs: number;
  /** Largest number of clusters tried (k searched from 2). */
  kMax: number;
  /** Fraction of a specialist's sample drawn from its classes (paper: 0.5). */
  subsetFraction: number;
  /** n: the generalist's top-n classes choose the active specialists (paper: 1). */
  candidates: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate of the generalist. */
  learningRate: number;
  /** Adam learning rate of the specialists' `extraEpochs` (chosen on the development split). */
  specialistLearningRate: number;
  /** Adam learning rate of the control's `extraEpochs` (the specialists' rate: the same recipe for both arms). */
  controlLearningRate: number;
  /**
   * Adam learning rate of a second control, the tuned control: the rate at which the control did best on the
   * development split (null: no second control).
   */
  tunedControlLearningRate: number | null;
  /** Seeds of the specialists and the control (sampling, head initialisation, batch order); one generalist. */
  seeds: number;
}

/**
 * `quick`: 2,500 images per class (about 19,300 training after a 10% held-out draw, 3,600 test), one 784-64-10
 * generalist trained 8 epochs, then per seed the specialists, the control and the tuned control 3 more epochs, 6
 * seeds. `full`: all 7,000 per class (60,000 / 10,000), 5 seeds. Chosen on a development split of the training part
 * (a seeded sixth of it; scripts/specialists-dev.ts, every setting in scripts/specialists-dev-results.jsonl), never on
 * the test part: the generalist's recipe (8 epochs at Adam 2e-3, k searched up to 9) in an earlier session; the extra
 * epochs' rate this session, by a rule fixed before the runs: the specialists at the rate with the best mean
 * ensemble accuracy on dev of 2e-3, 1e-3, 5e-4, 2.5e-4 (2e-3: 86.89%), the control at the same rate (the same recipe
 * for both arms), the tuned control at the rate with the best mean control accuracy (5e-4 and 2.5e-4 tied at
 * 87.19%; the larger taken); 6 seeds: the dev spread of ensemble − control (sd 0.54 points) and the ~100 s budget.
 *
 * @example
 * ```ts
 * specialistsConfig('quick').seeds; // 6
 * ```
 */
export function specialistsConfig(mode: ReportMode): SpecialistsConfig {
  const full = mode === 'full';
  return {
    limitPerClass: full ? 7000 : 2500,
    testFraction: 1 / 7,
    heldOutFraction: 0.1,
    hidden: [64],
    generalistEpochs: 8,
    extraEpochs: 3,
    kMax: 9,
    subsetFraction: 0.5,
    candidates: 1,
    batchSize: 64,
    learningRate: 2e-3,
    specialistLearningRate: 2e-3,
    controlLearningRate: 2e-3,
    tunedControlLearningRate: 5e-4,
    seeds: full ? 5 : 6,
  };
}

/** Test accuracies of one model over the whole test part, and over the classes some specialist covers. */
export interface Scores {
  /** Accuracy on every test image. */
  accuracy: number;
  /** Accuracy on the test images whose true class a specialist covers (NaN / null when none is covered). */
  covered: number | null;
}

/** One seed of the experiment. */
export interface SpecialistsRun {
  /** The seed of the held-out draw, the initialisations and the batch orders. */
  seed: number;
  /** Images used: training (after the held-out draw), held out, test, test images of covered classes. */
  sizes: { train: number; heldOut: number; test: number; covered: number };
  /** The generalist after its own epochs. */
  generalist: Scores;
  /** The generalist combined with its specialists (eq. 5). */
  ensemble: Scores;
  /** The control: a copy of the generalist trained `extraEpochs` more epochs on all its training data. */
  control: Scores;
  /** The tuned control (the same at `tunedControlLearningRate`), or null when the config has none. */
  tunedControl: Scores | null;
  /** The row-normalised, symmetrised confusion rates on the held-out images, `[10][10]`. */
  affinity: number[][];
  /** The clusters of the classes (every class in one), most confusable first, and the chosen k. */
  clusters: { classes: number[]; score: number }[];
  /** The class sets that got a specialist. */
  specialists: { classes: number[]; score: number; dustbinLogitShift: number }[];
  /** Test accuracy per true class (label order) of each model: where the gains and losses sit. */
  perClass: {
    generalist: (number | null)[];
    control: (number | null)[];
    ensemble: (number | null)[];
    tunedControl: (number | null)[] | null;
  };
  /** Test images with an active specialist, and the generalist's and ensemble's accuracy on them. */
  active: { rows: number; generalist: number | null; ensemble: number | null };
  /** Whether every chunk of the eq. 5 solve converged, and its most steps. */
  solve: { iterations: number; converged: boolean };
  /** Seconds: generalist, specialists, control, whole seed. */
  seconds: { generalist: number; specialists: number; control: number; total: number };
}

/** The JSON results of the section. */
export interface SpecialistsResult {
  mode: ReportMode;
  backend: string;
  config: SpecialistsConfig;
  /** Class names by label. */
  classNames: string[];
  runs: SpecialistsRun[];
  seconds: number;
}
