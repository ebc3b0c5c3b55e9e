/**
 * Render tests of the sections whose results come from a real quick run (seed 0, wasm), shrunk into small fixtures
 * (PNG images -> a 1x1 PNG, large SVGs -> an empty SVG): no training, only `render` and `headlines`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sections } from '../../src/report/sections/index.js';
import { checkXml } from '../render/xml.js';

function fixture(id: string): unknown {
  return JSON.parse(readFileSync(path.join(__dirname, 'fixtures', `${id}.json`), 'utf8'));
}

function section(id: string) {
  const s = sections.find((x) => x.id === id);
  if (s === undefined) throw new Error(`no section ${id}`);
  return s;
}

const ctx = { mode: 'quick', seed: 0, backend: 'wasm' } as const;

describe('render of the sections from fixed results', () => {
  it.each([
    ['deconvnet', ['Zeiler', 'occlusion']],
    ['features', ['SVM', 'DeCAF']],
    ['patches', ['mAP', 'Oquab']],
  ])('%s renders a well-formed fragment with its claims and headlines', (id, texts) => {
    const s = section(id);
    const result = fixture(id);
    const html = s.render(result, ctx);
    // <img> is a void element in HTML: close it for the XML check.
    expect(() => checkXml(`<div>${html.replace(/<img([^>]*?)\/?>/g, '<img$1/>')}</div>`)).not.toThrow();
    expect(html).toContain('<table');
    for (const t of texts) expect(html).toContain(t);
    // Every table cell escaped: no raw '<' inside text outside tags.
    expect(html).not.toMatch(/<(?![a-zA-Z/!])/);
    const h = s.headlines?.(result) ?? [];
    expect(h.length).toBeGreaterThan(0);
    for (const line of h) {
      expect(line.claim.length).toBeGreaterThan(0);
      expect(line.ours.length).toBeGreaterThan(0);
    }
  });
});
