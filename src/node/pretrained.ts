/**
 * Models from files and the pretrained backbones that work offline.
 *
 * The optional `nsfwjs` package ships ImageNet-initialised backbones INSIDE itself (8-bit quantised weights, as
 * base64 in browserify bundles under `dist/models/*`): a MobileNetV2 and an InceptionV3 as tfjs layers models, and a
 * MobileNetV2 as a graph model. Their heads were fine-tuned for 5 NSFW classes; the backbones keep generic ImageNet
 * features, which is what transfer experiments need. Its exports map blocks deep imports, so the files are read by
 * path from the package's folder.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkModelArtifacts } from '../core/artifacts.js';
import { checkOneOf, isTensor } from '../core/checks.js';
import { InvalidArgumentError, TransferkitError } from '../index.js';
import { packageRoot, requireFile } from './optional.js';

/** The backbones shipped inside `nsfwjs`. */
export type PretrainedName = 'mobilenet_v2' | 'inception_v3' | 'mobilenet_v2_mid';

/** What to know about a {@link PretrainedName} before feeding it images. */
export interface PretrainedInfo {
  /** `'layers-model'` (load with {@link loadPretrained}) or `'graph-model'` (tfjs-converter's `loadGraphModel`). */
  format: 'layers-model' | 'graph-model';
  /** Input side in pixels: images are `[batch, inputSize, inputSize, 3]`, RGB. */
  inputSize: number;
  /** How to prepare pixels: RGB values divided by 255 (range [0, 1]), resized bilinearly to `inputSize`. */
  preprocessing: string;
  /** The layer whose output is the generic feature vector (before the NSFW head), for layers models. */
  featureLayer?: string;
  /** Length of that feature vector. */
  featureDim?: number;
  /** Number of weight shards in the package. */
  shards: number;
}

/** The backbones of {@link PretrainedName} and how to use them. */
export const PRETRAINED_MODELS: Readonly<Record<PretrainedName, Readonly<PretrainedInfo>>> = {
  mobilenet_v2: {
    format: 'layers-model',
    inputSize: 224,
    preprocessing: 'RGB / 255 in [0, 1], 224x224 (bilinear resize)',
    featureLayer: 'flatten_1',
    featureDim: 1280,
    shards: 1,
  },
  inception_v3: {
    format: 'layers-model',
    inputSize: 299,
    preprocessing: 'RGB / 255 in [0, 1], 299x299 (bilinear resize)',
    featureLayer: 'flatten_1',
    featureDim: 2048,
    shards: 6,
  },
  mobilenet_v2_mid: {
    format: 'graph-model',
    inputSize: 224,
    preprocessing: 'RGB / 255 in [0, 1], 224x224 (bilinear resize)',
    shards: 2,
  },
};

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: io.TrainingConfig;
  userDefinedMetadata?: io.ModelArtifacts['userDefinedMetadata'];
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function artifactsFrom(json: ModelJson, weightData: ArrayBuffer): io.ModelArtifacts {
  const weightSpecs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
  const a: io.ModelArtifacts = {
    modelTopology: json.modelTopology as io.ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData,
  };
  if (json.format !== undefined) a.format = json.format;
  if (json.generatedBy !== undefined) a.generatedBy = json.generatedBy;
  if (json.convertedBy !== undefined && json.convertedBy !== null) a.convertedBy = json.convertedBy;
  if (json.trainingConfig !== undefined) a.trainingConfig = json.trainingConfig;
  if (json.userDefinedMetadata !== undefined) a.userDefinedMetadata = json.userDefinedMetadata;
  return a;
}

/**
 * A tfjs io handler that reads one of nsfwjs's bundled backbones (model JSON + base64 weight shards) from the
 * installed package, for `tfl.loadLayersModel` (layers models) or tfjs-converter's `loadGraphModel`
 * (`mobilenet_v2_mid`).
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `nsfwjs` is not installed
 * (at `load()` time)
 * @example
 * ```ts
 * const model = await tfl.loadLayersModel(pretrainedIOHandler('mobilenet_v2'));
 * ```
 */
export function pretrainedIOHandler(name: PretrainedName): io.IOHandler {
  checkOneOf('pretrainedIOHandler', 'name', name, [
    'mobilenet_v2',
    'inception_v3',
    'mobilenet_v2_mid',
  ] as const);
  return {
    async load() {
      const root = packageRoot('nsfwjs', `for the pretrained backbone '${name}'`);
      const dir = path.join(root, 'dist', 'models', name);
      const json = requireFile(path.join(dir, 'model.min.js')) as ModelJson;
      if (json === null || typeof json !== 'object' || json.modelTopology === undefined) {
        throw new InvalidArgumentError('pretrainedIOHandler', 'name', 'a bundle with a modelTopology', name);
      }
      const buffers: ArrayBuffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        for (const p of group.paths) {
          const b64 = requireFile(path.join(dir, `${p}.min.js`));
          if (typeof b64 !== 'string') {
            throw new InvalidArgumentError(
              'pretrainedIOHandler',
              `${name}/${p}`,
              'a base64 weight shard',
              b64,
            );
          }
          buffers.push(toArrayBuffer(Buffer.from(b64, 'base64')));
        }
      }
      return artifactsFrom(json, concat(buffers));
    },
  };
}

/**
 * Loads one of the ImageNet-initialised layers models shipped inside the optional `nsfwjs` package, offline:
 * `mobilenet_v2` (224x224 input, 2.6 M parameters, 1280-d `flatten_1` features) or `inception_v3` (299x299,
 * 22 M parameters, 2048-d `flatten_1`). Inputs are RGB in [0, 1] (pixels / 255); see {@link PRETRAINED_MODELS}.
 * The last layers (`dense_1` ... `dense_3`) are nsfwjs's 5-class head: cut at `featureLayer` for generic features.
 * The graph model `mobilenet_v2_mid` needs tfjs-converter: use {@link pretrainedIOHandler} with `loadGraphModel`.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `nsfwjs` is not installed;
 * {@link index!InvalidArgumentError | InvalidArgumentError} for another name
 * @example
 * ```ts
 * import { loadPretrained, PRETRAINED_MODELS } from 'transferkit/node';
 * const net = await loadPretrained('mobilenet_v2');
 * const { inputSize, featureLayer } = PRETRAINED_MODELS.mobilenet_v2; // 224, 'flatten_1'
 * ```
 */
export async function loadPretrained(name: 'mobilenet_v2' | 'inception_v3'): Promise<tfl.LayersModel> {
  checkOneOf('loadPretrained', 'name', name, ['mobilenet_v2', 'inception_v3'] as const);
  return tfl.loadLayersModel(pretrainedIOHandler(name));
}

function isIOHandler(v: unknown): v is io.IOHandler {
  return typeof v === 'object' && v !== null && typeof (v as io.IOHandler).load === 'function';
}

/**
 * A tfjs io handler over a `model.json` file (tfjs layers format: topology + weights manifest, weight files beside
 * it): `load()` reads it, `save()` writes `model.json` and one `weights.bin` into the file's folder. This is how
 * Node loads and saves models without tfjs-node's `file://` handler.
 *
 * @param file path of `model.json` (or of the folder that holds it)
 * @example
 * ```ts
 * await model.save(fileIOHandler('out/cnn'));
 * const again = await tfl.loadLayersModel(fileIOHandler('out/cnn/model.json'));
 * ```
 */
export function fileIOHandler(file: string): io.IOHandler {
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidArgumentError('fileIOHandler', 'file', 'a path to model.json or its folder', file);
  }
  const jsonPath =
    file.endsWith('.json') || (existsSync(file) && statSync(file).isFile())
      ? file
      : path.join(file, 'model.json');
  const dir = path.dirname(jsonPath);
  return {
    async load() {
      let json: ModelJson;
      try {
        json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
      } catch (e) {
        throw new InvalidArgumentError(
          'fileIOHandler',
          'file',
          'a readable tfjs model.json',
          `${jsonPath} (${(e as Error).message})`,
        );
      }
      if (json === null || typeof json !== 'object' || json.modelTopology === undefined) {
        throw new InvalidArgumentError(
          'fileIOHandler',
          'file',
          'a model.json with a modelTopology',
          jsonPath,
        );
      }
      const manifest = json.weightsManifest ?? [];
      if (
        !Array.isArray(manifest) ||
        manifest.some((g) => !Array.isArray(g?.paths) || !Array.isArray(g?.weights))
      ) {
        throw new InvalidArgumentError(
          'fileIOHandler',
          'file',
          'a model.json whose weightsManifest lists groups of { paths, weights }',
          jsonPath,
        );
      }
      // weight files must lie inside the model's folder (as tfjs-converter's handlers keep to the base path)
      const root = path.resolve(dir);
      const files = manifest
        .flatMap((g) => g.paths)
        .map((p) => {
          const resolved = typeof p === 'string' && p.length > 0 ? path.resolve(root, p) : '';
          const rel = path.relative(root, resolved);
          if (resolved === '' || rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
            throw new InvalidArgumentError(
              'fileIOHandler',
              `${jsonPath}: weightsManifest paths`,
              `weight files inside the model's folder ${root}`,
              p,
            );
          }
          return resolved;
        });
      const buffers: ArrayBuffer[] = [];
      for (const f of files) {
        try {
          buffers.push(toArrayBuffer(await readFile(f)));
        } catch (e) {
          throw new InvalidArgumentError(
            'fileIOHandler',
            'file',
            'readable weight files',
            `${f} (${(e as Error).message})`,
          );
        }
      }
      const artifacts = artifactsFrom(json, concat(buffers));
      checkModelArtifacts('fileIOHandler', jsonPath, artifacts);
      return artifacts;
    },
    async save(artifacts: io.ModelArtifacts) {
      await mkdir(dir, { recursive: true });
      const data = artifacts.weightData;
      const weights = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? concat(data) : data;
      await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(weights));
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig !== undefined) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata !== undefined)
        json.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeFile(jsonPath, JSON.stringify(json));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    },
  };
}

/**
 * Loads a tfjs layers model that the user brings: a path to `model.json` (or its folder), a `file://` URL, an
 * `http(s)://` URL (fetched), or any tfjs io handler.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when the source is none of those or the file
 * cannot be read
 * @example
 * ```ts
 * const a = await loadLayersModelFrom('models/my-cnn/model.json');
 * const b = await loadLayersModelFrom('https://example.com/model/model.json');
 * const c = await loadLayersModelFrom(pretrainedIOHandler('mobilenet_v2'));
 * ```
 */
export async function loadLayersModelFrom(source: string | io.IOHandler): Promise<tfl.LayersModel> {
  const fn = 'loadLayersModelFrom';
  if (isIOHandler(source)) return loadChecked(fn, source);
  if (typeof source !== 'string' || source.length === 0 || isTensor(source)) {
    throw new InvalidArgumentError(fn, 'source', 'a model.json path, a URL or a tfjs io handler', source);
  }
  if (/^https?:\/\//i.test(source)) return loadChecked(fn, io.http(source));
  const file = source.startsWith('file://') ? fileURLToPath(source) : source;
  if (!existsSync(file)) {
    throw new InvalidArgumentError(fn, 'source', 'an existing model.json (or its folder)', source);
  }
  return loadChecked(fn, fileIOHandler(file));
}

/**
 * Loads the artifacts, checks the weight data against the manifest (before tfjs allocates any weight), then builds
 * the model from memory; tfjs's own errors become {@link InvalidArgumentError}s naming the source.
 */
async function loadChecked(fn: string, handler: io.IOHandler): Promise<tfl.LayersModel> {
  if (typeof handler.load !== 'function') {
    throw new InvalidArgumentError(fn, 'source', 'a tfjs io handler with a load() method', handler);
  }
  let artifacts: io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    if (e instanceof TransferkitError) throw e;
    throw new InvalidArgumentError(fn, 'source', 'loadable model artifacts', `(${(e as Error).message})`);
  }
  checkModelArtifacts(fn, 'source', artifacts);
  try {
    return await tfl.loadLayersModel(io.fromMemory(artifacts));
  } catch (e) {
    if (e instanceof TransferkitError) throw e;
    throw new InvalidArgumentError(fn, 'source', 'a valid tfjs layers model', `(${(e as Error).message})`);
  }
}

/**
 * Saves a layers model into a folder as `model.json` + `weights.bin` (loadable with {@link loadLayersModelFrom}).
 *
 * @example
 * ```ts
 * await saveLayersModelTo(cnn, 'cache/cnn-mnist');
 * ```
 */
export async function saveLayersModelTo(model: tfl.LayersModel, dir: string): Promise<void> {
  if (model === null || typeof model !== 'object' || typeof (model as tfl.LayersModel).save !== 'function') {
    throw new InvalidArgumentError('saveLayersModelTo', 'model', 'a tfjs-layers LayersModel', model);
  }
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidArgumentError('saveLayersModelTo', 'dir', 'a folder path', dir);
  }
  await model.save(fileIOHandler(path.join(dir, 'model.json')));
}
