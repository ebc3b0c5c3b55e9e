/**
 * The browser demo: a Zeiler-Fergus-style CNN trained in the page on real MNIST digits (shipped with the page as
 * digits.json), a deconvnet projection of the digit the user clicks, and off-the-shelf features + a linear SVM,
 * on the tfjs backend chosen with the switch (`?backend=webgl|webgpu|wasm|cpu`; default: the first of webgl,
 * webgpu, wasm, cpu that initialises). The page shows the backend in use.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {
  Deconvnet,
  FeatureExtractor,
  LinearSvm,
  type ProjectionStrategy,
  Rng,
  trainClassifier,
  zeilerFergusCnn,
} from 'transferkit';

interface DemoState {
  done: boolean;
  error?: string;
  backend: string;
  /** The backend asked for with `?backend=`, if any. */
  requested?: string;
  trainAccuracy: number;
  projectionNorm: number;
  featureAccuracy: number;
  ms: number;
}
declare global {
  interface Window {
    __demo?: Partial<DemoState>;
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = (s: string): void => {
  $('status').textContent = s;
};

/** The backends of the switch, in the order tried when the requested one does not initialise. */
const BACKENDS = ['webgl', 'webgpu', 'wasm', 'cpu'] as const;

/** The requested backend (`?backend=`) first, then the others; returns the one in use. */
async function pickBackend(requested: string | null): Promise<string> {
  setWasmPaths('./'); // the .wasm files are served beside the page
  const order = [...BACKENDS].sort((a, b) => Number(b === requested) - Number(a === requested));
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next backend
    }
  }
  throw new Error('no tfjs backend could be initialised');
}

async function loadDigits(): Promise<{ x: tf.Tensor4D; labels: number[]; perClass: number }> {
  const res = await fetch('./digits.json');
  const json = (await res.json()) as { perClass: number; images: string[]; labels: number[] };
  const n = json.images.length;
  const px = new Float32Array(n * 784);
  json.images.forEach((b64, i) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    for (let j = 0; j < 784; j++) px[i * 784 + j] = bytes[j] / 255;
  });
  return { x: tf.tensor4d(px, [n, 28, 28, 1]), labels: json.labels, perClass: json.perClass };
}

/** Draws a [28, 28] map on a canvas; signed maps are centred on grey. */
function draw(canvas: HTMLCanvasElement, values: ArrayLike<number>, signed: boolean): void {
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  let max = 1e-12;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  for (let i = 0; i < 784; i++) {
    const v = signed ? 128 + (127 * values[i]) / max : (255 * values[i]) / max;
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const state: Partial<DemoState> = { done: false };
  window.__demo = state;
  const requested = new URLSearchParams(location.search).get('backend');
  const select = $<HTMLSelectElement>('backend');
  for (const name of BACKENDS) select.add(new Option(name, name));
  state.backend = await pickBackend(requested);
  state.requested = requested ?? undefined;
  select.value = state.backend;
  select.addEventListener('change', () => {
    location.search = `?backend=${select.value}`; // a fresh page: tfjs keeps one backend's kernels warm per page
  });
  $('backend-in-use').textContent =
    requested && requested !== state.backend
      ? `${state.backend} (${requested} did not initialise in this browser)`
      : state.backend;
  status(`backend: ${state.backend}; loading digits…`);
  const { x, labels, perClass } = await loadDigits();
  // 1. Train the reference CNN (transferkit's zoo) on digits 0-4 only; digits 5-9 are the "new task" below.
  const sourceIdx = labels.map((_, i) => i).filter((i) => labels[i] < 5);
  const xSource = tf.gather(x, sourceIdx);
  const ySource = tf.tensor1d(
    sourceIdx.map((i) => labels[i]),
    'int32',
  );
  const model = zeilerFergusCnn({ filters: [8, 16], hidden: [32], numClasses: 5, seed: 1 });
  const history = await trainClassifier(model, xSource, ySource, {
    epochs: 6,
    batchSize: 50,
    learningRate: 3e-3,
    seed: 1,
    onProgress: (e) => {
      if (e.phase === 'train')
        status(`backend: ${state.backend}; training the CNN: batch ${e.done}/${e.total}`);
    },
  });
  state.trainAccuracy = history.epochs.at(-1)?.acc ?? 0;

  // 2. Deconvnet projections of the selected digit.
  const dn = new Deconvnet(model);
  const layerSelect = $<HTMLSelectElement>('layer');
  for (const name of ['conv1', 'conv2', 'fc1']) layerSelect.add(new Option(name, name));
  layerSelect.value = 'conv2';
  let selected = 0;
  const show = async (): Promise<number> => {
    const img = tf.slice(x, [selected, 0, 0, 0], [1, 28, 28, 1]);
    const layer = layerSelect.value;
    const strategy = $<HTMLSelectElement>('rule').value as ProjectionStrategy;
    const act = dn.activations(img, layer);
    const perChannel = act.rank === 4 ? tf.max(act, [0, 1, 2]) : tf.squeeze(act, [0]);
    const best = (await tf.argMax(perChannel).data())[0];
    const proj = dn.project(img, { layer, channels: [best], position: 'max', strategy });
    const values = await proj.data();
    draw($<HTMLCanvasElement>('input'), await img.data(), false);
    draw($<HTMLCanvasElement>('projection'), values, true);
    $('channel').textContent = `${layer}, channel ${best} (the strongest for this digit), rule: ${strategy}`;
    let norm = 0;
    for (const v of values) norm += v * v;
    tf.dispose([img, act, perChannel, proj]);
    return Math.sqrt(norm);
  };
  const digits = $('digits');
  for (let d = 0; d < 10; d++) {
    for (let k = 0; k < 4; k++) {
      const i = d * perClass + k;
      const c = document.createElement('canvas');
      c.width = 28;
      c.height = 28;
      const img = tf.slice(x, [i, 0, 0, 0], [1, 28, 28, 1]);
      draw(c, await img.data(), false);
      img.dispose();
      c.addEventListener('click', () => {
        selected = i;
        for (const el of digits.querySelectorAll('canvas')) el.classList.remove('selected');
        c.classList.add('selected');
        void show();
      });
      digits.appendChild(c);
    }
    digits.appendChild(document.createElement('br'));
  }
  layerSelect.addEventListener('change', () => void show());
  $('rule').addEventListener('change', () => void show());
  state.projectionNorm = await show();

  // 3. DeCAF on the new task: fc1 features of the CNN trained on 0-4, + a linear SVM trained with a few labelled
  // digits of each class 5-9, vs the same SVM on raw pixels. Tested on the other half of each class.
  const rng = new Rng(7);
  const extractor = new FeatureExtractor(model, { taps: 'fc1', normalize: 'l2' });
  const [fc1] = await extractor.extractAll(x);
  const pixels = tf.reshape(x, [x.shape[0], 784]) as tf.Tensor2D;
  const feats = fc1.toTensor();
  const tbody = $('features').querySelector('tbody')!;
  const testIdx = labels.map((_, i) => i).filter((i) => labels[i] >= 5 && i % perClass >= perClass / 2);
  const testLabels = testIdx.map((i) => labels[i] - 5);
  for (const shots of [1, 5, 10]) {
    const trainIdx: number[] = [];
    for (let d = 5; d < 10; d++) {
      const pool = Array.from({ length: perClass / 2 }, (_, k) => d * perClass + k);
      trainIdx.push(...rng.sample(pool, shots));
    }
    const accs: number[] = [];
    for (const source of [pixels, feats]) {
      const xtr = tf.gather(source, trainIdx);
      const xte = tf.gather(source, testIdx);
      const svm = new LinearSvm({ C: 1, seed: 1, numClasses: 5 });
      await svm.fit(
        xtr,
        trainIdx.map((i) => labels[i] - 5),
      );
      const pred = await svm.predict(xte);
      accs.push(pred.reduce((s, p, i) => s + (p === testLabels[i] ? 1 : 0), 0) / testIdx.length);
      svm.dispose();
      tf.dispose([xtr, xte]);
    }
    const row = tbody.insertRow();
    for (const v of [String(shots), accs[0].toFixed(3), accs[1].toFixed(3)]) row.insertCell().textContent = v;
    if (shots === 10) state.featureAccuracy = accs[1];
  }
  tf.dispose([pixels, feats, xSource, ySource]);
  extractor.dispose();
  state.ms = performance.now() - t0;
  status(
    `backend: ${state.backend}; CNN train accuracy ${state.trainAccuracy.toFixed(3)}; done in ${(state.ms / 1000).toFixed(1)} s. Click a digit.`,
  );
  state.done = true;
}

main().catch((e: unknown) => {
  window.__demo = { ...(window.__demo ?? {}), error: String(e instanceof Error ? e.stack : e) };
  status(`error: ${String(e)}`);
});
