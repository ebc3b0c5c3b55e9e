/**
 * Sharded feature extraction: split one ordered data set into `count` contiguous shards, extract each anywhere
 * (another process, machine, Kubernetes Indexed Job or GNU parallel slot), and merge the shards back into the file
 * one process would have written. Browser-safe: shard arithmetic, the manifest type and the in-memory merge;
 * `transferkit/node` adds the files (`saveFeatureShard`, `mergeFeatures`).
 *
 * A shard is a TKFEATS1 file (see {@link encodeFeatures}) whose metadata is what the single-process extraction
 * writes for the same rows, plus a manifest (JSON) with the shard's place, the options that produced it, a
 * fingerprint of the whole input list and the SHA-256 of the shard file.
 *
 * @module
 */

import { rawValue } from '../core/describe.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { FeaturesFile } from './format.js';
import { FeatureMatrix } from './matrix.js';

/**
 * One shard of a data set: `index` in `[0, count)` (0-based, like Kubernetes' `JOB_COMPLETION_INDEX`).
 *
 * @example
 * ```ts
 * const shard: ShardSpec = { index: 2, count: 8 }; // the third of eight
 * ```
 */
export interface ShardSpec {
  /** 0-based shard number, `0 <= index < count`. */
  index: number;
  /** Number of shards the data set is split into (>= 1). */
  count: number;
}

/**
 * The manifest written next to each shard file (`shard-00002-of-00008.json` beside `shard-00002-of-00008.tkf`).
 *
 * @example
 * ```ts
 * const m: ShardManifest = JSON.parse(await readFile('shards/shard-00000-of-00004.json', 'utf8'));
 * console.log(m.start, m.end, m.sha256);
 * ```
 */
export interface ShardManifest {
  /** Format tag. */
  format: 'transferkit-feature-shard';
  /** Manifest format version (currently 1). */
  version: 1;
  /** 0-based shard number. */
  index: number;
  /** Number of shards of the data set. */
  count: number;
  /** Rows of the whole data set (all shards). */
  total: number;
  /** First row of this shard in the whole data set. */
  start: number;
  /** One past the last row of this shard. */
  end: number;
  /** Fingerprint of the whole input list (every row's id, in order): shards of another input do not merge. */
  source: string;
  /** The options that produced the shard (model, taps, processing); shards with different options do not merge. */
  options: Record<string, unknown>;
  /** Keys of the feature file's metadata that hold one entry per row (concatenated by the merge, e.g. `files`). */
  rowMeta: string[];
  /** File name of the shard's feature file, in the same folder. */
  file: string;
  /** Size of the shard's feature file in bytes. */
  bytes: number;
  /** SHA-256 of the shard's feature file, lower-case hex. */
  sha256: string;
}

const SHARD_RE = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/**
 * Checks a {@link ShardSpec}: integers with `count >= 1` and `0 <= index < count`.
 *
 * @throws {@link InvalidArgumentError} naming `fn` and `argument`
 * @example
 * ```ts
 * checkShard('extract', 'options.shard', { index: 3, count: 4 });
 * ```
 */
export function checkShard(fn: string, argument: string, shard: unknown): asserts shard is ShardSpec {
  const s = shard as ShardSpec;
  if (
    typeof s !== 'object' ||
    s === null ||
    !Number.isInteger(s.count) ||
    s.count < 1 ||
    !Number.isInteger(s.index) ||
    s.index < 0 ||
    s.index >= s.count
  ) {
    throw new InvalidArgumentError(
      fn,
      argument,
      '{ index, count } with integers 0 <= index < count',
      typeof s === 'object' && s !== null ? `{ index: ${s.index}, count: ${s.count} }` : shard,
    );
  }
}

/**
 * Parses `'i/n'` (0-based `i`, e.g. `'0/4'` .. `'3/4'`) into a {@link ShardSpec}.
 *
 * @throws {@link InvalidArgumentError} for anything else, or `i >= n`
 * @example
 * ```ts
 * parseShard('2/8'); // { index: 2, count: 8 }
 * ```
 */
export function parseShard(spec: string, fn = 'parseShard', argument = 'spec'): ShardSpec {
  const m = typeof spec === 'string' ? SHARD_RE.exec(spec) : null;
  if (m === null) {
    throw new InvalidArgumentError(fn, argument, "'i/n' with 0 <= i < n (e.g. '0/4')", spec);
  }
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  if (shard.count < 1 || shard.index >= shard.count) {
    throw new InvalidArgumentError(fn, argument, "'i/n' with 0 <= i < n (0-based, e.g. '0/4')", spec);
  }
  return shard;
}

/**
 * The shard of this process from the environment: index from `JOB_COMPLETION_INDEX` (0-based; a Kubernetes
 * Indexed Job sets it, other runners can set it or pass `--shard i/n`), count from `count` or
 * `TRANSFERKIT_SHARD_COUNT`. Returns `undefined` when no index is set.
 *
 * @throws {@link InvalidArgumentError} when the index is set but the count is missing or they do not fit
 * @example
 * ```ts
 * const shard = shardFromEnv(process.env, 8); // { index: Number(JOB_COMPLETION_INDEX), count: 8 }
 * ```
 */
export function shardFromEnv(env: Record<string, string | undefined>, count?: number): ShardSpec | undefined {
  const raw = env.JOB_COMPLETION_INDEX;
  if (raw === undefined || raw === '') return undefined;
  const n = count ?? (env.TRANSFERKIT_SHARD_COUNT ? Number(env.TRANSFERKIT_SHARD_COUNT) : undefined);
  if (n === undefined) {
    throw new InvalidArgumentError(
      'shardFromEnv',
      'count',
      'a shard count (--shard-count or TRANSFERKIT_SHARD_COUNT) with JOB_COMPLETION_INDEX',
      undefined,
    );
  }
  const shard = { index: /^\d+$/.test(raw) ? Number(raw) : Number.NaN, count: n };
  checkShard('shardFromEnv', 'JOB_COMPLETION_INDEX', shard);
  return shard;
}

/**
 * The rows `[start, end)` of shard `shard` of `total` rows: contiguous, in order, sizes differing by at most one
 * (`start = floor(index * total / count)`). Shards may be empty when `count > total`.
 *
 * @example
 * ```ts
 * shardRange(10, { index: 1, count: 3 }); // { start: 3, end: 6 }
 * ```
 */
export function shardRange(
  total: number,
  shard: ShardSpec,
): {
  /** First row of the shard. */
  start: number;
  /** One past the last row of the shard. */
  end: number;
} {
  if (!Number.isInteger(total) || total < 0) {
    throw new InvalidArgumentError('shardRange', 'total', 'an integer >= 0', total);
  }
  checkShard('shardRange', 'shard', shard);
  return {
    start: Math.floor((shard.index * total) / shard.count),
    end: Math.floor(((shard.index + 1) * total) / shard.count),
  };
}

/**
 * The base name of a shard's files: `shard-00002-of-00008` (+ `.tkf` and `.json`). Sorted names are shard order.
 *
 * @example
 * ```ts
 * shardBaseName({ index: 2, count: 8 }); // 'shard-00002-of-00008'
 * ```
 */
export function shardBaseName(shard: ShardSpec): string {
  checkShard('shardBaseName', 'shard', shard);
  const pad = (n: number) => String(n).padStart(5, '0');
  return `shard-${pad(shard.index)}-of-${pad(shard.count)}`;
}

/** Canonical JSON (object keys sorted), to compare options whatever order their keys were written in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A shard read back: its manifest and its decoded feature file. */
export interface ShardPart {
  /** The shard's manifest. */
  manifest: ShardManifest;
  /** The shard's decoded feature file. */
  features: FeaturesFile;
}

function fail(name: string, expected: string, received: unknown): InvalidArgumentError {
  return new InvalidArgumentError('mergeFeatureShards', name, expected, received);
}

/**
 * Merges decoded shards (all `count` of them, any order) into the contents of the single-process feature file:
 * matrices and labels concatenated in shard order, per-row metadata (`manifest.rowMeta`) concatenated, the rest of
 * the metadata taken from shard 0 (key order kept, so `encodeFeatures` gives the same bytes). Checks that every
 * shard is there once, that all share count, total, source fingerprint and options, that ranges are contiguous and
 * that each file has the rows, matrices and labels its manifest announces. Each error names the shard.
 *
 * @throws {@link InvalidArgumentError} naming the shard (its base name) for any inconsistency
 * @example
 * ```ts
 * const merged = mergeFeatureShards(parts); // parts: { manifest, features: decodeFeatures(bytes) }[]
 * const bytes = encodeFeatures(merged.matrices, { labels: merged.labels, meta: merged.meta });
 * ```
 */
export function mergeFeatureShards(parts: readonly ShardPart[]): FeaturesFile {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw fail('parts', 'a non-empty array of shards', parts);
  }
  const first = parts[0].manifest;
  const count = first.count;
  const sorted: ShardPart[] = [...(parts as readonly ShardPart[])].sort(
    (a, b) => a.manifest.index - b.manifest.index,
  );
  const options = canonicalJson(first.options);
  const rowMeta = canonicalJson(first.rowMeta);
  for (const { manifest: m } of sorted) {
    const name = shardBaseName({ index: m.index, count: m.count });
    if (m.source !== first.source)
      throw fail(
        name,
        `a shard of the same input (source ${first.source.slice(0, 12)})`,
        m.source.slice(0, 12),
      );
    if (m.count !== count) throw fail(name, `a shard of ${count} (like the others)`, `a shard of ${m.count}`);
    if (m.total !== first.total)
      throw fail(name, `a shard of a ${first.total}-row data set`, `${m.total} rows in all`);
    if (canonicalJson(m.options) !== options) {
      const keys = [...new Set([...Object.keys(first.options), ...Object.keys(m.options)])].filter(
        (k) => canonicalJson(first.options[k]) !== canonicalJson(m.options[k]),
      );
      const show = (o: Record<string, unknown>) => keys.map((k) => `${k}: ${canonicalJson(o[k])}`).join(', ');
      throw fail(name, `the options of the other shards (${show(first.options)})`, rawValue(show(m.options)));
    }
    if (canonicalJson(m.rowMeta) !== rowMeta) throw fail(name, `per-row metadata ${rowMeta}`, m.rowMeta);
  }
  const shared = (f: FeaturesFile) =>
    canonicalJson(Object.fromEntries(Object.entries(f.meta).filter(([k]) => !first.rowMeta.includes(k))));
  const sharedMeta = shared(parts[0].features);
  for (const { manifest: m, features: f } of sorted) {
    if (shared(f) !== sharedMeta) throw fail(shardBaseName(m), `the metadata of the other shards`, shared(f));
  }
  for (let i = 0; i < count; i++) {
    const n = sorted.filter((p) => p.manifest.index === i).length;
    if (n !== 1) {
      throw fail(
        shardBaseName({ index: i, count }),
        'exactly one copy of every shard',
        n === 0 ? 'missing' : `${n} copies`,
      );
    }
  }
  let row = 0;
  for (const { manifest: m, features: f } of sorted) {
    const name = shardBaseName(m);
    const want = shardRange(m.total, m);
    if (m.start !== want.start || m.end !== want.end || m.start !== row) {
      throw fail(name, `rows [${want.start}, ${want.end})`, `rows [${m.start}, ${m.end})`);
    }
    row = m.end;
    const rows = m.end - m.start;
    const f0 = sorted[0].features;
    if (f.matrices.length !== f0.matrices.length) {
      throw fail(name, `${f0.matrices.length} feature matrices`, `${f.matrices.length}`);
    }
    f.matrices.forEach((mat, k) => {
      if (mat.rows !== rows || mat.cols !== f0.matrices[k].cols || mat.name !== f0.matrices[k].name) {
        throw fail(
          name,
          `matrix ${k} '${f0.matrices[k].name}' of ${rows}x${f0.matrices[k].cols}`,
          `'${mat.name}' ${mat.rows}x${mat.cols}`,
        );
      }
    });
    if ((f.labels === undefined) !== (f0.labels === undefined) || (f.labels && f.labels.length !== rows)) {
      throw fail(name, `${rows} labels like the other shards`, f.labels ? `${f.labels.length}` : 'no labels');
    }
    for (const key of m.rowMeta) {
      const v = f.meta[key];
      if (!Array.isArray(v) || v.length !== rows) {
        throw fail(name, `meta.${key}: an array of ${rows} entries`, v);
      }
    }
  }
  const base = sorted[0].features;
  const matrices = base.matrices.map((m0, k) => {
    const data = new Float32Array(first.total * m0.cols);
    let off = 0;
    for (const p of sorted) {
      const d = p.features.matrices[k].data;
      data.set(d, off);
      off += d.length;
    }
    return new FeatureMatrix(first.total, m0.cols, data, m0.name);
  });
  let labels: Int32Array | undefined;
  if (base.labels !== undefined) {
    labels = new Int32Array(first.total);
    let off = 0;
    for (const p of sorted) {
      labels.set(p.features.labels as Int32Array, off);
      off += (p.features.labels as Int32Array).length;
    }
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base.meta)) {
    meta[k] = first.rowMeta.includes(k) ? sorted.flatMap((p) => p.features.meta[k] as unknown[]) : v;
  }
  return { matrices, labels, meta };
}
