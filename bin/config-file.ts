/**
 * Reads the pipeline configuration file — `.ts` (default export) or `.json` — for the CDK app and
 * the CLI alike, and validates it. Every failure is a ConfigError: a file that is missing or does
 * not parse is named with the line and column at fault, an invalid config by pipeline and field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseConfig, type SteplineConfig } from '../core/config/stepline-config';
import { ConfigError } from '../core/config/errors';

export const DEFAULT_CONFIG_FILE = join(__dirname, '..', 'stepline.config.ts');

export function readConfigFile(file: string = DEFAULT_CONFIG_FILE): SteplineConfig {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError([`${path}: the config file does not exist`], path);
  return parseConfig(path.endsWith('.json') ? readJson(path) : loadModule(path), path);
}

function readJson(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    // Node 20 says "at position N", Node 22 "(line L column C)".
    const position = /at position (\d+)/.exec(message);
    const at = position ? lineAndColumn(text, Number(position[1])) : /line (\d+) column (\d+)/.exec(message)?.slice(1);
    throw new ConfigError([`${path}${at ? `:${at[0]}:${at[1]}` : ''}: not valid JSON: ${message}`], path, {
      cause: error,
    });
  }
}

/** A .ts config loads through the TypeScript loader both entry points run under (tsx). */
function loadModule(path: string): unknown {
  try {
    const loaded = createRequire(__filename)(path) as { default?: unknown };
    return loaded.default ?? loaded;
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    // esbuild's transform errors carry `file:line:column: ERROR: …`; a runtime error has the file in its stack.
    const transform = /^.*?:(\d+):(\d+): ERROR: (.*)$/m.exec(failure.message);
    if (transform) {
      throw new ConfigError([`${path}:${transform[1]}:${transform[2]}: ${transform[3]}`], path, { cause: error });
    }
    const frame = failure.stack?.split('\n').find((line) => line.includes(path));
    const at = frame ? /:(\d+):(\d+)\)?$/.exec(frame) : null;
    throw new ConfigError([`${path}${at ? `:${at[1]}:${at[2]}` : ''}: ${failure.name}: ${failure.message}`], path, {
      cause: error,
    });
  }
}

function lineAndColumn(text: string, offset: number): [string, string] {
  const before = text.slice(0, offset).split('\n');
  return [String(before.length), String(before[before.length - 1]!.length + 1)];
}
