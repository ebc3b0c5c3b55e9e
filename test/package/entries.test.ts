import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_MODULES } from '../../tsup.config.js';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');
const files = fs
  .readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => path.join(src, f));

/** The run-time relative imports of a file (`import type` and `export type` lines do not load a module). */
function runtimeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?from\s+['"](\.[^'"]+)['"]/gms)]
    .map((m) => path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts'))
    .filter((f) => fs.existsSync(f));
}

/** Strongly connected components with more than one file (Tarjan): the import cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(path.relative(root, w));
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const rel = (f: string) => path.relative(src, f).split(path.sep).join('/');

describe('module structure', () => {
  it('has no import cycle among the library modules (src/ outside the entries)', () => {
    const entries = new Set(['index.ts', 'node.ts', 'queue.ts', 'internal.ts', 'cli.ts']);
    const graph = new Map(
      files
        .filter((f) => !entries.has(rel(f)))
        .map((f) => [f, runtimeImports(f).filter((t) => !entries.has(rel(t)))]),
    );
    // Known and owned elsewhere: the deconvnet rules split (backends, issue 19) breaks this one.
    const known = ['src/deconvnet/rules-modern.ts,src/deconvnet/rules.ts'];
    expect(cycles(graph).filter((c) => !known.includes(c.join(',')))).toEqual([]);
  });

  it('keeps primitives apart from demo data, report and CLI code', () => {
    const primitives = files.filter((f) =>
      /^(core|model|features|deconvnet|patches|ensemble|distill|transfer|classify|render|kernels)\//.test(
        rel(f),
      ),
    );
    const offenders = primitives.flatMap((f) =>
      runtimeImports(f)
        .filter((t) => /^(data\/scenes|report\/|cli\/|node\/|internal)/.test(rel(t)))
        .map((t) => `${rel(f)} imports ${rel(t)}`),
    );
    expect(offenders).toEqual([]);
  });

  it('never imports src/internal.ts from the library or the public entries', () => {
    const offenders = files
      .filter((f) => !/^(cli|report|queue)\/|^cli\.ts$/.test(rel(f)))
      .filter((f) => runtimeImports(f).some((t) => rel(t) === 'internal.ts'))
      .map(rel);
    expect(offenders).toEqual([]);
  });

  it('lists as shared only modules whose every value is exported by their entry (the build imports them from it)', async () => {
    const entries: Record<string, Record<string, unknown>> = {
      transferkit: await import('../../src/index.js'),
      'transferkit/node': await import('../../src/node.js'),
    };
    for (const [file, entry] of Object.entries(SHARED_MODULES)) {
      const mod: Record<string, unknown> = await import(`../../src/${file.replace(/\.ts$/, '.js')}`);
      const missing = Object.keys(mod).filter((k) => !(k in entries[entry]));
      expect(missing, `${file} exports values that ${entry} does not`).toEqual([]);
    }
  });

  it('imports classes in the CLI, report and queue through the entries, not from their modules', () => {
    const classModules = new Set(
      files.filter((f) => /^export (abstract )?class /m.test(fs.readFileSync(f, 'utf8'))).map(rel),
    );
    const offenders = files
      .filter((f) => /^(cli|report|queue)\/|^cli\.ts$/.test(rel(f)))
      .flatMap((f) =>
        runtimeImports(f)
          .filter((t) => classModules.has(rel(t)) && !/^(cli|report|queue)\//.test(rel(t)))
          .map((t) => `${rel(f)} imports ${rel(t)}`),
      );
    expect(offenders).toEqual([]);
  });

  it('reads the training-kernel registry in Node code only through the entry (one registry in the build)', () => {
    // The built CLI / node entry bundle every module they import directly: a direct import of the registry would read
    // a second, empty copy, not the one the user's registerTrainingKernels (dist/index.js) wrote to; the report's
    // workers and the pools then started without the kernels (Conv2DBackpropFilter missing on wasm).
    const offenders = files
      .filter((f) => /^(cli|report|queue|node)\/|^(cli|internal)\.ts$/.test(rel(f)))
      .flatMap((f) =>
        runtimeImports(f)
          .filter((t) => /^kernels\/(registry|index)\.ts$/.test(rel(t)))
          .map((t) => `${rel(f)} imports ${rel(t)}`),
      )
      .filter((line) => !/^internal\.ts imports kernels\/registry\.ts$/.test(line));
    expect(offenders).toEqual([]);
    expect(fs.readFileSync(path.join(src, 'internal.ts'), 'utf8')).not.toMatch(/trainingKernelsRegistered/);
  });
});
