#!/usr/bin/env node
// The browser part of the benchmark: `npm run bench:browser`. Bundles bench/browser/page.ts (from source), opens it
// in Debian's headless Chromium with the WebGPU flags, and prints the median times on wasm (with transferkit's
// training kernels), webgl and webgpu, each with its ratio to wasm measured in the same page. Without a GPU both
// GPU backends run on SwiftShader, a CPU emulation of a GPU: the ratios say what each path costs HERE, not how a real
// GPU compares.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePage, serve } from '../../test/browser/page.mjs';
import { launchChromium } from '../../test/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const backends = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['wasm', 'webgl', 'webgpu'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'transferkit-bench-browser-'));
let browser;
let server;
try {
  await bundlePage(path.join(here, 'page.ts'), tmp);
  server = await serve(tmp);
  browser = await launchChromium({ webgpu: true });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
  const records = await page.evaluate(async (b) => (await import('/page.js')).run(b), backends);
  const base = new Map(records.filter((r) => r.backend === backends[0]).map((r) => [r.task, r.medianMs]));
  console.log(`browser bench, headless Chromium ${browser.version()} (SwiftShader: CPU emulation, no GPU)`);
  console.log(`${'task'.padEnd(58)} ${'backend'.padEnd(8)} ${'median ms'.padStart(10)}  vs ${backends[0]}`);
  for (const r of records) {
    const ratio = base.get(r.task) / r.medianMs;
    console.log(
      `${r.task.padEnd(58)} ${r.backend.padEnd(8)} ${r.medianMs.toFixed(1).padStart(10)}  ${ratio.toFixed(2)}x`,
    );
  }
} finally {
  await browser?.close();
  server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
