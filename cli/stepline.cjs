#!/usr/bin/env node
// `npx stepline …` (the package's bin): the TypeScript CLI through tsx, as `npm start` runs it.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const result = spawnSync(
  process.execPath,
  [require.resolve('tsx/cli'), join(__dirname, 'stepline.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
