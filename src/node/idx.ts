/**
 * The IDX file format of MNIST, EMNIST, KMNIST and Fashion-MNIST (LeCun's "idx3-ubyte" files), raw or gzip: a
 * 4-byte magic (two zero bytes, a type code, the number of dimensions), one big-endian uint32 per dimension, then the
 * values in row-major order, big-endian.
 *
 * Declared sizes are checked against the file's length (or, for gzip, against a byte limit and then against what
 * the stream yields) before anything of that size is allocated, so a corrupt header cannot cause a huge allocation.
 *
 * @module
 */
import { open, readFile, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InvalidArgumentError, TransferkitError } from '../index.js';

/** The value types an IDX file can hold, by type code (0x08 ubyte ... 0x0E double). */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array {@link readIdx} returns for each {@link IdxType}. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** The content of an IDX file. */
export interface IdxArray {
  /** The value type declared by the file. */
  type: IdxType;
  /** The dimensions, e.g. `[60000, 28, 28]` for MNIST's training images. */
  dims: number[];
  /** The values, row-major, converted to the platform's byte order. Its length is the product of `dims`. */
  data: IdxData;
}

/** Why an IDX file was rejected. */
export type IdxProblem = 'magic' | 'type' | 'dims' | 'length' | 'gzip' | 'limit';

/**
 * A file is not a valid IDX file (or is truncated, or declares more data than the limit). `problem` says which
 * check failed; `file` names the file.
 *
 * @example
 * ```ts
 * try { await readIdx('broken-idx3-ubyte'); } catch (e) { if (e instanceof IdxFormatError) console.log(e.problem); }
 * ```
 */
export class IdxFormatError extends TransferkitError {
  /** The file (or `'<bytes>'` when bytes were passed). */
  readonly file: string;
  /** Which check failed. */
  readonly problem: IdxProblem;
  constructor(fn: string, file: string, problem: IdxProblem, detail: string) {
    super(`\`${fn}\` cannot read \`${file}\` as an IDX file (${problem}): ${detail}.`, 'INVALID_IDX');
    this.file = file;
    this.problem = problem;
  }
}

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  8: { type: 'uint8', bytes: 1 },
  9: { type: 'int8', bytes: 1 },
  11: { type: 'int16', bytes: 2 },
  12: { type: 'int32', bytes: 4 },
  13: { type: 'float32', bytes: 4 },
  14: { type: 'float64', bytes: 8 },
};

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /**
   * Largest number of data bytes a file may declare (a guard for gzip files, whose real size is only known once
   * decompressed; raw files are also checked against their length on disk).
   * @default 2 ** 31 - 1 (2 GiB)
   */
  maxBytes?: number;
}

interface Header {
  info: { type: IdxType; bytes: number };
  dims: number[];
  headerBytes: number;
  dataBytes: number;
}

/** Parses the header from `buf` (which may hold only a prefix); undefined when more bytes are needed. */
function parseHeader(fn: string, file: string, buf: Uint8Array, maxBytes: number): Header | undefined {
  if (buf.length < 4) return undefined;
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new IdxFormatError(
      fn,
      file,
      'magic',
      `expected the magic to start with two zero bytes, got 0x${hex(buf[0])} 0x${hex(buf[1])}`,
    );
  }
  const info = TYPES[buf[2]];
  if (info === undefined) {
    throw new IdxFormatError(
      fn,
      file,
      'type',
      `unknown type code 0x${hex(buf[2])} (expected 0x08, 0x09, 0x0B-0x0E)`,
    );
  }
  const rank = buf[3];
  if (rank === 0) throw new IdxFormatError(fn, file, 'dims', 'the file declares 0 dimensions');
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, headerBytes);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const dataBytes = count * info.bytes;
  if (dataBytes > maxBytes) {
    throw new IdxFormatError(
      fn,
      file,
      'limit',
      `dims [${dims.join(', ')}] declare ${dataBytes} bytes of data, more than maxBytes = ${maxBytes}`,
    );
  }
  return { info, dims, headerBytes, dataBytes };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}

function lengthError(fn: string, file: string, h: Header, got: number): IdxFormatError {
  return new IdxFormatError(
    fn,
    file,
    'length',
    `dims [${h.dims.join(', ')}] of ${h.info.type} declare ${h.dataBytes} bytes of data after a ${h.headerBytes}-byte header, but the file holds ${got}`,
  );
}

/** Converts big-endian data bytes to a typed array of the platform's order. */
function decode(h: Header, bytes: Uint8Array): IdxData {
  const n = h.dataBytes / h.info.bytes;
  switch (h.info.type) {
    case 'uint8':
      return bytes;
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset, n);
    default: {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const step = h.info.bytes;
      const out =
        h.info.type === 'int16'
          ? new Int16Array(n)
          : h.info.type === 'int32'
            ? new Int32Array(n)
            : h.info.type === 'float32'
              ? new Float32Array(n)
              : new Float64Array(n);
      const get =
        h.info.type === 'int16'
          ? (o: number) => view.getInt16(o, false)
          : h.info.type === 'int32'
            ? (o: number) => view.getInt32(o, false)
            : h.info.type === 'float32'
              ? (o: number) => view.getFloat32(o, false)
              : (o: number) => view.getFloat64(o, false);
      for (let i = 0; i < n; i++) out[i] = get(i * step);
      return out;
    }
  }
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Parses a complete raw IDX buffer. */
function parseRaw(fn: string, file: string, buf: Uint8Array, maxBytes: number): IdxArray {
  const h = parseHeader(fn, file, buf, maxBytes);
  if (h === undefined) {
    throw new IdxFormatError(fn, file, 'length', `the file ends inside the header (${buf.length} bytes)`);
  }
  const got = buf.length - h.headerBytes;
  if (got !== h.dataBytes) throw lengthError(fn, file, h, got);
  // A copy for uint8 keeps the result independent of the (possibly pooled) read buffer.
  const data = buf.slice(h.headerBytes);
  return { type: h.info.type, dims: h.dims, data: decode(h, data) };
}

/** Streams a gzip IDX buffer: the header is parsed first, then exactly the declared bytes are allocated. */
function parseGzip(fn: string, file: string, gz: Uint8Array, maxBytes: number): Promise<IdxArray> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    let head = new Uint8Array(0);
    let h: Header | undefined;
    let data: Uint8Array | undefined;
    let at = 0;
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      gunzip.destroy();
      reject(e);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        let c: Uint8Array = chunk;
        if (h === undefined) {
          const joined = new Uint8Array(head.length + c.length);
          joined.set(head);
          joined.set(c, head.length);
          h = parseHeader(fn, file, joined, maxBytes);
          if (h === undefined) {
            head = joined;
            return;
          }
          // Grow with what arrives, not with what the header declares: a 60-byte file may declare 1.6 GB.
          data = new Uint8Array(Math.min(h.dataBytes, 1 << 20));
          c = joined.subarray(h.headerBytes);
        }
        if (at + c.length > h.dataBytes) {
          throw lengthError(fn, file, h, at + c.length);
        }
        if (at + c.length > (data as Uint8Array).length) {
          const grown = new Uint8Array(
            Math.min(h.dataBytes, Math.max(2 * (data as Uint8Array).length, at + c.length)),
          );
          grown.set((data as Uint8Array).subarray(0, at));
          data = grown;
        }
        (data as Uint8Array).set(c, at);
        at += c.length;
      } catch (e) {
        fail(e);
      }
    });
    gunzip.on('error', (e: Error) => {
      fail(new IdxFormatError(fn, file, 'gzip', `the gzip stream is corrupt or truncated (${e.message})`));
    });
    gunzip.on('end', () => {
      if (failed) return;
      if (h === undefined) {
        fail(
          new IdxFormatError(fn, file, 'length', `the file ends inside the header (${head.length} bytes)`),
        );
      } else if (at !== h.dataBytes) {
        fail(lengthError(fn, file, h, at));
      } else {
        resolve({ type: h.info.type, dims: h.dims, data: decode(h, data as Uint8Array) });
      }
    });
    gunzip.end(gz);
  });
}

/**
 * Reads an IDX file (MNIST, EMNIST, KMNIST, Fashion-MNIST...), raw or gzip-compressed (detected from the content),
 * from a path or from bytes.
 *
 * @param source a file path, or the file's bytes
 * @throws {@link IdxFormatError} for a bad magic, an unknown type code, zero dimensions, declared sizes over
 * `maxBytes`, a length that does not match the dimensions (truncated or trailing data) or a corrupt gzip stream;
 * the `fs` error when the file cannot be read
 * @example
 * ```ts
 * const images = await readIdx('train-images-idx3-ubyte.gz'); // { type: 'uint8', dims: [60000, 28, 28], data }
 * ```
 */
export async function readIdx(source: string | Uint8Array, options: ReadIdxOptions = {}): Promise<IdxArray> {
  const fn = 'readIdx';
  const maxBytes = options.maxBytes ?? 2 ** 31 - 1;
  if (!Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new InvalidArgumentError(fn, 'options.maxBytes', 'an integer >= 0', maxBytes);
  }
  if (typeof source !== 'string') {
    if (!(source instanceof Uint8Array)) {
      throw new InvalidArgumentError(fn, 'source', 'a file path or a Uint8Array', source);
    }
    return isGzip(source)
      ? parseGzip(fn, '<bytes>', source, maxBytes)
      : parseRaw(fn, '<bytes>', source, maxBytes);
  }
  // Check the header of a raw file against its length on disk before reading it whole.
  const size = (await stat(source)).size;
  const fh = await open(source, 'r');
  let prefix: Uint8Array;
  try {
    const probe = new Uint8Array(Math.min(size, 4 + 4 * 255));
    await fh.read(probe, 0, probe.length, 0);
    prefix = probe;
  } finally {
    await fh.close();
  }
  if (!isGzip(prefix)) {
    const h = parseHeader(fn, source, prefix, maxBytes);
    if (h === undefined) {
      throw new IdxFormatError(fn, source, 'length', `the file ends inside the header (${size} bytes)`);
    }
    if (size - h.headerBytes !== h.dataBytes) throw lengthError(fn, source, h, size - h.headerBytes);
    return parseRaw(fn, source, await readFile(source), maxBytes);
  }
  return parseGzip(fn, source, await readFile(source), maxBytes);
}

/**
 * Encodes an IDX file (raw, not compressed) from values and dimensions: the inverse of {@link readIdx}. Used for
 * transferkit's compact data-set cache; handy for writing your own data sets in the MNIST format.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} when the data's length is not the product of
 * `dims`, or a dimension is not an integer in [0, 2^32)
 * @example
 * ```ts
 * const bytes = encodeIdx({ type: 'uint8', dims: [2, 2], data: new Uint8Array([0, 1, 2, 3]) });
 * ```
 */
export function encodeIdx(array: IdxArray): Uint8Array {
  const fn = 'encodeIdx';
  const code = Number(Object.entries(TYPES).find(([, t]) => t.type === array.type)?.[0]);
  const count = array.dims.reduce((a, b) => a * b, 1);
  const bad = array.dims.find((d) => !Number.isInteger(d) || d < 0 || d >= 2 ** 32);
  if (Number.isNaN(code) || bad !== undefined || array.dims.length === 0 || array.dims.length > 255) {
    throw new InvalidArgumentError(
      fn,
      'array',
      'an IdxArray with a known type and 1-255 integer dims',
      array.dims,
    );
  }
  if (array.data.length !== count) {
    throw new InvalidArgumentError(fn, 'array.data', `${count} values (the product of dims)`, array.data);
  }
  const bytesPer = TYPES[code].bytes;
  const header = 4 + 4 * array.dims.length;
  const out = new Uint8Array(header + count * bytesPer);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = array.dims.length;
  array.dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  const d = array.data;
  for (let i = 0; i < count; i++) {
    const o = header + i * bytesPer;
    switch (array.type) {
      case 'uint8':
        view.setUint8(o, d[i]);
        break;
      case 'int8':
        view.setInt8(o, d[i]);
        break;
      case 'int16':
        view.setInt16(o, d[i], false);
        break;
      case 'int32':
        view.setInt32(o, d[i], false);
        break;
      case 'float32':
        view.setFloat32(o, d[i], false);
        break;
      default:
        view.setFloat64(o, d[i], false);
    }
  }
  return out;
}
