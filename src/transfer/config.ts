/**
 * Edits of a tfjs-layers model configuration (the camel-case object `model.getConfig()` returns): seeding every
 * initializer, replacing the head, changing the input shape. The target model of a transfer is rebuilt from the
 * edited configuration, so it gets new variables of its own and its re-initialised layers use their declared
 * initializers, with seeds.
 *
 * @module
 */
import { InvalidArgumentError, UnsupportedLayerError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** A JSON object of a layer configuration. */
export type JsonObject = { [key: string]: unknown };

/** One entry of a container configuration's `layers` list. */
export interface LayerEntry {
  className: string;
  config: JsonObject;
  /** Functional models only. */
  name?: string;
  /** Functional models only: `[[[layerName, nodeIndex, tensorIndex, kwargs], ...], ...]`. */
  inboundNodes?: unknown[];
}

/** The configuration of a Sequential or functional model. */
export interface ContainerConfig {
  name?: string;
  layers: LayerEntry[];
  /** Functional models only. */
  inputLayers?: unknown[];
  /** Functional models only. */
  outputLayers?: unknown[];
}

/** Initializers that draw random numbers and take a `seed`. */
const SEEDABLE = new Set([
  'RandomUniform',
  'RandomNormal',
  'TruncatedNormal',
  'VarianceScaling',
  'GlorotUniform',
  'GlorotNormal',
  'HeNormal',
  'HeUniform',
  'LeCunNormal',
  'LeCunUniform',
  'Orthogonal',
]);

/** A deep copy of a JSON configuration. */
export function cloneConfig<T>(config: T): T {
  return JSON.parse(JSON.stringify(config)) as T;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isContainerEntry(entry: LayerEntry): boolean {
  return Array.isArray(entry.config.layers);
}

function entryName(entry: LayerEntry): string {
  return String(entry.config.name ?? entry.name);
}

/** Calls `fn` on every leaf layer entry (nested models are entered), with its path of names. */
export function visitLeafEntries(
  config: ContainerConfig,
  fn: (entry: LayerEntry, path: string[], parent: ContainerConfig, index: number) => void,
  prefix: string[] = [],
): void {
  config.layers.forEach((entry, index) => {
    const path = [...prefix, entryName(entry)];
    if (isContainerEntry(entry)) visitLeafEntries(entry.config as unknown as ContainerConfig, fn, path);
    else fn(entry, path, config, index);
  });
}

/**
 * A 31-bit seed for one initializer, derived from the transfer's seed and a label (the layer's position in the
 * model and the initializer's key), so that a layer's initial weights depend only on the seed and the layer, not
 * on which other layers were copied nor on auto-generated layer names.
 */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5;
  const s = `${seed}|${label}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return new Rng(h | 0).seed();
}

/** Sets a derived seed on every random initializer of a layer entry (keys ending in `Initializer`). */
export function seedInitializers(entry: LayerEntry, seed: number, key: string): void {
  for (const [k, v] of Object.entries(entry.config)) {
    if (!k.endsWith('Initializer') || !isObject(v) || typeof v.className !== 'string') continue;
    const cfg = isObject(v.config) ? v.config : {};
    if (SEEDABLE.has(v.className) || 'seed' in cfg) {
      v.config = { ...cfg, seed: deriveSeed(seed, `${key}:${k}`) };
    }
  }
}

/** Replaces every initializer of a layer entry by zeros (for layers whose weights are overwritten right away). */
export function zeroInitializers(entry: LayerEntry): void {
  for (const [k, v] of Object.entries(entry.config)) {
    if (k.endsWith('Initializer') && isObject(v) && typeof v.className === 'string') {
      entry.config[k] = { className: 'Zeros', config: {} };
    }
  }
}

/** Finds the leaf entry at `path` (names from the outer model down). */
export function findEntry(
  config: ContainerConfig,
  path: readonly string[],
): { entry: LayerEntry; parent: ContainerConfig; index: number } | undefined {
  let found: { entry: LayerEntry; parent: ContainerConfig; index: number } | undefined;
  visitLeafEntries(config, (entry, p, parent, index) => {
    if (found === undefined && p.length === path.length && p.every((s, i) => s === path[i])) {
      found = { entry, parent, index };
    }
  });
  return found;
}

/**
 * Sets the input shape (without the batch dimension) of a single-input model configuration.
 *
 * @throws {@link InvalidArgumentError} when the model has several inputs or the rank differs.
 */
export function setInputShape(fn: string, config: ContainerConfig, shape: readonly number[]): void {
  const isFunctional = Array.isArray(config.inputLayers);
  const targets = isFunctional
    ? config.layers.filter((e) => e.className === 'InputLayer')
    : config.layers.slice(0, 1);
  if (targets.length !== 1) {
    throw new InvalidArgumentError(
      fn,
      'options.inputShape',
      'a model with exactly one input',
      targets.length,
    );
  }
  const cfg = targets[0].config;
  const old = (cfg.batchInputShape ??
    (cfg.inputShape ? [null, ...(cfg.inputShape as number[])] : undefined)) as (number | null)[] | undefined;
  if (old === undefined) {
    throw new InvalidArgumentError(
      fn,
      'options.inputShape',
      'a base model whose first layer declares its input shape',
      cfg,
    );
  }
  if (old.length !== shape.length + 1) {
    throw new InvalidArgumentError(
      fn,
      'options.inputShape',
      `an input shape of rank ${old.length - 1} like the base's [${old.slice(1).join(', ')}]`,
      [...shape],
    );
  }
  cfg.batchInputShape = [old[0] ?? null, ...shape];
  delete cfg.inputShape;
}

/** Oquab et al.'s adaptation block, in config form: FCa (ReLU) -> Dropout -> FCb (the old head's activation). */
export interface AdaptationConfig {
  numClasses: number;
  hiddenUnits: number;
  dropout: number;
}

function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

function collectNames(config: ContainerConfig, into: Set<string>): Set<string> {
  for (const e of config.layers) {
    into.add(entryName(e));
    if (isContainerEntry(e)) collectNames(e.config as unknown as ContainerConfig, into);
  }
  return into;
}

function renameReferences(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) {
    if (value.length >= 3 && value[0] === from && typeof value[1] === 'number')
      return [to, ...value.slice(1)];
    return value.map((v) => renameReferences(v, from, to));
  }
  return value;
}

/**
 * Replaces the head entry at `path` by the adaptation block (Oquab et al. 2014, Sec. 3: "we remove the output layer
 * FC8 of the pre-trained network and add an adaptation layer formed by two fully connected layers FCa and FCb").
 * Returns the names of the new layers.
 */
export function insertAdaptation(
  fn: string,
  root: ContainerConfig,
  path: readonly string[],
  adaptation: AdaptationConfig,
  seed: number,
): string[] {
  const at = findEntry(root, path);
  if (at === undefined)
    throw new UnsupportedLayerError(fn, path.join('/'), 'unknown', 'The head was not found.');
  const { entry: head, parent, index } = at;
  const taken = collectNames(root, new Set<string>());
  const headName = entryName(head);
  const fcaName = uniqueName(taken, `${headName}_fca`);
  const dropName = uniqueName(taken, `${headName}_dropout`);
  const fcbName = uniqueName(taken, `${headName}_fcb`);
  const dense = (name: string, units: number, activation: unknown, init: unknown): JsonObject => ({
    name,
    units,
    activation,
    useBias: true,
    kernelInitializer: init,
    biasInitializer: { className: 'Zeros', config: {} },
    kernelRegularizer: null,
    biasRegularizer: null,
    activityRegularizer: null,
    kernelConstraint: null,
    biasConstraint: null,
    trainable: true,
  });
  // FCa: ReLU, He-normal initialisation (a ReLU layer); FCb: the old head's activation and initializer.
  const fca: LayerEntry = {
    className: 'Dense',
    config: dense(fcaName, adaptation.hiddenUnits, 'relu', {
      className: 'VarianceScaling',
      config: {
        scale: 2,
        mode: 'fanIn',
        distribution: 'normal',
        seed: deriveSeed(seed, 'adaptation/fca:kernelInitializer'),
      },
    }),
  };
  const drop: LayerEntry = {
    className: 'Dropout',
    config: { name: dropName, rate: adaptation.dropout, noiseShape: null, seed: null, trainable: true },
  };
  const fcb: LayerEntry = {
    className: 'Dense',
    config: dense(
      fcbName,
      adaptation.numClasses,
      head.config.activation ?? 'linear',
      head.config.kernelInitializer ?? { className: 'GlorotUniform', config: {} },
    ),
  };
  seedInitializers(fcb, seed, 'adaptation/fcb');
  if (head.config.batchInputShape !== undefined) fca.config.batchInputShape = head.config.batchInputShape;
  if (head.config.dtype !== undefined) {
    for (const e of [fca, drop, fcb]) e.config.dtype = head.config.dtype;
  }
  if (head.inboundNodes !== undefined) {
    fca.name = fcaName;
    fca.inboundNodes = head.inboundNodes;
    drop.name = dropName;
    drop.inboundNodes = [[[fcaName, 0, 0, {}]]];
    fcb.name = fcbName;
    fcb.inboundNodes = [[[dropName, 0, 0, {}]]];
    for (const e of parent.layers) {
      if (e !== head && e.inboundNodes !== undefined) {
        e.inboundNodes = renameReferences(e.inboundNodes, headName, fcbName) as unknown[];
      }
    }
    if (parent.outputLayers !== undefined) {
      parent.outputLayers = renameReferences(parent.outputLayers, headName, fcbName) as unknown[];
    }
  }
  parent.layers.splice(index, 1, fca, drop, fcb);
  return [fcaName, dropName, fcbName];
}
