/**
 * The CDK app. The config is `stepline.config.ts`, or the .ts/.json file named by STEPLINE_CONFIG;
 * an invalid one stops synth with the pipeline and field at fault.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, parseConfig, type SteplineConfig } from '../core/config';
import { SteplineStack } from '../lib/stepline-stack';
import defaultConfig from '../stepline.config';

function configInput(): unknown {
  const file = process.env.STEPLINE_CONFIG;
  if (!file) return defaultConfig;
  const path = resolve(file);
  if (path.endsWith('.json')) return JSON.parse(readFileSync(path, 'utf8'));
  const loaded = createRequire(__filename)(path) as { default?: unknown };
  return loaded.default ?? loaded;
}

function loadConfig(): SteplineConfig {
  try {
    return parseConfig(configInput());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const config = loadConfig();
const app = new App();
const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
new SteplineStack(app, 'Stepline', {
  config,
  description: 'stepline: serverless software delivery',
  // Environment-agnostic unless the CLI knows the target account and region.
  ...(account && region ? { env: { account, region } } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
