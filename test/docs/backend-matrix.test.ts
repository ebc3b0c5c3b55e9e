/**
 * The backend matrix page: docs/backends.md shows what docs/backend-matrix.json records, and a matrix run checks
 * those claims (verdicts and error magnitudes) instead of rewriting the files on every run (render.mjs
 * `brokenClaims`, used by test/browser/matrix/run.mjs).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { brokenClaims, type MatrixResult, renderSection } from '../browser/matrix/render.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = JSON.parse(readFileSync(path.join(root, 'docs/backend-matrix.json'), 'utf8')) as MatrixResult;

/** A copy of `r` with some cells changed. */
function edit(r: MatrixResult, change: (rows: MatrixResult['rows']) => void): MatrixResult {
  const copy = structuredClone(r);
  change(copy.rows);
  return copy;
}

describe('the backend matrix page', () => {
  it('docs/backends.md shows docs/backend-matrix.json, and the recorded run keeps its own claims', () => {
    expect(readFileSync(path.join(root, 'docs/backends.md'), 'utf8')).toContain(renderSection(doc));
    expect(brokenClaims(doc, doc)).toEqual([]);
  });

  it('a run breaks a claim with another verdict or an error past the printed power of ten, not with other digits or timings', () => {
    const cell = doc.rows.find(
      (r) => r.backends.wasm?.verdict === 'ok' && (r.backends.wasm.maxRelError ?? 0) > 0,
    );
    expect(cell, 'a wasm cell that ran with an error').toBeDefined();
    const name = cell?.name as string;
    const err = cell?.backends.wasm.maxRelError as number;
    const bound = 10 ** Math.ceil(Math.log10(err));
    const at = (rows: MatrixResult['rows']) =>
      rows.find((r) => r.name === name)?.backends.wasm as MatrixResult['rows'][0]['backends'][string];
    // Other digits under the same power of ten, other timings: the page still holds.
    const noise = edit(doc, (rows) => {
      at(rows).maxRelError = bound * 0.999;
      at(rows).ms = 123456;
    });
    expect(brokenClaims(doc, noise)).toEqual([]);
    // Past the bound the page prints: broken.
    const worse = edit(doc, (rows) => {
      at(rows).maxRelError = bound * 1.5;
    });
    expect(brokenClaims(doc, worse)).toEqual([
      `${name} on wasm: the page says error < 1e${Math.log10(bound)}, this run ${(bound * 1.5).toExponential(2)}`,
    ]);
    // Only the backends this run measured are checked.
    expect(brokenClaims(doc, worse, ['cpu'])).toEqual([]);
    const failed = edit(doc, (rows) => {
      at(rows).verdict = 'failed';
      at(rows).detail = 'boom';
    });
    expect(brokenClaims(doc, failed)).toEqual([`${name} on wasm: the page says ok, this run failed (boom)`]);
    const fewer = edit(doc, (rows) => {
      rows.splice(0, 1);
    });
    expect(brokenClaims(doc, fewer)).toEqual([`${doc.rows[0].name}: on the page, not run`]);
    expect(brokenClaims(fewer, doc)).toEqual([`${doc.rows[0].name}: a cell the page does not list`]);
  });

  it('a run on another browser or backend set-up (e.g. another list of training kernels) breaks the page', () => {
    const other = structuredClone(doc);
    const wasm = other.backends.find((b) => b.name === 'wasm') as MatrixResult['backends'][0];
    wasm.env = { trainingKernels: 'Conv2DBackpropFilter' };
    other.chromium = '1.0';
    expect(brokenClaims(doc, other)).toEqual([
      `Chromium: the page says ${doc.chromium}, this run 1.0`,
      `wasm set-up: the page says ${JSON.stringify(doc.backends.find((b) => b.name === 'wasm')?.env)}, this run {"trainingKernels":"Conv2DBackpropFilter"}`,
    ]);
    expect(brokenClaims(doc, other, ['cpu'])).toEqual([
      `Chromium: the page says ${doc.chromium}, this run 1.0`,
    ]);
  });

  it('an exact claim holds only for an exact run', () => {
    const exact = edit(doc, (rows) => {
      rows[0].backends.cpu = { verdict: 'ok', maxRelError: 0 };
    });
    const off = edit(exact, (rows) => {
      rows[0].backends.cpu = { verdict: 'ok', maxRelError: 1e-9 };
    });
    expect(brokenClaims(exact, exact)).toEqual([]);
    expect(brokenClaims(exact, off)).toEqual([
      `${doc.rows[0].name} on cpu: the page says error < 0 (exact), this run 1.00e-9`,
    ]);
  });
});
