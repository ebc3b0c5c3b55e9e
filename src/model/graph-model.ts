/**
 * GraphModel support: a converted TensorFlow graph (`tf.loadGraphModel`, from @tensorflow/tfjs-converter) is tapped
 * by node name through `execute(inputs, outputNodeNames)`, which computes all requested nodes in one pass.
 * transferkit does not depend on tfjs-converter: any object with this shape plugs in.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { closeNames, quoteNames } from '../core/names.js';
import { type GraphModelLike, graphTopology } from './kinds.js';
import type { LayerInfo } from './layers.js';

interface GraphNodeDef {
  name: string;
  op?: string;
  input?: string[];
}

function nodesOf(model: GraphModelLike): GraphNodeDef[] | undefined {
  const topo = graphTopology(model) as { node?: GraphNodeDef[] } | undefined;
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
export function listGraphTaps(model: GraphModelLike): LayerInfo[] {
  return (nodesOf(model) ?? []).map((n, index) => ({
    name: n.name,
    className: n.op ?? 'unknown',
    outputShape: [],
    index,
    depth: 0,
    params: 0,
  }));
}

/** Resolves a reference to a node of a graph model: a node name (checked against the GraphDef when present) or a node index. */
export function resolveGraphTap(
  model: GraphModelLike,
  ref: unknown,
  fn: string,
  argument: string,
): LayerInfo {
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
      `the name of a node of the graph (closest: ${quoteNames(close)}; FeatureExtractor.listTaps(model) lists all ${nodes.length})`,
      ref,
    );
  }
  return { name: ref, className: nodes[index].op ?? 'unknown', outputShape: [], index, depth: 0, params: 0 };
}

/**
 * The op of the node that computes the graph's (first) output, from the GraphDef, or `undefined` when the model
 * carries no topology.
 */
export function graphOutputOp(model: GraphModelLike): string | undefined {
  const nodes = nodesOf(model);
  if (nodes === undefined || nodes.length === 0) return undefined;
  const outs = (model as { outputs?: readonly { name?: string }[] }).outputs;
  const name = outs?.[0]?.name?.replace(/:\d+$/, '');
  let node = name === undefined ? nodes[nodes.length - 1] : nodes.find((n) => n.name === name);
  // the converter's outputs are often `Identity` nodes of the real output: follow them
  for (
    let i = 0;
    i < 16 && node?.op === 'Identity' && node.input !== undefined && node.input.length > 0;
    i++
  ) {
    const src = node.input[0].replace(/^\^/, '').replace(/:\d+$/, '');
    node = nodes.find((n) => n.name === src);
  }
  return node?.op;
}

/** The names of the nodes of a graph model (from its GraphDef; `[]` without topology). */
export function graphNodeNames(model: GraphModelLike): string[] {
  return (nodesOf(model) ?? []).map((n) => n.name);
}
