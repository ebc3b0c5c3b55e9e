/**
 * Locating optional peer packages (`mnist`, `nsfwjs`) from Node: they are resolved from transferkit's own location
 * first, then from the working directory (the user's project), and a missing one becomes a
 * {@link index!MissingDependencyError | MissingDependencyError} that says how to install it.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MissingDependencyError } from '../index.js';

function requireFrom(): NodeJS.Require[] {
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  return [createRequire(here), createRequire(path.join(process.cwd(), 'package.json'))];
}

/**
 * The root folder of an installed package (the folder of its package.json), found through `require.resolve` of its
 * main entry and a walk up, so packages whose exports map blocks deep imports can still be read by path.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when the package is not installed
 * @example
 * ```ts
 * const root = packageRoot('nsfwjs', 'for the pretrained backbones'); // .../node_modules/nsfwjs
 * ```
 */
export function packageRoot(name: string, purpose: string): string {
  for (const req of requireFrom()) {
    let main: string;
    try {
      main = req.resolve(name);
    } catch {
      continue;
    }
    let dir = path.dirname(main);
    for (;;) {
      const pj = path.join(dir, 'package.json');
      if (existsSync(pj)) {
        try {
          if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) return dir;
        } catch {
          // a malformed package.json on the way up: keep walking
        }
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new MissingDependencyError(name, purpose);
}

/**
 * `require`s a CommonJS file by absolute path (used for the UMD weight bundles shipped inside nsfwjs).
 */
export function requireFile(file: string): unknown {
  return requireFrom()[0](file);
}
