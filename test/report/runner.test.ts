import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, type ProgressEvent } from '../../src/index.js';
import { claimsTable, figure, meanSd, pct, table } from '../../src/report/html.js';
import { silentProgress } from '../../src/report/progress.js';
import { reportPaths, runReport } from '../../src/report/runner.js';
import { sections as registry } from '../../src/report/sections/index.js';
import type { ReportSection } from '../../src/report/types.js';
import { checkXml } from '../render/xml.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tk-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake section that counts its runs, shares a tensor-holding value and reports progress. */
function fakeSections() {
  const counts = { a: 0, b: 0, shared: 0, disposed: 0 };
  const events: ProgressEvent[] = [];
  const sharedValue = (ctx: Parameters<ReportSection['run']>[0]) =>
    ctx.shared('thing', async () => {
      counts.shared += 1;
      const t = tf.scalar(41);
      return {
        t,
        dispose() {
          counts.disposed += 1;
          t.dispose();
        },
      };
    });
  const a: ReportSection<{ value: number; seed: number }> = {
    id: 'alpha',
    title: 'Alpha <section>',
    async run(ctx) {
      counts.a += 1;
      const thing = await sharedValue(ctx);
      ctx.progress({ phase: 'work', done: 1, total: 1 });
      return { value: (await thing.t.data())[0] + 1, seed: ctx.seed };
    },
    render: (r, ctx) => `<p>value ${r.value} seed ${r.seed} mode ${ctx.mode}</p>`,
    headlines: (r) => [{ claim: 'the value', paper: '41 & more', ours: String(r.value) }],
  };
  const b: ReportSection<number> = {
    id: 'beta',
    title: 'Beta',
    async run(ctx) {
      counts.b += 1;
      await sharedValue(ctx);
      return 7;
    },
    render: (r) =>
      figure(
        `<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><rect width="${r}"/></svg>`,
        'fig',
      ),
  };
  const failing: ReportSection<number> = {
    id: 'gamma',
    title: 'Gamma',
    async run() {
      throw new Error('boom <b>');
    },
    render: () => '',
  };
  const progress = { ...silentProgress(), update: (_: string, e: ProgressEvent) => events.push(e) };
  return { counts, events, sections: [a, b, failing], progress };
}

describe('runReport', () => {
  it('runs sections, caches their results, and re-renders from the cache without running again', async () => {
    const out = path.join(tmp, 'r1');
    const f = fakeSections();
    const before = tf.memory().numTensors;
    const run = await runReport({ sections: f.sections, out, seed: 3, progress: f.progress });
    expect(run.file).toBe(path.join(out, 'index.html'));
    expect(run.sections.map((s) => s.status)).toEqual(['ran', 'ran', 'failed']);
    expect(run.sections[2].error).toMatch(/boom/);
    // CPU seconds are recorded beside the wall time (never more than the cores allow over the wall time).
    expect(run.sections[0].cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(run.sections[0].cpuSeconds).toBeLessThan((run.sections[0].seconds ?? 0) * 4 + 1);
    expect(f.counts).toEqual({ a: 1, b: 1, shared: 1, disposed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(f.events).toEqual([{ phase: 'work', done: 1, total: 1 }]);
    expect(existsSync(path.join(out, 'cache', 'quick-seed3', 'alpha.json'))).toBe(true);
    const html = readFileSync(run.file, 'utf8');
    expect(html).toContain('<section id="alpha"');
    expect(html).toContain('Alpha &lt;section&gt;');
    expect(html).toContain('value 42 seed 3 mode quick');
    expect(html).toContain('boom &lt;b&gt;');
    expect(html).toContain('href="#beta"');
    // The "At a glance" table collects the sections' headlines, escaped, and links to the section.
    expect(html).toContain('<section id="at-a-glance"');
    expect(html).toMatch(
      /href="#alpha">Alpha &lt;section&gt;<\/a><\/td><td>the value<\/td><td>41 &amp; more<\/td><td>42</,
    );
    expect(run.sections[0].headlines).toEqual([{ claim: 'the value', paper: '41 & more', ours: '42' }]);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);

    const again = await runReport({ sections: f.sections, out, seed: 3, progress: f.progress });
    expect(again.sections.map((s) => s.status)).toEqual(['cached', 'cached', 'failed']);
    expect(f.counts.a).toBe(1);
    expect(f.counts.b).toBe(1);
    expect(readFileSync(again.file, 'utf8')).toContain('value 42 seed 3');

    const rerender = await runReport({
      sections: f.sections,
      out,
      seed: 4,
      rerender: true,
      progress: f.progress,
    });
    expect(rerender.sections.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(f.counts.a).toBe(1);

    // A new section version invalidates its cached result (and only its own).
    const bumped = [{ ...f.sections[0], version: 2 }, f.sections[1]];
    const v2 = await runReport({ sections: bumped, out, seed: 3, progress: f.progress });
    expect(v2.sections.map((s) => s.status)).toEqual(['ran', 'cached']);
    expect(f.counts.a).toBe(2);

    const fresh = await runReport({
      sections: f.sections,
      out,
      seed: 3,
      fresh: true,
      only: ['alpha'],
      progress: f.progress,
    });
    expect(fresh.sections.map((s) => s.id)).toEqual(['alpha']);
    expect(f.counts.a).toBe(3);
  });

  it('writes to an explicit .html path and a separate cache folder, keyed by mode', async () => {
    const f = fakeSections();
    const file = path.join(tmp, 'r2', 'my.html');
    const cacheDir = path.join(tmp, 'c2');
    const run = await runReport({
      sections: f.sections.slice(0, 1),
      out: file,
      cacheDir,
      mode: 'full',
      progress: f.progress,
    });
    expect(run.file).toBe(file);
    expect(existsSync(path.join(cacheDir, 'full-seed0', 'alpha.json'))).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('mode full');
    expect(reportPaths('x/y.HTML').dir).toBe('x');
  });

  it('skips a section outside the mode unless --only names it', async () => {
    const f = fakeSections();
    const fullOnly = { ...f.sections[1], modes: ['full'] as const };
    const out = path.join(tmp, 'r4');
    const run = await runReport({ sections: [f.sections[0], fullOnly], out, progress: f.progress });
    expect(run.sections.map((s) => s.status)).toEqual(['ran', 'skipped']);
    expect(run.sections[1].reason).toMatch(/full mode only/);
    expect(f.counts.b).toBe(0);
    expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('not computed: full mode only');
    const named = await runReport({
      sections: [f.sections[0], fullOnly],
      only: ['beta'],
      out,
      progress: f.progress,
    });
    expect(named.sections.map((s) => `${s.id} ${s.status}`)).toEqual(['beta ran']);
    expect(f.counts.b).toBe(1);
  });

  it('rejects unknown ids and bad options before running anything', async () => {
    const f = fakeSections();
    await expect(
      runReport({ sections: f.sections, only: ['nope'], out: path.join(tmp, 'r3'), progress: f.progress }),
    ).rejects.toThrow(/options.only.*alpha, beta, gamma.*"nope"/);
    await expect(
      runReport({ sections: f.sections, mode: 'huge' as 'quick', progress: f.progress }),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(
      runReport({ sections: [f.sections[0], f.sections[0]], progress: f.progress }),
    ).rejects.toThrow(/unique ids/);
    expect(f.counts.a).toBe(0);
    expect(existsSync(path.join(tmp, 'r3'))).toBe(false);
  });
});

describe('the section registry and HTML helpers', () => {
  it('registers the foundation first, with unique ids', () => {
    expect(registry[0].id).toBe('foundation');
    expect(new Set(registry.map((s) => s.id)).size).toBe(registry.length);
  });

  it('builds escaped, well-formed tables and claims', () => {
    const html = claimsTable([
      { claim: 'a < b', paper: '86.9%', ours: pct(0.9312), holds: true, note: 'x & y' },
    ]);
    expect(checkXml(html)).toContain('table');
    expect(html).toContain('a &lt; b');
    expect(html).toContain('93.12%');
    expect(checkXml(table(['h'], [[1.23456], [{ html: '<b>ok</b>' }]]))).toContain('b');
    expect(meanSd([0.9, 0.92, 0.91], pct)).toBe('91.00% ± 1.00%');
  });
});
