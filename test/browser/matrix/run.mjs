#!/usr/bin/env node
// The backend matrix: every transferkit primitive (test/browser/matrix/cells.ts) on webgl, webgpu, wasm and cpu in
// Debian's headless Chromium (one esbuild bundle of the BUILT package, dist/index.js, served from 127.0.0.1), each
// cell's numbers compared with the same cell on the cpu backend in Node. A cell passes when it ran and matches
// (TOLERANCE below), or when it refused with a typed transferkit error (never a raw tfjs one). Every run writes its
// full result (timings, exact errors, page messages) to test-results/backend-matrix.json, which git ignores, and
// CHECKS the docs: each verdict of the generated table in docs/backends.md (from docs/backend-matrix.json) must be
// what this run measured, and each error within the power of ten the page prints (render.mjs `brokenClaims`); a
// broken claim fails the run, as in CI. `--write` (or MATRIX_WRITE=1) records this run as the docs instead: it
// rewrites docs/backend-matrix.json and the table, on purpose, not as a side effect of every test run.
// Run `npm run build` first. Usage: node test/browser/matrix/run.mjs [--write] [backend ...]
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../../chromium.mjs';
import { bundlePage, serve } from '../page.mjs';
import { brokenClaims, renderBackendsDoc, renderSection } from './render.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const here = path.join(root, 'test/browser/matrix');
const require = createRequire(path.join(root, 'package.json'));
const esbuild = require('esbuild');

/**
 * The tolerance of a comparison with the cpu backend in Node: `max |x - ref| <= rtol * max(|ref|) + atol` over each
 * output vector (a norm-wise relative error, so one large output does not hide a wrong small one behind a loose
 * per-element check, and near-zero elements do not blow up a per-element ratio). Every backend computes in float32,
 * but in different orders: webgl and webgpu sum convolutions and matmuls in tiles / trees, wasm (XNNPACK) in SIMD
 * lanes, so forward outputs differ by a few float32 ulps of the largest partial sum (~1e-6 relative). Training cells
 * (a fine-tuning epoch, a Distiller epoch, specialists, L-BFGS / Adam fits over 50 steps) amplify those differences
 * through the updates (cells.ts says why they use SGD or a small Adam step), and the classifiers' L-BFGS line search
 * may take a different number of steps, so they get a looser bound. webgl keeps float32 only where WEBGL_RENDER_FLOAT32_ENABLED is true (recorded in the JSON): on a GPU
 * with 16-bit render targets only, its errors would be ~1e-3 and these bounds would fail, honestly.
 */
export const TOLERANCE = {
  forward: { rtol: 1e-4, atol: 1e-6 },
  trained: { rtol: 5e-3, atol: 1e-5 },
};
/**
 * Deviations measured and traced to a cause outside transferkit, by `cell/backend`: the cell runs and is reported
 * with its error, but does not fail the test. Each entry says what is known. Remove an entry once it is fixed (the test then checks the
 * cell again).
 */
export const KNOWN_DEVIATIONS = {
  'transfer/webgl':
    'a tfjs-webgl 4.22 bug in its packed binary ops (WEBGL_PACK_BINARY_OPERATIONS, on by default): after the first SGD ' +
    'update, the backward pass of the same model below the new head is wrong by ~1e-2 of the gradient (the loss, ' +
    'the forward pass and the head gradient still match cpu to 1e-7); the same weights uploaded into a fresh model, ' +
    'or WEBGL_PACK_BINARY_OPERATIONS = false set before the backend starts, give cpu gradients to 1e-7 ' +
    '(test/browser/diagnose/transfer.mjs)',
};

/** The cells whose numbers come out of training steps. */
const TRAINED = new Set(['transfer', 'distill', 'ensemble', 'svm', 'softmax']);

const ARGS = process.argv.slice(2);
/** Record this run as the docs (`--write` or MATRIX_WRITE=1); otherwise check the docs against it. */
const WRITE = ARGS.includes('--write') || process.env.MATRIX_WRITE === '1';
const GIVEN = ARGS.filter((a) => !a.startsWith('--'));
const BACKENDS = GIVEN.length > 0 ? GIVEN : ['webgl', 'webgpu', 'wasm', 'cpu'];

/** Bundles cells.ts for Node and runs it on the cpu backend (the reference). */
async function reference(tmp) {
  await esbuild.build({
    entryPoints: [path.join(here, 'cells.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: path.join(tmp, 'cells.node.mjs'),
    logLevel: 'warning',
  });
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-layers');
  const tk = await import(pathToFileURL(path.join(root, 'dist/index.js')).href);
  const { runCells, CELLS } = await import(pathToFileURL(path.join(tmp, 'cells.node.mjs')).href);
  await tf.setBackend('cpu');
  return { cells: await runCells(tf, tk), CELLS };
}

/** Compares one cell's result with the reference; returns the verdict with the largest relative error. */
export function compare(name, backend, got, ref) {
  if (got.status !== 'ok') {
    return { verdict: got.status === 'refused' ? 'refused' : 'failed', detail: got.error };
  }
  if (ref.status !== 'ok')
    return { verdict: 'failed', detail: `the cpu reference did not run: ${ref.error}` };
  if (got.leaked !== 0) return { verdict: 'failed', detail: `${got.leaked} tensors leaked` };
  const tol = TRAINED.has(name) ? TOLERANCE.trained : TOLERANCE.forward;
  let worst = 0;
  const problems = [];
  for (const [key, want] of Object.entries(ref.values)) {
    const have = got.values[key];
    if (!have || have.length !== want.length) {
      problems.push(`${key}: length ${have?.length} vs ${want.length}`);
      continue;
    }
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
      const d = Math.abs(have[i] - want[i]);
      diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
    }
    const rel = diff / Math.max(scale, 1e-12);
    worst = Math.max(worst, scale === 0 ? diff : rel);
    if (diff > tol.rtol * scale + tol.atol)
      problems.push(`${key}: max |diff| ${diff.toExponential(2)} (scale ${scale.toExponential(2)})`);
  }
  for (const [key, want] of Object.entries(ref.ints)) {
    const have = got.ints[key] ?? [];
    const bad = want.filter((v, i) => have[i] !== v).length + Math.abs(have.length - want.length);
    if (bad > 0) problems.push(`${key}: ${bad} of ${want.length} differ`);
  }
  if (problems.length === 0) return { verdict: 'ok', maxRelError: worst };
  const known = KNOWN_DEVIATIONS[`${name}/${backend}`];
  // a known deviation is bounded: the explained one is ~1e-2 relative; anything past 1e-1 is something else
  if (known && worst <= 0.1)
    return { verdict: 'deviates', detail: `${known} (this run: ${problems.join('; ')})`, maxRelError: worst };
  return { verdict: 'failed', detail: problems.join('; '), maxRelError: worst };
}

async function main() {
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'transferkit-matrix-'));
  let browser;
  let server;
  try {
    const bytes = await bundlePage(path.join(here, 'page.ts'), tmp, { built: true });
    const ref = await reference(tmp);
    server = await serve(tmp);
    const { port } = server.address();
    browser = await launchChromium({ webgpu: true });
    const runs = [];
    for (const backend of BACKENDS) {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() !== 'log' && m.type() !== 'info' && !m.text().includes('404')) errors.push(m.text());
      });
      await page.goto(`http://127.0.0.1:${port}/index.html`);
      const started = Date.now();
      let out;
      try {
        out = await page.evaluate(async (b) => (await import('/page.js')).run(b), backend);
      } catch (e) {
        out = { backend, env: {}, cells: {}, error: String(e) };
      }
      out.ms = Date.now() - started;
      if (errors.length > 0) out.pageErrors = errors;
      runs.push(out);
      await page.close();
    }
    const rows = ref.CELLS.map(([name, label]) => ({
      name,
      label,
      reference: { status: ref.cells[name].status, error: ref.cells[name].error },
      backends: Object.fromEntries(
        runs.map((r) => {
          const got = r.cells[name];
          const v = got
            ? compare(name, r.backend, got, ref.cells[name])
            : { verdict: 'failed', detail: r.error ?? 'not run' };
          return [r.backend, { ...v, ms: got ? Math.round(got.ms) : undefined }];
        }),
      ),
    }));
    const result = {
      generated: 'test/browser/matrix/run.mjs',
      chromium: browser.version(),
      tolerance: TOLERANCE,
      trainedCells: [...TRAINED],
      backends: runs.map((r) => ({
        name: r.backend,
        env: r.env,
        ms: r.ms,
        error: r.error,
        pageErrors: r.pageErrors,
      })),
      rows,
    };
    const resultsDir = path.join(root, 'test-results');
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, 'backend-matrix.json'), `${JSON.stringify(result, null, 2)}\n`);
    const jsonPath = path.join(root, 'docs/backend-matrix.json');
    const docPath = path.join(root, 'docs/backends.md');
    // Check mode: what the docs say must still hold for this run (backends.md must also render its JSON).
    let docsNote = 'docs/backends.md unchanged';
    let broken = [];
    if (!WRITE) {
      const doc = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      broken = brokenClaims(doc, result, BACKENDS);
      if (!fs.readFileSync(docPath, 'utf8').includes(renderSection(doc)))
        broken.push(
          'docs/backends.md does not show docs/backend-matrix.json (node test/browser/matrix/render.mjs)',
        );
      docsNote =
        broken.length === 0
          ? `docs/backends.md's claims hold for this run (full result in test-results/backend-matrix.json)`
          : `docs/backends.md no longer says what this run measured:\n  ${broken.join('\n  ')}\n` +
            'record this run with `npm run test:matrix -- --write` (after checking the change is real)';
    }
    if (WRITE && GIVEN.length > 0 && fs.existsSync(jsonPath)) {
      // A run of some backends only: keep the other backends' columns of the last full run.
      const old = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const kept = old.backends.filter((b) => !BACKENDS.includes(b.name));
      result.backends = [...kept, ...result.backends];
      for (const row of rows) {
        const prev = old.rows.find((r) => r.name === row.name);
        const keep = Object.entries(prev?.backends ?? {}).filter(([b]) => !BACKENDS.includes(b));
        row.backends = { ...Object.fromEntries(keep), ...row.backends };
      }
      const order = ['webgl', 'webgpu', 'wasm', 'cpu'];
      result.backends.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    }
    if (WRITE) {
      fs.writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
      docsNote = `docs/backends.md ${renderBackendsDoc(result, docPath) ? 'updated' : 'unchanged'} (--write)`;
    }
    let failed = 0;
    for (const row of rows) {
      for (const [b, v] of Object.entries(row.backends)) {
        const ok = v.verdict === 'ok' || v.verdict === 'refused' || v.verdict === 'deviates';
        if (!ok) failed++;
        const err = v.maxRelError === undefined ? '' : ` rel err ${v.maxRelError.toExponential(1)}`;
        console.log(
          `${ok ? 'ok  ' : 'FAIL'} ${row.name.padEnd(10)} ${b.padEnd(7)} ${v.verdict}${err} ${v.ms ?? '-'} ms${v.detail ? `: ${v.detail}` : ''}`,
        );
      }
    }
    for (const r of runs)
      if (r.pageErrors) console.log(`${r.backend} page errors: ${r.pageErrors.join('; ')}`);
    console.log(
      `backend matrix: ${rows.length} cells x ${runs.length} backends, ${failed} failed; ${(bytes / 1024).toFixed(0)} KiB bundle; ${((Date.now() - t0) / 1000).toFixed(1)} s; ${docsNote}`,
    );
    if (failed > 0 || broken.length > 0) process.exitCode = 1;
  } finally {
    await browser?.close();
    server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
