/**
 * Reads the pipeline configuration file — `.ts` (default export) or `.json` — for the CDK app and
 * the CLI alike, and validates it (ConfigError names the pipeline and field at fault).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseConfig, type SteplineConfig } from '../core/config';

export const DEFAULT_CONFIG_FILE = join(__dirname, '..', 'stepline.config.ts');

export function readConfigFile(file: string = DEFAULT_CONFIG_FILE): SteplineConfig {
  const path = resolve(file);
  if (path.endsWith('.json')) return parseConfig(JSON.parse(readFileSync(path, 'utf8')));
  // A .ts config loads through the TypeScript loader both entry points run under (tsx).
  const loaded = createRequire(__filename)(path) as { default?: unknown };
  return parseConfig(loaded.default ?? loaded);
}
