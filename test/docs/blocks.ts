/**
 * The `ts` code blocks of README.md and docs/*.md, as compilable (and, where marked, runnable) modules.
 *
 * A block may be preceded (on the line just before its fence, or with only blank lines between) by an HTML comment
 * that readers of the rendered page do not see:
 *
 *     <!-- docs-test: {"preamble": "deconvnet", "run": true, "shrink": [["limitPerClass: 300", "limitPerClass: 10"]]} -->
 *
 * - `preamble`: names an entry of test/docs/preambles.ts, prepended (hidden) to the block: the imports and values
 *   a fragment uses without declaring (a model, images...). Imports the block makes itself win.
 * - `run`: `true` to also run the block in the test (cpu backend, in a scratch folder); a string says why it is
 *   compiled only (a browser, a pretrained download, a Redis server...). Default: compiled only.
 * - `shrink`: `[from, to]` text replacements applied ONLY when running, to make a full-size example small and fast
 *   (each `from` must occur in the block).
 * - `as`: compile the block as if it were this repository file (e.g. a report section under src/report/sections/,
 *   which imports repo-internal modules by design).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { PREAMBLES, type Preamble } from './preambles.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One ```ts block of a markdown file. */
export interface DocBlock {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based index among the file's ```ts blocks. */
  index: number;
  /** 1-based line of the opening fence in the markdown file. */
  fenceLine: number;
  code: string;
  preamble?: string;
  run: boolean | string;
  shrink: Array<[string, string]>;
  as?: string;
  /** An annotation that could not be parsed. */
  annotationError?: string;
}

/** `README.md block 2 (line 40)`: how messages name a block, so the doc's author can find it. */
export function blockName(b: DocBlock): string {
  return `${b.file} ts block #${b.index} (line ${b.fenceLine})`;
}

/** The markdown files whose ts blocks are tested. */
export function docFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

const ANNOTATION = /^<!--\s*docs-test:\s*(.*?)\s*-->\s*$/;

/** Parses the ```ts blocks (fences ```ts or ```typescript) of one markdown file. */
export function parseBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(lines[i]);
    if (!open) {
      i++;
      continue;
    }
    const fence = open[2];
    const fenceLine = i + 1;
    const body: string[] = [];
    i++;
    while (i < lines.length && lines[i].trim() !== fence) body.push(lines[i++]);
    i++;
    const block: DocBlock = {
      file,
      index: blocks.length + 1,
      fenceLine,
      code: body.join('\n'),
      run: false,
      shrink: [],
    };
    let j = fenceLine - 2;
    while (j >= 0 && lines[j].trim() === '') j--;
    const ann = j >= 0 ? ANNOTATION.exec(lines[j].trim()) : null;
    if (ann) {
      try {
        const o = JSON.parse(ann[1]) as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          if (!['preamble', 'run', 'shrink', 'as'].includes(k)) throw new Error(`unknown key '${k}'`);
        }
        if (o.preamble !== undefined) block.preamble = String(o.preamble);
        if (o.run !== undefined) block.run = o.run as boolean | string;
        if (o.shrink !== undefined) block.shrink = o.shrink as Array<[string, string]>;
        if (o.as !== undefined) block.as = String(o.as);
      } catch (e) {
        block.annotationError = `bad docs-test annotation on line ${j + 1}: ${(e as Error).message}`;
      }
    }
    blocks.push(block);
  }
  return blocks;
}

/** Every ts block of README.md and docs/*.md. */
export function allBlocks(): DocBlock[] {
  return docFiles().flatMap((f) => parseBlocks(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
}

/** Names the block imports itself (so the preamble does not import them again). */
function importedNames(code: string): Set<string> {
  const sf = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !st.importClause) continue;
    const c = st.importClause;
    if (c.name) names.add(c.name.text);
    const nb = c.namedBindings;
    if (nb && ts.isNamespaceImport(nb)) names.add(nb.name.text);
    if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) names.add(el.name.text);
  }
  return names;
}

/** The module a block becomes: hidden preamble lines, then the block. `offset` = number of preamble lines. */
export interface BlockModule {
  source: string;
  offset: number;
}

/** Preamble + block, for compiling (`run` false) or running (`run` true: the shrink replacements applied). */
export function blockModule(b: DocBlock, run: boolean): BlockModule {
  let code = b.code;
  if (run) {
    for (const [from, to] of b.shrink) {
      if (!code.includes(from)) {
        throw new Error(
          `${blockName(b)}: the docs-test shrink text ${JSON.stringify(from)} is not in the block`,
        );
      }
      code = code.split(from).join(to);
    }
  }
  const head: string[] = [];
  if (b.preamble !== undefined) {
    const p: Preamble | undefined = PREAMBLES[b.preamble];
    if (!p) {
      throw new Error(
        `${blockName(b)}: no preamble named '${b.preamble}' in test/docs/preambles.ts (there are: ${Object.keys(PREAMBLES).join(', ')})`,
      );
    }
    const own = importedNames(code);
    for (const [mod, names] of Object.entries(p.imports ?? {})) {
      for (const n of names) {
        const ns = /^\* as (\w+)$/.exec(n);
        const local = ns ? ns[1] : n.replace(/^type\s+/, '');
        if (own.has(local)) continue;
        head.push(ns ? `import * as ${local} from '${mod}';` : `import { ${n} } from '${mod}';`);
      }
    }
    if (p.code) head.push(...p.code.replace(/^\n+|\s+$/g, '').split('\n'));
  }
  // `export {}` keeps the file a module even when neither part imports anything (top-level await needs one).
  head.push('export {};');
  return { source: `${head.join('\n')}\n${code}\n`, offset: head.length };
}

/** A compile error, located in the markdown file. */
export interface BlockDiagnostic {
  block: DocBlock;
  message: string;
}

/**
 * Type-checks every block in ONE program, with the options of examples/tsconfig.json (so 'transferkit' and
 * 'transferkit/node' resolve to src/). Returns one diagnostic per error, located in the markdown file.
 */
export function compileBlocks(blocks: DocBlock[]): BlockDiagnostic[] {
  const configPath = path.join(ROOT, 'examples/tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('cannot read examples/tsconfig.json');
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false };
  const virtual = new Map<string, { block: DocBlock; mod: BlockModule }>();
  const out: BlockDiagnostic[] = [];
  for (const b of blocks) {
    if (b.annotationError) {
      out.push({ block: b, message: b.annotationError });
      continue;
    }
    const slug = `${b.file.replace(/[^\w]+/g, '-')}-${b.index}`;
    const file = b.as
      ? path.join(ROOT, path.dirname(b.as), `__docs_${slug}_${path.basename(b.as)}`)
      : path.join(ROOT, 'test/docs/__blocks__', `${slug}.ts`);
    try {
      virtual.set(file, { block: b, mod: blockModule(b, false) });
    } catch (e) {
      out.push({ block: b, message: (e as Error).message });
    }
  }
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, lang, onError, create) => {
    const v = virtual.get(path.resolve(fileName));
    if (v) return ts.createSourceFile(fileName, v.mod.source, lang, true);
    return getSourceFile(fileName, lang, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => virtual.has(path.resolve(f)) || fileExists(f);
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => virtual.get(path.resolve(f))?.mod.source ?? readFile(f);
  const types = parsed.fileNames.filter((f) => f.endsWith('.d.ts'));
  const program = ts.createProgram([...virtual.keys(), ...types], options, host);
  for (const [file, { block, mod }] of virtual) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${blockName(block)}: not in the program`);
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    for (const d of diags) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
      const { line } =
        d.file && d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start) : { line: -1 };
      const where =
        line < 0
          ? ''
          : line < mod.offset
            ? ` (in the hidden preamble '${block.preamble}', line ${line + 1})`
            : ` (${block.file} line ${block.fenceLine + line - mod.offset + 1})`;
      out.push({ block, message: `TS${d.code}${where}: ${text}` });
    }
  }
  return out;
}
