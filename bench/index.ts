/**
 * The benchmark runner: `npm run bench` (= `tsx bench/index.ts`).
 *
 *   npm run bench                      every suite, full sizes
 *   npm run bench -- --quick           smaller sizes and fewer samples (a smoke run)
 *   npm run bench -- --only kernels    one suite (repeatable, or comma-separated ids)
 *   npm run bench -- --json out.json   also write the records as JSON (name, median ms, ops/s, ratios with their
 *                                      baseline names), to compare figures across commits
 *
 * Both the cpu and the wasm backends are loaded; suites start on wasm with transferkit's training kernels (the
 * fastest set-up on this machine) and may switch backends themselves.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingKernels } from '../src/index.js';
import { suites } from './suites.js';
import type { BenchRecord } from './types.js';
import { formatTable, machine } from './util.js';

interface Args {
  quick: boolean;
  only: string[];
  json?: string;
}

function usage(msg: string): never {
  console.error(`${msg}\nUsage: npm run bench -- [--quick] [--only <id>[,<id>...]] [--json FILE]`);
  console.error(`Suites: ${suites.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--only' || a === '--json') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${a} needs a value`);
      if (a === '--only') args.only.push(...v.split(',').filter(Boolean));
      else args.json = v;
    } else if (a.startsWith('--only=')) args.only.push(...a.slice(7).split(',').filter(Boolean));
    else if (a.startsWith('--json=')) args.json = a.slice(7);
    else if (a === '--help' || a === '-h') usage('');
    else usage(`Unknown argument: ${a}`);
  }
  const unknown = args.only.filter((id) => !suites.some((s) => s.id === id));
  if (unknown.length > 0) usage(`Unknown suite id: ${unknown.join(', ')}`);
  return args;
}

/** JSON has no NaN: failed measurements become null. */
function jsonSafe(records: BenchRecord[]): unknown[] {
  return records.map((r) => ({ ...r, medianMs: Number.isFinite(r.medianMs) ? r.medianMs : null }));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  registerTrainingKernels('wasm'); // before the wasm backend initialises
  registerTrainingKernels('cpu');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  const m = machine();
  console.log(
    `transferkit bench${args.quick ? ' (quick)' : ''}: ${m.cpu} (${m.cpuVendor} family ${m.cpuFamily} model ${m.cpuModel}, AVX-512 ${m.avx512}), load ${m.loadAverage}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, tfjs ${tf.version_core}`,
  );
  const chosen = args.only.length > 0 ? suites.filter((s) => args.only.includes(s.id)) : suites;
  const results: { id: string; title: string; seconds: number; records: unknown[] }[] = [];
  for (const s of chosen) {
    console.log(`\n## ${s.id}: ${s.title}`);
    const t0 = performance.now();
    const records = await s.run({ quick: args.quick });
    const seconds = (performance.now() - t0) / 1000;
    console.log(formatTable(records));
    console.log(`(${seconds.toFixed(1)} s)`);
    results.push({ id: s.id, title: s.title, seconds, records: jsonSafe(records) });
  }
  if (args.json !== undefined) {
    const doc = {
      date: new Date().toISOString(),
      quick: args.quick,
      machine: m,
      tfjs: tf.version_core,
      suites: results,
    };
    writeFileSync(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`\nwrote ${args.json}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
