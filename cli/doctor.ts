/**
 * `stepline doctor [--aws]`: the account quotas the configured app needs (counted from its stacks, as `cdk synth`
 * counts them: lib/quota-report.ts), against each quota's default, or with `--aws` against the account's applied
 * quotas and what the account already uses (cli/aws-account-quotas.ts reads; core/quotas.ts judges).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { readConfigFile } from '../bin/config-file';
import type { SteplineConfig } from '../core/config/stepline-config';
import {
  countQuotaNeeds,
  formatQuotaReport,
  judgeAgainstAccount,
  judgeAgainstDefaults,
  quotaById,
  type AccountQuotaState,
  type QuotaNeed,
  type QuotaVerdict,
} from '../core/quotas';
import { buildStepline } from '../lib/app';
import { stacksOfApp } from '../lib/quota-report';
import { AwsAccountQuotas, type AccountQuotaReader } from './aws-account-quotas';
import { AwsUnreachableError } from './errors';

export interface DoctorOptions {
  /** The config file (`--config`). */
  readonly config: string;
  /** Compare with the account the credentials reach. */
  readonly aws: boolean;
}

/** Runs the doctor; its exit code: 0 when every quota fits, 1 when one is exceeded or the account cannot be read. */
export async function runDoctorCommand(
  options: DoctorOptions,
  print: (line: string) => void = console.log,
  reader: () => AccountQuotaReader = () => new AwsAccountQuotas(),
): Promise<number> {
  const config = readConfigFile(options.config);
  const pipelines = config.pipelines.filter((p) => !p.localOnly).length;
  let verdicts: QuotaVerdict[];
  if (options.aws) {
    try {
      const account = reader();
      const { account: id, region, arn } = await account.whoAmI();
      print(`stepline doctor: ${pipelines} pipeline(s) against account ${id}, ${region}, as ${arn}`);
      const all = needsOf(config, { account: id, region });
      // Stacks placed in another account or Region (a deployment target's) count against that account's and Region's
      // quotas: credentials for them read those.
      const here = (n: QuotaNeed) => n.account === id && (n.region === undefined || n.region === region);
      const elsewhere = new Set(all.filter((n) => !here(n)).map((n) => `${n.account ?? id}, ${n.region ?? region}`));
      for (const other of elsewhere)
        print(`  not read here: the quotas of ${other} (run stepline doctor --aws with credentials for it)`);
      const needs = [
        ...all.filter(here),
        // Lambda's code storage: the app's own code is a few MB; what counts is the account's use (versions included).
        { quota: quotaById('lambda-code-storage'), account: id, region, count: 0 },
      ];
      const states = new Map<QuotaNeed, AccountQuotaState>();
      for (const need of needs) states.set(need, await account.state(need));
      verdicts = judgeAgainstAccount(needs, (need) => states.get(need)!);
    } catch (error) {
      if (!(error instanceof AwsUnreachableError)) throw error;
      print(`stepline doctor --aws: ${error.message}`);
      return 1;
    }
  } else {
    print(
      `stepline doctor: ${pipelines} pipeline(s) against each quota's default (--aws: against your account's applied quotas and use)`,
    );
    verdicts = judgeAgainstDefaults(needsOf(config));
  }
  formatQuotaReport(verdicts).forEach((line) => print(`  ${line}`));
  return verdicts.some((v) => v.status === 'exceeds') ? 1 : 0;
}

/** The context `cdk synth` runs the app with (cdk.json). */
const CDK_CONTEXT = (
  JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

/**
 * The app's needs, from its stacks as `cdk synth` builds them, built in process without bundling its handlers (the
 * counts do not read code).
 */
function needsOf(config: SteplineConfig, env?: { account: string; region: string }): QuotaNeed[] {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  buildStepline(app, config, { env, nag: false });
  return countQuotaNeeds(stacksOfApp(app));
}
