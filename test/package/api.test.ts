import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Every source file reachable from `entry` through relative imports. */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [path.join(root, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts');
      if (fs.existsSync(target)) stack.push(target);
    }
  }
  return [...seen];
}

function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  return [
    ...src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] ?? m[2]);
}

describe('the public surface', () => {
  it('keeps the exported names of `transferkit` (a change here is a visible API diff)', async () => {
    const mod = await import('../../src/index.js');
    expect(Object.keys(mod).sort()).toMatchSnapshot();
  });

  it('keeps the exported names of `transferkit/node`', async () => {
    const mod = await import('../../src/node.js');
    expect(Object.keys(mod).sort()).toMatchSnapshot();
  });

  it('keeps the exported names of `transferkit/queue`', async () => {
    const mod = await import('../../src/queue.js');
    expect(Object.keys(mod).sort()).toMatchSnapshot();
  });

  it('has a browser-safe main entry: nothing reachable from src/index.ts imports a node: module', () => {
    const offenders = reachable('src/index.ts').flatMap((f) =>
      importsOf(f)
        .filter(
          (i) => i.startsWith('node:') || ['fs', 'path', 'os', 'url', 'module', 'child_process'].includes(i),
        )
        .map((i) => `${path.relative(root, f)} imports ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('never imports a tfjs backend from src/', () => {
    const files = fs
      .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'));
    const offenders = files.flatMap((f) =>
      importsOf(path.join(root, 'src', f))
        .filter((i) => /^@tensorflow\/tfjs-(backend-|node)/.test(i) || i === '@tensorflow/tfjs')
        .map((i) => `src/${f} imports ${i}`),
    );
    // The Node set-up helper loads a backend the user installed through a dynamic import, by design.
    expect(offenders.filter((o) => !o.startsWith('src/node/backend.ts'))).toEqual([]);
  });

  it('reads no tensor synchronously in library code', () => {
    const files = fs
      .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'));
    const offenders = files.filter((f) =>
      /\.(dataSync|arraySync)\(/.test(fs.readFileSync(path.join(root, 'src', f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
