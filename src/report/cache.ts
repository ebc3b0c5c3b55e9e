/**
 * The report's per-section result cache: one JSON file per section in `<cacheDir>/<section id>.json`, read back by
 * the runner and written atomically (a temporary file renamed into place) by whichever thread ran the section.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import type { ReportMode } from './types.js';

/** The JSON file the runner caches per section. */
export interface CachedResult<R = unknown> {
  format: 'transferkit-report-cache';
  version: 1;
  id: string;
  mode: ReportMode;
  seed: number;
  backend: string;
  createdAt: string;
  seconds: number;
  /**
   * CPU seconds of the section's `run`: user + system of the process (`--workers 1`), or of the worker thread
   * that ran it (`--workers N`). Absent in caches of older versions.
   */
  cpuSeconds?: number;
  /** The section's `version` when the result was computed. */
  sectionVersion: number;
  result: R;
}

/**
 * The cache record of a section run that just finished on the current backend (one shape for both the in-process
 * runner and the worker threads).
 */
export function cachedResult<R>(
  section: { id: string; version?: number },
  run: { mode: ReportMode; seed: number; backend: string; seconds: number; cpuSeconds: number },
  result: R,
): CachedResult<R> {
  return {
    format: 'transferkit-report-cache',
    version: 1,
    id: section.id,
    mode: run.mode,
    seed: run.seed,
    backend: run.backend,
    createdAt: new Date().toISOString(),
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
    sectionVersion: section.version ?? 1,
    result,
  };
}

/** Reads a section's cached result; undefined when absent, unreadable, of another section or an older version. */
export async function readCache(
  file: string,
  id: string,
  sectionVersion: number,
): Promise<CachedResult | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as CachedResult;
    const ok =
      c.format === 'transferkit-report-cache' &&
      c.version === 1 &&
      c.id === id &&
      (c.sectionVersion ?? 1) === sectionVersion;
    return ok ? c : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` as JSON to `file` atomically: into a temporary file of this process and thread first, then renamed
 * over `file`, so a reader never sees half a file and two writers never interleave.
 */
export async function writeJsonAtomic(file: string, data: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}-${threadId}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(data));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** An error as text for the report: name, message and the first stack lines. */
export function errorText(e: unknown): string {
  return e instanceof Error
    ? `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`
    : String(e);
}

/**
 * Keys whose values are timings (they differ between any two runs): left out by {@link resultDifferences}. `cpu` is
 * an object of CPU seconds per part (the features section's).
 */
const TIMING_KEY = /^(seconds|ms|cpu|createdAt|[a-z][A-Za-z]*(Seconds|Ms|PerSecond)|ms[A-Z][A-Za-z]*)$/;

/**
 * Where two cached results differ, timings left out (keys such as `seconds`, `ms`, `cpu`, `createdAt`, `...Seconds`,
 * `...Ms`, `...PerSecond`, `ms...`): JSON paths with both values, at most `limit` of them. Empty when identical.
 */
export function resultDifferences(a: unknown, b: unknown, limit = 10): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, at: string): void => {
    if (out.length >= limit) return;
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      if (Array.isArray(x) !== Array.isArray(y)) {
        out.push(`${at}: array vs object`);
        return;
      }
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys) {
        if (TIMING_KEY.test(k)) continue;
        walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${at}.${k}`);
      }
      return;
    }
    if (!Object.is(x, y))
      out.push(`${at}: ${JSON.stringify(x)?.slice(0, 80)} vs ${JSON.stringify(y)?.slice(0, 80)}`);
  };
  walk(a, b, '$');
  return out;
}
