/**
 * The CDK app. The config is `stepline.config.ts`, or the .ts/.json file named by STEPLINE_CONFIG;
 * an invalid one, or one that would break an AWS limit, stops synth with the pipeline at fault.
 */
import { App } from 'aws-cdk-lib';
import type { SteplineConfig } from '../core/config/stepline-config';
import { ConfigError } from '../core/config/errors';
import { buildStepline } from '../lib/app';
import { PlatformLimitError } from '../lib/errors';
import type { LimitProblem } from '../lib/errors';
import { checkLimits, checkTemplateSizes } from '../lib/limits';
import { readConfigFile } from './config-file';

function loadConfig(): SteplineConfig {
  try {
    return readConfigFile(process.env.STEPLINE_CONFIG);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return stop(error.message);
  }
}

function stop(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function refuse(problems: readonly LimitProblem[]): void {
  if (problems.length) stop(new PlatformLimitError(problems).message);
}

/** The app, or stop with the problems of targets stepline cannot release to (lib/app.ts). */
function build() {
  try {
    return buildStepline(app, config, { env: account && region ? { account, region } : undefined });
  } catch (error) {
    if (!(error instanceof PlatformLimitError)) throw error;
    return stop(error.message);
  }
}

const config = loadConfig();
const app = new App();
const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
// Environment-agnostic unless the CLI knows the target account and region.
const stepline = build();
refuse(checkLimits(stepline));
refuse(checkTemplateSizes(app.synth()));
