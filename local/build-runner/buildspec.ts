import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { BuildspecError } from './errors';

export const COMMAND_PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type CommandPhaseName = (typeof COMMAND_PHASES)[number];

export interface PhaseSpec {
  /** CONTINUE goes on to the next phase after a failure; ABORT follows CodeBuild's phase transitions. */
  readonly onFailure: 'ABORT' | 'CONTINUE';
  readonly commands: readonly string[];
  readonly finally: readonly string[];
}

export interface FileSetSpec {
  readonly files: readonly string[];
  readonly baseDirectory?: string;
  readonly discardPaths: boolean;
  readonly excludePaths: readonly string[];
}

export interface Buildspec {
  readonly variables: Readonly<Record<string, string>>;
  readonly exportedVariables: readonly string[];
  readonly runtimeVersions: Readonly<Record<string, string>>;
  readonly phases: Readonly<Partial<Record<CommandPhaseName, PhaseSpec>>>;
  readonly reports: Readonly<Record<string, FileSetSpec>>;
  readonly artifacts?: FileSetSpec;
}

type Path = readonly (string | number)[];
type Mapping = Record<string, unknown>;

/** Keys CodeBuild accepts but that change nothing for a local build. */
const IGNORED = 'ignored locally';
/** Keys CodeBuild accepts that local mode cannot honour: the build fails rather than pretend. */
const REFUSED = 'refused';

const TOP_LEVEL_KEYS = {
  version: 1,
  env: 1,
  phases: 1,
  reports: 1,
  artifacts: 1,
  'run-as': REFUSED,
  proxy: IGNORED,
  batch: IGNORED,
  cache: IGNORED,
};
const ENV_KEYS = {
  shell: 1,
  variables: 1,
  'exported-variables': 1,
  'parameter-store': REFUSED,
  'secrets-manager': REFUSED,
  'git-credential-helper': IGNORED,
};
const PHASE_KEYS = { 'on-failure': 1, commands: 1, finally: 1, 'runtime-versions': 1, 'run-as': REFUSED };
const ARTIFACT_KEYS = {
  files: 1,
  'base-directory': 1,
  'discard-paths': 1,
  'exclude-paths': 1,
  name: IGNORED,
  'enable-symlinks': IGNORED,
  's3-prefix': IGNORED,
  'secondary-artifacts': REFUSED,
};
const REPORT_KEYS = { files: 1, 'base-directory': 1, 'discard-paths': 1, 'file-format': 1 };
const SHELL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses and validates a version 0.2 buildspec; every refusal names the offending key and its line. */
export function parseBuildspec(text: string): Buildspec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) throw new BuildspecError(`YAML syntax error: ${doc.errors[0].message}`);
  return new BuildspecReader(doc, lineCounter).read();
}

class BuildspecReader {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  read(): Buildspec {
    const root = this.mapping(this.doc.toJS(), [], TOP_LEVEL_KEYS);
    this.version(root.version);
    const env = root.env === undefined ? {} : this.mapping(root.env, ['env'], ENV_KEYS);
    if (env.shell !== undefined && env.shell !== 'bash') {
      this.fail(['env', 'shell'], `env/shell '${String(env.shell)}' is not supported locally: only bash is`);
    }
    if (root.phases === undefined) this.fail([], 'phases is required');
    const phases = this.mapping(root.phases, ['phases'], Object.fromEntries(COMMAND_PHASES.map((p) => [p, 1])));
    const install = phases.install === undefined ? {} : this.mapping(phases.install, ['phases', 'install'], PHASE_KEYS);
    return {
      variables: this.scalarMap(env.variables, ['env', 'variables']),
      exportedVariables: this.variableNames(env['exported-variables'], ['env', 'exported-variables']),
      runtimeVersions: this.scalarMap(install['runtime-versions'], ['phases', 'install', 'runtime-versions']),
      phases: Object.fromEntries(
        COMMAND_PHASES.filter((name) => phases[name] !== undefined).map((name) => [
          name,
          this.phase(phases[name], name),
        ]),
      ),
      reports: this.reports(root.reports),
      artifacts: root.artifacts === undefined ? undefined : this.fileSet(root.artifacts, ['artifacts'], ARTIFACT_KEYS),
    };
  }

  private version(value: unknown): void {
    if (value === undefined) this.fail([], 'version is required');
    const version = String(value);
    if (version === '0.1') {
      this.fail(
        ['version'],
        'buildspec version 0.1 is not supported locally (it runs each command in its own shell): use 0.2',
      );
    }
    if (version !== '0.2') this.fail(['version'], `invalid buildspec version '${version}': expected 0.2`);
  }

  private phase(value: unknown, name: CommandPhaseName): PhaseSpec {
    const path = ['phases', name];
    const phase = this.mapping(value, path, PHASE_KEYS);
    if (name !== 'install' && phase['runtime-versions'] !== undefined) {
      this.fail([...path, 'runtime-versions'], `runtime-versions is only allowed in the install phase`);
    }
    if (name !== 'install' && phase.commands === undefined) this.fail(path, `phases/${name}/commands is required`);
    const onFailure = phase['on-failure'] ?? 'ABORT';
    if (onFailure !== 'ABORT' && onFailure !== 'CONTINUE') {
      this.fail([...path, 'on-failure'], `invalid on-failure '${String(onFailure)}': expected ABORT or CONTINUE`);
    }
    return {
      onFailure,
      commands: this.stringList(phase.commands, [...path, 'commands'], 'Commands'),
      finally: this.stringList(phase.finally, [...path, 'finally'], 'Finally'),
    };
  }

  private reports(value: unknown): Record<string, FileSetSpec> {
    if (value === undefined) return {};
    const groups = this.mapping(value, ['reports'], undefined);
    return Object.fromEntries(
      Object.entries(groups).map(([group, spec]) => {
        const path = ['reports', group];
        const format = String(this.mapping(spec, path, REPORT_KEYS)['file-format'] ?? 'JUNITXML').toUpperCase();
        if (format !== 'JUNITXML') {
          this.fail(
            [...path, 'file-format'],
            `report file-format ${format} is not supported locally: only JUNITXML is`,
          );
        }
        return [group, this.fileSet(spec, path, REPORT_KEYS)];
      }),
    );
  }

  private fileSet(value: unknown, path: Path, allowed: Record<string, unknown>): FileSetSpec {
    const spec = this.mapping(value, path, allowed);
    if (spec.files === undefined) this.fail(path, `${path.join('/')}/files is required`);
    const baseDirectory = spec['base-directory'];
    if (baseDirectory !== undefined && typeof baseDirectory !== 'string') {
      this.fail([...path, 'base-directory'], `${path.join('/')}/base-directory must be a string`);
    }
    return {
      files: this.stringList(spec.files, [...path, 'files'], 'Files'),
      baseDirectory,
      discardPaths: this.yesNo(spec['discard-paths'], [...path, 'discard-paths']),
      excludePaths: this.stringList(spec['exclude-paths'], [...path, 'exclude-paths'], 'ExcludePaths'),
    };
  }

  private yesNo(value: unknown, path: Path): boolean {
    if (value === undefined || value === 'no' || value === false) return false;
    if (value === 'yes' || value === true) return true;
    return this.fail(path, `${path.join('/')} must be yes or no, got '${String(value)}'`);
  }

  private mapping(value: unknown, path: Path, allowed: Record<string, unknown> | undefined): Mapping {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, `${path.length ? path.join('/') : 'the buildspec'} must be a mapping`);
    }
    const mapping = value as Mapping;
    for (const key of Object.keys(mapping)) {
      const rule = allowed?.[key];
      if (allowed && rule === undefined) {
        const where = path.length ? path.join('/') : 'the top level';
        this.fail([...path, key], `unknown key '${key}' in ${where} (allowed: ${Object.keys(allowed).join(', ')})`);
      }
      if (rule === REFUSED) this.fail([...path, key], `${[...path, key].join('/')} is not supported locally`);
    }
    return mapping;
  }

  private stringList(value: unknown, path: Path, label: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return this.fail(path, `${path.join('/')} must be a sequence`);
    return value.map((item, index) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      // CodeBuild's wording for the classic mistake: an unquoted ': ' turns a command into a mapping.
      const found = item !== null && typeof item === 'object' ? 'found subkeys instead' : `found ${String(item)}`;
      return this.fail([...path, index], `Expected ${label}[${index}] to be of string type: ${found}`);
    });
  }

  private scalarMap(value: unknown, path: Path): Record<string, string> {
    if (value === undefined || value === null) return {};
    const mapping = this.mapping(value, path, undefined);
    return Object.fromEntries(
      Object.entries(mapping).map(([key, item]) => {
        if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean')
          return [key, String(item)];
        return this.fail([...path, key], `${[...path, key].join('/')} must be a string`);
      }),
    );
  }

  private variableNames(value: unknown, path: Path): string[] {
    const names = this.stringList(value, path, 'ExportedVariables');
    names.forEach((name, index) => {
      if (!SHELL_VARIABLE.test(name)) this.fail([...path, index], `'${name}' is not a valid variable name`);
    });
    return names;
  }

  private fail(path: Path, message: string): never {
    throw new BuildspecError(`${message}${this.lineOf(path)}`);
  }

  private lineOf(path: Path): string {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    const offset = isScalar(node) || isMap(node) || isSeq(node) ? node.range?.[0] : undefined;
    return offset === undefined ? '' : ` at line ${this.lines.linePos(offset).line}`;
  }
}
