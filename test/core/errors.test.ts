/**
 * stepline's one error hierarchy: every error module's classes extend SteplineError, keep the cause they are
 * given, and are named as Step Functions' Retry/Catch in the state machine files match them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as approvalErrors from '../../core/approval/errors';
import { statesOf } from '../../core/asl/states';
import * as configErrors from '../../core/config/errors';
import type { DeploymentRecord } from '../../core/records';
import * as deploymentErrors from '../../core/deployment/errors';
import * as runErrors from '../../core/errors';
import * as notificationErrors from '../../core/notification/errors';
import * as runAreaErrors from '../../core/runs/errors';
import * as sourceErrors from '../../core/sources/errors';
import * as libErrors from '../../lib/errors';
import { queuedRun } from '../support/records';

const { SteplineError } = runErrors;
const ROOT = join(__dirname, '..', '..');

type ErrorClass = typeof SteplineError;

/** Every class the error modules export, by its exported name (the base included). */
const errorClasses: ReadonlyMap<string, ErrorClass> = new Map(
  [
    runErrors,
    runAreaErrors,
    sourceErrors,
    approvalErrors,
    deploymentErrors,
    notificationErrors,
    configErrors,
    libErrors,
  ]
    .flatMap((module) => Object.entries(module))
    .filter((entry): entry is [string, ErrorClass] => typeof entry[1] === 'function'),
);

/** The names their errors carry, which Lambda reports as the errorType. */
const errorNames = new Set([...errorClasses.values()].map((errorClass) => errorClass.name));

const deployment: DeploymentRecord = {
  runId: 'web-0123456789ab-00000000',
  pipeline: 'web',
  function: 'web-api',
  alias: 'live',
  fromVersion: '1',
  steps: [],
  step: -1,
  status: 'ROLLED_BACK',
  alarms: [],
  alarmsSeen: [],
  interventions: [],
  startedAt: '2026-12-03T10:00:00.000Z',
};

/** One of each error, made with the cause given: a new class without a line here fails the test below. */
const withCause: Readonly<Record<string, (options: ErrorOptions) => Error>> = {
  SteplineError: (o) => new SteplineError('any failure', o),
  RunAlreadyExistsError: (o) => new runErrors.RunAlreadyExistsError(queuedRun(), o),
  RunNotFoundError: (o) => new runErrors.RunNotFoundError('r1', o),
  InvalidTransitionError: (o) => new runErrors.InvalidTransitionError('run r1', 'SUCCEEDED', 'RUNNING', o),
  UnknownPipelineError: (o) => new runErrors.UnknownPipelineError('web', o),
  CommitNotFoundError: (o) => new runErrors.CommitNotFoundError('web', 'abc', o),
  BranchNotFoundError: (o) => new runErrors.BranchNotFoundError('web', 'main', 'branch', o),
  RunControlRefusedError: (o) => new runAreaErrors.RunControlRefusedError(409, 'refused', o),
  RunToControlNotFoundError: (o) => new runAreaErrors.RunToControlNotFoundError('web-1', o),
  RunNotControllableError: (o) => new runAreaErrors.RunNotControllableError('web-1', 'SUCCEEDED', 'cancelled', o),
  NotResumableError: (o) => new runAreaErrors.NotResumableError('web-1', 'it was rolled back', o),
  ExecutionHistoryGoneError: (o) => new runAreaErrors.ExecutionHistoryGoneError('web-1', 'arn:execution', o),
  ManualRunError: (o) => new runAreaErrors.ManualRunError('refused', o),
  RunToRerunNotFoundError: (o) => new runAreaErrors.RunToRerunNotFoundError('web-1', o),
  RunNotEndedError: (o) => new runAreaErrors.RunNotEndedError('web-1', 'RUNNING', o),
  PipelineNotDeployedError: (o) => new runAreaErrors.PipelineNotDeployedError('web', o),
  ReleaseCommitNotFoundError: (o) => new runAreaErrors.ReleaseCommitNotFoundError('web', 'web', 'abc', 'gone', o),
  BranchHeadUnknownError: (o) => new runAreaErrors.BranchHeadUnknownError('web', 'a GitHub pipeline', o),
  InvalidCatalogEntryError: (o) => new runErrors.InvalidCatalogEntryError('web', '/stepline/pipelines/web', o),
  InvalidRequestError: (o) => new runErrors.InvalidRequestError('bad request', ['runId is missing'], o),
  BusEventsRefusedError: (o) => new runErrors.BusEventsRefusedError('SourceChanged', ['throttled'], o),
  BuildNotFoundError: (o) => new runErrors.BuildNotFoundError('web-build:1', o),
  EventPatternError: (o) => new sourceErrors.EventPatternError('$.source', 'empty arrays are not allowed', o),
  MissingEventPathError: (o) => new sourceErrors.MissingEventPathError('$.detail.ref', o),
  UnsupportedInputPathError: (o) => new sourceErrors.UnsupportedInputPathError('$.a[0]', o),
  InvalidExecutionNameError: (o) => new sourceErrors.InvalidExecutionNameError('web', 'abc', o),
  ApprovalRejectedError: (o) => new approvalErrors.ApprovalRejectedError('rejected by bob: no', o),
  ApprovalExpiredError: (o) => new approvalErrors.ApprovalExpiredError('nobody decided', o),
  DecisionRefusedError: (o) => new approvalErrors.DecisionRefusedError(409, 'the gate is closed', o),
  DecisionLinkNotSignedError: (o) => new approvalErrors.DecisionLinkNotSignedError('runId is empty', o),
  SlackResponseUrlRefusedError: (o) => new approvalErrors.SlackResponseUrlRefusedError('https://example.com', o),
  SlackResponseFailedError: (o) => new approvalErrors.SlackResponseFailedError(500, o),
  DeploymentHaltedError: (o) => new deploymentErrors.DeploymentHaltedError(deployment, o),
  FunctionUpdateFailedError: (o) => new deploymentErrors.FunctionUpdateFailedError('web-api', 'Code', 'denied', o),
  FunctionUpdateTimedOutError: (o) => new deploymentErrors.FunctionUpdateTimedOutError('web-api', 60_000, o),
  ControlRefusedError: (o) => new deploymentErrors.ControlRefusedError('resume', deployment, o),
  StagingFailedError: (o) => new deploymentErrors.StagingFailedError('the smoke check failed', o),
  UnknownAlarmsError: (o) => new deploymentErrors.UnknownAlarmsError(['web-errors'], o),
  DeploymentNotFoundError: (o) => new deploymentErrors.DeploymentNotFoundError('r1', o),
  DeploymentStepNotFoundError: (o) => new deploymentErrors.DeploymentStepNotFoundError('r1', 3, o),
  DeployTargetNotFoundError: (o) => new deploymentErrors.DeployTargetNotFoundError('r1', o),
  StagingTargetNotFoundError: (o) => new deploymentErrors.StagingTargetNotFoundError('web', o),
  PipelineTargetUnknownError: (o) => new deploymentErrors.PipelineTargetUnknownError('web', o),
  BuildArtifactMissingError: (o) => new deploymentErrors.BuildArtifactMissingError('web-build:1', o),
  ArtifactTooLargeForUploadError: (o) =>
    new deploymentErrors.ArtifactTooLargeForUploadError(
      'web',
      's3://artifacts/web/1/artifact.zip',
      60_000_000,
      50_000_000,
      'us-east-1',
      'eu-west-1',
      o,
    ),
  ArtifactUnreadableError: (o) => new deploymentErrors.ArtifactUnreadableError('s3://artifacts/web/1/artifact.zip', o),
  CallerIdentityUnreadableError: (o) => new deploymentErrors.CallerIdentityUnreadableError(undefined, o),
  DeployRoleCredentialsMissingError: (o) => new deploymentErrors.DeployRoleCredentialsMissingError('web', o),
  DeployFunctionFailedError: (o) => new deploymentErrors.DeployFunctionFailedError('Error', 'boom', o),
  DeliveryError: (o) => new notificationErrors.DeliveryError('Slack answered 500', true, undefined, o),
  NotificationsUndeliveredError: (o) => new notificationErrors.NotificationsUndeliveredError(['slack: 500'], o),
  ConfigError: (o) => new configErrors.ConfigError(['pipelines: required'], 'stepline.config.ts', o),
  MissingEnvironmentVariableError: (o) => new configErrors.MissingEnvironmentVariableError('TABLE_NAME', o),
  SecretValueMissingError: (o) => new configErrors.SecretValueMissingError('stepline/link-key', o),
  EmptySigningKeyError: (o) => new configErrors.EmptySigningKeyError('the decision link key', o),
  PlatformLimitError: (o) => new libErrors.PlatformLimitError([{ where: 'stack', message: 'too many' }], o),
  InvalidPropError: (o) => new libErrors.InvalidPropError('sweepInterval', 'sweepInterval is too long', o),
  GrantRefusedError: (o) => new libErrors.GrantRefusedError('actions must be exact', o),
  UngrantableTaskError: (o) => new libErrors.UngrantableTaskError('pipeline.asl.json', 'no grant is known', o),
};

/** Every error name a Retry or Catch of the state machine files matches, with where and the state's Resource. */
function matchedErrorNames(): { name: string; where: string; resource: string }[] {
  const dir = join(ROOT, 'statemachines');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.asl.json'))
    .flatMap((file) =>
      statesOf(JSON.parse(readFileSync(join(dir, file), 'utf8'))).flatMap(({ name: state, state: definition }) =>
        [definition.Retry, definition.Catch]
          .flatMap((rules) => (Array.isArray(rules) ? (rules as { ErrorEquals?: unknown }[]) : []))
          .flatMap((rule) => (Array.isArray(rule.ErrorEquals) ? (rule.ErrorEquals as string[]) : []))
          .map((name) => ({ name, where: `${file} state "${state}"`, resource: String(definition.Resource ?? '') })),
      ),
    );
}

/**
 * Step Functions reports a service integration's own errors as `<Service>.<error>` ("Lambda errors are reported
 * as Lambda.<exception>": https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html),
 * the service being the one in the Task's Resource (`arn:aws:states:::lambda:invoke`).
 */
function isIntegrationError(name: string, resource: string): boolean {
  const service = /^arn:aws:states:::([\w-]+):/.exec(resource)?.[1];
  return service !== undefined && name.toLowerCase().startsWith(`${service.toLowerCase()}.`);
}

/** The exception classes of the AWS SDK clients the project depends on (a handler may let one through), by name. */
async function awsServiceErrorNames(): Promise<Set<string>> {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const clients = Object.keys(manifest.dependencies).filter((name) => name.startsWith('@aws-sdk/client-'));
  const names = new Set<string>();
  for (const client of clients) {
    for (const [name, value] of Object.entries((await import(client)) as Record<string, unknown>)) {
      if (typeof value === 'function' && value.prototype instanceof Error) names.add(name);
    }
  }
  return names;
}

describe('the error hierarchy', () => {
  it('has only SteplineError and its subclasses in the error modules, each error named as its class', () => {
    for (const [exported, errorClass] of errorClasses) {
      expect(errorClass === SteplineError || errorClass.prototype instanceof SteplineError).toBe(true);
      expect(withCause[exported]?.({}).name).toBe(errorClass.name);
    }
  });

  it('keeps the cause each error is given', () => {
    expect(Object.keys(withCause).sort()).toEqual([...errorClasses.keys()].sort());
    for (const [name, make] of Object.entries(withCause)) {
      const cause = new Error(`the cause of ${name}`);
      const error = make({ cause });
      expect(error).toBeInstanceOf(errorClasses.get(name)!);
      expect(error.cause).toBe(cause);
    }
  });

  it("names the gate's failures as the state machine's Catch matches them", () => {
    expect(new approvalErrors.ApprovalRejectedError('no').name).toBe('Approval.Rejected');
    expect(approvalErrors.ApprovalExpiredError.name).toBe('Approval.Expired');
  });

  it('has a class for every error name the state machines match that is neither States.* nor an AWS service error', async () => {
    const aws = await awsServiceErrorNames();
    const matched = matchedErrorNames();
    // The walk finds the Catches that match stepline's own errors (the release gate's, at least).
    expect(matched.filter(({ name }) => errorNames.has(name)).length).toBeGreaterThan(0);
    const unknown = matched.filter(
      ({ name, resource }) =>
        !name.startsWith('States.') && !isIntegrationError(name, resource) && !aws.has(name) && !errorNames.has(name),
    );
    expect(unknown).toEqual([]);
  });
});
