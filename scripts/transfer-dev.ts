/**
 * Chooses the transfer section's quick recipe (Yosinski et al. 2014) on a DEVELOPMENT split carved from the
 * training part of the section's own data split: per class, the last `devFraction` of the training rows are held
 * out as the dev set and the networks train on the rest. The section's test part is never read here.
 *
 *   npx tsx scripts/transfer-dev.ts '<json settings>' [out.jsonl]
 *
 * Settings (JSON; every key optional): `name`, `perClass` (images per class before the 75/25 split, as in the
 * section), `architecture` (zeilerFergusCnn options), `epochs`, `batchSize`, `learningRate`, `seeds`, `ns`, `kinds`
 * (of the similar split), `dissimilarKinds` (of the dissimilar split; [] skips it), `devFraction`. The dissimilar
 * split reuses the similar split's B-side networks (baseB, BnB, BnB+: they never see A), as the section does.
 * Each output line is one setting: per seed and network its dev accuracy, plus the section's statistics and the CPU
 * and wall seconds; scripts/transfer-dev-results.jsonl holds this session's lines.
 *
 * @module
 */
import { appendFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { TransferExperiment, type TransferResults, zeilerFergusCnn } from '../src/index.js';
import { initBackend, loadFashionMnist, loadMnist } from '../src/node.js';
import { type TransferSectionConfig, transferSectionConfig } from '../src/report/sections/transfer/config.js';
import { transferIntervals } from '../src/report/sections/transfer/render.js';
import { sharedBSide } from '../src/report/sections/transfer/run.js';

interface DevSettings {
  name: string;
  devFraction: number;
  ns?: number[];
  kinds?: ('AnB' | 'BnB' | 'AnB+' | 'BnB+')[];
}

type Labeled = { x: tf.Tensor; labels: number[] };

/** Splits a training part per class: the last `fraction` of each class's rows become the dev set. */
function carveDev(x: tf.Tensor, labels: readonly number[], fraction: number): { train: Labeled; dev: Labeled } {
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => {
    byClass.set(l, [...(byClass.get(l) ?? []), i]);
  });
  const trainRows: number[] = [];
  const devRows: number[] = [];
  for (const rows of byClass.values()) {
    const cut = rows.length - Math.round(rows.length * fraction);
    trainRows.push(...rows.slice(0, cut));
    devRows.push(...rows.slice(cut));
  }
  const take = (rows: number[]): Labeled => ({
    x: tf.gather(x, tf.tensor1d(rows, 'int32')),
    labels: rows.map((r) => labels[r]),
  });
  return { train: take(trainRows), dev: take(devRows) };
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Partial<TransferSectionConfig & DevSettings>;
  const out = process.argv[3] ?? 'scripts/transfer-dev-results.jsonl';
  const base = transferSectionConfig('quick');
  const cfg: TransferSectionConfig = {
    ...base,
    ...Object.fromEntries(Object.entries(input).filter(([k]) => k in base)),
  } as TransferSectionConfig;
  const dev: DevSettings = {
    name: input.name ?? 'unnamed',
    devFraction: input.devFraction ?? 0.2,
    ns: input.ns,
    kinds: input.kinds,
  };
  const backend = await initBackend();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const split = { seed: 0, testFraction: cfg.testFraction, limitPerClass: cfg.perClass };
  const digits = await loadMnist(split);
  const clothes = await loadFashionMnist({ ...split, classes: cfg.clothes });
  const offset = 10;
  const x = tf.concat([digits.train.x, clothes.train.x], 0);
  const labels = [...digits.train.labels, ...clothes.train.labels.map((l) => l + offset)];
  const { train, dev: devSet } = carveDev(x, labels, dev.devFraction);
  x.dispose();
  const seeds = (input as { seeds?: number[] }).seeds ?? [201, 202];
  const training = {
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    learningRate: cfg.learningRate,
    optimizer: 'adam' as const,
  };
  const modelFactory = (numClasses: number, seed: number) =>
    zeilerFergusCnn({ ...cfg.architecture, numClasses, seed });
  const digitsB = [5, 6, 7, 8, 9];
  const cpuRuns = process.cpuUsage();
  const similar = await new TransferExperiment(
    { train, test: devSet, classesA: [0, 1, 2, 3, 4], classesB: digitsB },
    { modelFactory, seeds, training, ns: dev.ns, kinds: dev.kinds },
  ).run();
  let dissimilar: TransferResults | undefined;
  const dk = cfg.dissimilarKinds;
  if (dk.length > 0) {
    const classesA = cfg.clothes.map((c) => c + offset);
    dissimilar = await new TransferExperiment(
      { train, test: devSet, classesA, classesB: digitsB },
      {
        modelFactory,
        seeds,
        training,
        ns: dev.ns,
        kinds: [...new Set([...dk, ...similar.kinds.filter((k) => k.startsWith('B'))])],
        resume: sharedBSide(similar, classesA),
      },
    ).run();
  }
  const cpu = process.cpuUsage(cpu0);
  const runsCpu = process.cpuUsage(cpuRuns);
  const acc = (r: TransferResults) =>
    Object.fromEntries(
      r.runs.map((run) => [`${run.kind}|${run.n}|${run.seed}`, Math.round(run.accuracy * 10000) / 10000]),
    );
  const runMs = (r: TransferResults) =>
    Object.fromEntries(r.runs.map((run) => [`${run.kind}|${run.n}|${run.seed}`, Math.round(run.ms)]));
  const ms = (r: TransferResults) => r.runs.reduce((a, run) => a + run.ms, 0) / 1000;
  const splits = [
    { name: 'similar' as const, taskA: 'digits 0-4', results: similar },
    ...(dissimilar ? [{ name: 'dissimilar' as const, taskA: 'clothes', results: dissimilar }] : []),
  ];
  const iv = transferIntervals({
    mode: 'quick',
    backend,
    seconds: 0,
    config: cfg,
    trainPerTask: 0,
    testPerTask: 0,
    stageNames: [],
    splits,
    medianRunSeconds: 0,
    networks: 0,
  });
  const round = (v: unknown) =>
    v === null || v === undefined
      ? null
      : Object.fromEntries(
          Object.entries(v as Record<string, number>).map(([k, n]) => [k, Math.round(n * 10000) / 10000]),
        );
  const line = {
    name: dev.name,
    config: cfg,
    dev,
    seeds,
    backend,
    trainImages: train.labels.length,
    devImages: devSet.labels.length,
    networks: similar.runs.length + (dissimilar?.runs.filter((r) => r.kind.startsWith('A') || r.kind === 'baseA').length ?? 0),
    trainSeconds: { similar: ms(similar), dissimilar: dissimilar ? ms(dissimilar) : 0 },
    stats: Object.fromEntries(Object.entries(iv).map(([k, v]) => [k, round(v)])),
    accuracy: { similar: acc(similar), dissimilar: dissimilar ? acc(dissimilar) : {} },
    ms: { similar: runMs(similar), dissimilar: dissimilar ? runMs(dissimilar) : {} },
    wall: Math.round(performance.now() - t0) / 1000,
    cpu: Math.round((cpu.user + cpu.system) / 1000) / 1000,
    runsCpu: Math.round((runsCpu.user + runsCpu.system) / 1000) / 1000,
  };
  appendFileSync(out, `${JSON.stringify(line)}\n`);
  console.log(JSON.stringify({ name: line.name, cpu: line.cpu, runsCpu: line.runsCpu, wall: line.wall }));
  tf.dispose([train.x, devSet.x]);
  digits.dispose();
  clothes.dispose();
}

await main();
