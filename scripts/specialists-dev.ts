/**
 * Chooses the specialists section's recipe on a DEVELOPMENT split carved from the Fashion-MNIST training part (the
 * report's quick split: seed 0, 2,500 images per class, 1/7 of each class as the test part). A seeded sixth of the
 * training part is the dev split; the generalist, its held-out draw, the specialists and the control train on the
 * other five sixths and are scored on the dev split. The test part is never read here.
 *
 *   npx tsx scripts/specialists-dev.ts <grid> [out.jsonl] [seeds]
 *
 * Grids: `lr` (the extra epochs' Adam learning rate, the same for the specialists and the control: 2e-3, 1e-3,
 * 5e-4), `lr-low` (2.5e-4), `lr-hi` (2e-3 again: a second look at the default), or one setting as
 * `key=value,...` (`lr`, `slr`, `clr`: extra-epoch rates of both arms / the specialists / the control; `g`: the
 * generalist's epochs; `e`: the extra epochs). Each line of the output is one
 * seed of one setting: the dev accuracies of the generalist, the ensemble and the control (all dev images, and
 * those of the classes a specialist covers), wall and CPU seconds; each setting ends with a summary line (paired
 * 95% t intervals). scripts/specialists-dev-results.jsonl holds this session's lines.
 *
 * @module
 */
import { appendFileSync } from 'node:fs';
import { Rng } from '../src/index.js';
import { initBackend } from '../src/node.js';
import { loadFashionMnist } from '../src/node/datasets.js';
import { range } from '../src/report/data.js';
import { type SpecialistsConfig, specialistsConfig } from '../src/report/sections/specialists/config.js';
import { runSpecialistsOn } from '../src/report/sections/specialists/run.js';
import { pairedInterval } from '../src/report/stats.js';
import type { ReportContext } from '../src/report/types.js';

/** Seed of the dev draw (not a seed any section uses). */
const DEV_SEED = 900;

interface Setting {
  name: string;
  change: Partial<SpecialistsConfig>;
}

function grid(name: string): Setting[] {
  const lr = (v: number): Setting => ({
    name: `extra lr ${v}`,
    change: { specialistLearningRate: v, controlLearningRate: v },
  });
  switch (name) {
    case 'lr':
      return [lr(2e-3), lr(1e-3), lr(5e-4)];
    case 'lr-low':
      return [lr(2.5e-4)];
    case 'lr-hi':
      return [lr(2e-3)];
    default: {
      // One setting as `key=value,...`: `lr` (both arms' extra-epoch rate), `slr` / `clr` (one arm's), `g` (the
      // generalist's epochs), `e` (the extra epochs). Used to run settings one per process, on both cores.
      const keys: Record<string, (keyof SpecialistsConfig)[]> = {
        lr: ['specialistLearningRate', 'controlLearningRate'],
        slr: ['specialistLearningRate'],
        clr: ['controlLearningRate'],
        g: ['generalistEpochs'],
        e: ['extraEpochs'],
      };
      const change: Record<string, number> = {};
      for (const part of name.split(',')) {
        const [k, v] = part.split('=');
        if (!keys[k] || !Number.isFinite(Number(v))) throw new Error(`unknown grid ${name}`);
        for (const field of keys[k]) change[field] = Number(v);
      }
      return [{ name, change: change as Partial<SpecialistsConfig> }];
    }
  }
}

function pts(x: number): string {
  return (x * 100).toFixed(2);
}

async function main(): Promise<void> {
  const [gridName = 'lr', out = '/tmp/specialists-dev.jsonl', seedsArg = '4'] = process.argv.slice(2);
  await initBackend('wasm');
  const base = specialistsConfig('quick');
  const data = await loadFashionMnist({
    seed: 0,
    testFraction: base.testFraction,
    limitPerClass: base.limitPerClass,
  });
  const perm = new Rng(DEV_SEED).permutation(data.train.size);
  const nDev = Math.round(data.train.size / 6);
  const devRows = perm.slice(0, nDev).sort((a, b) => a - b);
  const dev = new Set(devRows);
  const trainRows = range(data.train.size).filter((r) => !dev.has(r));
  const ctx: ReportContext = {
    mode: 'quick',
    seed: 0,
    backend: 'wasm',
    cacheDir: '/tmp',
    progress: () => {},
    log: (m) => process.stderr.write(`${m}\n`),
    shared: <T>(_key: string, create: () => Promise<T>) => create(),
  };
  for (const setting of grid(gridName)) {
    const cfg: SpecialistsConfig = { ...base, ...setting.change, seeds: Number(seedsArg) };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const runs = await runSpecialistsOn(
      ctx,
      cfg,
      {
        train: data.train,
        trainRows,
        evaluate: data.train,
        evaluateRows: devRows,
        numClasses: data.numClasses,
        classNames: data.classNames,
      },
      300,
    );
    const cu = process.cpuUsage(c0);
    const cpu = (cu.user + cu.system) / 1e6;
    for (const r of runs) {
      const line = {
        grid: gridName,
        name: setting.name,
        ...setting.change,
        seed: r.seed,
        train: r.sizes.train,
        dev: r.sizes.test,
        generalist: r.generalist.accuracy,
        ensemble: r.ensemble.accuracy,
        control: r.control.accuracy,
        generalistCovered: r.generalist.covered,
        ensembleCovered: r.ensemble.covered,
        controlCovered: r.control.covered,
        specialists: r.specialists.map((s) => s.classes),
        seconds: r.seconds,
      };
      appendFileSync(out, `${JSON.stringify(line)}\n`);
    }
    const e = runs.map((r) => r.ensemble.accuracy);
    const c = runs.map((r) => r.control.accuracy);
    const g = runs.map((r) => r.generalist.accuracy);
    const summary = {
      grid: gridName,
      name: setting.name,
      summary: true,
      seeds: runs.length,
      ensembleVsControl: runs.length > 1 ? pairedInterval(e, c) : null,
      ensembleVsGeneralist: runs.length > 1 ? pairedInterval(e, g) : null,
      controlVsGeneralist: runs.length > 1 ? pairedInterval(c, g) : null,
      wall: (performance.now() - t0) / 1000,
      cpu,
    };
    appendFileSync(out, `${JSON.stringify(summary)}\n`);
    const iv = summary.ensembleVsControl;
    process.stdout.write(
      `${setting.name}: ensemble − control ${iv ? `${pts(iv.estimate)} [${pts(iv.lo)}, ${pts(iv.hi)}]` : 'n/a'} pts on dev; ${cpu.toFixed(0)} s CPU, ${summary.wall.toFixed(0)} s wall\n`,
    );
  }
  data.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
