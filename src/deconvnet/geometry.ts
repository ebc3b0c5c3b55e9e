/**
 * Receptive fields from layer geometry, in plain numbers: for every tensor of the graph, the affine map from an
 * output position to the first input row/column it sees, and the window size.
 *
 * A layer with kernel `k`, stride `s`, dilation `d` and padding `p` before the first element maps output position
 * `i` to input positions `i*s - p + d*j` (`j < k`). Composed through the network (the usual recurrence
 * `jump' = jump*s`, `start' = start - jump*p`, `size' = size + jump*(d*(k-1))`), unit `i` of a layer sees input
 * pixels `[start + i*jump, start + i*jump + size)`.
 *
 * @module
 */
import type { LayerGeometry } from './rule-kit.js';

/** The receptive field of the units of one layer, in input pixels (rows first). */
export interface ReceptiveField {
  /** `'local'` for spatial layers, `'global'` when every unit sees the whole image (after Flatten/Dense). */
  kind: 'local' | 'global';
  /** Window size `[height, width]` in input pixels (the input size when global). */
  size: [number, number];
  /** Distance in input pixels between neighbouring units `[rows, columns]` (0 when global). */
  jump: [number, number];
  /** First input row/column seen by unit (0, 0); negative where padding reaches out of the image. */
  start: [number, number];
}

/** A box in input pixels: rows `[top, top + height)`, columns `[left, left + width)`; may reach outside the image. */
export interface FieldBox {
  /** First row. */
  top: number;
  /** First column. */
  left: number;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/** The receptive field of the input itself (one pixel). */
export function pixelField(): ReceptiveField {
  return { kind: 'local', size: [1, 1], jump: [1, 1], start: [0, 0] };
}

/** The global field of an `h x w` input. */
export function globalField(h: number, w: number): ReceptiveField {
  return { kind: 'global', size: [h, w], jump: [0, 0], start: [0, 0] };
}

/** Composes the field of a layer's input with the layer's geometry. */
export function composeField(
  inField: ReceptiveField,
  g: LayerGeometry,
  inputSize: [number, number],
): ReceptiveField {
  if (inField.kind === 'global' || g.kind === 'global') return globalField(inputSize[0], inputSize[1]);
  if (g.kind === 'identity') return inField;
  const d = g.dilation ?? [1, 1];
  const axis = (a: 0 | 1) => {
    const kEff = (g.kernel[a] - 1) * d[a] + 1;
    return {
      jump: inField.jump[a] * g.strides[a],
      start: inField.start[a] - inField.jump[a] * g.padStart[a],
      size: inField.size[a] + inField.jump[a] * (kEff - 1),
    };
  };
  const r = axis(0);
  const c = axis(1);
  return { kind: 'local', size: [r.size, c.size], jump: [r.jump, c.jump], start: [r.start, c.start] };
}

/** Union of the fields reaching a merge layer (Add, Concatenate): exact when the jumps agree, else global. */
export function mergeFields(fields: ReceptiveField[], inputSize: [number, number]): ReceptiveField {
  if (fields.length === 1) return fields[0];
  if (fields.some((f) => f.kind === 'global')) return globalField(inputSize[0], inputSize[1]);
  const j = fields[0].jump;
  if (!fields.every((f) => f.jump[0] === j[0] && f.jump[1] === j[1])) {
    return globalField(inputSize[0], inputSize[1]);
  }
  const start: [number, number] = [
    Math.min(...fields.map((f) => f.start[0])),
    Math.min(...fields.map((f) => f.start[1])),
  ];
  const end = [
    Math.max(...fields.map((f) => f.start[0] + f.size[0])),
    Math.max(...fields.map((f) => f.start[1] + f.size[1])),
  ];
  return { kind: 'local', size: [end[0] - start[0], end[1] - start[1]], jump: [j[0], j[1]], start };
}

/**
 * The input box seen by unit `(y, x)` of a layer with receptive field `rf` (unclipped: it may reach outside the
 * image where the layer pads).
 *
 * @example
 * ```ts
 * unitBox({ kind: 'local', size: [5, 5], jump: [2, 2], start: [0, 0] }, 1, 2); // {top: 2, left: 4, height: 5, width: 5}
 * ```
 */
export function unitBox(rf: ReceptiveField, y: number, x: number): FieldBox {
  if (rf.kind === 'global') return { top: 0, left: 0, height: rf.size[0], width: rf.size[1] };
  return {
    top: rf.start[0] + y * rf.jump[0],
    left: rf.start[1] + x * rf.jump[1],
    height: rf.size[0],
    width: rf.size[1],
  };
}
