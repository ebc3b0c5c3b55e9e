/** One cell of the backend matrix on one backend, as run.mjs records it. */
export interface MatrixVerdict {
  verdict: 'ok' | 'refused' | 'failed' | 'deviates';
  maxRelError?: number;
  detail?: string;
  ms?: number;
}

/** A backend-matrix result (docs/backend-matrix.json, test-results/backend-matrix.json). */
export interface MatrixResult {
  chromium: string;
  tolerance: { forward: { rtol: number; atol: number }; trained: { rtol: number; atol: number } };
  trainedCells: string[];
  backends: { name: string; env?: Record<string, unknown>; ms?: number }[];
  rows: { name: string; label: string; backends: Record<string, MatrixVerdict> }[];
}

export const BEGIN: string;
export const END: string;
/** The markdown of the generated section of docs/backends.md. */
export function renderSection(result: MatrixResult): string;
/** The claims of `doc` that `run` breaks (verdicts, error magnitudes), on `backends` (default: the run's). */
export function brokenClaims(doc: MatrixResult, run: MatrixResult, backends?: string[]): string[];
/** Rewrites the generated section of `docPath`; returns whether the file changed. */
export function renderBackendsDoc(result: MatrixResult, docPath: string): boolean;
