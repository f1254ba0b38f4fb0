import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** AWS code must not depend on local mode. */
const noLocal = {
  regex: '(^|/)local(/|$)',
  message: 'Only local mode may import local/: AWS code must not depend on it.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      '.stepline/',
      'examples/*/node_modules/',
      'examples/*/dist/',
      'examples/*/.build/',
      'examples/*/reports/',
      'coverage/',
      // A project the cache bench builds, with its own test runner's globals.
      'bench/fixtures/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: {
        module: 'writable',
        require: 'readonly',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-imports': 'off',
    },
  },
  // Layering: core is pure; lambdas, store and lib never reach into the local runtime.
  ...[
    // core/<file>.ts may reach `./…` only; core/<area>/<file>.ts `./…` and `../…` (core's shared modules).
    { files: ['core/*.ts'], outside: '^\\.\\./' },
    { files: ['core/*/*.ts'], outside: '^\\.\\./\\.\\./' },
  ].map(({ files, outside }) => ({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(@aws-sdk/|aws-cdk-lib|constructs|node:)|${outside}`,
              message: 'core/ is pure: no AWS SDK, no I/O, nothing of the project but core itself.',
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['lambdas/**/*.ts', 'store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [noLocal],
        },
      ],
    },
  },
  // The CDK app names handler entry files by path: loading handler code would load SDK clients at synth.
  {
    files: ['lib/**/*.ts', 'bin/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            noLocal,
            {
              regex: '(^|/)lambdas(/|$)',
              message: 'lib/ and bin/ name handler entry files by path; shared names live in core/platform.ts.',
            },
          ],
        },
      ],
    },
  },
);
