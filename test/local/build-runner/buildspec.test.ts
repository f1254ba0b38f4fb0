import { parseBuildspec } from '../../../local/build-runner/buildspec';
import { BuildspecError } from '../../../local/build-runner/errors';

const refusal = (text: string): string => {
  try {
    parseBuildspec(text);
  } catch (error) {
    expect(error).toBeInstanceOf(BuildspecError);
    return (error as Error).message;
  }
  throw new Error('expected the buildspec to be refused');
};

describe('parseBuildspec', () => {
  it('reads phases, env, reports and artifacts with their defaults', () => {
    const spec = parseBuildspec(`version: 0.2
env:
  variables: { A: x, PORT: 8080 }
  exported-variables: [A]
phases:
  install:
    runtime-versions: { nodejs: 20 }
  build:
    on-failure: CONTINUE
    commands: [make]
    finally: [echo done]
reports:
  unit:
    files: ['**/*.xml']
    base-directory: reports
artifacts:
  files: ['**/*']
  discard-paths: yes
cache:
  paths: ['node_modules/**/*']
`);
    expect(spec.variables).toEqual({ A: 'x', PORT: '8080' });
    expect(spec.exportedVariables).toEqual(['A']);
    expect(spec.runtimeVersions).toEqual({ nodejs: '20' });
    expect(spec.phases.build).toEqual({ onFailure: 'CONTINUE', commands: ['make'], finally: ['echo done'] });
    expect(spec.phases.install).toEqual({ onFailure: 'ABORT', commands: [], finally: [] });
    expect(spec.reports.unit).toEqual({
      files: ['**/*.xml'],
      baseDirectory: 'reports',
      discardPaths: false,
      excludePaths: [],
    });
    expect(spec.artifacts?.discardPaths).toBe(true);
  });

  it.each([
    ['version: 0.2\nphases:\n  build:\n    commands: [a\n', /^YAML syntax error: /],
    ['version: 0.3\nphases:\n  build:\n    commands: [a]\n', "invalid buildspec version '0.3': expected 0.2 at line 1"],
    ['version: 0.1\nphases:\n  build:\n    commands: [a]\n', /version 0.1 is not supported locally/],
    ['version: 0.2\n', 'phases is required at line 1'],
    [
      'version: 0.2\nphases:\n  postbuild:\n    commands: [a]\n',
      /^unknown key 'postbuild' in phases \(allowed: install, pre_build, build, post_build\) at line 4$/,
    ],
    [
      'version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n',
      'Expected Commands[0] to be of string type: found subkeys instead at line 5',
    ],
    ['version: 0.2\nphases:\n  build: {}\n', 'phases/build/commands is required at line 3'],
    [
      'version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n    commands: [a]\n',
      "invalid on-failure 'RETRY': expected ABORT or CONTINUE at line 4",
    ],
    [
      'version: 0.2\nenv:\n  shell: /bin/sh\nphases:\n  build:\n    commands: [a]\n',
      "env/shell '/bin/sh' is not supported locally: only bash is at line 3",
    ],
    [
      'version: 0.2\nenv:\n  parameter-store: { A: /x }\nphases:\n  build:\n    commands: [a]\n',
      'env/parameter-store is not supported locally at line 3',
    ],
    [
      'version: 0.2\nrun-as: nobody\nphases:\n  build:\n    commands: [a]\n',
      'run-as is not supported locally at line 2',
    ],
    [
      'version: 0.2\nphases:\n  build:\n    commands: [a]\nreports:\n  r:\n    files: [x]\n    file-format: CUCUMBERJSON\n',
      /file-format CUCUMBERJSON is not supported locally: only JUNITXML is/,
    ],
    [
      'version: 0.2\nphases:\n  build:\n    commands: [a]\nartifacts:\n  base-directory: out\n',
      'artifacts/files is required at line 6',
    ],
  ])('refuses %j', (text, expected) => {
    const message = refusal(text);
    if (typeof expected === 'string') expect(message).toBe(expected);
    else expect(message).toMatch(expected);
  });
});
