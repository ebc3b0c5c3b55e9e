/**
 * The set-up of a `FeatureExtractor`: its options checked, every tap resolved against the model (a layer or
 * nested-model path of a LayersModel, a node of a GraphModel), taps that read the same tensor merged into one output
 * slot, and the forward pass chosen (one `tfl.model` over the tapped tensors, an eager walk into nested models, or
 * `GraphModel.execute`). Everything is checked before anything is built. The class, in `extractor.ts`, runs the plan.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError, UnsupportedLayerError } from '../core/errors.js';
import { resolveGraphTap } from '../model/graph-model.js';
import {
  type ContainerLike,
  type GraphModelLike,
  isContainer,
  isGraphModel,
  type SymbolicTensor,
} from '../model/kinds.js';
import { elems, poolDim, type TapConfig } from './extractor-batch.js';
import type { FeatureExtractorOptions, TapOptions, TapSpec } from './extractor-options.js';
import { NORM_MODES, POOL_MODES, Standardizer } from './normalize.js';
import { listTaps, type ResolvedTap, resolveTap, type TapInfo, type TapRef } from './taps.js';
import {
  type AugmentOptions,
  checkPreprocessing,
  type Preprocessing,
  RESIZE_MODES,
  type ResizeMode,
  resolveAugment,
  viewSpecs,
} from './views.js';

const FN = 'FeatureExtractor';

/** The known keys of a tap given as {@link TapOptions}. */
const TAP_KEYS = knownKeys<TapOptions>({
  layer: true,
  pool: true,
  normalize: true,
  powerAlpha: true,
  standardizer: true,
});

/** What a `FeatureExtractor` runs: the resolved taps and the forward pass over them. */
export interface ExtractorPlan {
  /** The model (the caller's). */
  readonly model: ContainerLike | GraphModelLike;
  /** One entry per tap, in the order given. */
  readonly configs: TapConfig[];
  /** One `tfl.model` over the tapped tensors when every tap is a tensor of the top graph. */
  readonly tapModel: tfl.LayersModel | undefined;
  /** Output names of `tapModel`, one per unique tap. */
  readonly tapOutputNames: string[];
  /** Steps of an eager walk per unique tap, when a tap lies inside a nested model. */
  readonly eagerPaths: ResolvedTap['steps'][] | undefined;
  /** The node names to execute, for a GraphModel. */
  readonly graphNodes: string[] | undefined;
  /** The model's input shape, batch as `null` (`[]` when unknown). */
  readonly inputShape: (number | null)[];
  /** The `[height, width]` images are brought to, if any. */
  readonly size: [number, number] | undefined;
  /** How images of another size are adapted. */
  readonly resize: ResizeMode;
  /** Pixel preprocessing. */
  readonly preprocess: Preprocessing;
  /** The resolved augmentation, if any. */
  readonly augment: Required<AugmentOptions> | undefined;
  /** Float32 elements alive per image during one forward pass (for batch sizing). */
  readonly activationElems: number;
}

/** Feature dimension of a tap after pooling and view combination (null when the layer's shape is unknown). */
export function featureDim(c: TapConfig, augment: Required<AugmentOptions> | undefined): number | null {
  const d = poolDim(c.outputShape, c.pool);
  return d !== null && augment?.combine === 'concat' ? d * viewSpecs(augment).length : d;
}

/**
 * Checks the options of `new FeatureExtractor(model, options)` and resolves its taps: throws a typed error naming
 * the option (`options.taps[i].layer`, ...) before any tensor or model is built.
 */
export function planExtractor(
  model: tfl.LayersModel | GraphModelLike,
  options: FeatureExtractorOptions,
): ExtractorPlan {
  const o = checkOptions(FN, 'options', options);
  checkOptionKeys(FN, 'options', o, [
    'taps',
    'pool',
    'normalize',
    'powerAlpha',
    'inputSize',
    'resize',
    'preprocess',
    'augment',
  ] satisfies (keyof FeatureExtractorOptions)[]);
  const graph = isGraphModel(model);
  if (!graph && !isContainer(model)) {
    throw new InvalidArgumentError(
      FN,
      'model',
      'a tfjs-layers LayersModel/Sequential or a tf.GraphModel',
      model,
    );
  }
  const specs: TapSpec[] = Array.isArray(o.taps)
    ? [...o.taps]
    : o.taps === undefined
      ? []
      : [o.taps as TapSpec];
  if (specs.length === 0) {
    throw new InvalidArgumentError(
      FN,
      'options.taps',
      'at least one tap (see FeatureExtractor.listTaps(model))',
      o.taps,
    );
  }
  const pool = o.pool ?? 'flatten';
  const normalize = o.normalize ?? 'none';
  const powerAlpha = o.powerAlpha ?? 0.5;
  checkOneOf(FN, 'options.pool', pool, POOL_MODES);
  checkOneOf(FN, 'options.normalize', normalize, NORM_MODES);
  checkPositive(FN, 'options.powerAlpha', powerAlpha);
  const resize = o.resize ?? 'stretch';
  checkOneOf(FN, 'options.resize', resize, RESIZE_MODES);
  const augment =
    o.augment === undefined || o.augment === false
      ? undefined
      : resolveAugment(FN, 'options.augment', o.augment);

  const inputs = graph ? (model as GraphModelLike).inputs : (model as ContainerLike).inputs;
  if (inputs.length !== 1) {
    throw new UnsupportedLayerError(
      FN,
      'inputs',
      `${inputs.length} inputs`,
      'Only single-input models can be tapped.',
    );
  }
  const inputShape: (number | null)[] = [...((inputs[0].shape as (number | null)[] | undefined) ?? [])].map(
    (d) => (d === -1 ? null : d),
  );
  let size: [number, number] | undefined;
  if (o.inputSize !== undefined) {
    if (!Array.isArray(o.inputSize) || o.inputSize.length !== 2) {
      throw new InvalidArgumentError(FN, 'options.inputSize', 'a [height, width] pair', o.inputSize);
    }
    checkInteger(FN, 'options.inputSize[0]', o.inputSize[0], 1);
    checkInteger(FN, 'options.inputSize[1]', o.inputSize[1], 1);
    const [fh, fw] = [inputShape[1], inputShape[2]];
    if (
      inputShape.length === 4 &&
      ((typeof fh === 'number' && fh !== o.inputSize[0]) || (typeof fw === 'number' && fw !== o.inputSize[1]))
    ) {
      // a model built for a fixed size takes no other: the tapped activations would not exist
      throw new ShapeMismatchError(
        FN,
        'options.inputSize',
        `the model's input size [${fh ?? '*'}, ${fw ?? '*'}] (it was built for that size)`,
        [o.inputSize[0], o.inputSize[1]],
      );
    }
    size = [o.inputSize[0], o.inputSize[1]];
  } else if (inputShape.length === 4 && inputShape[1] !== null && inputShape[2] !== null) {
    size = [inputShape[1] as number, inputShape[2] as number];
  }
  const channels = inputShape.length === 4 ? (inputShape[3] ?? undefined) : undefined;
  const preprocess = checkPreprocessing(FN, 'options.preprocess', o.preprocess, channels);

  // Resolve every tap before building anything.
  const resolved: { ref: TapInfo; steps?: ResolvedTap['steps']; opts: TapOptions }[] = specs.map(
    (spec, i) => {
      const arg = `options.taps[${i}]`;
      const opts: TapOptions =
        typeof spec === 'object' &&
        spec !== null &&
        'layer' in (spec as object) &&
        typeof (spec as TapOptions).layer !== 'undefined' &&
        typeof (spec as Partial<tfl.layers.Layer>).getClassName !== 'function'
          ? (spec as TapOptions)
          : { layer: spec as TapRef };
      if (opts === spec) checkOptionKeys(FN, arg, opts, TAP_KEYS);
      if (opts.pool !== undefined) checkOneOf(FN, `${arg}.pool`, opts.pool, POOL_MODES);
      if (opts.normalize !== undefined) checkOneOf(FN, `${arg}.normalize`, opts.normalize, NORM_MODES);
      if (opts.powerAlpha !== undefined) checkPositive(FN, `${arg}.powerAlpha`, opts.powerAlpha);
      if (opts.standardizer !== undefined && !(opts.standardizer instanceof Standardizer)) {
        throw new InvalidArgumentError(FN, `${arg}.standardizer`, 'a Standardizer', opts.standardizer);
      }
      if (graph)
        return { ref: resolveGraphTap(model as GraphModelLike, opts.layer, FN, `${arg}.layer`), opts };
      const r = resolveTap(
        model as ContainerLike,
        opts.layer,
        FN,
        spec === opts.layer ? arg : `${arg}.layer`,
      );
      return { ref: r.info, steps: r.steps, opts };
    },
  );

  const uniqueIds = new Map<string, number>();
  const nodeIds = new Map<object, number>();
  const idOf = (o: object): number => {
    if (!nodeIds.has(o)) nodeIds.set(o, nodeIds.size);
    return nodeIds.get(o) as number;
  };
  const keyOf = (r: (typeof resolved)[number]): string =>
    graph
      ? r.ref.name
      : (r.steps ?? [])
          .map((st) => (st.kind === 'read' ? `t${st.tensor.id}` : `n${idOf(st.node)}`))
          .join('/');
  const configs = resolved.map((r) => {
    const key = keyOf(r);
    if (!uniqueIds.has(key)) uniqueIds.set(key, uniqueIds.size);
    const cfg: TapConfig = {
      name: r.ref.name,
      className: r.ref.className,
      outputShape: [...r.ref.outputShape],
      pool: r.opts.pool ?? pool,
      normalize: r.opts.normalize ?? normalize,
      powerAlpha: r.opts.powerAlpha ?? powerAlpha,
      standardizer: r.opts.standardizer,
      output: uniqueIds.get(key) as number,
    };
    const d = featureDim(cfg, augment);
    if (cfg.standardizer !== undefined && d !== null && cfg.standardizer.dim !== d) {
      throw new ShapeMismatchError(
        FN,
        `options.taps[${resolved.indexOf(r)}].standardizer`,
        `a Standardizer of dimension ${d}`,
        [cfg.standardizer.dim],
      );
    }
    return cfg;
  });
  const firstOf = [...uniqueIds.values()].map((u) => resolved[configs.findIndex((c) => c.output === u)]);

  const common = { model, configs, inputShape, size, resize, preprocess, augment };
  if (graph) {
    return {
      ...common,
      graphNodes: firstOf.map((r) => r.ref.name),
      tapModel: undefined,
      tapOutputNames: [],
      eagerPaths: undefined,
      activationElems: elems(inputShape.length > 0 ? inputShape : [null, 1]) * 4,
    };
  }
  const container = model as ContainerLike;
  const paths = firstOf.map((r) => r.steps as ResolvedTap['steps']);
  let tapModel: tfl.LayersModel | undefined;
  let tapOutputNames: string[] = [];
  let eagerPaths: ResolvedTap['steps'][] | undefined;
  if (paths.every((p) => p.length === 1 && p[0].kind === 'read')) {
    // Every tap is a tensor of the top graph: one tfl.model over the tapped symbolic tensors.
    const outs = paths.map((p) => (p[0] as { tensor: SymbolicTensor }).tensor);
    tapModel = tfl.model({ inputs: container.inputs, outputs: outs });
    tapOutputNames = tapModel.outputs.map((t) => t.name);
  } else {
    eagerPaths = paths;
  }
  // tfjs frees each activation once its consumers ran: a pass holds about the input, a few of the largest
  // activations at once, and the tapped outputs (kept until the end).
  let largest = 0;
  for (const t of listTaps(container))
    if (t.outputShape.length > 0) largest = Math.max(largest, elems(t.outputShape));
  const tapped = configs.reduce((a, c) => a + (c.outputShape.length > 0 ? elems(c.outputShape) : 0), 0);
  return {
    ...common,
    graphNodes: undefined,
    tapModel,
    tapOutputNames,
    eagerPaths,
    activationElems: elems(inputShape) + 3 * largest + tapped,
  };
}
