/**
 * The shape of the source tree: no module imports itself through a loop, and no file of local/,
 * lambdas/ or lib/ grows past what a reader takes in at once. Imports are read with TypeScript's own
 * pre-processor (`ts.preProcessFile`), which lists `import`, `import type`, `export … from` and
 * `import()` alike, so no kind of import escapes the walk.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const SOURCE_FOLDERS = ['core', 'store', 'lambdas', 'lib', 'local', 'cli', 'bin', 'statemachines'];
const MAX_LINES = 500;

function sourceFiles(folder: string): string[] {
  const path = join(ROOT, folder);
  if (!existsSync(path)) return [];
  return readdirSync(path).flatMap((name) => {
    const child = join(folder, name);
    if (statSync(join(ROOT, child)).isDirectory()) return sourceFiles(child);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [child] : [];
  });
}

/** The project file a relative specifier names (`./x` → x.ts or x/index.ts), or undefined outside the tree. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = join(dirname(from), specifier).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(join(ROOT, candidate))) return candidate;
  }
  return undefined;
}

/** The relative specifiers a module's text imports, of every kind. */
function relativeImports(text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles.map((reference) => reference.fileName).filter((specifier) => specifier.startsWith('.'));
}

/** Every module of the tree and the project modules it imports. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  return new Map(
    files.map((file) => {
      const targets = relativeImports(readFileSync(join(ROOT, file), 'utf8'))
        .map((specifier) => resolveImport(file, specifier))
        .filter((target): target is string => target !== undefined);
      return [file, [...new Set(targets)]];
    }),
  );
}

/** The import loops of a graph, each as the path that closes it (a → b → a); a depth-first walk. */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (module: string): void => {
    const at = onPath.indexOf(module);
    if (at >= 0) {
      cycles.push([...onPath.slice(at), module]);
      return;
    }
    if (done.has(module)) return;
    onPath.push(module);
    for (const target of graph.get(module) ?? []) visit(target);
    onPath.pop();
    done.add(module);
  };
  for (const module of [...graph.keys()].sort()) visit(module);
  return cycles;
}

describe('the import graph', () => {
  const files = SOURCE_FOLDERS.flatMap(sourceFiles);
  const graph = importGraph(files);

  it('reads every kind of relative import', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "import {\n  c,\n  type C,\n} from './c';",
      "export { d } from './d';",
      "export type { E } from './e';",
      "export * from './f';",
      "import './g';",
      "const h = await import('./h');",
      "import { SFN } from '@aws-sdk/client-sfn';",
      '// a comment naming ./i is no import',
    ].join('\n');
    expect(relativeImports(text)).toEqual(['./a', '../b', './c', './d', './e', './f', './g', './h']);
  });

  it('reads the whole tree', () => {
    expect(files).toEqual(expect.arrayContaining(['core/records.ts', 'store/run-store.ts', 'statemachines/index.ts']));
    expect(graph.get('store/run-store.ts')).toEqual(expect.arrayContaining(['core/records.ts', 'store/schema.ts']));
  });

  it('finds a loop through any number of modules', () => {
    const loop = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
    ]);
    expect(importCycles(loop)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(importCycles(new Map([['a.ts', ['a.ts']]]))).toEqual([['a.ts', 'a.ts']]);
  });

  it('has no loop: no module imports itself, directly or through others', () => {
    const loops = importCycles(graph).map((cycle) => cycle.join(' → '));
    expect(loops).toEqual([]);
  });
});

describe('file size', () => {
  it(`no source file in local/, lambdas/ or lib/ is over ${MAX_LINES} lines`, () => {
    const tooLong = ['local', 'lambdas', 'lib']
      .flatMap(sourceFiles)
      // Lines as `wc -l` counts them.
      .map((file) => ({ file, lines: readFileSync(join(ROOT, file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(tooLong).toEqual([]);
  });
});
