/**
 * Feature shards on disk (Node): each shard is written atomically (temporary file + rename) as a TKFEATS1 file plus a
 * manifest with its SHA-256, and {@link mergeFeatures} checks every shard of a folder before writing the file the
 * single-process extraction writes, byte for byte.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rawValue } from '../core/describe.js';
import { mergeFeatureShards, shardBaseName } from '../features/shards.js';
import {
  decodeFeatures,
  encodeFeatures,
  type FeatureMatrix,
  type FeaturesFile,
  InvalidArgumentError,
  type ShardManifest,
  type ShardPart,
  type ShardSpec,
} from '../index.js';

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same folder, then a rename over `file`. Readers see
 * the old file or the new one, never a part; a killed writer leaves at most a `*.tmp-*` file behind.
 *
 * @example
 * ```ts
 * await writeFileAtomic('out/feats.tkf', new Uint8Array(encodeFeatures(matrices)));
 * ```
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What a shard records besides its features (see `ShardManifest`).
 */
export interface FeatureShardInfo {
  /** Labels of the shard's rows. */
  labels?: ArrayLike<number>;
  /** The feature file's metadata for the shard's rows (what the single-process file has, restricted to them). */
  meta: Record<string, unknown>;
  /** Metadata keys with one entry per row. @default [] */
  rowMeta?: string[];
  /** The options that produced the features. */
  options: Record<string, unknown>;
  /** Fingerprint of the whole input. */
  source: string;
  /** Rows of the whole input. */
  total: number;
  /** First row of the shard. */
  start: number;
  /** One past the last row of the shard. */
  end: number;
}

/**
 * Writes one shard into `dir`: `shard-IIIII-of-NNNNN.tkf` (a feature file), then its manifest
 * `shard-IIIII-of-NNNNN.json` (the manifest is written last: a shard without one is incomplete). Both writes are
 * atomic; writing the same shard again replaces it with the same bytes. Returns the manifest.
 *
 * @example
 * ```ts
 * const r = await extractFeatures(spec, { shard });
 * await saveFeatureShard('shards', shard, r.matrices, r);
 * ```
 */
export async function saveFeatureShard(
  dir: string,
  shard: ShardSpec,
  matrices: readonly FeatureMatrix[],
  info: FeatureShardInfo,
): Promise<ShardManifest> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidArgumentError('saveFeatureShard', 'dir', 'a folder path', dir);
  }
  const base = shardBaseName(shard);
  const bytes = new Uint8Array(encodeFeatures(matrices, { labels: info.labels, meta: info.meta }));
  const manifest: ShardManifest = {
    format: 'transferkit-feature-shard',
    version: 1,
    index: shard.index,
    count: shard.count,
    total: info.total,
    start: info.start,
    end: info.end,
    source: info.source,
    options: info.options,
    rowMeta: info.rowMeta ?? [],
    file: `${base}.tkf`,
    bytes: bytes.length,
    sha256: sha256(bytes),
  };
  await writeFileAtomic(path.join(dir, `${base}.tkf`), bytes);
  await writeFileAtomic(path.join(dir, `${base}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

const MANIFEST_RE = /^shard-(\d{5})-of-(\d{5})\.json$/;
const SHARD_RE = /^shard-(\d{5})-of-(\d{5})\.tkf$/;

/** Every field of a parsed manifest has its type (a hand-edited or corrupt manifest must not reach the merge). */
function wellFormedManifest(m: ShardManifest): boolean {
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  return (
    int(m.total) &&
    int(m.start) &&
    int(m.end) &&
    m.start <= m.end &&
    m.end <= m.total &&
    int(m.bytes) &&
    typeof m.sha256 === 'string' &&
    typeof m.source === 'string' &&
    typeof m.options === 'object' &&
    m.options !== null &&
    !Array.isArray(m.options) &&
    Array.isArray(m.rowMeta) &&
    m.rowMeta.every((k) => typeof k === 'string')
  );
}

function fail(argument: string, expected: string, received: unknown): InvalidArgumentError {
  return new InvalidArgumentError('mergeFeatures', argument, expected, received);
}

/**
 * Reads and checks every shard in `dir`: each manifest parses, names its own file, and the file has the size and
 * SHA-256 the manifest records and decodes as a feature file. Returns them in shard order (not yet checked
 * against each other: {@link mergeFeatures} does that).
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} naming the shard file that is missing,
 * truncated, corrupt or foreign
 * @example
 * ```ts
 * const parts = await readFeatureShards('shards');
 * ```
 */
export async function readFeatureShards(dir: string): Promise<ShardPart[]> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw fail('dir', 'a folder of feature shards', dir);
  }
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    throw fail('dir', 'a readable folder of feature shards', dir);
  }
  const manifests = names.filter((n) => MANIFEST_RE.test(n));
  if (manifests.length === 0) {
    throw fail('dir', 'a folder with shard-*-of-*.json manifests (written by --shard)', dir);
  }
  // A shard file without its manifest is a write that did not finish.
  for (const n of names.filter((n) => SHARD_RE.test(n))) {
    if (!manifests.includes(n.replace(/\.tkf$/, '.json'))) {
      throw fail(n, 'a shard with its manifest (an unfinished shard? extract it again)', 'no manifest');
    }
  }
  const out: ShardPart[] = [];
  for (const name of manifests) {
    let m: ShardManifest;
    try {
      m = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as ShardManifest;
    } catch {
      throw fail(name, 'a shard manifest (JSON)', 'unparsable');
    }
    const [, i, n] = MANIFEST_RE.exec(name) as RegExpExecArray;
    if (
      m?.format !== 'transferkit-feature-shard' ||
      m.version !== 1 ||
      m.index !== Number(i) ||
      m.count !== Number(n) ||
      m.file !== name.replace(/\.json$/, '.tkf') ||
      !wellFormedManifest(m)
    ) {
      throw fail(name, `the manifest of shard ${Number(i)} of ${Number(n)}`, m?.format ?? m);
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, m.file));
    } catch {
      throw fail(m.file, 'the shard file its manifest names', 'missing');
    }
    if (bytes.length !== m.bytes) {
      throw fail(m.file, `${m.bytes} bytes (its manifest)`, `${bytes.length} bytes (truncated or replaced)`);
    }
    const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (sha256(u8) !== m.sha256) {
      throw fail(
        m.file,
        `SHA-256 ${m.sha256.slice(0, 16)}... (its manifest)`,
        `${sha256(u8).slice(0, 16)}...`,
      );
    }
    let features: FeaturesFile;
    try {
      features = decodeFeatures(u8);
    } catch (e) {
      throw fail(m.file, 'a feature file', e instanceof Error ? e.message : e);
    }
    out.push({ manifest: m, features });
  }
  return out;
}

/**
 * Result of {@link mergeFeatures}.
 */
export interface MergeResult {
  /** The merged features (matrices, labels, metadata). */
  features: FeaturesFile;
  /** The merged file's bytes (what `out` holds). */
  bytes: Uint8Array;
  /** Number of shards merged. */
  shards: number;
}

/**
 * Merges the shards in `dir` (written by `transferkit features --shard i/n`, `saveFeatureShard` or queue workers)
 * into the feature file the single-process extraction of the same input, order and options writes: byte-identical.
 * Every shard must be present once, intact (size and SHA-256 match its manifest), and produced from the same input
 * and options. Writes `options.out` atomically when given.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} naming the missing, truncated, corrupt or foreign
 * shard, or the shard whose options differ
 * @example
 * ```ts
 * import { mergeFeatures } from 'transferkit/node';
 * const { shards, features } = await mergeFeatures('shards', { out: 'all.tkf' });
 * ```
 */
export async function mergeFeatures(dir: string, options: { out?: string } = {}): Promise<MergeResult> {
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out.length === 0)) {
    throw fail('options.out', 'a file path', options.out);
  }
  const parts = await readFeatureShards(dir);
  let features: FeaturesFile;
  try {
    features = mergeFeatureShards(parts);
  } catch (e) {
    if (e instanceof InvalidArgumentError) {
      throw fail(e.argument === 'parts' ? 'dir' : `${e.argument}.tkf`, e.expected, rawValue(e.received));
    }
    throw e;
  }
  const bytes = new Uint8Array(
    encodeFeatures(features.matrices, { labels: features.labels, meta: features.meta }),
  );
  if (options.out !== undefined) await writeFileAtomic(options.out, bytes);
  return { features, bytes, shards: parts.length };
}
