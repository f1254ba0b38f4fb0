/**
 * Source triggers as data: the EventBridge pattern that selects a pipeline's events and the input
 * transformer that shapes what its target receives. The CDK app renders both onto an `events.Rule`;
 * local mode matches and transforms with the very same objects.
 */
import type { EventPattern } from './event-pattern';
import type { SourceChanged } from '../records';
import { MissingEventPathError, UnsupportedInputPathError } from './errors';

/** A leaf of an input template: a value taken from the event by a JSONPath of plain field names. */
export interface EventPath {
  readonly path: string;
}
export type InputTemplate = { readonly [key: string]: string | EventPath | InputTemplate };

export interface SourceTrigger {
  readonly pattern: EventPattern;
  /** The target's input: a template, or one path of the event (EventBridge's InputPath). */
  readonly input: InputTemplate | EventPath;
}

export const CODECOMMIT_DETAIL_TYPE = 'CodeCommit Repository State Change';

/**
 * The one rule for every CodeCommit push in the account and Region: every push that creates or moves a
 * branch or tag of any repository, shaped as a SourceChanged event's detail without its pipeline, plus the
 * push's own `detail` (CodeCommit's event names no author, message or files: the starter reads them), for
 * the source-change publisher, which finds the pipelines following the repository in the catalog and puts
 * one SourceChanged event per pipeline on the platform's bus (`publishCodeCommitPush`,
 * core/sources/followers.ts). It names no repository and no pipeline: adding a pipeline changes no rule.
 * The run starter applies each pipeline's filters (core/sources/filters.ts) and records the pushes they
 * drop as SKIPPED, so a filtered push is never dropped silently. `referenceCreated` is included so that
 * the first push of a new branch runs too.
 *
 * Only paths every matched event has are mapped on their own. A `referenceCreated` event has no
 * `oldCommitId` (CodeCommit user guide, "Monitoring CodeCommit events in Amazon EventBridge",
 * https://docs.aws.amazon.com/codecommit/latest/userguide/monitoring-events.html#referenceCreated — its
 * example has no `callerUserArn` either), and for a path missing from the event EventBridge's input
 * transformer says only that "that variable isn't created and won't appear in the output"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html#eb-transform-input-issues):
 * in a JSON template, where the variable stands unquoted for a whole value, what is left there is not
 * specified. So the optional fields travel inside the push's `detail` object, which every event has,
 * where "absent" is plain JSON.
 */
export function codeCommitPushTrigger(): SourceTrigger {
  return {
    pattern: {
      source: ['aws.codecommit'],
      'detail-type': [CODECOMMIT_DETAIL_TYPE],
      detail: {
        event: ['referenceCreated', 'referenceUpdated'],
        referenceType: ['branch', 'tag'],
      },
    },
    input: {
      repository: { path: '$.detail.repositoryName' },
      branch: { path: '$.detail.referenceName' },
      referenceType: { path: '$.detail.referenceType' },
      commitId: { path: '$.detail.commitId' },
      trigger: {
        kind: 'codecommit',
        deliveryId: { path: '$.id' },
        eventTime: { path: '$.time' },
      },
      push: { path: '$.detail' },
    },
  };
}

/** A CodeCommit push as the push rule hands it over (codeCommitPushTrigger's input). */
export type CodeCommitPush = Omit<SourceChanged, 'pipeline' | 'parentCommitId'> & {
  readonly push: { readonly oldCommitId?: string; readonly callerUserArn?: string };
};

/**
 * The SourceChanged detail of a CodeCommit push for one pipeline following its repository:
 * `parentCommitId` is the push's `oldCommitId` (absent when it created the branch), `trigger.pushedBy` its
 * `callerUserArn`.
 */
export function sourceChangedFromPush(pipeline: string, input: CodeCommitPush): SourceChanged {
  const { push, ...change } = input;
  return {
    pipeline,
    ...change,
    ...(push.oldCommitId === undefined ? {} : { parentCommitId: push.oldCommitId }),
    trigger: { ...change.trigger, ...(push.callerUserArn === undefined ? {} : { pushedBy: push.callerUserArn }) },
  };
}

export const EXECUTION_STATUS_DETAIL_TYPE = 'Step Functions Execution Status Change';

/**
 * The trigger that tells the progress recorder a pipeline's execution ended, however it ended: every
 * terminal status change of a state machine whose ARN starts with `stateMachineArnPrefix` (stepline's
 * reserved prefix), as an `executionEnded` progress event. Step Functions delivers these events best
 * effort; the recorder also moves the lane when a run records its own end.
 */
export function executionEndedTrigger(stateMachineArnPrefix: string): SourceTrigger {
  return {
    pattern: {
      source: ['aws.states'],
      'detail-type': [EXECUTION_STATUS_DETAIL_TYPE],
      detail: {
        status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ prefix: stateMachineArnPrefix }],
      },
    },
    input: { kind: 'executionEnded', runId: { path: '$.detail.name' }, status: { path: '$.detail.status' } },
  };
}

export function isEventPath(value: unknown): value is EventPath {
  return typeof value === 'object' && value !== null && typeof (value as EventPath).path === 'string';
}

/**
 * Applies an input template to an event as EventBridge's input transformer does, each path standing
 * for a whole value (the CDK app renders it unquoted). A path the event does not have is refused: for
 * it EventBridge says only that "that variable isn't created and won't appear in the output"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html#eb-transform-input-issues),
 * which leaves the value of an unquoted placeholder unspecified — a template must map only paths every
 * matched event has.
 */
export function applyInputTemplate(template: InputTemplate | EventPath, event: unknown): unknown {
  if (isEventPath(template)) return valueAt(event, template.path);
  return applyTemplate(template, event);
}

function applyTemplate(template: InputTemplate, event: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    result[key] =
      typeof value === 'string' ? value : isEventPath(value) ? valueAt(event, value.path) : applyTemplate(value, event);
  }
  return result;
}

function valueAt(event: unknown, path: string): unknown {
  if (!/^\$(\.[\w-]+)+$/.test(path)) throw new UnsupportedInputPathError(path);
  const value = path
    .split('.')
    .slice(1)
    .reduce<unknown>(
      (node, field) =>
        node && typeof node === 'object' && Object.hasOwn(node, field)
          ? (node as Record<string, unknown>)[field]
          : undefined,
      event,
    );
  if (value === undefined) throw new MissingEventPathError(path);
  return value;
}
