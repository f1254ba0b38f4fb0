/**
 * The CDK app. The config is `stepline.config.ts`, or the .ts/.json file named by STEPLINE_CONFIG;
 * an invalid one stops synth with the pipeline and field at fault.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, type SteplineConfig } from '../core/config';
import { SteplineStack } from '../lib/stepline-stack';
import { readConfigFile } from './config-file';

function loadConfig(): SteplineConfig {
  try {
    return readConfigFile(process.env.STEPLINE_CONFIG);
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
