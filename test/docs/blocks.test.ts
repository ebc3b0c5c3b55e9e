/**
 * Every ```ts block of README.md and docs/*.md compiles (issue 17 item 6), and the ones marked `"run": true` run
 * (made small by their `shrink` replacements) on the cpu backend. Blocks, hidden preambles and the annotation that
 * marks them: test/docs/blocks.ts and test/docs/preambles.ts. A failure names the markdown file, the block's index
 * in it and the line, so whoever edits a doc can fix the block (or its annotation) directly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels } from '../../src/kernels/index.js';
import { allBlocks, blockModule, blockName, compileBlocks, parseBlocks, ROOT } from './blocks.js';

const blocks = allBlocks();
const onCpu = tf.getBackend() === 'cpu';
// Generated modules live under the repository (so bare imports resolve) in the git-ignored .cache/.
const runDir = path.join(ROOT, '.cache/docs-run');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'transferkit-docs-'));

afterAll(() => {
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

// The type-check (backend-independent, ~20 s) runs in the wasm project, the runs (cpu backend) in the cpu project:
// the two halves cost each project about the same.
describe.skipIf(onCpu)('docs: ts blocks of README.md and docs/*.md compile', () => {
  it('every block compiles (with its hidden preamble)', () => {
    const diags = compileBlocks(blocks);
    const text = diags.map((d) => `${blockName(d.block)}: ${d.message}`).join('\n');
    expect(diags.length, `ts blocks that do not compile:\n${text}\n`).toBe(0);
  });
});

describe('docs: the docs-test annotations', () => {
  it('are parsed, and a bad one is reported with the file, block and line', () => {
    const md = [
      '# t',
      '<!-- docs-test: {"preamble": "distill", "run": true, "shrink": [["a: 300", "a: 3"]]} -->',
      '```ts',
      'const v = { a: 300 };',
      '```',
      '',
      '<!-- docs-test: {"preamble": "distill", "runs": true} -->',
      '```ts',
      'const w = 1;',
      '```',
    ].join('\n');
    const [a, b] = parseBlocks('docs/t.md', md);
    expect(a).toMatchObject({ index: 1, fenceLine: 3, preamble: 'distill', run: true });
    expect(blockModule(a, true).source).toContain('const v = { a: 3 };');
    expect(blockModule(a, false).source).toContain('const v = { a: 300 };');
    expect(b.annotationError).toMatch(/line 7: unknown key 'runs'/);
    expect(blockName(b)).toBe('docs/t.md ts block #2 (line 8)');
    const missing = { ...a, shrink: [['nope', 'x']] as [string, string][] };
    expect(() => blockModule(missing, true)).toThrow(
      /docs\/t\.md ts block #1 \(line 3\).*"nope" is not in the block/,
    );
    expect(() => blockModule({ ...a, preamble: 'nope' }, false)).toThrow(/no preamble named 'nope'/);
  });
});

describe.skipIf(!onCpu)('docs: ts blocks of README.md and docs/*.md run', () => {
  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(20);
    const runs = blocks.filter((b) => b.run === true).length;
    console.log(`docs blocks: ${blocks.length} compiled, ${runs} run, ${blocks.length - runs} compiled only`);
  });

  const runnable = blocks.filter((b) => b.run === true);
  it.each(runnable.map((b) => [blockName(b), b] as const))('runs %s', async (_name, b) => {
    const { source } = blockModule(b, true);
    const rewritten = source.replace(
      /(from\s+|import\s+)'transferkit(\/node|\/queue)?'/g,
      (_m, pre: string, sub: string | undefined) =>
        `${pre}'${
          sub === '/node'
            ? path.join(ROOT, 'test/docs/node-shim.ts')
            : path.join(ROOT, sub === '/queue' ? 'src/queue.ts' : 'src/index.ts')
        }'`,
    );
    fs.mkdirSync(runDir, { recursive: true });
    const file = path.join(runDir, `${b.file.replace(/[^\w]+/g, '-')}-${b.index}.ts`);
    fs.writeFileSync(file, rewritten);
    const backend = tf.getBackend();
    const cwd = process.cwd();
    tf.engine().startScope();
    try {
      process.chdir(scratch); // files the block writes land in a scratch folder
      await import(/* @vite-ignore */ file);
    } catch (e) {
      throw new Error(`${blockName(b)} threw when run: ${(e as Error)?.stack ?? e}`);
    } finally {
      process.chdir(cwd);
      tf.engine().endScope();
      // a block may switch backends or kernels: restore the project's
      await tf.setBackend(backend);
      registerTrainingKernels(backend as Parameters<typeof registerTrainingKernels>[0]);
    }
  });
});
