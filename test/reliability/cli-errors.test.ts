/** The command line ends a user's mistake with one line and a documented exit status (issue 17). */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { describeCliError, EXIT, reportCliError } from '../../src/cli/errors.js';
import { featuresCommand } from '../../src/cli/features.js';
import { svmCommand } from '../../src/cli/svm.js';
import { InvalidArgumentError } from '../../src/index.js';
import { backendName } from '../helpers.js';

async function failure(
  run: () => Promise<unknown>,
): Promise<{ line: string; exitCode: number; stack?: string }> {
  try {
    await run();
  } catch (e) {
    return describeCliError(e);
  }
  throw new Error('expected the command to fail');
}

describe('CLI errors', () => {
  it('maps typed errors to 2, file errors to 3 and bugs to 70 with a stack', () => {
    const typed = describeCliError(new InvalidArgumentError('f', 'x', 'a number', 'a'));
    expect(typed).toEqual({
      line: 'transferkit: Invalid `x` passed to `f`. Expected a number. Received: "a".',
      exitCode: 2,
    });
    const io = Object.assign(new Error('ENOENT: no such file'), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/nope',
    });
    expect(describeCliError(io)).toEqual({
      line: 'transferkit: cannot open /nope (ENOENT)',
      exitCode: EXIT.io,
    });
    const bug = describeCliError(new TypeError('x is undefined'));
    expect(bug.exitCode).toBe(EXIT.internal);
    expect(bug.stack).toMatch(/TypeError/);
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      writes.push(String(s));
      return true;
    });
    const before = process.exitCode;
    try {
      reportCliError(new InvalidArgumentError('f', 'x', 'a number', 'a'));
      expect(process.exitCode).toBe(2);
    } finally {
      spy.mockRestore();
      process.exitCode = before;
    }
    expect(writes).toHaveLength(1);
    expect(writes[0].split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('features --images /nope and svm --train /nope.tkf end in one typed line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tk-cli-err-'));
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const a = await failure(() =>
        featuresCommand().parseAsync(
          [
            '--model',
            path.join(dir, 'none.json'),
            '--images',
            '/nope',
            '--tap',
            'x',
            '--out',
            path.join(dir, 'f.tkf'),
            '--backend',
            backendName(),
          ],
          { from: 'user' },
        ),
      );
      expect(a.exitCode).toBe(EXIT.invalidInput);
      expect(a.line.split('\n')).toHaveLength(1);
      const b = await failure(() =>
        svmCommand().parseAsync(['--train', '/nope.tkf', '--backend', backendName()], { from: 'user' }),
      );
      expect(b.exitCode).toBe(EXIT.invalidInput);
      expect(b.line).toMatch(/nope\.tkf/);
    } finally {
      spy.mockRestore();
    }
  });
});
