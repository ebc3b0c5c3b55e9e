/**
 * GraphModel support: a converted TensorFlow graph (`tf.loadGraphModel`, from @tensorflow/tfjs-converter) is tapped
 * by node name through `execute(inputs, outputNodeNames)`, which computes all requested nodes in one pass.
 * transferkit does not depend on tfjs-converter: any object with this shape plugs in.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { closeNames, type TapInfo, type TapRef } from './taps.js';

/**
 * The part of `tf.GraphModel` the extractor uses. A real `GraphModel` satisfies it; so does any object of yours
 * that evaluates named nodes of a graph.
 *
 * @example
 * ```ts
 * import { loadGraphModel } from '@tensorflow/tfjs-converter';
 * const gm = await loadGraphModel(url);
 * const fx = new FeatureExtractor(gm, { taps: ['MobilenetV2/Logits/AvgPool'] });
 * ```
 */
export interface GraphModelLike {
  /** The graph's inputs (one, an image batch). `-1` or `null` marks a free dimension. */
  readonly inputs: readonly {
    /** The input node's name. */
    name: string;
    /** The input's shape, when known. */
    shape?: readonly (number | null)[];
  }[];
  /** Evaluates the named nodes (`'name'` or `'name:0'`) for the input, in one pass. */
  execute(
    inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap,
    outputs?: string | string[],
  ): tf.Tensor | tf.Tensor[];
  /** The model's artifacts; when they carry the GraphDef (`modelTopology.node`), taps are checked and listed. */
  readonly artifacts?: {
    /** The model topology; for a graph model, the GraphDef JSON whose `node` array lists the graph's nodes. */
    modelTopology?: unknown;
  };
}

/** Is this a graph model (an `execute` method, inputs, and no `layers`)? */
export function isGraphModel(m: unknown): m is GraphModelLike {
  const g = m as GraphModelLike & { layers?: unknown };
  return (
    typeof g === 'object' &&
    g !== null &&
    typeof g.execute === 'function' &&
    Array.isArray(g.inputs) &&
    !Array.isArray(g.layers)
  );
}

interface GraphNodeDef {
  name: string;
  op?: string;
}

function nodesOf(model: GraphModelLike): GraphNodeDef[] | undefined {
  const topo = model.artifacts?.modelTopology as { node?: GraphNodeDef[] } | undefined;
  if (topo === undefined || topo === null || !Array.isArray(topo.node)) return undefined;
  return topo.node.filter((n) => typeof n?.name === 'string');
}

/**
 * Lists the nodes of a graph model (from its GraphDef; output shapes are not recorded in a GraphDef, so
 * `outputShape` is `[]`). Returns `[]` for a graph model without topology.
 *
 * @example
 * ```ts
 * listGraphTaps(gm).filter((t) => t.className === 'Relu6').map((t) => t.name);
 * ```
 */
export function listGraphTaps(model: GraphModelLike): TapInfo[] {
  return (nodesOf(model) ?? []).map((n, index) => ({
    name: n.name,
    className: n.op ?? 'unknown',
    outputShape: [],
    index,
    depth: 0,
    params: 0,
  }));
}

/** Resolves a tap of a graph model: a node name (checked against the GraphDef when present) or a node index. */
export function resolveGraphTap(model: GraphModelLike, ref: TapRef, fn: string, argument: string): TapInfo {
  const nodes = nodesOf(model);
  if (typeof ref === 'number') {
    if (nodes === undefined) {
      throw new InvalidArgumentError(
        fn,
        argument,
        'a node name (this graph model carries no node list to index)',
        ref,
      );
    }
    const n = nodes.length;
    if (!Number.isInteger(ref) || ref < -n || ref >= n) {
      throw new InvalidArgumentError(fn, argument, `an integer in [${-n}, ${n - 1}]`, ref);
    }
    return listGraphTaps(model)[ref < 0 ? n + ref : ref];
  }
  if (typeof ref !== 'string' || ref.length === 0) {
    throw new InvalidArgumentError(
      fn,
      argument,
      'a node name (graph models are tapped by name or index)',
      ref,
    );
  }
  if (nodes === undefined) {
    return { name: ref, className: 'unknown', outputShape: [], index: -1, depth: 0, params: 0 };
  }
  const base = ref.replace(/:\d+$/, '');
  const index = nodes.findIndex((n) => n.name === base);
  if (index < 0) {
    const close = closeNames(
      base,
      nodes.map((n) => n.name),
    );
    throw new InvalidArgumentError(
      fn,
      argument,
      `the name of a node of the graph (closest: ${close.map((c) => `'${c}'`).join(', ')})`,
      ref,
    );
  }
  return { name: ref, className: nodes[index].op ?? 'unknown', outputShape: [], index, depth: 0, params: 0 };
}
