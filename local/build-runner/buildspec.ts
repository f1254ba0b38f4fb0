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
  /** 0.1 runs each command in a shell of its own; 0.2 runs the whole build in one. */
  readonly version: '0.1' | '0.2';
  readonly variables: Readonly<Record<string, string>>;
  readonly exportedVariables: readonly string[];
  readonly runtimeVersions: Readonly<Record<string, string>>;
  readonly phases: Readonly<Partial<Record<CommandPhaseName, PhaseSpec>>>;
  readonly reports: Readonly<Record<string, FileSetSpec>>;
  readonly artifacts?: FileSetSpec;
  /** `artifacts/secondary-artifacts`, by artifact identifier. */
  readonly secondaryArtifacts: Readonly<Record<string, FileSetSpec>>;
  /** The `cache` section; undefined when the buildspec has none. */
  readonly cache?: CacheSpec;
  /** What CodeBuild accepts and local mode does not honour, each with its line: logged once per build. */
  readonly warnings: readonly string[];
}

/**
 * The buildspec's `cache` section (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.cache,
 * https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html).
 */
export interface CacheSpec {
  /** File patterns as `artifacts/files` takes them (`node_modules/**\/*`), relative to the source or under `/root`. */
  readonly paths: readonly string[];
  /** The key as written, expanded when the build runs (`npm-$(codebuild-hash-files package-lock.json)`). */
  readonly key?: string;
  /** Prefixes tried in order when no cache has the key. */
  readonly fallbackKeys: readonly string[];
  /** Only restore, or only save; undefined does both. */
  readonly action?: 'restore' | 'save';
}

/** CodeBuild takes at most five fallback keys. */
export const MAX_FALLBACK_KEYS = 5;

type Path = readonly (string | number)[];
type Mapping = Record<string, unknown>;

/** A key local mode reads. */
const READ = 1;
/** A key CodeBuild accepts that local mode does not honour: the build goes on, with a warning saying so. */
const warn = (why: string) => ({ why });
type KeyRule = typeof READ | { readonly why: string };

const TOP_LEVEL_KEYS: Record<string, KeyRule> = {
  version: READ,
  env: READ,
  phases: READ,
  reports: READ,
  artifacts: READ,
  'run-as': warn('commands run as the user who runs local mode'),
  proxy: warn('local builds use the network of this machine'),
  batch: warn('batch builds are not run locally; this build runs on its own'),
  cache: READ,
};
const CACHE_KEYS: Record<string, KeyRule> = {
  paths: READ,
  key: READ,
  'fallback-keys': READ,
  action: READ,
};
const ENV_KEYS: Record<string, KeyRule> = {
  shell: READ,
  variables: READ,
  'exported-variables': READ,
  'parameter-store': warn('local mode reads no Parameter Store: these variables are not set'),
  'secrets-manager': warn('local mode reads no Secrets Manager secret: these variables are not set'),
  'git-credential-helper': warn('local sources need no git credentials'),
};
const PHASE_KEYS: Record<string, KeyRule> = {
  'on-failure': READ,
  commands: READ,
  finally: READ,
  'runtime-versions': READ,
  'run-as': warn('commands run as the user who runs local mode'),
};
const ARTIFACT_KEYS: Record<string, KeyRule> = {
  files: READ,
  'base-directory': READ,
  'discard-paths': READ,
  'exclude-paths': READ,
  'secondary-artifacts': READ,
  name: READ,
  's3-prefix': READ,
  'enable-symlinks': warn('local artifacts are copied as files'),
};
const REPORT_KEYS: Record<string, KeyRule> = {
  files: READ,
  'base-directory': READ,
  'discard-paths': READ,
  'file-format': READ,
};
/** The shells CodeBuild's Linux images run; `sh` builds run in bash locally, which `sh` scripts expect to work in. */
const LINUX_SHELLS = ['bash', '/bin/bash', 'sh', '/bin/sh'];
const SHELL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses and validates a version 0.2 buildspec; every refusal names the offending key and its line. */
export function parseBuildspec(text: string): Buildspec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) throw new BuildspecError(`YAML syntax error: ${doc.errors[0].message}`);
  return new BuildspecReader(doc, lineCounter).read();
}

class BuildspecReader {
  private readonly warnings: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  read(): Buildspec {
    const root = this.mapping(this.doc.toJS(), [], TOP_LEVEL_KEYS);
    const version = this.version(root.version);
    const env = root.env === undefined ? {} : this.mapping(root.env, ['env'], ENV_KEYS);
    if (env.shell !== undefined && !LINUX_SHELLS.includes(String(env.shell))) {
      this.fail(
        ['env', 'shell'],
        `env/shell '${String(env.shell)}' is not a shell of CodeBuild's Linux images: use bash or /bin/sh`,
      );
    }
    if (root.phases === undefined) this.fail([], 'phases is required');
    const phaseKeys = Object.fromEntries(COMMAND_PHASES.map((p): [string, KeyRule] => [p, READ]));
    const phases = this.mapping(root.phases, ['phases'], phaseKeys);
    // Checked as a phase below; read here for its runtime versions.
    const install = (typeof phases.install === 'object' && phases.install !== null ? phases.install : {}) as Mapping;
    const artifacts =
      root.artifacts === undefined ? undefined : this.mapping(root.artifacts, ['artifacts'], ARTIFACT_KEYS);
    return {
      version,
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
      // A buildspec with only secondary artifacts has no primary file set.
      artifacts:
        artifacts === undefined || (artifacts.files === undefined && artifacts['secondary-artifacts'] !== undefined)
          ? undefined
          : this.fileSet(artifacts, ['artifacts']),
      secondaryArtifacts: this.secondaryArtifacts(artifacts?.['secondary-artifacts']),
      cache: root.cache === undefined || root.cache === null ? undefined : this.cache(root.cache),
      warnings: this.warnings,
    };
  }

  private version(value: unknown): '0.1' | '0.2' {
    if (value === undefined) this.fail([], 'version is required');
    const version = String(value);
    if (version !== '0.1' && version !== '0.2') {
      this.fail(['version'], `invalid buildspec version '${version}': expected 0.2 (or 0.1)`);
    }
    return version;
  }

  private secondaryArtifacts(value: unknown): Record<string, FileSetSpec> {
    if (value === undefined) return {};
    const path = ['artifacts', 'secondary-artifacts'];
    const sets = this.mapping(value, path, undefined);
    return Object.fromEntries(
      Object.entries(sets).map(([id, spec]) => {
        if (!/^[A-Za-z0-9_]+$/.test(id)) this.fail([...path, id], `'${id}' is not a valid artifact identifier`);
        return [id, this.fileSet(this.mapping(spec, [...path, id], ARTIFACT_KEYS), [...path, id])];
      }),
    );
  }

  private cache(value: unknown): CacheSpec {
    const path = ['cache'];
    const cache = this.mapping(value, path, CACHE_KEYS);
    const paths = this.stringList(cache.paths, [...path, 'paths'], 'Paths');
    if (paths.length === 0) {
      // CodeBuild's S3 cache then caches common language dependencies, best effort; local mode does not guess them.
      this.warn(path, 'cache/paths is empty: local mode caches nothing without paths');
    }
    const key = cache.key;
    if (key !== undefined && typeof key !== 'string' && typeof key !== 'number') {
      this.fail([...path, 'key'], 'cache/key must be a string');
    }
    const fallbackKeys = this.stringList(cache['fallback-keys'], [...path, 'fallback-keys'], 'FallbackKeys');
    if (fallbackKeys.length > MAX_FALLBACK_KEYS) {
      this.fail(
        [...path, 'fallback-keys'],
        `cache/fallback-keys has ${fallbackKeys.length} keys: at most ${MAX_FALLBACK_KEYS} are allowed`,
      );
    }
    if (fallbackKeys.length > 0 && key === undefined) {
      this.warn([...path, 'fallback-keys'], 'cache/fallback-keys is used only with cache/key (ignored)');
    }
    const action = cache.action;
    if (action !== undefined && action !== 'restore' && action !== 'save') {
      this.fail([...path, 'action'], `invalid cache/action '${String(action)}': expected restore or save`);
    }
    return {
      paths,
      key: key === undefined ? undefined : String(key),
      fallbackKeys: key === undefined ? [] : fallbackKeys,
      action,
    };
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
    const read: Record<string, FileSetSpec> = {};
    for (const [group, raw] of Object.entries(groups)) {
      const path = ['reports', group];
      const spec = this.mapping(raw, path, REPORT_KEYS);
      const format = String(spec['file-format'] ?? 'JUNITXML').toUpperCase();
      if (format === 'JUNITXML') read[group] = this.fileSet(spec, path);
      else {
        this.warn(
          [...path, 'file-format'],
          `reports/${group}: file-format ${format} is not read locally (only JUNITXML is); no report is made of it`,
        );
      }
    }
    return read;
  }

  /** A file set from a mapping whose keys were checked already. */
  private fileSet(spec: Mapping, path: Path): FileSetSpec {
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

  /**
   * A mapping, its keys checked against `allowed`. An unknown key is passed over with a warning, as
   * CodeBuild does ("The following keys cannot be identified"): real buildspecs carry `artifacts/type`.
   */
  private mapping(value: unknown, path: Path, allowed: Record<string, KeyRule> | undefined): Mapping {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, `${path.length ? path.join('/') : 'the buildspec'} must be a mapping`);
    }
    const mapping = value as Mapping;
    for (const key of Object.keys(mapping)) {
      const rule = allowed?.[key];
      const where = [...path, key];
      if (allowed && rule === undefined) {
        this.warn(where, `The following keys cannot be identified: ${where.join('/')} (ignored)`);
      } else if (typeof rule === 'object') {
        const names = ['parameter-store', 'secrets-manager'].includes(key)
          ? ` (${Object.keys(Object(mapping[key])).join(', ')})`
          : '';
        this.warn(where, `${where.join('/')} is not honoured locally: ${rule.why}${names}`);
      }
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

  private warn(path: Path, message: string): void {
    this.warnings.push(`${message}${this.lineOf(path)}`);
  }

  private lineOf(path: Path): string {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    const offset = isScalar(node) || isMap(node) || isSeq(node) ? node.range?.[0] : undefined;
    return offset === undefined ? '' : ` at line ${this.lines.linePos(offset).line}`;
  }
}
