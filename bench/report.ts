/**
 * The `report` suite: the whole quick report (`node dist/cli.js report --quick --fresh`, every section computed
 * again, shared models included) with `--workers 2` vs `--workers 1`, one after the other in the same bench run,
 * as child processes of the BUILT CLI (run `npm run build` first). Records per run: wall-clock, the CPU seconds the
 * report process used (every thread; printed by the CLI), the 1-minute load at the start, and each section's CPU
 * seconds. The speed-up is measured (wall) and, because the machine may be shared, also ESTIMATED for an idle
 * 2-core machine: the 1-worker run's section CPU seconds scheduled longest-first over 2 workers (the runner's own
 * order), i.e. CPU(1 worker) / the busier worker's CPU sum (labelled as an estimate).
 *
 * It also checks that both runs computed the same results: every section's cached JSON of the 2-worker run equals
 * the 1-worker run's, timings aside (`resultDifferences`); a difference is printed and recorded.
 * One round (a quick report costs ~5 min of CPU); `--quick` of the bench limits the report to three sections.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CachedResult, resultDifferences } from '../src/report/cache.js';
import { longestFirst } from '../src/report/runner-pool.js';
import { loadNow } from './cpu.js';
import type { BenchOptions, BenchRecord, BenchSuite } from './types.js';
import { addRatios, failedRecord, makeRecord } from './util.js';

const root = path.resolve(import.meta.dirname, '..');
const CLI = path.join(root, 'dist', 'cli.js');

interface ReportFigures {
  wallS: number;
  cpuS: number;
  load1: number;
  sections: Record<string, { cpuS: number; wallS: number; status: string }>;
  results: Map<string, unknown>;
}

function runCli(args: string[]): Promise<{ code: number; stderr: string; wallS: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const line of d.toString().split('\n')) {
        if (/^(✔|✖|\s+\d+ worker threads)/.test(line)) console.log(`    ${line}`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr, wallS: (performance.now() - t0) / 1000 }));
  });
}

async function reportRun(dir: string, workers: number, only: string[] | undefined): Promise<ReportFigures> {
  const out = path.join(dir, `w${workers}`);
  const load1 = loadNow().load1;
  const args = ['report', '--quick', '--fresh', '--no-progress', '--workers', String(workers), '--out', out];
  if (only) args.push('--only', only.join(','));
  const r = await runCli(args);
  const m = /Report written to .* in ([\d.]+) s \(([\d.]+) s CPU/.exec(r.stderr);
  if (r.code !== 0 || m === null) {
    throw new Error(
      `report --workers ${workers} exited ${r.code}: ${r.stderr.split('\n').slice(-8).join(' | ')}`,
    );
  }
  const cacheDir = path.join(out, 'cache', 'quick-seed0');
  const sections: ReportFigures['sections'] = {};
  const results = new Map<string, unknown>();
  for (const f of readdirSync(cacheDir).filter((x) => x.endsWith('.json'))) {
    const c = JSON.parse(readFileSync(path.join(cacheDir, f), 'utf8')) as CachedResult;
    if (c.format !== 'transferkit-report-cache') continue;
    sections[c.id] = { cpuS: c.cpuSeconds ?? Number.NaN, wallS: c.seconds, status: 'ran' };
    results.set(c.id, c.result);
  }
  return { wallS: r.wallS, cpuS: Number(m[2]), load1, sections, results };
}

/** The 1-worker run's section CPU seconds, longest first over `workers` workers: the busiest worker's sum. */
function scheduledMax(sections: ReportFigures['sections'], workers: number): number {
  const jobs = Object.entries(sections).map(([id, s], index) => ({ id, estimate: s.cpuS, index }));
  const load = new Array<number>(workers).fill(0);
  for (const j of longestFirst(jobs)) {
    const k = load.indexOf(Math.min(...load));
    load[k] += j.estimate;
  }
  return Math.max(...load);
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const name = (w: number) => `quick report (--fresh, every section), --workers ${w}`;
  if (!existsSync(CLI)) {
    const msg = 'needs the built CLI (dist/cli.js): run `npm run build` first';
    console.log(`report: ${msg}`);
    return [failedRecord(name(2), new Error(msg), 'report')];
  }
  const only = opts.quick ? ['foundation', 'features', 'transfer'] : undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tk-bench-report-'));
  try {
    // 2 workers first (the pool suite's order), then 1.
    const two = await reportRun(dir, 2, only);
    console.log(
      `  --workers 2: ${two.wallS.toFixed(1)} s wall, ${two.cpuS.toFixed(1)} s CPU, load ${two.load1}`,
    );
    const one = await reportRun(dir, 1, only);
    console.log(
      `  --workers 1: ${one.wallS.toFixed(1)} s wall, ${one.cpuS.toFixed(1)} s CPU, load ${one.load1}`,
    );
    const diffs: string[] = [];
    for (const [id, r] of one.results) {
      const d = resultDifferences(r, two.results.get(id));
      if (d.length > 0) diffs.push(`${id}: ${d.join('; ')}`);
    }
    const identical = diffs.length === 0 && one.results.size === two.results.size;
    console.log(
      identical
        ? `  results: all ${one.results.size} sections' cached JSON identical (timings aside)`
        : `  results DIFFER:\n    ${diffs.join('\n    ')}`,
    );
    const sectionCpu1 = Object.values(one.sections).reduce((a, s) => a + s.cpuS, 0);
    const busiest = scheduledMax(one.sections, 2);
    const startup1 = one.cpuS - sectionCpu1;
    const estimate = (sectionCpu1 + startup1) / (busiest + startup1);
    const perSection = (f: ReportFigures) =>
      Object.entries(f.sections)
        .map(([id, s]) => `${id} ${s.cpuS.toFixed(0)}`)
        .join(', ');
    console.log(
      `  section CPU seconds, 1 worker: ${perSection(one)}\n  section CPU seconds, 2 workers: ${perSection(two)}\n` +
        `  measured speed-up ${(one.wallS / two.wallS).toFixed(2)}x (load ${one.load1} / ${two.load1}); ESTIMATE for an idle 2-core machine: ` +
        `${estimate.toFixed(2)}x (1-worker CPU ${one.cpuS.toFixed(0)} s / (busiest worker's sections ${busiest.toFixed(0)} s + start-up ${startup1.toFixed(0)} s); not measured)`,
    );
    const extra = (f: ReportFigures) => ({
      cpuS: +f.cpuS.toFixed(1),
      coresUsed: +(f.cpuS / f.wallS).toFixed(2),
      load1: f.load1,
      sections: Object.keys(f.sections).length,
      identical: identical ? 'yes' : `no: ${diffs.join('; ').slice(0, 300)}`,
    });
    const w1 = makeRecord(name(1), one.wallS * 1000, { unit: 'report', extra: extra(one) });
    const w2 = addRatios(
      makeRecord(name(2), two.wallS * 1000, {
        unit: 'report',
        extra: { ...extra(two), idleEstimate: +estimate.toFixed(2), busiestWorkerCpuS: +busiest.toFixed(1) },
      }),
      w1,
    );
    return [w1, w2];
  } catch (e) {
    return [failedRecord(name(2), e, 'report')];
  } finally {
    console.log(`  (reports and caches kept in ${dir})`);
  }
}

export const suite: BenchSuite = {
  id: 'report',
  title:
    'Both cores for the report: `transferkit report --quick --fresh`, --workers 2 vs --workers 1 (same run)',
  run,
};
