// Diagnosis of the webgl deviation of the matrix's `transfer` cell (test/browser/diagnose/transfer.mjs): the same
// LayerTransfer fine-tuning, step by step, on cpu, webgl (several flag sets) and webgpu in one page, recording the
// loss, every gradient, the weights after each step and the logits, so that the first quantity that departs from cpu
// names the cause.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import * as tk from '../../../src/index.js';

function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

type Trace = Record<string, number[]>;

async function flat(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** The matrix cell's set-up, stepped by hand with the GroupedOptimizer (batches 0-2 then 3-5). */
async function trace(): Promise<Trace> {
  const out: Trace = {};
  const x = tf.tensor4d(uniform(6 * 28 * 28, 7), [6, 28, 28, 1]);
  const labels = [0, 1, 2, 0, 0, 1];
  const base = tk.zeilerFergusCnn({
    filters: [4, 8],
    kernelSizes: [3, 3],
    hidden: [16],
    numClasses: 4,
    seed: 1,
  });
  const t = new tk.LayerTransfer(base, {
    copy: { name: 'conv2' },
    head: { kind: 'replace', numClasses: 3 },
    seed: 1,
  });
  const m = t.model;
  const logits = async (key: string) => {
    const p = m.predict(x) as tf.Tensor;
    out[key] = await flat(p);
    p.dispose();
  };
  await logits('logits0');
  const opt = new tk.GroupedOptimizer(t.parameterGroups({ copied: 0.01, new: 0.1 }), { optimizer: 'sgd' });
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  let w0Head: number[] = [];
  for (let s = 0; s < 2; s++) {
    const xb = tf.slice(x, s * 3, 3);
    const yb = tf.oneHot(tf.tensor1d(labels.slice(s * 3, s * 3 + 3), 'int32'), 3);
    const loss = () =>
      tf.losses.softmaxCrossEntropy(yb, m.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar;
    // the gradients alone (no update) ...
    const { value, grads } = tf.variableGrads(loss, vars);
    out[`loss${s}`] = await flat(value);
    for (const v of vars) out[`grad${s}/${v.name}`] = await flat(grads[v.name]);
    tf.dispose([value, grads]);
    // the same gradients from copies of the weights uploaded from JavaScript arrays: (a) through a second model
    // given those values, (b) through plain ops (no tfjs-layers, no fused kernels)
    const uploaded: tf.Tensor[] = [];
    for (const v of vars) uploaded.push(tf.tensor(await v.data(), v.shape));
    const base2 = tk.zeilerFergusCnn({
      filters: [4, 8],
      kernelSizes: [3, 3],
      hidden: [16],
      numClasses: 4,
      seed: 1,
    });
    const t2 = new tk.LayerTransfer(base2, {
      copy: { name: 'conv2' },
      head: { kind: 'replace', numClasses: 3 },
      seed: 1,
    });
    t2.model.setWeights(uploaded);
    const vars2 = t2.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const g2 = tf.variableGrads(
      () =>
        tf.losses.softmaxCrossEntropy(yb, t2.model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar,
      vars2,
    );
    for (const [i, v] of vars2.entries()) out[`gradFreshModel${s}/${i}`] = await flat(g2.grads[v.name]);
    tf.dispose([g2.value, g2.grads]);
    t2.dispose();
    base2.dispose();
    // (c) the step-0 weights of the head kernel with the step-1 weights elsewhere: is the updated head kernel read
    // stale in the backward pass?
    if (s === 1) {
      const stale = uploaded.map((u, i) => (i === 6 ? tf.tensor(w0Head as number[], u.shape) : u));
      const base3 = tk.zeilerFergusCnn({
        filters: [4, 8],
        kernelSizes: [3, 3],
        hidden: [16],
        numClasses: 4,
        seed: 1,
      });
      const t3 = new tk.LayerTransfer(base3, {
        copy: { name: 'conv2' },
        head: { kind: 'replace', numClasses: 3 },
        seed: 1,
      });
      t3.model.setWeights(stale);
      const vars3 = t3.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const g3 = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(yb, t3.model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar,
        vars3,
      );
      for (const [i, v] of vars3.entries()) out[`gradStaleHead${s}/${i}`] = await flat(g3.grads[v.name]);
      tf.dispose([g3.value, g3.grads, stale[6]]);
      t3.dispose();
      base3.dispose();
    } else {
      w0Head = await flat(vars[6]);
    }
    const [k1, b1, k2, b2, k3, b3, k4, b4] = uploaded;
    const plain = tf.grads(
      (
        a: tf.Tensor,
        b: tf.Tensor,
        c: tf.Tensor,
        d: tf.Tensor,
        e: tf.Tensor,
        f: tf.Tensor,
        g: tf.Tensor,
        hh: tf.Tensor,
      ) => {
        let h: tf.Tensor = tf.maxPool(
          tf.relu(tf.add(tf.conv2d(xb, a as tf.Tensor4D, 1, 'valid'), b)) as tf.Tensor4D,
          2,
          2,
          'valid',
        );
        h = tf.maxPool(
          tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, c as tf.Tensor4D, 1, 'valid'), d)) as tf.Tensor4D,
          2,
          2,
          'valid',
        );
        h = tf.relu(tf.add(tf.matMul(tf.reshape(h, [3, -1]), e), f));
        return tf.losses.softmaxCrossEntropy(yb, tf.add(tf.matMul(h, g), hh)) as tf.Scalar;
      },
    );
    const pg = plain([k1, b1, k2, b2, k3, b3, k4, b4]);
    for (const [i, g] of pg.entries()) out[`gradPlainOps${s}/${i}`] = await flat(g);
    tf.dispose([...pg, ...uploaded]);
    // ... then the real step, and the weights it leaves
    const l = opt.step(loss);
    l.dispose();
    for (const v of vars) out[`w${s + 1}/${v.name}`] = await flat(v);
    await logits(`logits${s + 1}`);
    tf.dispose([xb, yb]);
  }
  // the same forward pass on the final weights, with the softmax done separately on the pre-softmax output
  const pre = tf.tidy(() => {
    let h: tf.Tensor = x;
    for (const layer of m.layers.slice(0, -1)) h = layer.apply(h) as tf.Tensor;
    return h;
  });
  out.lastHidden = await flat(pre);
  pre.dispose();
  opt.dispose();
  t.dispose();
  base.dispose();
  x.dispose();
  return out;
}

export interface Variant {
  label: string;
  backend: string;
  flags: Record<string, boolean | number>;
}

export async function run(variants: Variant[]): Promise<Record<string, Trace>> {
  const res: Record<string, Trace> = {};
  for (const v of variants) {
    // flags first: the webgl backend reads (and caches) them as it starts
    for (const [k, val] of Object.entries(v.flags)) tf.env().set(k, val);
    if (!(await tf.setBackend(v.backend))) throw new Error(`backend ${v.backend} did not initialise`);
    await tf.ready();
    res[v.label] = await trace();
  }
  return res;
}
