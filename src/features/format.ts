/**
 * A small, documented file format for extracted features, so that features are extracted once and reused:
 *
 * | bytes | content |
 * |---|---|
 * | 0-7 | magic `TKFEATS1` (ASCII) |
 * | 8-11 | header length H in bytes, uint32 little-endian |
 * | 12 .. 12+H | UTF-8 JSON header (space-padded so the data starts at a multiple of 8) |
 * | 12+H .. | data: each matrix as float32 little-endian, row-major, in header order; then the labels as int32 LE |
 *
 * Header: `{ format: 'transferkit-features', version: 1, matrices: [{ name, rows, cols, dtype: 'float32',
 * byteOffset, byteLength }], labels?: { length, dtype: 'int32', byteOffset }, meta: {...} }`, offsets relative to
 * the start of the data. Browser-safe (ArrayBuffer in, ArrayBuffer out); `transferkit/node` adds file helpers.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { FeatureMatrix } from './matrix.js';

/**
 * The magic bytes at the start of a feature file.
 *
 * @example
 * ```ts
 * const isFeatureFile = new TextDecoder().decode(bytes.subarray(0, 8)) === FEATURES_MAGIC;
 * ```
 */
export const FEATURES_MAGIC = 'TKFEATS1';
const VERSION = 1;

/**
 * The JSON header of a feature file.
 *
 * @example
 * ```ts
 * const h = new DataView(buf).getUint32(8, true);
 * const header: FeaturesHeader = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 12, h)));
 * ```
 */
export interface FeaturesHeader {
  /** Format tag identifying a transferkit feature file. */
  format: 'transferkit-features';
  /** File format version (currently 1). */
  version: number;
  /** One entry per feature matrix, in the order their data is stored. */
  matrices: {
    /** The matrix's name (e.g. the tap it was extracted from). */
    name: string;
    /** Number of rows (examples). */
    rows: number;
    /** Number of columns (feature dimension). */
    cols: number;
    /** Element type: float32 little-endian, row-major. */
    dtype: 'float32';
    /** Offset of the matrix's data in bytes, from the start of the data section. */
    byteOffset: number;
    /** Size of the matrix's data in bytes (`rows * cols * 4`). */
    byteLength: number;
  }[];
  /** Where the labels are stored, when the file has labels. */
  labels?: {
    /** Number of labels. */
    length: number;
    /** Element type: int32 little-endian. */
    dtype: 'int32';
    /** Offset of the labels in bytes, from the start of the data section (after the matrices). */
    byteOffset: number;
  };
  /** Free JSON metadata (model, taps, options...). */
  meta: Record<string, unknown>;
}

/**
 * What a feature file holds.
 *
 * @example
 * ```ts
 * const { matrices, labels, meta }: FeaturesFile = decodeFeatures(buf);
 * ```
 */
export interface FeaturesFile {
  /** The feature matrices, in file order. */
  matrices: FeatureMatrix[];
  /** One integer label per row, when the file has labels. */
  labels?: Int32Array;
  /** Free JSON metadata (model, taps, options...). */
  meta: Record<string, unknown>;
}

const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function writeF32(view: DataView, offset: number, src: Float32Array): void {
  if (LITTLE && offset % 4 === 0) {
    new Float32Array(view.buffer, view.byteOffset + offset, src.length).set(src);
    return;
  }
  for (let i = 0; i < src.length; i++) view.setFloat32(offset + 4 * i, src[i], true);
}

function readF32(view: DataView, offset: number, n: number): Float32Array {
  if (LITTLE && (view.byteOffset + offset) % 4 === 0) {
    return new Float32Array(view.buffer, view.byteOffset + offset, n).slice();
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  return out;
}

/**
 * Encodes feature matrices (and optional integer labels and JSON metadata) into the feature file format.
 *
 * @example
 * ```ts
 * const buf = encodeFeatures(await fx.extractAll(images), { labels, meta: { model: 'cnn', tap: 'fc1' } });
 * const { matrices, labels: y } = decodeFeatures(buf);
 * ```
 */
export function encodeFeatures(
  matrices: readonly FeatureMatrix[],
  options: { labels?: ArrayLike<number>; meta?: Record<string, unknown> } = {},
): ArrayBuffer {
  if (
    !Array.isArray(matrices) ||
    matrices.length === 0 ||
    !matrices.every((m) => m instanceof FeatureMatrix)
  ) {
    throw new InvalidArgumentError(
      'encodeFeatures',
      'matrices',
      'a non-empty array of FeatureMatrix',
      matrices,
    );
  }
  const labels = options.labels;
  if (labels !== undefined) {
    if (labels.length !== matrices[0].rows) {
      throw new InvalidArgumentError(
        'encodeFeatures',
        'options.labels',
        `${matrices[0].rows} labels (one per row)`,
        `${labels.length} labels`,
      );
    }
    for (let i = 0; i < labels.length; i++) {
      if (!Number.isInteger(labels[i])) {
        throw new InvalidArgumentError('encodeFeatures', `options.labels[${i}]`, 'an integer', labels[i]);
      }
    }
  }
  let offset = 0;
  const header: FeaturesHeader = {
    format: 'transferkit-features',
    version: VERSION,
    matrices: matrices.map((m) => {
      const e = {
        name: m.name,
        rows: m.rows,
        cols: m.cols,
        dtype: 'float32' as const,
        byteOffset: offset,
        byteLength: m.data.length * 4,
      };
      offset += e.byteLength;
      return e;
    }),
    meta: options.meta ?? {},
  };
  if (labels !== undefined) header.labels = { length: labels.length, dtype: 'int32', byteOffset: offset };
  const dataBytes = offset + (labels !== undefined ? labels.length * 4 : 0);
  let json = JSON.stringify(header);
  let headBytes = new TextEncoder().encode(json);
  const pad = (8 - ((12 + headBytes.length) % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headBytes = new TextEncoder().encode(json);
  }
  const start = 12 + headBytes.length;
  const buf = new ArrayBuffer(start + dataBytes);
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < 8; i++) bytes[i] = FEATURES_MAGIC.charCodeAt(i);
  const view = new DataView(buf);
  view.setUint32(8, headBytes.length, true);
  bytes.set(headBytes, 12);
  matrices.forEach((m, k) => {
    writeF32(view, start + header.matrices[k].byteOffset, m.data);
  });
  if (labels !== undefined && header.labels) {
    for (let i = 0; i < labels.length; i++)
      view.setInt32(start + header.labels.byteOffset + 4 * i, labels[i], true);
  }
  return buf;
}

function bad(what: string, received: unknown): InvalidArgumentError {
  return new InvalidArgumentError('decodeFeatures', 'buffer', what, received);
}

/**
 * Decodes a feature file made by {@link encodeFeatures}. Validates the magic, version and every size against the
 * buffer before reading.
 *
 * @example
 * ```ts
 * const { matrices, labels, meta } = decodeFeatures(await (await fetch('feats.tkf')).arrayBuffer());
 * ```
 */
export function decodeFeatures(buffer: ArrayBuffer | Uint8Array): FeaturesFile {
  const u8 =
    buffer instanceof Uint8Array
      ? buffer
      : buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer)
        : undefined;
  if (u8 === undefined) throw bad('an ArrayBuffer or Uint8Array', buffer);
  if (u8.length < 12) throw bad('a feature file (at least 12 bytes)', `${u8.length} bytes`);
  const magic = String.fromCharCode(...u8.subarray(0, 8));
  if (magic !== FEATURES_MAGIC) throw bad(`a feature file starting with '${FEATURES_MAGIC}'`, magic);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const h = view.getUint32(8, true);
  if (12 + h > u8.length) throw bad(`a header of ${h} bytes within the buffer`, `${u8.length} bytes`);
  let header: FeaturesHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(u8.subarray(12, 12 + h))) as FeaturesHeader;
  } catch {
    throw bad('a valid JSON header', 'unparsable header');
  }
  if (
    header?.format !== 'transferkit-features' ||
    header.version !== VERSION ||
    !Array.isArray(header.matrices)
  ) {
    throw bad(
      `format 'transferkit-features' version ${VERSION}`,
      `${header?.format} version ${header?.version}`,
    );
  }
  const start = 12 + h;
  const avail = u8.length - start;
  // every declared region must be a whole number of bytes at an offset >= 0 that ends inside the data section
  const inside = (offset: unknown, bytes: number): boolean =>
    Number.isSafeInteger(offset) && (offset as number) >= 0 && (offset as number) + bytes <= avail;
  const matrices = header.matrices.map((m) => {
    if (
      typeof m !== 'object' ||
      m === null ||
      !Number.isSafeInteger(m.rows) ||
      !Number.isSafeInteger(m.cols) ||
      m.rows < 0 ||
      m.cols < 1 ||
      !inside(m.byteOffset, m.rows * m.cols * 4) ||
      (m.byteLength !== undefined && m.byteLength !== m.rows * m.cols * 4)
    ) {
      throw bad('matrix sizes within the buffer', `${m?.rows}x${m?.cols} at ${m?.byteOffset}`);
    }
    return new FeatureMatrix(m.rows, m.cols, readF32(view, start + m.byteOffset, m.rows * m.cols), m.name);
  });
  let labels: Int32Array | undefined;
  if (header.labels !== undefined) {
    const l = header.labels;
    const rows = matrices[0]?.rows;
    if (
      typeof l !== 'object' ||
      l === null ||
      !Number.isSafeInteger(l.length) ||
      l.length < 0 ||
      (rows !== undefined && l.length !== rows) ||
      (l.dtype !== undefined && l.dtype !== 'int32') ||
      !inside(l.byteOffset, l.length * 4)
    )
      throw bad(`int32 labels (one per row) within the buffer`, `${l?.length} labels at ${l?.byteOffset}`);
    labels = new Int32Array(l.length);
    for (let i = 0; i < l.length; i++) labels[i] = view.getInt32(start + l.byteOffset + 4 * i, true);
  }
  return { matrices, labels, meta: header.meta ?? {} };
}
