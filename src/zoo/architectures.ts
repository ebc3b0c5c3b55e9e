/**
 * Seeded tfjs-layers builders of the architectures users bring (MobileNetV1/V2/V3-small, EfficientNet-B0, a
 * ResNet-18 and an Inception-style block net), with Keras-style layer names, a width multiplier, a depth multiplier
 * and any input resolution: real-sized by default, tiny for tests (`{ inputShape: [32, 32, 3], width: 0.25,
 * depth: 0.34 }`). Untrained: they exist to prove that every transferkit primitive handles these layer patterns
 * (depthwise and separable convolutions, squeeze-excitation gates, hard-swish, residual `Add`, `Concatenate`).
 *
 * References for the block structures: Howard et al. (2017) MobileNets, table 1; Sandler et al. (2018) MobileNetV2,
 * table 2; Howard et al. (2019) Searching for MobileNetV3, table 2; Tan & Le (2019) EfficientNet, table 1; He et al.
 * (2016) Deep Residual Learning, table 1 (18-layer); Szegedy et al. (2015) Going deeper with convolutions, fig. 2b.
 *
 * One concern, kept whole (~480 lines): six builders of the same kind, one per architecture, over shared blocks.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInRange, checkInteger, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** Options shared by the architecture builders ({@link mobileNetV1}, {@link mobileNetV2}, ...). */
export interface ArchitectureOptions {
  /**
   * Input shape `[height, width, channels]` (NHWC without the batch). Any size works (all convolutions pad 'same').
   * @default [224, 224, 3]
   */
  inputShape?: [number, number, number];
  /**
   * Number of classes (units of the linear `logits` layer).
   * @default 1000
   */
  numClasses?: number;
  /**
   * Width multiplier (MobileNet's alpha): every channel count is scaled by it and rounded to a multiple of 8
   * (at least 8). In (0, 4].
   * @default 1
   */
  width?: number;
  /**
   * Depth multiplier: every stage's block count `n` becomes `max(1, ceil(n * depth))`. In (0, 4].
   * @default 1
   */
  depth?: number;
  /**
   * Seed of the weight initialisers: the same seed gives the same initial weights on every backend.
   * @default 0
   */
  seed?: number;
  /**
   * Name of the model.
   * @default the architecture's name, e.g. `'mobilenet_v2'`
   */
  name?: string;
}

type Sym = tfl.SymbolicTensor;

/** The known keys of {@link ArchitectureOptions}. */
const ARCHITECTURE_OPTION_KEYS = knownKeys<ArchitectureOptions>({
  inputShape: true,
  numClasses: true,
  width: true,
  depth: true,
  seed: true,
  name: true,
});

/** The builders' shared machinery: seeded initialisers, width rounding, named layer helpers. */
class Builder {
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  private readonly width: number;
  private readonly depth: number;
  private readonly rng: Rng;
  readonly name: string;

  constructor(fn: string, options: ArchitectureOptions | undefined, defaultName: string) {
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, ARCHITECTURE_OPTION_KEYS);
    const inputShape = opts.inputShape ?? [224, 224, 3];
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw new InvalidArgumentError(fn, 'options.inputShape', '[height, width, channels]', inputShape);
    }
    inputShape.forEach((d, i) => {
      checkInteger(fn, `options.inputShape[${i}]`, d, 1);
    });
    this.inputShape = [...inputShape];
    this.numClasses = opts.numClasses ?? 1000;
    checkInteger(fn, 'options.numClasses', this.numClasses, 2);
    this.width = opts.width ?? 1;
    checkInRange(fn, 'options.width', this.width, 0, 4, { lo: true });
    this.depth = opts.depth ?? 1;
    checkInRange(fn, 'options.depth', this.depth, 0, 4, { lo: true });
    const seed = opts.seed ?? 0;
    checkInteger(fn, 'options.seed', seed);
    this.rng = new Rng(seed);
    if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
      throw new InvalidArgumentError(fn, 'options.name', 'a non-empty string', opts.name);
    }
    this.name = opts.name ?? defaultName;
  }

  /** `c * width` rounded to the nearest multiple of 8, at least 8 and not below 90% of the scaled value. */
  ch(c: number): number {
    const v = c * this.width;
    let r = Math.max(8, Math.floor((v + 4) / 8) * 8);
    if (r < 0.9 * v) r += 8;
    return r;
  }

  /** Block repeats scaled by the depth multiplier. */
  reps(n: number): number {
    return Math.max(1, Math.ceil(n * this.depth));
  }

  kernel() {
    return tfl.initializers.heNormal({ seed: this.rng.seed() });
  }

  conv(
    x: Sym,
    name: string,
    filters: number,
    kernelSize: number,
    strides = 1,
    activation: 'linear' | 'relu' | 'swish' | 'sigmoid' = 'linear',
    useBias = false,
  ): Sym {
    return tfl.layers
      .conv2d({
        name,
        filters,
        kernelSize,
        strides,
        padding: 'same',
        activation,
        useBias,
        kernelInitializer: this.kernel(),
      })
      .apply(x) as Sym;
  }

  depthwise(x: Sym, name: string, kernelSize: number, strides: number): Sym {
    return tfl.layers
      .depthwiseConv2d({
        name,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        // He-normal over the k*k taps each output sees (tfjs's heNormal would count k*k*C fan-in for a depthwise
        // kernel [k, k, C, 1] and make the signal vanish through the blocks)
        depthwiseInitializer: tfl.initializers.randomNormal({
          mean: 0,
          stddev: Math.sqrt(2 / (kernelSize * kernelSize)),
          seed: this.rng.seed(),
        }),
      })
      .apply(x) as Sym;
  }

  bn(x: Sym, name: string): Sym {
    return tfl.layers.batchNormalization({ name, epsilon: 1e-3, momentum: 0.99 }).apply(x) as Sym;
  }

  relu(x: Sym, name: string, maxValue?: number): Sym {
    return tfl.layers.reLU({ name, ...(maxValue === undefined ? {} : { maxValue }) }).apply(x) as Sym;
  }

  act(x: Sym, name: string, activation: 'swish' | 'sigmoid'): Sym {
    return tfl.layers.activation({ name, activation }).apply(x) as Sym;
  }

  /** Hard-sigmoid `relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1)` (MobileNetV3) from Rescaling + ReLU(maxValue 1). */
  hardSigmoid(x: Sym, name: string): Sym {
    const r = tfl.layers.rescaling({ name: `${name}_scale`, scale: 1 / 6, offset: 0.5 }).apply(x) as Sym;
    return this.relu(r, `${name}_clip`, 1);
  }

  /** Hard-swish `x * hardSigmoid(x)` (MobileNetV3; tfjs-layers 4.22 has no such activation). */
  hardSwish(x: Sym, name: string): Sym {
    return tfl.layers.multiply({ name }).apply([x, this.hardSigmoid(x, `${name}_hsig`)]) as Sym;
  }

  /** Squeeze-excitation: GAP -> Reshape -> 1x1 conv (squeeze) -> 1x1 conv + gate -> Multiply with the input. */
  se(x: Sym, name: string, squeeze: number, inner: 'relu' | 'swish', gate: 'sigmoid' | 'hard'): Sym {
    const c = x.shape[3] as number;
    const g = tfl.layers.globalAveragePooling2d({ name: `${name}_squeeze` }).apply(x) as Sym;
    const r = tfl.layers.reshape({ name: `${name}_reshape`, targetShape: [1, 1, c] }).apply(g) as Sym;
    const s = this.conv(r, `${name}_reduce`, squeeze, 1, 1, inner, true);
    let e = this.conv(s, `${name}_expand`, c, 1, 1, gate === 'sigmoid' ? 'sigmoid' : 'linear', true);
    if (gate === 'hard') e = this.hardSigmoid(e, `${name}_gate`);
    return tfl.layers.multiply({ name: `${name}_excite` }).apply([x, e]) as Sym;
  }

  add(a: Sym, b: Sym, name: string): Sym {
    return tfl.layers.add({ name }).apply([a, b]) as Sym;
  }

  /** GAP -> linear `logits` (no softmax, like {@link zeilerFergusCnn}). */
  head(x: Sym): Sym {
    const g = tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling' }).apply(x) as Sym;
    return tfl.layers
      .dense({ name: 'logits', units: this.numClasses, kernelInitializer: this.kernel() })
      .apply(g) as Sym;
  }

  input(): Sym {
    return tfl.input({ shape: this.inputShape, name: 'input' });
  }

  model(inp: Sym, out: Sym): tfl.LayersModel {
    return tfl.model({ inputs: inp, outputs: out, name: this.name });
  }
}

/**
 * MobileNetV1 (Howard et al. 2017, table 1): a strided 3x3 conv, then 13 depthwise-separable blocks
 * (`conv_dw_{i}` depthwise 3x3 -> BN -> ReLU6 -> `conv_pw_{i}` 1x1 -> BN -> ReLU6), GAP and `logits`.
 * The depth multiplier scales the five repeated 512-channel blocks.
 *
 * @throws {@link InvalidArgumentError} for bad options
 * @example
 * ```ts
 * const net = mobileNetV1({ inputShape: [32, 32, 3], width: 0.25, numClasses: 10, seed: 1 });
 * net.getLayer('conv_pw_13_relu').outputShape; // [null, 1, 1, 256]
 * ```
 */
export function mobileNetV1(options?: ArchitectureOptions): tfl.LayersModel {
  const b = new Builder('mobileNetV1', options, 'mobilenet_v1');
  const inp = b.input();
  let x = b.relu(b.bn(b.conv(inp, 'conv1', b.ch(32), 3, 2), 'conv1_bn'), 'conv1_relu', 6);
  const plan: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    ...Array.from({ length: b.reps(5) }, (): [number, number] => [512, 1]),
    [1024, 2],
    [1024, 1],
  ];
  plan.forEach(([filters, stride], j) => {
    const i = j + 1;
    x = b.depthwise(x, `conv_dw_${i}`, 3, stride);
    x = b.relu(b.bn(x, `conv_dw_${i}_bn`), `conv_dw_${i}_relu`, 6);
    x = b.conv(x, `conv_pw_${i}`, b.ch(filters), 1);
    x = b.relu(b.bn(x, `conv_pw_${i}_bn`), `conv_pw_${i}_relu`, 6);
  });
  return b.model(inp, b.head(x));
}

/**
 * MobileNetV2 (Sandler et al. 2018, table 2): inverted residual blocks `block_{i}_expand` (1x1, ReLU6) ->
 * `block_{i}_depthwise` (3x3, ReLU6) -> `block_{i}_project` (1x1, linear) with `block_{i}_add` when the shapes
 * match; `Conv_1` (1280 at width 1) -> `out_relu` -> GAP -> `logits`. Keras layer names.
 *
 * @throws {@link InvalidArgumentError} for bad options
 * @example
 * ```ts
 * const net = mobileNetV2({ inputShape: [32, 32, 3], width: 0.25, depth: 0.34, numClasses: 10 });
 * const feats = new FeatureExtractor(net, { layers: ['block_3_project_BN', 'out_relu'] });
 * ```
 */
export function mobileNetV2(options?: ArchitectureOptions): tfl.LayersModel {
  const b = new Builder('mobileNetV2', options, 'mobilenet_v2');
  const inp = b.input();
  let x = b.relu(b.bn(b.conv(inp, 'Conv1', b.ch(32), 3, 2), 'bn_Conv1'), 'Conv1_relu', 6);
  // (expansion t, channels c, repeats n, first stride s)
  const plan: [number, number, number, number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  let block = 0;
  for (const [t, c, n, s] of plan) {
    for (let r = 0; r < b.reps(n); r++) {
      const stride = r === 0 ? s : 1;
      const inC = x.shape[3] as number;
      const outC = b.ch(c);
      const p = block === 0 ? 'expanded_conv' : `block_${block}`;
      let h = x;
      if (t !== 1) {
        h = b.conv(h, `${p}_expand`, inC * t, 1);
        h = b.relu(b.bn(h, `${p}_expand_BN`), `${p}_expand_relu`, 6);
      }
      h = b.depthwise(h, `${p}_depthwise`, 3, stride);
      h = b.relu(b.bn(h, `${p}_depthwise_BN`), `${p}_depthwise_relu`, 6);
      h = b.bn(b.conv(h, `${p}_project`, outC, 1), `${p}_project_BN`);
      x = stride === 1 && inC === outC ? b.add(x, h, `${p}_add`) : h;
      block++;
    }
  }
  x = b.relu(b.bn(b.conv(x, 'Conv_1', b.ch(1280), 1), 'Conv_1_bn'), 'out_relu', 6);
  return b.model(inp, b.head(x));
}

/**
 * MobileNetV3-small (Howard et al. 2019, table 2): hard-swish (built from Rescaling + ReLU(maxValue 1) + Multiply,
 * as tfjs-layers 4.22 has no hard-swish activation), squeeze-excitation with a hard-sigmoid gate, inverted residual
 * blocks `expanded_conv_{i}_*`; `Conv_1` (576 at width 1, hard-swish) -> GAP -> `logits`.
 *
 * @throws {@link InvalidArgumentError} for bad options
 * @example
 * ```ts
 * const net = mobileNetV3Small({ inputShape: [32, 32, 3], width: 0.25, numClasses: 10 });
 * net.getLayer('expanded_conv_3_se_excite').getClassName(); // 'Multiply'
 * ```
 */
export function mobileNetV3Small(options?: ArchitectureOptions): tfl.LayersModel {
  const b = new Builder('mobileNetV3Small', options, 'mobilenet_v3_small');
  const inp = b.input();
  let x = b.hardSwish(b.bn(b.conv(inp, 'Conv', b.ch(16), 3, 2), 'Conv_BN'), 'Conv_hswish');
  // (kernel, expansion channels, out channels, SE, activation, stride); the 40/48/96-channel runs are repeated
  type Row = [number, number, number, boolean, 'RE' | 'HS', number];
  const plan: Row[] = [
    [3, 16, 16, true, 'RE', 2],
    [3, 72, 24, false, 'RE', 2],
    [3, 88, 24, false, 'RE', 1],
    [5, 96, 40, true, 'HS', 2],
    ...Array.from({ length: b.reps(2) }, (): Row => [5, 240, 40, true, 'HS', 1]),
    [5, 120, 48, true, 'HS', 1],
    ...Array.from({ length: b.reps(1) }, (): Row => [5, 144, 48, true, 'HS', 1]),
    [5, 288, 96, true, 'HS', 2],
    ...Array.from({ length: b.reps(2) }, (): Row => [5, 576, 96, true, 'HS', 1]),
  ];
  plan.forEach(([k, e, c, se, a, s], i) => {
    const p = `expanded_conv_${i}`;
    const inC = x.shape[3] as number;
    const outC = b.ch(c);
    const nonlin = (t: Sym, name: string) => (a === 'RE' ? b.relu(t, name) : b.hardSwish(t, name));
    let h = x;
    const exp = b.ch(e);
    if (exp !== inC) h = nonlin(b.bn(b.conv(h, `${p}_expand`, exp, 1), `${p}_expand_BN`), `${p}_expand_act`);
    h = nonlin(b.bn(b.depthwise(h, `${p}_depthwise`, k, s), `${p}_depthwise_BN`), `${p}_depthwise_act`);
    if (se) h = b.se(h, `${p}_se`, b.ch(exp / 4), 'relu', 'hard');
    h = b.bn(b.conv(h, `${p}_project`, outC, 1), `${p}_project_BN`);
    x = s === 1 && inC === outC ? b.add(x, h, `${p}_add`) : h;
  });
  x = b.hardSwish(b.bn(b.conv(x, 'Conv_1', b.ch(576), 1), 'Conv_1_BN'), 'Conv_1_hswish');
  return b.model(inp, b.head(x));
}

/**
 * An EfficientNet-B0-style net (Tan & Le 2019, table 1): a swish stem, MBConv blocks `block{stage}{letter}_*`
 * (1x1 expand, swish -> depthwise k x k, swish -> squeeze-excitation (ratio 0.25, sigmoid gate) -> 1x1 project, with
 * `_add` residuals), `top_conv` (1280 at width 1, swish) -> GAP -> `logits`. No drop-connect (inference graph).
 *
 * @throws {@link InvalidArgumentError} for bad options
 * @example
 * ```ts
 * const net = efficientNetB0({ inputShape: [32, 32, 3], width: 0.25, depth: 0.34, numClasses: 10 });
 * net.getLayer('block2a_se_excite').getClassName(); // 'Multiply'
 * ```
 */
export function efficientNetB0(options?: ArchitectureOptions): tfl.LayersModel {
  const b = new Builder('efficientNetB0', options, 'efficientnet_b0');
  const inp = b.input();
  let x = b.act(b.bn(b.conv(inp, 'stem_conv', b.ch(32), 3, 2), 'stem_bn'), 'stem_activation', 'swish');
  // (kernel, repeats, out channels, expansion, first stride)
  const plan: [number, number, number, number, number][] = [
    [3, 1, 16, 1, 1],
    [3, 2, 24, 6, 2],
    [5, 2, 40, 6, 2],
    [3, 3, 80, 6, 2],
    [5, 3, 112, 6, 1],
    [5, 4, 192, 6, 2],
    [3, 1, 320, 6, 1],
  ];
  plan.forEach(([k, n, c, t, s], stage) => {
    for (let r = 0; r < b.reps(n); r++) {
      const p = `block${stage + 1}${String.fromCharCode(97 + r)}`;
      const stride = r === 0 ? s : 1;
      const inC = x.shape[3] as number;
      const outC = b.ch(c);
      let h = x;
      if (t !== 1) {
        h = b.act(
          b.bn(b.conv(h, `${p}_expand_conv`, inC * t, 1), `${p}_expand_bn`),
          `${p}_expand_activation`,
          'swish',
        );
      }
      h = b.act(b.bn(b.depthwise(h, `${p}_dwconv`, k, stride), `${p}_bn`), `${p}_activation`, 'swish');
      h = b.se(h, `${p}_se`, Math.max(1, Math.floor(inC * 0.25)), 'swish', 'sigmoid');
      h = b.bn(b.conv(h, `${p}_project_conv`, outC, 1), `${p}_project_bn`);
      x = stride === 1 && inC === outC ? b.add(x, h, `${p}_add`) : h;
    }
  });
  x = b.act(b.bn(b.conv(x, 'top_conv', b.ch(1280), 1), 'top_bn'), 'top_activation', 'swish');
  return b.model(inp, b.head(x));
}

/**
 * A ResNet-18-style net (He et al. 2016, table 1): 7x7/2 conv -> BN -> ReLU -> 3x3/2 max-pool, four stages of two
 * basic blocks (`stage{s}_block{b}_conv1`/`_bn1`/`_relu1`/`_conv2`/`_bn2`, a 1x1/2 projection `_shortcut` where the
 * shape changes, `_add`, `_out` ReLU), GAP -> `logits`.
 *
 * @throws {@link InvalidArgumentError} for bad options
 * @example
 * ```ts
 * const net = resNet18({ inputShape: [32, 32, 3], width: 0.125, numClasses: 10 });
 * net.getLayer('stage2_block1_add').getClassName(); // 'Add'
 * ```
 */
export function resNet18(options?: ArchitectureOptions): tfl.LayersModel {
  const b = new Builder('resNet18', options, 'resnet18');
  const inp = b.input();
  let x = b.relu(b.bn(b.conv(inp, 'conv1', b.ch(64), 7, 2), 'conv1_bn'), 'conv1_relu');
  x = tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym;
  [64, 128, 256, 512].forEach((c, si) => {
    for (let r = 0; r < b.reps(2); r++) {
      const p = `stage${si + 1}_block${r + 1}`;
      const stride = r === 0 && si > 0 ? 2 : 1;
      const outC = b.ch(c);
      let h = b.relu(b.bn(b.conv(x, `${p}_conv1`, outC, 3, stride), `${p}_bn1`), `${p}_relu1`);
      h = b.bn(b.conv(h, `${p}_conv2`, outC, 3), `${p}_bn2`);
      const short =
        stride !== 1 || (x.shape[3] as number) !== outC
          ? b.bn(b.conv(x, `${p}_shortcut`, outC, 1, stride), `${p}_shortcut_bn`)
          : x;
      x = b.relu(b.add(short, h, `${p}_add`), `${p}_out`);
    }
  });
  return b.model(inp, b.head(x));
}

/**
 * An Inception-style block net (Szegedy et al. 2015, fig. 2b): a stem (3x3/2 conv, 3x3 conv, 3x3/2 max-pool), then
 * two groups of inception blocks `mixed{i}` separated by a 3x3/2 max-pool; each block concatenates four branches
 * (1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3; 3x3 avg-pool -> 1x1), every conv followed by BN and ReLU; GAP -> `logits`.
 * The depth multiplier scales the blocks per group (2 at depth 1).
 *
 * @throws {@link InvalidArgumentError} for bad options
 * @example
 * ```ts
 * const net = inceptionNet({ inputShape: [32, 32, 3], width: 0.25, numClasses: 10 });
 * net.getLayer('mixed0').getClassName(); // 'Concatenate'
 * ```
 */
export function inceptionNet(options?: ArchitectureOptions): tfl.LayersModel {
  const b = new Builder('inceptionNet', options, 'inception_net');
  const inp = b.input();
  const cbr = (t: Sym, name: string, filters: number, k: number, s = 1) =>
    b.relu(b.bn(b.conv(t, name, b.ch(filters), k, s), `${name}_bn`), `${name}_relu`);
  let x = cbr(inp, 'stem_conv1', 32, 3, 2);
  x = cbr(x, 'stem_conv2', 64, 3);
  x = tfl.layers
    .maxPooling2d({ name: 'stem_pool', poolSize: 3, strides: 2, padding: 'same' })
    .apply(x) as Sym;
  let block = 0;
  for (const [group, base] of [64, 128].entries()) {
    if (group > 0) {
      x = tfl.layers
        .maxPooling2d({ name: `reduce${group}`, poolSize: 3, strides: 2, padding: 'same' })
        .apply(x) as Sym;
    }
    for (let r = 0; r < b.reps(2); r++) {
      const p = `mixed${block}`;
      const b1 = cbr(x, `${p}_1x1`, base, 1);
      const b2 = cbr(cbr(x, `${p}_3x3_reduce`, base / 2, 1), `${p}_3x3`, base, 3);
      const b3 = cbr(
        cbr(cbr(x, `${p}_dbl_reduce`, base / 4, 1), `${p}_dbl_1`, base / 2, 3),
        `${p}_dbl_2`,
        base / 2,
        3,
      );
      const pool = tfl.layers
        .averagePooling2d({ name: `${p}_pool`, poolSize: 3, strides: 1, padding: 'same' })
        .apply(x) as Sym;
      const b4 = cbr(pool, `${p}_pool_proj`, base / 2, 1);
      x = tfl.layers.concatenate({ name: p, axis: -1 }).apply([b1, b2, b3, b4]) as Sym;
      block++;
    }
  }
  return b.model(inp, b.head(x));
}
