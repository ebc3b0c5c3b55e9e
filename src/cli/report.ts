/**
 * `transferkit report`: runs the paper report and writes one self-contained HTML file.
 *
 * @module
 */
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { defaultWorkers } from '../node/pool.js';
import { initBackend } from '../node.js';
import { terminalProgress } from '../report/progress.js';
import { runReport } from '../report/runner.js';
import { sections } from '../report/sections/index.js';

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CommanderArgumentError('expected an integer >= 0.');
  return n;
}

function parseWorkers(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommanderArgumentError('expected an integer >= 1.');
  return n;
}

function parseList(v: string, prev: string[] = []): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** Builds the `report` sub-command. */
export function reportCommand(): Command {
  return new Command('report')
    .description(
      'Run the paper experiments at small scale and write a self-contained HTML report (inline SVG/PNG, no network).',
    )
    .option('--quick', 'small runs that finish in minutes on 2 cores (default)')
    .option('--full', 'larger runs (longer training, more seeds)')
    .option(
      '--only <ids>',
      `comma-separated section ids (${sections.map((s) => s.id).join(', ')})`,
      parseList,
    )
    .option('--seed <n>', 'base seed of the run', parseSeed, 0)
    .option('--out <path>', 'output folder (writes <path>/index.html) or .html file', 'report')
    .option('--cache-dir <dir>', 'folder of the cached JSON results (default: <out>/cache)')
    .option('--rerender', 'only re-render cached results; compute nothing')
    .option('--fresh', "ignore and delete this mode+seed's cache, compute everything again")
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'wasm', 'cpu', 'tensorflow'])
        .default('auto'),
    )
    .option(
      '--workers <n>',
      'worker threads for the sections, longest first, each with its own engine (1: one after the other in this thread; default: the number of cores)',
      parseWorkers,
    )
    .option('--no-progress', 'no progress bars (log lines only)')
    .option('--list', 'list the section ids and exit')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      if (opts.list) {
        for (const s of sections) process.stdout.write(`${s.id}\t${s.title}\n`);
        return;
      }
      if (opts.quick && opts.full) cmd.error('error: --quick and --full exclude each other', { exitCode: 2 });
      const known = new Set(sections.map((s) => s.id));
      const only = opts.only as string[] | undefined;
      const unknown = only?.filter((id) => !known.has(id)) ?? [];
      if (unknown.length > 0) {
        cmd.error(`error: unknown section id(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`, {
          exitCode: 2,
        });
      }
      const backend = await initBackend(opts.backend as string);
      const progress = terminalProgress({ bars: opts.progress !== false });
      const workers = (opts.workers as number | undefined) ?? defaultWorkers();
      progress.log(
        `transferkit report: ${opts.full ? 'full' : 'quick'} mode, seed ${opts.seed}, backend ${backend}, ${workers} worker${workers === 1 ? '' : 's'}`,
      );
      const run = await runReport({
        mode: opts.full ? 'full' : 'quick',
        seed: opts.seed as number,
        only,
        out: opts.out as string,
        cacheDir: opts.cacheDir as string | undefined,
        rerender: Boolean(opts.rerender),
        fresh: Boolean(opts.fresh),
        progress,
        workers,
        command: `transferkit ${process.argv.slice(2).join(' ')}`.trim(),
      });
      const failed = run.sections.filter((s) => s.status === 'failed');
      const lines = run.sections.flatMap((s) =>
        (s.headlines ?? []).map((h) => `  ${s.id}: ${h.claim}: ${h.ours} (paper: ${h.paper})`),
      );
      if (lines.length > 0) process.stderr.write(`\nAt a glance:\n${lines.join('\n')}\n`);
      process.stderr.write(
        `\nReport written to ${run.file} in ${run.seconds.toFixed(1)} s (${run.cpuSeconds.toFixed(1)} s CPU, ${run.workers} worker${run.workers === 1 ? '' : 's'}): ${run.sections.map((s) => `${s.id} ${s.status}${s.seconds === undefined ? '' : ` ${s.seconds.toFixed(0)} s${s.cpuSeconds === undefined ? '' : ` (${s.cpuSeconds.toFixed(0)} s CPU)`}`}`).join(', ')}\n`,
      );
      if (failed.length > 0) {
        for (const f of failed) process.stderr.write(`\n${f.id} failed:\n${f.error}\n`);
        process.exitCode = 1;
      }
    });
}
