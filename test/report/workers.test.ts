import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, type ProgressEvent } from '../../src/index.js';
import { type CachedResult, resultDifferences } from '../../src/report/cache.js';
import { silentProgress } from '../../src/report/progress.js';
import { runReport } from '../../src/report/runner.js';
import { estimateSeconds, longestFirst, MEASURED_SECONDS } from '../../src/report/runner-pool.js';
import { backendName } from '../helpers.js';
import { sections } from './fixtures/worker-sections.js';

const sectionsModule = fileURLToPath(new URL('./fixtures/worker-sections.ts', import.meta.url));
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tk-report-workers-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

function sink() {
  const events: { section: string; event: ProgressEvent }[] = [];
  const lines: string[] = [];
  return {
    events,
    lines,
    progress: {
      ...silentProgress(),
      update: (section: string, event: ProgressEvent) => events.push({ section, event }),
      log: (m: string) => lines.push(m),
    },
  };
}

const cached = (out: string, id: string) =>
  JSON.parse(readFileSync(path.join(out, 'cache', 'quick-seed5', `${id}.json`), 'utf8')) as CachedResult<any>;

describe('runReport with workers', () => {
  it('computes in 2 worker threads the results of the in-process run, trains a shared model once', async () => {
    const only = ['first', 'second', 'alone', 'throws'];
    const one = path.join(tmp, 'w1');
    const two = path.join(tmp, 'w2');
    const s1 = sink();
    const before = tf.memory().numTensors;
    const r1 = await runReport({ sections, only, out: one, seed: 5, progress: s1.progress, workers: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const s2 = sink();
    const r2 = await runReport({
      sections,
      sectionsModule,
      only,
      out: two,
      seed: 5,
      progress: s2.progress,
      workers: 2,
    });
    expect(r1.workers).toBe(1);
    expect(r2.workers).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(r2.sections.map((s) => `${s.id} ${s.status}`)).toEqual([
      'first ran',
      'second ran',
      'alone ran',
      'throws failed',
    ]);
    // The section's error is its outcome, with the error's class and message.
    expect(r2.sections[3].error).toMatch(/^RangeError: bad thing in a section/);
    expect(r1.sections[3].error).toMatch(/^RangeError: bad thing in a section/);
    for (const id of ['first', 'second', 'alone']) {
      const [a, b] = [cached(one, id), cached(two, id)];
      expect(resultDifferences(a.result, b.result), id).toEqual([]);
      // Bit for bit: the JSON of the results is the same text.
      expect(JSON.stringify(b.result)).toBe(JSON.stringify(a.result));
      expect(b.cpuSeconds).toBeGreaterThanOrEqual(0);
    }
    // Trained once per run: in the 2-worker run one worker trained it and the other loaded it; both report
    // "made in this run" as the in-process run does.
    for (const out of [one, two]) {
      expect(readFileSync(path.join(out, 'cache', 'quick-seed5', 'trained.log'), 'utf8')).toBe(
        'tiny:model\n',
      );
    }
    expect(cached(two, 'first').result.fromCache).toBe(false);
    expect(cached(two, 'second').result.fromCache).toBe(false);
    // Progress and log lines came back from the workers, per section.
    expect(new Set(s2.events.map((e) => e.section))).toEqual(new Set(['first', 'second', 'alone']));
    expect(s2.events.some((e) => e.section === 'alone' && e.event.phase === 'alone train')).toBe(true);
    expect(
      s2.lines.some((l) => /2 worker threads, longest first: first .*second .*alone .*throws/.test(l)),
    ).toBe(true);
    expect(
      s2.lines.filter((l) => l.startsWith('  first: shared model') || l.startsWith('  second: shared model')),
    ).toHaveLength(2);
    // After each section, the worker's live tensors are those its ctx.shared values keep for its next sections
    // (the shared model's 4 weights, in the worker that used it), nothing else; the same in the in-process run.
    for (const lines of [s1.lines, s2.lines]) {
      const done = lines.filter((l) => /^✔ (first|second|alone) /.test(l));
      expect(done).toHaveLength(3);
      for (const l of done)
        expect(l).toMatch(/live tensors \d+, [\d.]+ MB, (all held by ctx.shared|none left)/);
      expect(lines.find((l) => l.startsWith('✔ first '))).toMatch(
        /live tensors \d+, .*all held by ctx.shared for later sections \(tiny:model\)/,
      );
    }
    expect(s2.lines.find((l) => l.startsWith('✔ first '))).toMatch(/worker's live tensors 4, /);
    // The run's timings are remembered for the next run's order.
    const timings = JSON.parse(readFileSync(path.join(two, 'cache', 'timings.json'), 'utf8'));
    expect(Object.keys(timings.timings.quick).sort()).toEqual(['alone', 'first', 'second']);
  });

  // Once, on cpu: the pool's failure path does not depend on the backend.
  it.runIf(backendName() === 'cpu')(
    'turns a worker thread that exits into the section’s error and closes the pool',
    async () => {
      const s = sink();
      const run = await runReport({
        sections,
        sectionsModule,
        only: ['alone', 'dies'],
        out: path.join(tmp, 'dies'),
        seed: 5,
        progress: s.progress,
        workers: 2,
      });
      expect(run.sections.map((x) => `${x.id} ${x.status}`)).toEqual(['alone ran', 'dies failed']);
      expect(run.sections[1].error).toMatch(/worker thread failed/);
    },
  );

  // Once, on cpu: the accounting does not depend on the backend.
  it.runIf(backendName() === 'cpu')('names a tensor a section leaves in its worker as a leak', async () => {
    const s = sink();
    const run = await runReport({
      sections,
      sectionsModule,
      // Two sections: with one, the runner runs it in-process.
      only: ['alone', 'leaks'],
      out: path.join(tmp, 'leaks'),
      seed: 5,
      progress: s.progress,
      workers: 2,
    });
    expect(run.sections.map((x) => `${x.id} ${x.status}`)).toEqual(['alone ran', 'leaks ran']);
    expect(run.workers).toBe(2);
    expect(s.lines.find((l) => l.startsWith('✔ leaks '))).toMatch(
      /worker's live tensors 1, 0\.0 MB: 0 held by ctx.shared, 1 NOT held by it \(a leak\)\)$/,
    );
  });

  it('rejects bad worker options before running anything', async () => {
    const out = path.join(tmp, 'bad');
    await expect(runReport({ sections, out, workers: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(runReport({ sections, out, workers: 1.5 })).rejects.toThrow(/options.workers/);
    // Custom sections in workers need the module that exports them.
    await expect(runReport({ sections, out, workers: 2 })).rejects.toThrow(/options.sectionsModule/);
    await expect(runReport({ sections, sectionsModule: '', out, workers: 2 })).rejects.toThrow(
      /options.sectionsModule/,
    );
  });

  it('orders sections longest first from their estimate, the last timings or the measured table', () => {
    const [first, , alone] = sections;
    expect(estimateSeconds(first, 'quick', {})).toBe(10);
    expect(estimateSeconds({ ...first, id: 'specialists', estimatedSeconds: undefined }, 'quick', {})).toBe(
      MEASURED_SECONDS.specialists.quick,
    );
    expect(MEASURED_SECONDS.specialists.quick).toBeGreaterThan(0);
    expect(
      estimateSeconds({ ...first, id: 'x', estimatedSeconds: undefined }, 'full', { full: { x: 7 } }),
    ).toBe(7);
    expect(estimateSeconds({ ...alone, id: 'y', estimatedSeconds: undefined }, 'quick', {})).toBe(30);
    const order = longestFirst([
      { id: 'a', estimate: 5, index: 0 },
      { id: 'b', estimate: 9, index: 1 },
      { id: 'c', estimate: 5, index: 2 },
    ]);
    expect(order.map((j) => j.id)).toEqual(['b', 'a', 'c']);
  });
});

describe('resultDifferences', () => {
  it('ignores timings and names the paths that differ', () => {
    expect(
      resultDifferences(
        { a: 1, seconds: 2, runs: [{ ms: 1, acc: 0.5 }] },
        { a: 1, seconds: 3, runs: [{ ms: 9, acc: 0.5 }] },
      ),
    ).toEqual([]);
    expect(resultDifferences({ a: [1, 2], b: { c: 'x' } }, { a: [1, 3], b: { c: 'y' } })).toEqual([
      '$.a.1: 2 vs 3',
      '$.b.c: "x" vs "y"',
    ]);
    expect(
      resultDifferences(
        { trainSeconds: 1, msPerImage: 3, topKSeconds: 1, medianRunSeconds: 2 },
        { trainSeconds: 2, msPerImage: 4, topKSeconds: 5, medianRunSeconds: 1 },
      ),
    ).toEqual([]);
    expect(resultDifferences({ second: 1 }, { second: 2 })).toEqual(['$.second: 1 vs 2']);
    expect(resultDifferences({ cpu: { total: 1 }, acc: 1 }, { cpu: { total: 2 }, acc: 1 })).toEqual([]);
    expect(resultDifferences({ cpus: 1 }, { cpus: 2 })).toEqual(['$.cpus: 1 vs 2']);
    expect(resultDifferences([1], { 0: 1 })).toEqual(['$: array vs object']);
  });
});
