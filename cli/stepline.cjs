#!/usr/bin/env node
// `npx stepline …` (the package's bin): the TypeScript CLI through tsx, as `npm start` runs it. Its exit
// code is the CLI's; a CLI ended by a signal exits as a shell reports it (128 + the signal's number).
const { spawnSync } = require('node:child_process');
const { constants } = require('node:os');
const { join } = require('node:path');

const result = spawnSync(
  process.execPath,
  [require.resolve('tsx/cli'), join(__dirname, 'stepline.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
if (result.error) {
  console.error(`stepline could not start: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 128 + (constants.signals[result.signal] ?? 0));
