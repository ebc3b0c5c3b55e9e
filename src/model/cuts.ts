/**
 * Valid transfer cuts. LayerTransfer copies "the first n stages" of a model (Yosinski et al. 2014). On a chain of
 * layers every n is a clean cut; on a net with residual `Add` blocks (or `Concatenate` branches) a cut inside a block
 * would copy half of it: a cut is valid only where ONE tensor crosses from the copied stages to the rest.
 *
 * @module
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors.js';
import { InvalidCutError } from './errors.js';
import { isContainer } from './kinds.js';
import { buildGraph, type LayerGraph, resolve } from './layer-graph.js';
import { type ModelStructure, modelStructure } from './structure.js';

/**
 * A valid cut of a model, as {@link listCuts} lists it.
 *
 * @example
 * ```ts
 * const cut: CutInfo = listCuts(resnet)[2]; // { stages: 3, layer: 'block1_out', weightLayer: 'block1_conv2' }
 * ```
 */
export interface CutInfo {
  /** Number of stages copied by this cut (what `new LayerTransfer(m, { copy: stages })` takes). */
  readonly stages: number;
  /** The last layer before the cut (`{ copy: { layer } }` selects this cut). */
  readonly layer: string;
  /** The last weight-bearing layer before the cut. */
  readonly weightLayer: string;
}

/** Tensors that cross from the first `n` stages to the rest of the graph (the graph's input counts as copied). */
function crossing(graph: LayerGraph, stageOf: Map<unknown, number>, n: number): Set<string> {
  const copied = (i: number): boolean => (stageOf.get(graph.nodes[i].layer) ?? -1) < n;
  const producer = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    producer.set(node.output, i);
  });
  const out = new Set<string>();
  const fromCopied = (key: string): boolean => {
    const p = producer.get(key);
    return p === undefined ? key === graph.input : copied(p);
  };
  graph.nodes.forEach((node, i) => {
    if (copied(i)) return;
    for (const k of node.inputs) if (fromCopied(k)) out.add(k);
  });
  const last = resolve(graph.aliases, graph.output);
  if (fromCopied(last)) out.add(last);
  return out;
}

interface CutTable {
  structure: ModelStructure;
  /** `valid[n]`: is copying the first n stages a clean cut? */
  valid: boolean[];
}

function cutTable(model: tfl.LayersModel, structure: ModelStructure): CutTable {
  const valid = Array.from({ length: structure.stages + 1 }, () => true);
  let graph: LayerGraph;
  try {
    graph = buildGraph('listCuts', model);
  } catch {
    return { structure, valid }; // several inputs or outputs: no graph to check, every count stands
  }
  const stageOf = new Map<unknown, number>(structure.leaves.map((l) => [l.layer, l.stage]));
  for (let n = 1; n < structure.stages; n++) valid[n] = crossing(graph, stageOf, n).size <= 1;
  return { structure, valid };
}

function describeCut(structure: ModelStructure, n: number): CutInfo {
  const inStage = structure.leaves.filter((l) => l.stage === n - 1);
  const weighted = inStage.filter((l) => l.hasWeights);
  return {
    stages: n,
    layer: inStage[inStage.length - 1].key,
    weightLayer: (weighted[0] ?? inStage[0]).key,
  };
}

/**
 * The valid transfer cuts of a tfjs-layers model: every count of stages `n >= 1` after which exactly one tensor
 * flows on (not inside a residual block or between the branches of a `Concatenate`). On a plain chain of layers
 * every stage is a cut.
 *
 * @example
 * ```ts
 * listCuts(resnet).map((c) => c.layer); // ['stem_relu', 'block1_out', 'block2_out', ...]
 * new LayerTransfer(resnet, { copy: { layer: listCuts(resnet)[1].layer } });
 * ```
 */
export function listCuts(model: tfl.LayersModel): CutInfo[] {
  if (!isContainer(model)) {
    throw new InvalidArgumentError(
      'listCuts',
      'model',
      'a tfjs-layers LayersModel (Sequential or functional)',
      model,
    );
  }
  const structure = modelStructure(model);
  const { valid } = cutTable(model, structure);
  const cuts: CutInfo[] = [];
  for (let n = 1; n <= structure.stages; n++) if (valid[n]) cuts.push(describeCut(structure, n));
  return cuts;
}

/**
 * Throws an {@link InvalidCutError} when copying the first `n` stages would cut through a block, naming the block
 * (its layers, from the first stage after the previous valid cut to the next valid cut) and the nearest valid cuts.
 */
export function checkCut(
  fn: string,
  argument: string,
  model: tfl.LayersModel,
  structure: ModelStructure,
  n: number,
): void {
  if (n <= 0 || n >= structure.stages) return;
  const { valid } = cutTable(model, structure);
  if (valid[n]) return;
  let lo = n - 1;
  while (lo > 0 && !valid[lo]) lo--;
  let hi = n + 1;
  while (hi < structure.stages && !valid[hi]) hi++;
  const block = structure.leaves.filter((l) => l.stage >= lo && l.stage < hi).map((l) => l.key);
  const requested = describeCut(structure, n).layer;
  throw new InvalidCutError(
    fn,
    argument,
    requested,
    block,
    lo > 0 ? describeCut(structure, lo).layer : undefined,
    hi <= structure.stages ? describeCut(structure, hi).layer : undefined,
  );
}
