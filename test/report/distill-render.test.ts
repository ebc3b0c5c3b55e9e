/**
 * Render tests of the two distillation sections from fixed results (fixtures of real runs, seed 0, wasm): no
 * training, only `render` and `headlines`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DistillResult, distill, renderDistill } from '../../src/report/sections/distill/index.js';
import {
  type DistillMnistResult,
  distillMnist,
  renderDistillMnist,
} from '../../src/report/sections/distill-mnist/index.js';
import { checkXml } from '../render/xml.js';

function fixture<T>(id: string): T {
  return JSON.parse(readFileSync(path.join(__dirname, 'fixtures', `${id}.json`), 'utf8')) as T;
}

function wellFormed(html: string): void {
  expect(() => checkXml(`<div>${html}</div>`)).not.toThrow();
  expect(html).toContain('<table');
  expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
}

describe('render of the distillation sections from fixed results', () => {
  it('distill (the MLP setting, a quick run of seed 0) renders its claims, tables and headlines', () => {
    const r = fixture<DistillResult>('distill');
    const html = renderDistill(r);
    wellFormed(html);
    // The paper's numbers and this run's, read from the fixture.
    expect(html).toContain('206 (133 of 1010 threes)');
    expect(html).toContain(`${r.teacher.errors} / ${r.sizes.test}`);
    for (const m of r.main) expect(html).toContain(`<td>${m.scratch.errors}</td>`);
    const h = distill.headlines?.(r) ?? [];
    expect(h).toHaveLength(2);
    expect(h[0].ours).toContain(`${r.teacher.errors} / `);
  });

  it('distill-mnist renders its interval verdicts, both per-seed tables and headlines', () => {
    const r = fixture<DistillMnistResult>('distill-mnist');
    const html = renderDistillMnist(r);
    wellFormed(html);
    expect(html).toContain('official');
    for (const run of [...r.runs, ...(r.little?.runs ?? [])]) expect(html).toContain(`<td>${run.soft}</td>`);
    expect(html).toMatch(/class="(ok|no|na)"/);
    const h = distillMnist.headlines?.(r) ?? [];
    expect(h).toHaveLength(r.little === undefined ? 2 : 3);
    for (const line of h) expect(line.ours).toMatch(/\[/);
  });
});
