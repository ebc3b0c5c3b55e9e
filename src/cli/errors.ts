/**
 * How the command line ends on an error: one line and a documented exit status for mistakes the user can fix
 * (a typed transferkit error, a missing or unwritable file), a stack only for what is a bug.
 *
 * Exit status: 0 success; 1 usage error (commander: unknown option, missing argument) or a report section failed;
 * 2 invalid input (a {@link TransferkitError}: a bad value, a corrupt file, a model transferkit cannot use);
 * 3 a file or folder that cannot be read or written; 70 an internal error (please report it, with the stack).
 *
 * @module
 */
import { isTransferkitError } from '../index.js';

/** The exit statuses of `transferkit` (see the module comment and the README). */
export const EXIT = Object.freeze({ ok: 0, usage: 1, invalidInput: 2, io: 3, internal: 70 });

const IO_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'EROFS',
  'ENOSPC',
  'EEXIST',
  'EMFILE',
]);

/** What to print and which status to exit with for an error that ended a command. */
export function describeCliError(e: unknown): { line: string; exitCode: number; stack?: string } {
  if (isTransferkitError(e)) return { line: `transferkit: ${e.message}`, exitCode: EXIT.invalidInput };
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code === 'string' && IO_CODES.has(err.code)) {
    const what = err.path !== undefined ? ` ${err.path}` : '';
    return { line: `transferkit: cannot ${err.syscall ?? 'access'}${what} (${err.code})`, exitCode: EXIT.io };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    line: `transferkit: internal error: ${message} (please report it with the stack below)`,
    exitCode: EXIT.internal,
    stack: e instanceof Error ? e.stack : undefined,
  };
}

/** Prints the error as {@link describeCliError} says and sets `process.exitCode`. */
export function reportCliError(e: unknown): void {
  const { line, exitCode, stack } = describeCliError(e);
  process.stderr.write(`${line}\n`);
  if (stack !== undefined) process.stderr.write(`${stack}\n`);
  process.exitCode = exitCode;
}
