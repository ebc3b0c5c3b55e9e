/**
 * Saving and loading a SpecialistEnsemble: the manifest in the generalist's user-defined metadata, the tf.io handlers
 * per model, an in-memory store, the checks of what is read back, and the save / load of the models themselves
 * (`SpecialistEnsemble.save` / `load` call {@link saveEnsemble} / {@link loadEnsemble}).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkModelArtifacts } from '../core/artifacts.js';
import { checkInteger } from '../core/checks.js';
import { InvalidArgumentError, TransferkitError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { PredictModel } from '../core/types.js';
import { isLayersModel } from '../model/kinds.js';
import type { OutputKind } from '../model/output-kind.js';
import type { ClassClustering } from './clustering.js';
import type { Specialist, SpecialistEnsembleOptions } from './types.js';

/** The JSON saved with an ensemble (in the generalist's user-defined metadata). */
export interface EnsembleManifest {
  /** Format tag identifying a transferkit specialist-ensemble manifest. */
  format: 'transferkit/specialist-ensemble';
  /** Manifest format version. */
  version: 1;
  /** The generalist's class count. */
  numClasses: number;
  /** Whether the generalist returns probabilities or logits. */
  generalistOutput: OutputKind;
  /** One entry per specialist, in ensemble order. */
  specialists: {
    /** The handler name its model is saved under (`'specialist-<index>'`). */
    name: string;
    /** Its subset of the generalist's classes; output column `j` is class `classes[j]`. */
    classes: number[];
    /** Whether its model returns probabilities or logits. */
    outputKind: OutputKind;
    /** Added to the dustbin's log-probability before combining. */
    dustbinLogitShift: number;
  }[];
  /** The class clustering the ensemble was trained from, when it was built from one. */
  clustering?: ClassClustering;
}

/** Gives the tf.io handler (or URL such as `'indexeddb://ens-generalist'`) for each model of an ensemble. */
export type EnsembleHandlers = (name: string) => tf.io.IOHandler | string;

export const MANIFEST_KEY = 'transferkitSpecialistEnsemble';

/** Wraps a save handler (or URL) so that the saved artifacts carry the manifest in their user-defined metadata. */
export function withManifest(
  fn: string,
  target: tf.io.IOHandler | string,
  manifest: EnsembleManifest,
): tf.io.IOHandler {
  let handler: tf.io.IOHandler | undefined;
  if (typeof target === 'string') {
    handler = tf.io.getSaveHandlers(target)[0];
    if (handler === undefined) {
      throw new InvalidArgumentError(
        fn,
        "handlers('generalist')",
        'a URL with a registered tf.io save handler',
        target,
      );
    }
  } else {
    handler = target;
  }
  if (typeof handler?.save !== 'function') {
    throw new InvalidArgumentError(
      fn,
      "handlers('generalist')",
      'a tf.io.IOHandler with a save() method',
      target,
    );
  }
  const inner = handler;
  return {
    save: (artifacts: tf.io.ModelArtifacts) =>
      inner.save!({
        ...artifacts,
        userDefinedMetadata: {
          ...(artifacts.userDefinedMetadata ?? {}),
          [MANIFEST_KEY]: manifest,
        } as tf.io.ModelArtifacts['userDefinedMetadata'],
      }),
  };
}

/**
 * A browser-safe in-memory store for {@link SpecialistEnsemble.save}/`load`: one tf.io handler per model name,
 * keeping the `ModelArtifacts` in a Map (serialise them yourself, or use URL handlers instead).
 *
 * @example
 * ```ts
 * const store = memoryEnsembleStore();
 * await ensemble.save(store.handler);
 * console.log([...store.artifacts.keys()]); // ['generalist', 'specialist-0', ...]
 * ```
 */
export function memoryEnsembleStore(): {
  /** Gives an in-memory IOHandler for each model name (pass it as the ensemble's handlers). */
  handler: (name: string) => tf.io.IOHandler;
  /** The saved artifacts, by model name (`'generalist'`, `'specialist-0'`, ...). */
  artifacts: Map<string, tf.io.ModelArtifacts>;
} {
  const artifacts = new Map<string, tf.io.ModelArtifacts>();
  const handler = (name: string): tf.io.IOHandler => ({
    save: async (a: tf.io.ModelArtifacts) => {
      artifacts.set(name, a);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
    load: async () => {
      const a = artifacts.get(name);
      if (!a) {
        throw new InvalidArgumentError(
          'memoryEnsembleStore.load',
          'name',
          `one of [${[...artifacts.keys()].join(', ')}]`,
          name,
        );
      }
      return a;
    },
  });
  return { handler, artifacts };
}

/** Loads a member's artifacts through its handler (or URL) and checks its weight data against its manifest. */
export async function loadArtifacts(
  fn: string,
  argument: string,
  target: tf.io.IOHandler | string,
): Promise<tf.io.ModelArtifacts> {
  const handler = typeof target === 'string' ? tf.io.getLoadHandlers(target)[0] : target;
  if (typeof handler?.load !== 'function') {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a tf.io.IOHandler with a load() method (or a URL with one)',
      target,
    );
  }
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    if (e instanceof TransferkitError) throw e;
    throw new InvalidArgumentError(fn, argument, 'loadable model artifacts', `(${(e as Error).message})`);
  }
  checkModelArtifacts(fn, argument, artifacts);
  return artifacts;
}

/** Throws unless `m` is a well-formed v1 ensemble manifest with sizes within `LIMITS`. */
export function checkManifest(fn: string, m: EnsembleManifest | undefined): asserts m is EnsembleManifest {
  if (m?.format !== 'transferkit/specialist-ensemble' || m.version !== 1) {
    throw new InvalidArgumentError(
      fn,
      'handlers',
      "a store whose 'generalist' model carries a transferkit/specialist-ensemble v1 manifest",
      m ?? 'a model without one',
    );
  }
  checkInteger(fn, 'manifest.numClasses', m.numClasses, 2, LIMITS.maxClasses);
  if (!Array.isArray(m.specialists) || m.specialists.length > m.numClasses) {
    throw new InvalidArgumentError(
      fn,
      'manifest.specialists',
      `an array of at most ${m.numClasses} specialists`,
      m.specialists,
    );
  }
  m.specialists.forEach((s, i) => {
    if (typeof s?.name !== 'string' || !Array.isArray(s.classes) || s.classes.length > m.numClasses) {
      throw new InvalidArgumentError(fn, `manifest.specialists[${i}]`, '{ name, classes, outputKind }', s);
    }
  });
}

/** Throws unless `handlers` is the `(name) => IOHandler | URL` function that save/load take. */
export function checkHandlers(fn: string, handlers: unknown): asserts handlers is EnsembleHandlers {
  if (typeof handlers !== 'function') {
    throw new InvalidArgumentError(
      fn,
      'handlers',
      'a function (name) => tf.io.IOHandler | URL string',
      handlers,
    );
  }
}

/** What an ensemble saves: its models and the facts of its manifest. */
export interface EnsembleParts {
  /** The generalist (a LayersModel to be saved). */
  readonly generalist: PredictModel;
  /** The specialists, in ensemble order. */
  readonly specialists: readonly Specialist[];
  /** The generalist's class count. */
  readonly numClasses: number;
  /** What the generalist returns. */
  readonly generalistOutput: OutputKind;
  /** The clustering the specialists came from, if known. */
  readonly clustering: ClassClustering | undefined;
}

/**
 * Saves an ensemble's models through `handlers` (`'generalist'`, `'specialist-0'`, ...) with the manifest in the
 * generalist's user-defined metadata (see `SpecialistEnsemble.save`). Every model is checked to be a LayersModel
 * before anything is written.
 */
export async function saveEnsemble(
  fn: string,
  handlers: EnsembleHandlers,
  parts: EnsembleParts,
): Promise<EnsembleManifest> {
  checkHandlers(fn, handlers);
  if (!isLayersModel(parts.generalist)) {
    throw new InvalidArgumentError(
      fn,
      'generalist',
      'a LayersModel (only LayersModels can be saved)',
      parts.generalist,
    );
  }
  parts.specialists.forEach((s, m) => {
    if (!isLayersModel(s.model)) {
      throw new InvalidArgumentError(
        fn,
        `specialists[${m}].model`,
        'a LayersModel (only LayersModels can be saved)',
        s.model,
      );
    }
  });
  const manifest: EnsembleManifest = {
    format: 'transferkit/specialist-ensemble',
    version: 1,
    numClasses: parts.numClasses,
    generalistOutput: parts.generalistOutput,
    specialists: parts.specialists.map((s, m) => ({
      name: `specialist-${m}`,
      classes: [...s.classes],
      outputKind: s.outputKind,
      dustbinLogitShift: s.dustbinLogitShift,
    })),
    ...(parts.clustering ? { clustering: parts.clustering } : {}),
  };
  await parts.generalist.save(withManifest(fn, handlers('generalist'), manifest));
  for (let m = 0; m < parts.specialists.length; m++) {
    await (parts.specialists[m].model as tfl.LayersModel).save(handlers(`specialist-${m}`));
  }
  return manifest;
}

/** Models and constructor options read back by {@link loadEnsemble}; the caller owns the models. */
export interface LoadedEnsemble {
  readonly generalist: tfl.LayersModel;
  readonly specialists: Specialist[];
  readonly options: SpecialistEnsembleOptions;
}

/**
 * Reads an ensemble saved by {@link saveEnsemble}: the manifest is checked before any model is built, and models
 * built before a failure are disposed.
 */
export async function loadEnsemble(fn: string, handlers: EnsembleHandlers): Promise<LoadedEnsemble> {
  checkHandlers(fn, handlers);
  const loaded: tfl.LayersModel[] = [];
  // the generalist's artifacts first: the manifest is checked before any model is built
  const generalistArtifacts = await loadArtifacts(fn, "handlers('generalist')", handlers('generalist'));
  const meta = generalistArtifacts.userDefinedMetadata as Record<string, unknown> | undefined;
  const manifest = meta?.[MANIFEST_KEY] as EnsembleManifest | undefined;
  checkManifest(fn, manifest);
  try {
    const generalist = await tfl.loadLayersModel(tf.io.fromMemory(generalistArtifacts));
    loaded.push(generalist);
    const specialists: Specialist[] = [];
    for (const s of manifest.specialists) {
      const artifacts = await loadArtifacts(fn, `handlers('${s.name}')`, handlers(s.name));
      const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      loaded.push(model);
      specialists.push({
        model,
        classes: s.classes,
        outputKind: s.outputKind,
        dustbinLogitShift: s.dustbinLogitShift,
      });
    }
    return {
      generalist,
      specialists,
      options: {
        numClasses: manifest.numClasses,
        generalistOutput: manifest.generalistOutput,
        clustering: manifest.clustering,
      },
    };
  } catch (e) {
    for (const m of loaded) m.dispose();
    throw e;
  }
}
