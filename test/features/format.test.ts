import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { FeatureExtractor } from '../../src/features/extractor.js';
import { decodeFeatures, encodeFeatures, FEATURES_MAGIC } from '../../src/features/format.js';
import { FeatureMatrix } from '../../src/features/matrix.js';
import type { GraphModelLike } from '../../src/model/kinds.js';
import { expectClose, values } from '../helpers.js';
import { tinyCnn } from './models.js';

describe('feature files', () => {
  it('round-trips matrices, labels and metadata through the documented layout', () => {
    const a = new FeatureMatrix(3, 2, new Float32Array([1, -2, 3.5, 4, 5e-8, -6e7]), 'fc1');
    const b = new FeatureMatrix(3, 1, new Float32Array([7, 8, 9]), 'conv2');
    const buf = encodeFeatures([a, b], { labels: [2, 0, 1], meta: { model: 'tiny', seed: 3 } });
    const bytes = new Uint8Array(buf);
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe(FEATURES_MAGIC);
    const h = new DataView(buf).getUint32(8, true);
    expect((12 + h) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + h)));
    expect(header.matrices.map((m: { name: string; byteOffset: number }) => [m.name, m.byteOffset])).toEqual([
      ['fc1', 0],
      ['conv2', 24],
    ]);
    // The first float of the data section is a[0, 0], little-endian.
    expect(new DataView(buf).getFloat32(12 + h + 4, true)).toBe(-2);
    const back = decodeFeatures(buf);
    expect(back.matrices.map((m) => [m.name, m.rows, m.cols])).toEqual([
      ['fc1', 3, 2],
      ['conv2', 3, 1],
    ]);
    expect(Array.from(back.matrices[0].data)).toEqual(Array.from(a.data));
    expect(Array.from(back.labels ?? [])).toEqual([2, 0, 1]);
    expect(back.meta).toEqual({ model: 'tiny', seed: 3 });
    // A Uint8Array view at an odd offset decodes too.
    const shifted = new Uint8Array(buf.byteLength + 1);
    shifted.set(bytes, 1);
    expect(Array.from(decodeFeatures(shifted.subarray(1)).matrices[1].data)).toEqual([7, 8, 9]);
  });

  it('rejects foreign or truncated buffers and bad labels', () => {
    const a = new FeatureMatrix(2, 2, new Float32Array(4));
    const buf = encodeFeatures([a]);
    expect(() => decodeFeatures(new Uint8Array(buf).subarray(0, buf.byteLength - 4))).toThrow(
      /sizes within the buffer/,
    );
    expect(() => decodeFeatures(new TextEncoder().encode('PK\u0003\u0004 not a feature file'))).toThrow(
      InvalidArgumentError,
    );
    expect(() => encodeFeatures([a], { labels: [1] })).toThrow(/2 labels/);
    expect(() => encodeFeatures([])).toThrow(/non-empty array of FeatureMatrix/);
  });
});

describe('graph models', () => {
  /** A stand-in for tf.GraphModel: evaluates named nodes of a layers model with execute(). */
  function fakeGraphModel(): { gm: GraphModelLike; model: tfl.Sequential; calls: string[][] } {
    const model = tinyCnn();
    const names = model.layers.map((l) => l.name);
    const calls: string[][] = [];
    const gm = {
      inputs: [{ name: 'x', shape: [-1, 10, 10, 2] }],
      artifacts: { modelTopology: { node: names.map((n) => ({ name: n, op: 'Layer' })) } },
      execute(x: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]) {
        const list = (Array.isArray(outputs) ? outputs : [outputs]) as string[];
        calls.push(list);
        const sym = list.map((n) => model.getLayer(n.replace(/:\d+$/, '')).output as tfl.SymbolicTensor);
        const m = tfl.model({ inputs: model.inputs, outputs: sym });
        const out = m.predict(x as tf.Tensor);
        return Array.isArray(out) ? out : [out];
      },
    };
    return { gm, model, calls };
  }

  it('taps named nodes with one execute() call', async () => {
    const { gm, model, calls } = fakeGraphModel();
    const fx = new FeatureExtractor(gm, { taps: ['conv2', 'fc1:0'], pool: 'avg' });
    const x = tf.randomUniform([2, 10, 10, 2]);
    const [c2, f1] = fx.extract(x);
    expect(calls).toEqual([['conv2', 'fc1:0']]);
    const ref = tfl
      .model({ inputs: model.inputs, outputs: model.getLayer('fc1').output as tfl.SymbolicTensor })
      .predict(x) as tf.Tensor;
    expectClose(await values(f1), await values(ref), 1e-6);
    expect(c2.shape).toEqual([2, 6]);
    expect(FeatureExtractor.listTaps(gm).map((t) => t.name)).toContain('flat');
    tf.dispose([x, c2, f1, ref]);
  });

  it('names close nodes for an unknown node', () => {
    const { gm } = fakeGraphModel();
    expect(() => new FeatureExtractor(gm, { taps: 'fc2' })).toThrow(/closest: 'fc1'/);
  });
});
