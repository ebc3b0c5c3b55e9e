/**
 * The symbolic graph of a tfjs-layers model, read through its public-but-untyped node structure: which symbolic
 * tensors a model's outputs depend on, where a layer's output sits in that graph, and an eager interpreter that
 * evaluates the graph layer by layer (used when a tap lies inside a nested model that is not wired to the outer
 * model's input, where a `tfl.model` over the tapped symbolic tensors would be disconnected).
 *
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { type ContainerLike, isContainer, type Layer, type SymbolicTensor } from './kinds.js';

/** The fields of a tfjs-layers `Node` this module reads (the class itself is not exported by tfjs-layers). */
interface NodeLike {
  outboundLayer: Layer;
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
  callArgs?: Record<string, unknown>;
}

/** The inbound nodes of a layer (internal tfjs-layers field, stable since tfjs 1.x). */
export function inboundNodes(layer: Layer): NodeLike[] {
  return ((layer as unknown as { inboundNodes?: NodeLike[] }).inboundNodes ?? []) as NodeLike[];
}

function nodeOf(t: SymbolicTensor): NodeLike | undefined {
  return inboundNodes(t.sourceLayer)[t.nodeIndex];
}

/** All symbolic tensors that `outputs` depend on (the outputs included), by id. */
export function collectGraph(outputs: readonly SymbolicTensor[]): Map<number, SymbolicTensor> {
  const seen = new Map<number, SymbolicTensor>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const t = stack.pop() as SymbolicTensor;
    if (seen.has(t.id)) continue;
    seen.set(t.id, t);
    const node = nodeOf(t);
    if (node !== undefined) stack.push(...node.inputTensors);
  }
  return seen;
}

/**
 * The symbolic output of `layer` inside the graph `graph`: the output of one of the layer's nodes that lies in the
 * graph, or (for a nested model whose inner tensors are part of the graph, as for the first layer of a
 * `Sequential`) the nested model's own outputs. `undefined` when the layer does not feed the graph's outputs.
 */
export function outputInGraph(
  graph: Map<number, SymbolicTensor>,
  layer: Layer,
): SymbolicTensor[] | undefined {
  for (const node of inboundNodes(layer)) {
    if (node.outputTensors.length > 0 && node.outputTensors.every((t) => graph.has(t.id))) {
      return node.outputTensors;
    }
  }
  if (isContainer(layer) && layer.outputs.every((t) => graph.has(t.id))) return layer.outputs;
  return undefined;
}

/** One step of a path to a tap: enter the node of a nested model, or read a tensor of the current graph. */
export type TapStep =
  | { kind: 'enter'; node: NodeLike; container: ContainerLike }
  | { kind: 'read'; tensor: SymbolicTensor };

/**
 * How to reach `layer` (owned by the innermost of `chain`, a list of nested models below the top model) from the
 * top model's graph. Returns `undefined` when the layer does not feed the outputs of its model or of the chain.
 */
export function tapSteps(
  top: ContainerLike,
  chain: readonly ContainerLike[],
  layer: Layer,
): TapStep[] | undefined {
  const steps: TapStep[] = [];
  let graph = collectGraph(top.outputs);
  let level = 0;
  for (;;) {
    const direct = outputInGraph(graph, layer);
    if (direct !== undefined) {
      steps.push({ kind: 'read', tensor: direct[0] });
      return steps;
    }
    if (level >= chain.length) return undefined;
    const inner = chain[level];
    level++;
    const node = inboundNodes(inner).find(
      (n) => n.outputTensors.length > 0 && n.outputTensors.every((t) => graph.has(t.id)),
    );
    if (node !== undefined) {
      steps.push({ kind: 'enter', node, container: inner });
      graph = collectGraph(inner.outputs);
    } else if (!inner.outputs.every((t) => graph.has(t.id))) {
      return undefined;
    }
    // else: the nested model's own tensors are part of this graph (first layer of a Sequential): stay here.
  }
}

interface Scope {
  values: Map<number, Tensor>;
  subs: Map<NodeLike, Scope>;
}

function toArray(t: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(t) ? t : [t];
}

/**
 * Evaluates tap paths eagerly, one layer at a time, sharing every intermediate between taps: one forward pass for
 * all of them. Nested models that hold a tap are entered (their inner graph is evaluated in the same pass); all
 * other layers, nested models included, run through `layer.apply(x, { training: false })`. Call inside `tf.tidy`.
 */
export function evaluateTaps(top: ContainerLike, inputs: Tensor[], paths: readonly TapStep[][]): Tensor[] {
  const root: Scope = { values: new Map(), subs: new Map() };
  top.inputs.forEach((s, i) => {
    root.values.set(s.id, inputs[i]);
  });
  const evalIn = (scope: Scope, s: SymbolicTensor): Tensor => {
    const known = scope.values.get(s.id);
    if (known !== undefined) return known;
    const node = nodeOf(s);
    if (node === undefined) throw new Error(`transferkit: no node produces symbolic tensor ${s.name}`);
    const ins = node.inputTensors.map((t) => evalIn(scope, t));
    const sub = scope.subs.get(node);
    let outs: Tensor[];
    if (sub !== undefined && isContainer(node.outboundLayer)) {
      const c = node.outboundLayer;
      outs = c.outputs.map((t) => evalIn(sub, t));
    } else {
      const arg = ins.length === 1 ? ins[0] : ins;
      outs = toArray(
        node.outboundLayer.apply(arg, { ...(node.callArgs ?? {}), training: false }) as Tensor | Tensor[],
      );
    }
    node.outputTensors.forEach((t, i) => {
      scope.values.set(t.id, outs[i]);
    });
    return scope.values.get(s.id) as Tensor;
  };
  // First create the scopes of every entered nested model, so that a later read of the nested model's output
  // reuses its inner values instead of running it again.
  const ends: { scope: Scope; tensor: SymbolicTensor }[] = [];
  for (const path of paths) {
    let scope = root;
    for (const step of path) {
      if (step.kind === 'read') {
        ends.push({ scope, tensor: step.tensor });
        break;
      }
      let sub = scope.subs.get(step.node);
      if (sub === undefined) {
        sub = { values: new Map(), subs: new Map() };
        const ins = step.node.inputTensors.map((t) => evalIn(scope, t));
        for (let i = 0; i < step.container.inputs.length; i++) {
          sub.values.set(step.container.inputs[i].id, ins[i]);
        }
        scope.subs.set(step.node, sub);
      }
      scope = sub;
    }
  }
  return ends.map((e) => evalIn(e.scope, e.tensor));
}
