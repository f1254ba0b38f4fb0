/** Configs for the config tests: one small valid pipeline, and the problems a refused config is refused with. */
import { ConfigError } from '../../core/config/errors';
import { parseConfig } from '../../core/config/stepline-config';

/** A valid CodeCommit pipeline with one test stage, to spread and change one field of. */
export const pipeline = {
  name: 'web',
  source: { type: 'codecommit', repository: 'web', branch: 'main' },
  build: { buildspec: 'buildspec.yml' },
  tests: [{ name: 'unit', buildspec: 'test.yml' }],
};

/** The problems `parseConfig` refuses `input` with; fails the test when it accepts it. */
export function problemsOf(input: unknown): readonly string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}
