/**
 * Backward passes through a GraphModel (tfjs-converter): which ops lie between the input and a node, and the
 * deconvnet / guided-backprop rectifier rules as temporary gradient overrides.
 *
 * Inside `tf.grad` tfjs-core does not fuse: a converter's `_FusedConv2D` / `FusedDepthwiseConv2dNative` /
 * `_FusedMatMul` with a `Relu`/`Relu6` activation runs as convolution + bias + a `Relu`/`Relu6` kernel (tfjs-core
 * `shouldFuse` is false while a gradient is recorded). Overriding the gradients of the `Relu` and `Relu6` kernels
 * therefore reaches the activation part of every fused op; the overrides are restored in `finally`, also when the
 * backward pass throws.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedLayerError } from '../core/errors.js';
import { type GraphModelLike, graphTopology } from './kinds.js';

/** A node of a GraphDef as the converter stores it. */
export interface GraphNodeDef {
  /** Node name. */
  readonly name: string;
  /** Op, e.g. `'_FusedConv2D'`. */
  readonly op?: string;
  /** Input node names (`'name'`, `'name:1'`, `'^control'`). */
  readonly input?: readonly string[];
  /** Attributes; `fused_ops` lists a fused op's parts (base64 strings). */
  readonly attr?: Record<string, { list?: { s?: readonly string[] } } | undefined>;
}

/** The GraphDef nodes of a graph model (`undefined` when it carries no topology). */
export function graphNodeDefs(model: GraphModelLike): GraphNodeDef[] | undefined {
  const topo = graphTopology(model) as { node?: GraphNodeDef[] } | undefined;
  if (topo === undefined || topo === null || !Array.isArray(topo.node)) return undefined;
  return topo.node.filter((n) => typeof n?.name === 'string');
}

/** The nodes `target` depends on (itself included), by name. */
export function graphAncestors(nodes: readonly GraphNodeDef[], target: string): GraphNodeDef[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const stack = [target];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const i of byName.get(name)?.input ?? []) stack.push(i.replace(/^\^/, '').replace(/:\d+$/, ''));
  }
  return nodes.filter((n) => seen.has(n.name));
}

function decode(s: string): string {
  try {
    return atob(s);
  } catch {
    return s;
  }
}

/** The parts of a fused op (`['BiasAdd', 'Relu6']`), decoded. */
export function fusedParts(node: GraphNodeDef): string[] {
  return (node.attr?.fused_ops?.list?.s ?? []).map(decode);
}

/**
 * Ops a deconvnet / guided projection goes through: linear ops (their gradient is the transposed map the Deconvnet
 * applies), max pooling (the gradient routes to the recorded maximum: Z&F's switches) and the rectifiers whose
 * gradient is replaced.
 */
export const GRAPH_PROJECTION_OPS: readonly string[] = [
  'Placeholder',
  'Const',
  'Identity',
  'Add',
  'AddV2',
  'Sub',
  'Mul',
  'BiasAdd',
  'Conv2D',
  '_FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'MatMul',
  '_FusedMatMul',
  'AvgPool',
  'MaxPool',
  'Mean',
  'Squeeze',
  'Reshape',
  'Pad',
  'ConcatV2',
  'Relu',
  'Relu6',
];

/** Parts of a fused op the rules handle. */
const FUSED_PARTS = ['BiasAdd', 'Relu', 'Relu6'];

/**
 * Throws an {@link UnsupportedLayerError} naming the first node between the input and `target` that a deconvnet or
 * guided projection cannot pass (its op, or the fused activation, has no rule), with the supported ops.
 */
export function checkGraphProjection(fn: string, nodes: readonly GraphNodeDef[], target: string): void {
  for (const n of graphAncestors(nodes, target)) {
    const op = n.op ?? 'unknown';
    const parts = fusedParts(n);
    const badPart = parts.find((p) => !FUSED_PARTS.includes(p));
    if (!GRAPH_PROJECTION_OPS.includes(op) || badPart !== undefined) {
      throw new UnsupportedLayerError(
        fn,
        n.name,
        badPart === undefined ? op : `${op} with fused ${badPart}`,
        `A 'deconvnet' or 'guided' projection of a GraphModel passes only the ops ${GRAPH_PROJECTION_OPS.join(
          ', ',
        )} (fused with ${FUSED_PARTS.join(', ')}); use strategy 'saliency' (the plain gradient), which works through any op with a gradient.`,
      );
    }
  }
}

type Strategy = 'deconvnet' | 'guided' | 'saliency';

function rectifierGradient(kernelName: 'Relu' | 'Relu6', strategy: Strategy): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      return {
        x: () => {
          const back = tf.relu(g);
          if (strategy === 'deconvnet') return back;
          let mask = tf.cast(tf.greater(x, 0), 'float32');
          if (kernelName === 'Relu6') mask = tf.mul(mask, tf.cast(tf.less(x, 6), 'float32'));
          return tf.mul(back, mask);
        },
      };
    },
  };
}

/**
 * Runs `f` with the `Relu` and `Relu6` gradients replaced by the strategy's rule (Z&F: `relu(g)`; guided:
 * `relu(g) * [0 < x (< 6)]`); the original gradients are restored afterwards, also when `f` throws. `'saliency'`
 * runs `f` as is.
 */
export function withRectifierGradients<T>(strategy: Strategy, f: () => T): T {
  if (strategy === 'saliency') return f();
  const names = ['Relu', 'Relu6'] as const;
  const originals = names.map((k) => tf.getGradient(k));
  try {
    for (const k of names) tf.registerGradient(rectifierGradient(k, strategy));
    return f();
  } finally {
    names.forEach((k, i) => {
      const o = originals[i];
      if (o !== undefined) tf.registerGradient(o);
      else tf.unregisterGradient(k);
    });
  }
}
