/** The config file reader of the CDK app and the CLI: every way a file can fail is a ConfigError with its place. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from '../../bin/config-file';
import { ConfigError } from '../../core/config/errors';

const ROOT = join(__dirname, '..', '..');

describe('readConfigFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepline-config-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const problemsOf = (file: string): readonly string[] => {
    try {
      readConfigFile(file);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(new RegExp(`^Invalid stepline config \\(${file}\\):`));
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('names a missing file', () => {
    const file = join(dir, 'nowhere.ts');
    expect(problemsOf(file)).toEqual([`${file}: the config file does not exist`]);
  });

  it('names the line and column of broken JSON', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"pipelines": [\n {"name": "x",}\n]}');
    expect(problemsOf(file)).toEqual([expect.stringMatching(new RegExp(`^${file}:2:15: not valid JSON: `))]);
  });

  it('names the line and column of a TypeScript syntax error, as `stepline start` and `cdk synth` load it (tsx)', () => {
    const file = join(dir, 'broken.ts');
    writeFileSync(file, "export default {\n  pipelines: [\n    { name: 'x' ,, }\n  ],\n};\n");
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'cli/stepline.ts', 'start', '--config', file, '--state-dir', dir],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `Invalid stepline config (${file}):\n  - ${file}:3:17: Expected identifier but found ","\n`,
    );
  });

  it('names the place of an error the config throws while it loads', () => {
    const file = join(dir, 'throws.ts');
    writeFileSync(
      file,
      "const pipelines = [];\nthrow new RangeError('no pipelines today');\nexport default { pipelines };\n",
    );
    expect(problemsOf(file)).toEqual([`${file}:2:7: RangeError: no pipelines today`]);
  });

  it('names the file and the pipeline of an invalid config', () => {
    const file = join(dir, 'invalid.json');
    writeFileSync(
      file,
      JSON.stringify({
        pipelines: [{ name: 'web', source: { type: 'codecommit', repository: 'r', branch: 'main' }, build: {} }],
      }),
    );
    expect(problemsOf(file)).toEqual([
      'pipeline "web" → build.buildspec: Invalid input: expected string, received undefined',
    ]);
  });

  it('reads a valid JSON config', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(
      file,
      JSON.stringify({
        pipelines: [
          {
            name: 'web',
            source: { type: 'codecommit', repository: 'r', branch: 'main' },
            build: { buildspec: 'b.yml' },
          },
        ],
      }),
    );
    expect(readConfigFile(file).pipelines.map((p) => p.name)).toEqual(['web']);
  });
});
