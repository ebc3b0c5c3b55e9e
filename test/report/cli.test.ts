import { Command, CommanderError } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../src/cli/report.js';
import { sections } from '../../src/report/sections/index.js';

function program(): Command {
  const cmd = reportCommand();
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return new Command('transferkit').exitOverride().addCommand(cmd);
}

describe('transferkit report (command line)', () => {
  it('lists the registered section ids', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    try {
      await program().parseAsync(['report', '--list'], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    expect(out.join('')).toContain(`${sections[0].id}\t${sections[0].title}`);
  });

  it('exits with code 2 for unknown sections, conflicting modes and bad seeds or worker counts, before running anything', async () => {
    for (const args of [
      ['report', '--only', 'nope'],
      ['report', '--quick', '--full'],
      ['report', '--seed', '-1'],
      ['report', '--backend', 'gpu'],
      ['report', '--workers', '0'],
      ['report', '--workers', '1.5'],
    ]) {
      const err = await program()
        .parseAsync(args, { from: 'user' })
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(err, args.join(' ')).toBeInstanceOf(CommanderError);
      expect([1, 2]).toContain((err as CommanderError).exitCode);
    }
  });
});
