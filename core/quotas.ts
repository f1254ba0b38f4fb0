/**
 * The account quotas stepline's resources count against, in stepline's words: what each quota is, its default, whether
 * it can be raised and how (its Service Quotas code, where one exists), and the page it is cited from. Pure: the CDK app
 * (lib/quota-report.ts) counts what an app needs from its stacks with `countQuotaNeeds`, `judgeAgainstDefaults` says at
 * synth which defaults the app approaches or exceeds, and `stepline doctor --aws` (cli/doctor.ts) compares the same
 * needs with the account's applied quotas and its current use through `judgeAgainstAccount`.
 *
 * Every value below was read from the page named in its `source`; a Service Quotas code is given only where one was
 * confirmed (the console's link to the quota, or `list-service-quotas` output), never guessed. Where none could be
 * confirmed the quota has no `serviceQuota`, and the doctor compares with the documented default.
 */

/** A share of a quota at which stepline says the app approaches it. */
export const APPROACHING_SHARE = 0.8;

export type QuotaId =
  | 'eventbridge-rules-per-bus'
  | 'eventbridge-wildcard-rules-per-bus'
  | 'iam-roles'
  | 'cloudformation-stacks'
  | 'codebuild-projects'
  | 'step-functions-state-machines'
  | 'ssm-standard-parameters'
  | 'cloudwatch-log-groups'
  | 'cloudwatch-alarms'
  | 'lambda-code-storage';

export interface AccountQuota {
  readonly id: QuotaId;
  /** The quota's name, as its page and Service Quotas call it. */
  readonly name: string;
  /** The default value in most Regions, in `unit`. */
  readonly defaultValue: number;
  /** What the quota counts: resources, or bytes (Lambda's code storage; its values here are bytes). */
  readonly unit: 'resources' | 'bytes';
  /** Regions whose default differs. */
  readonly defaultByRegion?: Readonly<Record<string, number>>;
  readonly adjustable: boolean;
  /** How high the page says an increase can go, where it says. */
  readonly adjustableTo?: number;
  /** `account`: one quota for the whole account (IAM is global); `region`: one per account and Region. */
  readonly scope: 'account' | 'region';
  /** One quota per event bus (EventBridge). */
  readonly perEventBus?: true;
  /** Where Service Quotas keeps it: `GetServiceQuota` and `request-service-quota-increase` take these. */
  readonly serviceQuota?: { readonly serviceCode: string; readonly quotaCode: string };
  /** The page the default (and code) is cited from. */
  readonly source: string;
  /** What else the reader must know: how to go past a quota that cannot be raised, what shares it. */
  readonly note?: string;
}

/**
 * The quotas, one entry each. Not here because they do not grow with the pipelines or have no count quota: Lambda
 * functions (no quota on their number: their code counts against the code storage quota below), SQS queues (no quota
 * on their number), the platform's two buckets, one bus, table, key and HTTP API.
 */
export const ACCOUNT_QUOTAS: readonly AccountQuota[] = [
  {
    id: 'eventbridge-rules-per-bus',
    name: 'EventBridge rules per event bus',
    defaultValue: 300,
    unit: 'resources',
    // "Number of rules: af-south-1: 100, eu-south-1: 100, each of the other supported Regions: 300".
    defaultByRegion: { 'af-south-1': 100, 'eu-south-1': 100 },
    adjustable: true,
    scope: 'region',
    perEventBus: true,
    serviceQuota: { serviceCode: 'events', quotaCode: 'L-244521F2' },
    source: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
  },
  {
    id: 'eventbridge-wildcard-rules-per-bus',
    name: 'EventBridge rules containing wildcards per event bus',
    defaultValue: 30,
    unit: 'resources',
    adjustable: false,
    scope: 'region',
    perEventBus: true,
    source: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
    note: 'not in Service Quotas and not adjustable: match with prefix, suffix or exact values instead of wildcards',
  },
  {
    id: 'iam-roles',
    name: 'IAM roles per account',
    defaultValue: 1000,
    unit: 'resources',
    adjustable: true,
    adjustableTo: 5000,
    scope: 'account',
    // IAM is global: Service Quotas answers for it in us-east-1 (cli/aws-account-quotas.ts).
    serviceQuota: { serviceCode: 'iam', quotaCode: 'L-FE177D64' },
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
  },
  {
    id: 'cloudformation-stacks',
    name: 'CloudFormation stacks',
    defaultValue: 2000,
    unit: 'resources',
    adjustable: true,
    scope: 'region',
    serviceQuota: { serviceCode: 'cloudformation', quotaCode: 'L-0485CB21' },
    source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html',
    note: 'the CDK bootstrap stack (CDKToolkit) is one more in each bootstrapped Region',
  },
  {
    id: 'codebuild-projects',
    name: 'CodeBuild build projects',
    defaultValue: 5000,
    unit: 'resources',
    adjustable: true,
    scope: 'region',
    serviceQuota: { serviceCode: 'codebuild', quotaCode: 'L-ACCF6C0D' },
    source: 'https://docs.aws.amazon.com/codebuild/latest/userguide/limits.html',
  },
  {
    id: 'step-functions-state-machines',
    name: 'Step Functions registered state machines',
    defaultValue: 100_000,
    unit: 'resources',
    adjustable: true,
    adjustableTo: 150_000,
    scope: 'region',
    // No Service Quotas code could be confirmed for this quota: the doctor compares with the default.
    source: 'https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html',
  },
  {
    id: 'ssm-standard-parameters',
    name: 'Systems Manager Parameter Store standard parameters',
    defaultValue: 10_000,
    unit: 'resources',
    adjustable: false,
    scope: 'region',
    source: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
    note: 'not adjustable: past it, parameters must use the advanced tier (100,000 per account and Region, charged)',
  },
  {
    id: 'cloudwatch-log-groups',
    name: 'CloudWatch Logs log groups',
    defaultValue: 1_000_000,
    unit: 'resources',
    adjustable: true,
    scope: 'region',
    serviceQuota: { serviceCode: 'logs', quotaCode: 'L-C7B9AAAB' },
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html',
  },
  {
    id: 'cloudwatch-alarms',
    name: 'CloudWatch alarms',
    defaultValue: 5000,
    unit: 'resources',
    adjustable: true,
    scope: 'region',
    // Service Quotas lists no alarm-count quota under `monitoring` (only request rates), so there is no code.
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html',
    note: 'raised through a Support case (no Service Quotas code); CloudFormation creates alarms through PutMetricAlarm, 3 requests per second by default, so many stacks deploying at once wait on it',
  },
  {
    id: 'lambda-code-storage',
    name: 'Lambda function and layer storage',
    defaultValue: 75 * 1024 ** 3,
    unit: 'bytes',
    adjustable: true,
    scope: 'region',
    serviceQuota: { serviceCode: 'lambda', quotaCode: 'L-2ACBD22F' },
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    note: "every published version's code counts until it is deleted, and each release stepline makes publishes one: delete old versions of busy targets",
  },
];

export function quotaById(id: QuotaId): AccountQuota {
  return ACCOUNT_QUOTAS.find((quota) => quota.id === id)!;
}

/**
 * The quota's default in a Region; with no Region (an environment-agnostic app, whose Region is known only when it
 * deploys), the lowest default of any Region, so that synth warns wherever the app may go.
 */
export function defaultIn(quota: AccountQuota, region: string | undefined): number {
  const byRegion = quota.defaultByRegion ?? {};
  if (region !== undefined) return byRegion[region] ?? quota.defaultValue;
  return Math.min(quota.defaultValue, ...Object.values(byRegion));
}

/** A CloudFormation resource as a template declares it (only what the counts read). */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

/** One stack of an app: where it deploys (undefined: environment-agnostic) and its resources by logical id. */
export interface StackResources {
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
  readonly resources: Readonly<Record<string, TemplateResource>>;
}

/** What the app needs of one quota in one account (and Region, and bus). */
export interface QuotaNeed {
  readonly quota: AccountQuota;
  readonly account?: string;
  /** Undefined for an account-wide quota, or an environment-agnostic app. */
  readonly region?: string;
  /** The event bus's name, for a quota per bus. */
  readonly bus?: string;
  readonly count: number;
}

export const DEFAULT_EVENT_BUS = 'default';

/** Resource types each quota counts (rules are counted per bus below). */
const COUNTED_TYPES: Readonly<Partial<Record<QuotaId, readonly string[]>>> = {
  'iam-roles': ['AWS::IAM::Role'],
  'codebuild-projects': ['AWS::CodeBuild::Project'],
  'step-functions-state-machines': ['AWS::StepFunctions::StateMachine'],
  'cloudwatch-log-groups': ['AWS::Logs::LogGroup'],
  'cloudwatch-alarms': ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'],
};

/**
 * Counts what the stacks need of each quota, per account (and Region, and event bus): every resource the templates
 * declare, whoever declares it, so that the counts follow the app as it is built rather than a second model of it.
 * Quotas the app needs none of (a bus it puts no rule on) are left out.
 */
export function countQuotaNeeds(stacks: readonly StackResources[]): QuotaNeed[] {
  const needs = new Map<
    string,
    { quota: AccountQuota; account?: string; region?: string; bus?: string; count: number }
  >();
  const add = (quota: AccountQuota, stack: StackResources, count: number, bus?: string) => {
    const region = quota.scope === 'region' ? stack.region : undefined;
    const key = JSON.stringify([quota.id, stack.account ?? null, region ?? null, bus ?? null]);
    const need = needs.get(key) ?? { quota, account: stack.account, region, bus, count: 0 };
    need.count += count;
    needs.set(key, need);
  };
  for (const stack of stacks) {
    // Lambda's code storage is not counted here: the code's size is known once bundled, and the doctor reads the
    // account's use of it (lambda:GetAccountSettings).
    const resources = Object.values(stack.resources);
    add(quotaById('cloudformation-stacks'), stack, 1);
    for (const [id, types] of Object.entries(COUNTED_TYPES) as [QuotaId, readonly string[]][]) {
      const count = resources.filter((r) => types.includes(r.Type)).length;
      if (count) add(quotaById(id), stack, count);
    }
    const standardParameters = resources.filter(
      (r) => r.Type === 'AWS::SSM::Parameter' && r.Properties?.Tier !== 'Advanced',
    ).length;
    if (standardParameters) add(quotaById('ssm-standard-parameters'), stack, standardParameters);
    for (const rule of resources.filter((r) => r.Type === 'AWS::Events::Rule')) {
      const bus = busName(stack, rule);
      add(quotaById('eventbridge-rules-per-bus'), stack, 1, bus);
      if (JSON.stringify(rule.Properties?.EventPattern ?? {}).includes('"wildcard"'))
        add(quotaById('eventbridge-wildcard-rules-per-bus'), stack, 1, bus);
    }
  }
  return [...needs.values()].sort(
    (a, b) =>
      ACCOUNT_QUOTAS.indexOf(a.quota) - ACCOUNT_QUOTAS.indexOf(b.quota) || (a.bus ?? '').localeCompare(b.bus ?? ''),
  );
}

/**
 * The bus a rule is on: none named is the default bus; a name, or an ARN (`…:event-bus/<name>`); a `Ref` to a bus the
 * same template declares is that bus's name.
 */
function busName(stack: StackResources, rule: TemplateResource): string {
  const bus = rule.Properties?.EventBusName;
  if (bus === undefined) return DEFAULT_EVENT_BUS;
  if (typeof bus === 'string') return bus.includes(':event-bus/') ? bus.slice(bus.indexOf(':event-bus/') + 11) : bus;
  const ref = (bus as { Ref?: unknown }).Ref;
  const declared = typeof ref === 'string' ? stack.resources[ref] : undefined;
  if (declared?.Type === 'AWS::Events::EventBus' && typeof declared.Properties?.Name === 'string')
    return declared.Properties.Name;
  return JSON.stringify(bus);
}

export type QuotaStatus = 'within' | 'approaching' | 'exceeds';

/** One quota judged: the app's need, what else uses it (doctor), the limit it is judged against, and the verdict. */
export interface QuotaVerdict {
  readonly need: QuotaNeed;
  /** The quota's value: its default (at synth), or the account's applied value (doctor). */
  readonly limit: number;
  readonly limitIs: 'default' | 'applied';
  /** The account's current use, and how much of it is stepline's own already (doctor only). */
  readonly usage?: { readonly used: number; readonly byStepline: number };
  /** What the quota's use will be once the app is deployed. */
  readonly projected: number;
  readonly status: QuotaStatus;
  /** One line, for the synth report and the doctor. */
  readonly message: string;
}

/** At synth: each need against the quota's default (its Region's, or the lowest when the Region is unknown). */
export function judgeAgainstDefaults(needs: readonly QuotaNeed[]): QuotaVerdict[] {
  return needs.map((need) => verdict(need, defaultIn(need.quota, need.region), 'default', need.count, undefined));
}

/** What the doctor read of one quota in the account. */
export interface AccountQuotaState {
  /** The applied value (Service Quotas, or the AWS default it reports), or the documented default when it has no code. */
  readonly limit: number;
  readonly limitIs: 'applied' | 'default';
  /** Resources of the kind the account has now. */
  readonly used: number;
  /** Those among them stepline's own (already deployed), which the app's need replaces rather than adds to. */
  readonly byStepline: number;
}

/**
 * The doctor: each need against the account's applied quota, counting what the account uses now. What stepline
 * already has deployed is replaced by the need, not added to it: after the deploy the quota holds
 * `used - byStepline + need`.
 */
export function judgeAgainstAccount(
  needs: readonly QuotaNeed[],
  stateOf: (need: QuotaNeed) => AccountQuotaState,
): QuotaVerdict[] {
  return needs.map((need) => {
    const state = stateOf(need);
    const projected = state.used - state.byStepline + need.count;
    return verdict(need, state.limit, state.limitIs, projected, { used: state.used, byStepline: state.byStepline });
  });
}

function verdict(
  need: QuotaNeed,
  limit: number,
  limitIs: 'default' | 'applied',
  projected: number,
  usage: QuotaVerdict['usage'],
): QuotaVerdict {
  const status: QuotaStatus =
    projected > limit ? 'exceeds' : projected >= APPROACHING_SHARE * limit ? 'approaching' : 'within';
  return {
    need,
    limit,
    limitIs,
    usage,
    projected,
    status,
    message: describe(need, limit, limitIs, projected, status, usage),
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const GIB = 1024 ** 3;
/** A value of the quota's unit, as people read it. */
const amount = (quota: AccountQuota, n: number) =>
  quota.unit === 'bytes' ? `${(n / GIB).toLocaleString('en-US', { maximumFractionDigits: 2 })} GB` : count(n);

/** Where the need is: the bus, the Region, the account. */
export function whereOf(need: QuotaNeed): string {
  const place = [
    need.bus !== undefined ? `bus ${need.bus}` : undefined,
    need.quota.scope === 'account'
      ? `account ${need.account ?? '(the deploying account)'}`
      : `${need.account ? `account ${need.account}, ` : ''}${need.region ?? 'any Region'}`,
  ];
  return place.filter(Boolean).join(', ');
}

function describe(
  need: QuotaNeed,
  limit: number,
  limitIs: 'default' | 'applied',
  projected: number,
  status: QuotaStatus,
  usage: QuotaVerdict['usage'],
): string {
  const { quota } = need;
  const code = quota.serviceQuota ? ` (${quota.serviceQuota.serviceCode}/${quota.serviceQuota.quotaCode})` : '';
  const share = Math.round((100 * projected) / limit);
  const lowest = limitIs === 'default' && need.region === undefined && quota.defaultByRegion;
  const limitText = `the ${limitIs} ${amount(quota, limit)}${lowest ? ' (the lowest of any Region: the Region is not known at synth)' : ''}`;
  const use =
    quota.unit === 'bytes'
      ? `the account's functions use ${amount(quota, projected)}`
      : usage
        ? `the account uses ${count(usage.used)} now (${count(usage.byStepline)} of them stepline's), this app needs ${count(need.count)}: ${count(projected)} after deploying`
        : `this app needs ${count(need.count)}`;
  const verdictText = {
    within: '',
    approaching: ` — approaching it (${Math.round(APPROACHING_SHARE * 100)}% or more)`,
    exceeds: ' — exceeds it',
  }[status];
  const remedy = status === 'within' ? '' : `; ${raiseHow(quota, projected)}`;
  const note = quota.note && status !== 'within' ? `; ${quota.note}` : '';
  return `${quota.name}${code}, ${whereOf(need)}: ${use}, ${share}% of ${limitText}${verdictText}${remedy}${sharedNote(need)}${note}`;
}

/** How to raise the quota to a value that leaves `desired` below the share at which stepline warns, or that it cannot be. */
export function raiseHow(quota: AccountQuota, desired: number): string {
  if (!quota.adjustable) return 'not adjustable';
  if (!quota.serviceQuota) return 'adjustable, through a Support case';
  const { serviceCode, quotaCode } = quota.serviceQuota;
  // Service Quotas counts Lambda's storage in GB.
  const wanted = (quota.unit === 'bytes' ? desired / GIB : desired) / APPROACHING_SHARE;
  const value = quota.unit === 'bytes' ? Math.ceil(wanted) : Math.ceil(wanted / 100) * 100;
  // IAM is global: Service Quotas keeps its quotas in us-east-1.
  const region = quota.scope === 'account' ? ' --region us-east-1' : '';
  return `adjustable: aws service-quotas request-service-quota-increase --service-code ${serviceCode} --quota-code ${quotaCode} --desired-value ${value}${region}`;
}

/**
 * A shared quota says so: everything else in the account counts against it too. Only the platform's own bus is
 * stepline's alone.
 */
function sharedNote(need: QuotaNeed): string {
  if (need.bus !== undefined && need.bus !== DEFAULT_EVENT_BUS) return '';
  const what = need.bus
    ? 'that puts a rule on the default bus'
    : need.quota.scope === 'account'
      ? 'in the account, in every Region,'
      : 'in the account and Region';
  return `; shared: everything else ${what} counts against it too`;
}

/** The report as lines, one per quota, the ones that need attention first. */
export function formatQuotaReport(verdicts: readonly QuotaVerdict[]): string[] {
  const order: QuotaStatus[] = ['exceeds', 'approaching', 'within'];
  const sorted = [...verdicts].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
  return sorted.map(
    (v) => `${v.status === 'within' ? 'ok' : v.status === 'approaching' ? 'warning' : 'over'}: ${v.message}`,
  );
}

/** The verdicts that must stop a deploy: a quota that cannot be raised, exceeded. */
export function hardExceeded(verdicts: readonly QuotaVerdict[]): QuotaVerdict[] {
  return verdicts.filter((v) => v.status === 'exceeds' && !v.need.quota.adjustable);
}
