/**
 * The layer graph a {@link Deconvnet} walks: the nodes of a tfjs-layers model (Sequential or functional, nested
 * models flattened) in topological order, each with the keys of the tensors it reads and writes.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { isContainer, type Layer } from './kinds.js';

/** One call of one layer in the flattened graph. */
export interface GraphNode {
  /** The layer that runs at this node. */
  readonly layer: Layer;
  /** Name of the layer, prefixed with `outer/` for layers inside a nested model. */
  readonly name: string;
  /** Keys of the tensors the layer reads, in the order of its inputs. */
  readonly inputs: readonly string[];
  /** Key of the tensor the layer writes (only single-output layers are supported). */
  readonly output: string;
  /** Static shape of each input, batch dimension first (`null` where unknown). */
  readonly inputShapes: readonly (readonly (number | null)[])[];
  /** Static shape of the output. */
  readonly outputShape: readonly (number | null)[];
}

/** The flattened graph of a model with one input and one output. */
export interface LayerGraph {
  /** Key of the model's input tensor. */
  readonly input: string;
  /** Static shape of the model's input, e.g. `[null, 28, 28, 1]`. */
  readonly inputShape: readonly (number | null)[];
  /** Key of the model's output tensor. */
  readonly output: string;
  /** Nodes in topological order (every node comes after the nodes that produce its inputs). */
  readonly nodes: readonly GraphNode[];
  /** Key aliases: an inner model's output key mapped to the outer tensor it stands for. */
  readonly aliases: ReadonlyMap<string, string>;
  /** For each nested model, the key of the tensor its (first) call computes: where it stands in the graph. */
  readonly containerOutputs: ReadonlyMap<Layer, string>;
}

interface SymbolicLike {
  id: number;
  shape: (number | null)[];
  sourceLayer: Layer;
  nodeIndex: number;
  tensorIndex: number;
}

interface NodeLike {
  outboundLayer: Layer;
  inputTensors: SymbolicLike[];
  outputTensors: SymbolicLike[];
}

interface SymbolicContainer {
  inputs: SymbolicLike[];
  outputs: SymbolicLike[];
  layers: Layer[];
}

/**
 * Flattens a tfjs-layers model into a {@link LayerGraph}. Nested models are expanded in place; the InputLayer
 * nodes disappear (their output is the model input).
 *
 * @throws {@link InvalidArgumentError} when the model is not a built LayersModel with exactly one input and one
 * output, or when a layer has several outputs.
 */
export function buildGraph(fn: string, model: unknown): LayerGraph {
  if (!isContainer(model)) {
    throw new InvalidArgumentError(
      fn,
      'model',
      'a tfjs-layers LayersModel (Sequential or functional)',
      model,
    );
  }
  const m = model as SymbolicContainer;
  if (m.inputs.length !== 1 || m.outputs.length !== 1) {
    throw new InvalidArgumentError(
      fn,
      'model',
      'a model with exactly one input and one output',
      `a model with ${m.inputs.length} inputs and ${m.outputs.length} outputs`,
    );
  }
  const nodes: GraphNode[] = [];
  const aliases = new Map<string, string>();
  const containerOutputs = new Map<Layer, string>();
  const inputKey = expand(fn, m, '', '', null, nodes, aliases, containerOutputs);
  return {
    input: inputKey.input,
    inputShape: m.inputs[0].shape,
    output: inputKey.output,
    nodes,
    aliases,
    containerOutputs,
  };
}

/**
 * Adds the nodes of `m` to `nodes`. Tensor keys are `prefix + symbolic id`; `inputKey`, when given, is the key the
 * model's input is bound to (the outer tensor feeding a nested model).
 */
function expand(
  fn: string,
  m: SymbolicContainer,
  prefix: string,
  namePrefix: string,
  inputKey: string | null,
  nodes: GraphNode[],
  aliases: Map<string, string>,
  containerOutputs: Map<Layer, string>,
): { input: string; output: string } {
  const modelInput = m.inputs[0];
  const inKey = inputKey ?? `${prefix}${modelInput.id}`;
  const keyOf = (t: SymbolicLike): string => (t.id === modelInput.id ? inKey : `${prefix}${t.id}`);
  const visited = new Set<string>();

  const visit = (t: SymbolicLike): void => {
    const key = keyOf(t);
    if (key === inKey || visited.has(key)) return;
    visited.add(key);
    const node = (t.sourceLayer as unknown as { inboundNodes: NodeLike[] }).inboundNodes[t.nodeIndex];
    const layer = node.outboundLayer;
    if (layer.getClassName() === 'InputLayer') {
      // a second InputLayer that is not the model's input: cannot happen for single-input models
      throw new InvalidArgumentError(fn, 'model', 'a model whose only InputLayer is its input', layer.name);
    }
    if (node.outputTensors.length !== 1) {
      throw new InvalidArgumentError(
        fn,
        'model',
        'layers with a single output tensor',
        `layer \`${layer.name}\` with ${node.outputTensors.length} outputs`,
      );
    }
    for (const inp of node.inputTensors) visit(inp);
    const inputs = node.inputTensors.map(keyOf);
    const outKey = keyOf(node.outputTensors[0]);
    const name = `${namePrefix}${layer.name}`;
    if (isContainer(layer)) {
      const inner = layer as unknown as SymbolicContainer;
      if (inner.inputs.length !== 1 || inner.outputs.length !== 1) {
        throw new InvalidArgumentError(
          fn,
          'model',
          'nested models with one input and one output',
          `nested model \`${layer.name}\``,
        );
      }
      const innerPrefix = `${prefix}${layer.name}|${nodes.length}|`;
      const res = expand(
        fn,
        inner,
        innerPrefix,
        `${name}/`,
        resolve(aliases, inputs[0]),
        nodes,
        aliases,
        containerOutputs,
      );
      aliases.set(outKey, res.output);
      if (!containerOutputs.has(layer)) containerOutputs.set(layer, res.output);
      return;
    }
    nodes.push({
      layer,
      name,
      inputs: inputs.map((k) => resolve(aliases, k)),
      output: outKey,
      inputShapes: node.inputTensors.map((s) => s.shape),
      outputShape: node.outputTensors[0].shape,
    });
  };
  visit(m.outputs[0]);
  return { input: inKey, output: resolve(aliases, keyOf(m.outputs[0])) };
}

/** Follows alias links (nested model outputs) to the key of the tensor that is actually computed. */
export function resolve(aliases: ReadonlyMap<string, string>, key: string): string {
  let k = key;
  for (let i = 0; i < 64 && aliases.has(k); i++) k = aliases.get(k)!;
  return k;
}

/** Indices of the nodes that `target` depends on (itself included), in topological order. */
export function ancestors(graph: LayerGraph, target: number): number[] {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    producer.set(n.output, i);
  });
  const keep = new Set<number>();
  const stack = [target];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (keep.has(i)) continue;
    keep.add(i);
    for (const k of graph.nodes[i].inputs) {
      const p = producer.get(k);
      if (p !== undefined) stack.push(p);
    }
  }
  return [...keep].sort((a, b) => a - b);
}
