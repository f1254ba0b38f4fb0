/**
 * The account quotas an app needs, read from its stacks (core/quotas.ts decides; this module only reads): from the
 * constructed app before synthesis (`cdk synth` warns through CDK's annotations, which must be added before the
 * assembly is written) or from a synthesized assembly's templates (the bench, which synthesizes through the CLI).
 * Both read the same things, so both give the same counts (test/lib/quota-report.test.ts).
 */
import { Annotations, CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import {
  countQuotaNeeds,
  hardExceeded,
  judgeAgainstDefaults,
  type QuotaVerdict,
  type StackResources,
  type TemplateResource,
} from '../core/quotas';
import type { Stepline } from './app';
import type { LimitProblem } from './errors';

/** The app's stacks, before synthesis: each L1 resource's type, and the properties the counts read. */
export function stacksOfApp(root: IConstruct): StackResources[] {
  return root.node
    .findAll()
    .filter(Stack.isStack)
    .map((stack) => {
      const own = stack.node
        .findAll()
        .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === stack);
      return {
        stackName: stack.stackName,
        account: Token.isUnresolved(stack.account) ? undefined : stack.account,
        region: Token.isUnresolved(stack.region) ? undefined : stack.region,
        resources: Object.fromEntries(
          own.map((r): [string, TemplateResource] => [
            stack.resolve(r.logicalId) as string,
            { Type: r.cfnResourceType, Properties: propertiesCounted(stack, r) },
          ]),
        ),
      };
    });
}

/** What `countQuotaNeeds` reads of a resource, as its template will say it. */
function propertiesCounted(stack: Stack, resource: CfnResource): Record<string, unknown> | undefined {
  if (resource instanceof events.CfnRule)
    return { EventBusName: stack.resolve(resource.eventBusName), EventPattern: stack.resolve(resource.eventPattern) };
  if (resource instanceof events.CfnEventBus) return { Name: stack.resolve(resource.name) };
  if (resource instanceof ssm.CfnParameter) return { Tier: stack.resolve(resource.tier) };
  return undefined;
}

/** The stacks of a synthesized assembly, from their templates. */
export function stacksOfAssembly(assembly: CloudAssembly): StackResources[] {
  return assembly.stacks.map((artifact) => {
    const { account, region } = artifact.environment;
    const template = artifact.template as { Resources?: Record<string, TemplateResource> };
    return {
      stackName: artifact.stackName,
      // An environment-agnostic stack's environment is cx-api's `unknown-account` / `unknown-region`.
      account: account === 'unknown-account' ? undefined : account,
      region: region === 'unknown-region' ? undefined : region,
      resources: template.Resources ?? {},
    };
  });
}

/** The app's needs against each quota's default. */
export function quotaReport(root: IConstruct): QuotaVerdict[] {
  return judgeAgainstDefaults(countQuotaNeeds(stacksOfApp(root)));
}

/**
 * At synth: every quota the app approaches or exceeds becomes a warning on the platform stack, so `cdk synth` shows it
 * (acknowledgeable by its id, `stepline:quota:<quota>`); the problems returned are the quotas that cannot be raised
 * and that the app alone exceeds, which the app refuses (bin/stepline.ts). Call before synthesis.
 */
export function annotateQuotas(stepline: Stepline): { verdicts: QuotaVerdict[]; refused: LimitProblem[] } {
  const verdicts = quotaReport(stepline.platform.node.root);
  for (const v of verdicts.filter((verdict) => verdict.status !== 'within')) {
    const id = `stepline:quota:${v.need.quota.id}${v.need.bus ? `:${v.need.bus}` : ''}`;
    Annotations.of(stepline.platform).addWarningV2(id, v.message);
  }
  const refused = hardExceeded(verdicts).map((v) => ({ where: 'account quotas', message: v.message }));
  return { verdicts, refused };
}
