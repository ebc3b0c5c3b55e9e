/**
 * Errors of the model reader: a GraphModel where only a LayersModel can work, and a transfer cut that does not
 * split the model into a before and an after (inside a residual block).
 *
 * @module
 */

import { rawValue } from '../core/describe.js';
import { InvalidArgumentError } from '../core/errors.js';

/**
 * A GraphModel (tfjs-converter) was passed where only a tfjs-layers LayersModel can work. The message says why and
 * what to use instead.
 *
 * @example
 * ```ts
 * try { new LayerTransfer(graphModel); } catch (e) {
 *   if (e instanceof GraphModelNotSupportedError) console.log(e.instead); // 'new GraphModelClassifier(...)'
 * }
 * ```
 */
export class GraphModelNotSupportedError extends InvalidArgumentError {
  /** Why a GraphModel cannot work here. */
  readonly why: string;
  /** What to use instead. */
  readonly instead: string;
  constructor(fn: string, argument: string, why: string, instead: string) {
    super(
      fn,
      argument,
      `a tfjs-layers LayersModel: ${why}. Instead: ${instead}`,
      rawValue('a GraphModel'),
      'GRAPH_MODEL_NOT_SUPPORTED',
    );
    this.why = why;
    this.instead = instead;
  }
}

/**
 * A transfer cut lies inside a block whose layers have several paths between them (a residual `Add`, a
 * `Concatenate` of branches): copying up to it would split the block. Names the block and the nearest valid cuts
 * (see `listCuts`).
 *
 * @example
 * ```ts
 * try { new LayerTransfer(resnet, { copy: { layer: 'block1_conv1' } }); } catch (e) {
 *   if (e instanceof InvalidCutError) console.log(e.block, e.before, e.after);
 * }
 * ```
 */
export class InvalidCutError extends InvalidArgumentError {
  /** The layers of the block the cut falls in, from its entry to its merge layer. */
  readonly block: readonly string[];
  /** The nearest valid cut before the requested one (`undefined` if none). */
  readonly before: string | undefined;
  /** The nearest valid cut after it (`undefined` if none). */
  readonly after: string | undefined;
  constructor(
    fn: string,
    argument: string,
    layer: string,
    block: readonly string[],
    before: string | undefined,
    after: string | undefined,
  ) {
    const merge = block[block.length - 1];
    const near = [before, after].filter((c): c is string => c !== undefined).map((c) => `'${c}'`);
    super(
      fn,
      argument,
      `a cut between blocks (layer '${layer}' lies inside the block that ends at '${merge}' (${block.length} layers: ${block
        .slice(0, 6)
        .map((b) => `'${b}'`)
        .join(', ')}${block.length > 6 ? ', ...' : ''}), which has several paths; nearest valid cuts: ${
        near.length > 0 ? near.join(', ') : 'none'
      }; listCuts(model) lists all)`,
      layer,
      'INVALID_CUT',
    );
    this.block = block;
    this.before = before;
    this.after = after;
  }
}
