/**
 * What AWS SDK commands code can send, read from the code itself with the TypeScript checker: from
 * an entry (a handler file, or the exported functions of a module), every function, method and
 * initializer it can reach is walked, and each `new XxxCommand(…)` of an `@aws-sdk/*` package, each
 * waiter (`waitUntilXxx`, whose polled command is read from the SDK's own source) and each paginator
 * is collected with the file it is in.
 *
 * Reaching is conservative: a reached function's whole body is walked (callbacks included, called or
 * not); a call through an interface reaches every method of that name in the classes implementing
 * the interface; a reached module's top-level statements run. A use of the SDK this walker cannot
 * classify (an aggregated client such as `new Lambda()`, with methods that send commands unseen)
 * fails the walk, so nothing sends unseen.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..', '..');

/** One command the code can send, where it is written. */
export interface SdkCall {
  /** The package, e.g. `@aws-sdk/client-codebuild`. */
  readonly pkg: string;
  /** The command class, e.g. `DescribeTestCasesCommand`. */
  readonly command: string;
  /** The file (relative to the repository) that sends it. */
  readonly site: string;
  /** Sent by a waiter or paginator of this name, when it is not written out. */
  readonly via?: string;
}

export interface Reach {
  readonly calls: readonly SdkCall[];
  /** Names of the run table's indexes (`INDEXES.<name>`) referenced by reached code that sets `IndexName`. */
  readonly queriedIndexes: ReadonlySet<string>;
  /** Every source file (relative) holding reached code. */
  readonly files: ReadonlySet<string>;
}

export type Entry =
  /** A module whose top-level statements run (a handler file: its `handler` export and what loading it does). */
  | { readonly module: string }
  /** Named exported functions of a module (the CLI's commands). */
  | { readonly module: string; readonly exports: readonly string[] };

export class SdkCallAnalyzer {
  private readonly program: ts.Program;
  private readonly checker: ts.TypeChecker;
  /** Every class of our source. */
  private readonly classes: ts.ClassLikeDeclaration[] = [];

  constructor(rootFiles: readonly string[]) {
    const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    this.program = ts.createProgram({ rootNames: rootFiles.map((f) => join(ROOT, f)), options });
    this.checker = this.program.getTypeChecker();
    for (const file of this.program.getSourceFiles().filter(isOurs)) {
      const visit = (node: ts.Node): void => {
        if (ts.isClassLike(node)) this.classes.push(node);
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
  }

  reach(entry: Entry): Reach {
    const source = this.sourceFile(entry.module);
    const calls = new Map<string, SdkCall>();
    const queriedIndexes = new Set<string>();
    const files = new Set<string>();
    const done = new Set<ts.Node>();
    const queue: ts.Node[] = [];
    const enqueue = (node: ts.Node | undefined): void => {
      if (node && !done.has(node) && isOurs(node.getSourceFile())) {
        done.add(node);
        queue.push(node);
      }
    };
    const loaded = new Set<ts.SourceFile>();
    const load = (file: ts.SourceFile): void => {
      if (loaded.has(file) || !isOurs(file)) return;
      loaded.add(file);
      for (const statement of file.statements) {
        if (ts.isImportDeclaration(statement)) {
          const target = this.checker.getSymbolAtLocation(statement.moduleSpecifier)?.valueDeclaration;
          if (target && ts.isSourceFile(target)) load(target);
        } else if (ts.isExpressionStatement(statement) || (ts.isVariableStatement(statement) && file === source)) {
          // What loading a module runs; the entry's own variables (its `handler`) too.
          if (!('exports' in entry) || file !== source) enqueue(statement);
        }
      }
    };
    load(source);
    if ('exports' in entry) {
      for (const name of entry.exports) {
        const symbol = this.checker.getSymbolAtLocation(source);
        const exported = symbol && this.checker.getExportsOfModule(symbol).find((s) => s.name === name);
        if (!exported?.declarations?.length) throw new Error(`${entry.module} exports no ${name}`);
        exported.declarations.forEach(enqueue);
      }
    }

    const record = (call: SdkCall) => calls.set(`${call.pkg} ${call.command} ${call.site} ${call.via ?? ''}`, call);
    while (queue.length) {
      const node = queue.shift()!;
      const file = node.getSourceFile();
      load(file);
      files.add(relative(ROOT, file.fileName));
      let setsIndexName = false;
      const indexes: string[] = [];
      const visit = (n: ts.Node): void => {
        // Types run nothing: `x: RunStore` constructs no store.
        if (ts.isTypeNode(n) && !ts.isExpressionWithTypeArguments(n)) return;
        if ((ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)) && n.name.getText() === 'IndexName') {
          setsIndexName = true;
        }
        if (ts.isPropertyAccessExpression(n) && n.expression.getText() === 'INDEXES') indexes.push(n.name.text);
        if (ts.isIdentifier(n) && !isDeclarationName(n)) {
          this.reference(n, { enqueue, record, loaded, site: relative(ROOT, file.fileName) });
        }
        ts.forEachChild(n, visit);
      };
      visit(node);
      if (setsIndexName) indexes.forEach((index) => queriedIndexes.add(index));
    }
    return { calls: [...calls.values()], queriedIndexes, files };
  }

  /** An identifier in reached code: what it names is reached too, and an SDK import is classified. */
  private reference(
    id: ts.Identifier,
    ctx: {
      enqueue: (n: ts.Node | undefined) => void;
      record: (c: SdkCall) => void;
      /** The modules the entry loads: only their classes can implement what it calls. */
      loaded: ReadonlySet<ts.SourceFile>;
      site: string;
    },
  ): void {
    const direct = this.checker.getSymbolAtLocation(id);
    if (!direct) return;
    const sdk = sdkImport(direct);
    if (sdk) {
      classifySdkUse(sdk.pkg, sdk.name, ctx.site).forEach(ctx.record);
      return;
    }
    const symbol = this.resolved(direct);
    for (const declaration of symbol?.declarations ?? []) {
      if (!isOurs(declaration.getSourceFile())) continue;
      if (
        ts.isFunctionDeclaration(declaration) ||
        ts.isMethodDeclaration(declaration) ||
        ts.isConstructorDeclaration(declaration) ||
        ts.isGetAccessorDeclaration(declaration) ||
        ts.isSetAccessorDeclaration(declaration)
      ) {
        ctx.enqueue(declaration);
      } else if (ts.isVariableDeclaration(declaration) || ts.isPropertyDeclaration(declaration)) {
        ctx.enqueue(declaration.initializer);
      } else if (ts.isPropertyAssignment(declaration)) {
        ctx.enqueue(declaration.initializer);
      } else if (ts.isClassLike(declaration)) {
        // Constructing runs the constructor and the field initializers.
        for (const member of declaration.members) {
          if (ts.isConstructorDeclaration(member)) ctx.enqueue(member);
          if (ts.isPropertyDeclaration(member) && !hasStatic(member)) ctx.enqueue(member.initializer);
        }
      } else if (ts.isMethodSignature(declaration) || ts.isPropertySignature(declaration)) {
        // A call through an interface or a type literal: every class of the loaded modules whose
        // instances are assignable to that type may answer, whether it says `implements` or not.
        const owner = declaration.parent;
        const ownerSymbol = ts.isInterfaceDeclaration(owner) ? this.checker.getSymbolAtLocation(owner.name) : undefined;
        const ownerType = ownerSymbol
          ? this.checker.getDeclaredTypeOfSymbol(ownerSymbol)
          : this.checker.getTypeAtLocation(owner);
        const name = declaration.name.getText();
        for (const candidate of this.classes.filter((c) => ctx.loaded.has(c.getSourceFile()))) {
          const members = candidate.members.filter((m) => m.name?.getText() === name);
          if (!members.length || !candidate.name) continue;
          const classSymbol = this.checker.getSymbolAtLocation(candidate.name);
          if (
            !classSymbol ||
            !this.checker.isTypeAssignableTo(this.checker.getDeclaredTypeOfSymbol(classSymbol), ownerType)
          ) {
            continue;
          }
          for (const member of members) ctx.enqueue(ts.isPropertyDeclaration(member) ? member.initializer : member);
        }
      }
    }
  }

  private resolved(symbol: ts.Symbol | undefined): ts.Symbol | undefined {
    return symbol && symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  private sourceFile(module: string): ts.SourceFile {
    const file = this.program.getSourceFile(join(ROOT, module));
    if (!file) throw new Error(`${module} is not among the analyzer's files`);
    return file;
  }
}

function isOurs(file: ts.SourceFile): boolean {
  return !file.isDeclarationFile && !file.fileName.includes('/node_modules/');
}

function hasStatic(member: ts.PropertyDeclaration): boolean {
  return member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) ?? false;
}

function isDeclarationName(id: ts.Identifier): boolean {
  const parent = id.parent;
  return (
    (ts.isPropertyAssignment(parent) && parent.name === id) ||
    ((ts.isVariableDeclaration(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isClassDeclaration(parent) ||
      ts.isInterfaceDeclaration(parent) ||
      ts.isTypeAliasDeclaration(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isImportSpecifier(parent) ||
      ts.isImportClause(parent)) &&
      parent.name === id)
  );
}

/** The `@aws-sdk/*` package and exported name an imported symbol comes from, if it does. */
function sdkImport(symbol: ts.Symbol): { pkg: string; name: string } | undefined {
  const declaration = symbol.declarations?.[0];
  if (!declaration || !ts.isImportSpecifier(declaration)) return undefined;
  const specifier = declaration.parent.parent.parent.moduleSpecifier;
  const pkg = ts.isStringLiteral(specifier) ? specifier.text : '';
  if (!pkg.startsWith('@aws-sdk/')) return undefined;
  return { pkg, name: (declaration.propertyName ?? declaration.name).text };
}

/**
 * What using `name` of `pkg` can send. A command class sends itself; a waiter or paginator sends the
 * command its SDK source polls or pages; a client, an exception, a type or a helper sends nothing.
 * Anything else that can send (an aggregated client's methods) is refused.
 */
export function classifySdkUse(pkg: string, name: string, site: string): SdkCall[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const value = (require(pkg) as Record<string, unknown>)[name];
  if (/^(waitUntil|waitFor)[A-Z]/.test(name)) {
    return waiterCommands(pkg, name).map((command) => ({ pkg, command, site, via: name }));
  }
  if (/^paginate[A-Z]/.test(name))
    return [{ pkg, command: `${name.slice('paginate'.length)}Command`, site, via: name }];
  if (typeof value !== 'function') return [];
  const prototype = (value as { prototype?: Record<string, unknown> }).prototype;
  if (name.endsWith('Command') && typeof prototype?.resolveMiddleware === 'function') {
    return [{ pkg, command: name, site }];
  }
  if (prototype instanceof Error || (value as { prototype: unknown }).prototype === Error.prototype) return [];
  if (typeof prototype?.send === 'function') {
    if (name.endsWith('Client')) return [];
    throw new Error(
      `${site}: ${name} of ${pkg} is an aggregated client whose methods send commands this analysis cannot see; use ${name}Client and commands`,
    );
  }
  return [];
}

/**
 * The commands a waiter polls, read from the SDK's own source (`dist-cjs/index.js`): the waiter is
 * `createWaiter(…, checkState$N)` and `checkState$N` sends `new XxxCommand(input)`.
 */
export function waiterCommands(pkg: string, waiter: string): string[] {
  const source = readFileSync(join(dirname(require.resolve(pkg)), 'index.js'), 'utf8');
  const definition = new RegExp(
    `const ${waiter} = async \\([^)]*\\) => \\{\\n[^\\n]*\\n[^\\n]*createWaiter\\([^\\n]*(checkState\\$?\\d*)\\)`,
  ).exec(source);
  if (!definition) throw new Error(`cannot find waiter ${waiter} in ${pkg}'s source`);
  const check = new RegExp(
    `const ${definition[1]!.replace('$', '\\$')} = async \\(client, input\\) => \\{([\\s\\S]*?)\\n\\};`,
  ).exec(source);
  const commands = [...(check?.[1] ?? '').matchAll(/new (\w+Command)\(/g)].map((m) => m[1]!);
  if (!commands.length) throw new Error(`cannot find what waiter ${waiter} of ${pkg} sends`);
  return [...new Set(commands)];
}
