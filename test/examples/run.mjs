#!/usr/bin/env node
// Runs the short typed examples (each compiles in `npm run typecheck`; these also run), in a scratch folder so the
// files they write (figures, saved models) do not land in the repository. The longer examples (one per paper,
// about a minute each) are compiled but not run here; the report runs the same code paths at full size.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const short = [
  'seeded-split.ts',
  'quickstart.ts',
  'getting-started.ts',
  'bring-your-own-model.ts',
  'finetune.ts',
];
const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'transferkit-examples-'));
let failed = 0;
try {
  for (const name of short) {
    const t0 = Date.now();
    try {
      execFileSync(
        process.execPath,
        [tsx, '--tsconfig', path.join(root, 'examples/tsconfig.json'), path.join(root, 'examples', name)],
        { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 },
      );
      console.log(`ok   examples/${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL examples/${name}\n${e.stdout ?? ''}${e.stderr ?? e}`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`examples: ${short.length - failed} passed, ${failed} failed`);
if (failed > 0) process.exitCode = 1;
