/**
 * Backend set-up for Node: pick the fastest tfjs backend that is installed, register transferkit's training
 * kernels on it, and select it.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  InvalidArgumentError,
  MissingDependencyError,
  registerTrainingKernels,
  type TrainingKernelName,
} from '../index.js';

/** The backends {@link initBackend} knows how to load: tfjs-node (`'tensorflow'`), wasm and cpu. */
export type NodeBackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * Register transferkit's training kernels on wasm/cpu (before the backend initialises): `true` for the
   * backend's defaults, `false` for none, or an explicit list. Ignored on other backends, which have fast
   * gradient kernels of their own.
   * @default true
   */
  trainingKernels?: boolean | readonly TrainingKernelName[];
}

/** The npm package that registers each backend. */
const PACKAGES: Record<NodeBackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Fastest first: native TensorFlow, then WebAssembly (SIMD, single thread in Node), then plain JavaScript. */
const AUTO_ORDER: readonly NodeBackendName[] = ['tensorflow', 'wasm', 'cpu'];

// A variable specifier keeps bundlers and tsc from resolving optional peers at build time.
const importOptional = (specifier: string): Promise<unknown> => import(specifier);

/** Makes backend `name` available in the registry, importing its package when needed. */
async function ensureRegistered(name: NodeBackendName): Promise<void> {
  if (tf.findBackendFactory(name)) return;
  try {
    await importOptional(PACKAGES[name]);
  } catch (e) {
    const err = new MissingDependencyError(PACKAGES[name], `for the '${name}' backend`);
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
  if (!tf.findBackendFactory(name)) {
    throw new MissingDependencyError(
      PACKAGES[name],
      `for the '${name}' backend (it loaded but registered no backend)`,
    );
  }
}

async function select(name: string, opts: InitBackendOptions): Promise<boolean> {
  const kernels = opts.trainingKernels ?? true;
  if ((name === 'wasm' || name === 'cpu') && kernels !== false) {
    // Before setBackend: the wasm backend binds its kernels' functions when it initialises.
    registerTrainingKernels(name, kernels === true ? {} : { kernels });
  }
  const ok = await tf.setBackend(name);
  if (ok) await tf.ready();
  return ok;
}

/**
 * Selects a tfjs backend for Node and returns its name. With `'auto'` (the default) it takes the fastest one
 * installed: `@tensorflow/tfjs-node` (`'tensorflow'`), else `@tensorflow/tfjs-backend-wasm` (SIMD), else
 * `@tensorflow/tfjs-backend-cpu`. On wasm and cpu it registers transferkit's training kernels first
 * (see `registerTrainingKernels`), so conv nets train there. A backend the application registered itself (any
 * name, e.g. a custom one) is selected as is. Nothing is silenced: tfjs's own messages still print.
 *
 * @param name `'auto'`, `'tensorflow'`, `'wasm'`, `'cpu'` or the name of a backend already registered.
 * @param options See {@link InitBackendOptions}.
 * @returns The name of the selected backend (`tf.getBackend()`).
 * @throws MissingDependencyError when the requested backend's package is not installed (or none is, for
 *   `'auto'`); InvalidArgumentError for an unknown name; Error when the backend fails to initialise.
 * @example
 * ```ts
 * import { initBackend } from 'transferkit/node';
 *
 * const backend = await initBackend(); // 'wasm' here (tfjs-node not installed), with the training kernels
 * ```
 */
export async function initBackend(
  name: 'auto' | NodeBackendName | (string & {}) = 'auto',
  options: InitBackendOptions = {},
): Promise<string> {
  const fn = 'initBackend';
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(
      fn,
      'name',
      "'auto', 'tensorflow', 'wasm', 'cpu' or a registered backend",
      name,
    );
  }
  const tk = options.trainingKernels;
  if (tk !== undefined && typeof tk !== 'boolean' && !Array.isArray(tk)) {
    throw new InvalidArgumentError(
      fn,
      'options.trainingKernels',
      'a boolean or an array of kernel names',
      tk,
    );
  }
  if (name === 'auto') {
    const failures: string[] = [];
    for (const candidate of AUTO_ORDER) {
      try {
        await ensureRegistered(candidate);
      } catch {
        failures.push(`${PACKAGES[candidate]} (not installed)`);
        continue;
      }
      if (await select(candidate, options)) return tf.getBackend();
      failures.push(`${candidate} (failed to initialise)`);
    }
    throw new MissingDependencyError(
      PACKAGES.wasm,
      `to run TensorFlow.js in Node (or ${PACKAGES.tensorflow} / ${PACKAGES.cpu}); tried: ${failures.join(', ')}`,
    );
  }
  if (name in PACKAGES) {
    await ensureRegistered(name as NodeBackendName);
  } else if (!tf.findBackendFactory(name)) {
    throw new InvalidArgumentError(
      fn,
      'name',
      `'auto', 'tensorflow', 'wasm', 'cpu' or a backend registered with tf.registerBackend (registered: ${Object.keys(tf.engine().registryFactory).join(', ') || 'none'})`,
      name,
    );
  }
  if (!(await select(name, options))) {
    throw new Error(
      `initBackend: the '${name}' backend is registered but failed to initialise (see tfjs's warning above).`,
    );
  }
  return tf.getBackend();
}
