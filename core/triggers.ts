/**
 * Source triggers as data: the EventBridge pattern that selects a pipeline's events and the input
 * transformer that shapes what its target receives. The CDK app renders both onto an `events.Rule`;
 * local mode matches and transforms with the very same objects.
 */
import type { CodeCommitPipeline } from './config';
import type { EventPattern } from './event-pattern';

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
 * The trigger of a CodeCommit pipeline: every push that creates or moves a branch or tag of its
 * repository, shaped as a SourceChanged event's detail (CodeCommit's event names no author, message
 * or files: the starter reads them) for the source-change publisher to put on the platform's bus.
 * The run starter applies the pipeline's filters (core/filters.ts) and records the
 * pushes they drop as SKIPPED, so a filtered push is never dropped silently. `referenceCreated` is
 * included so that the first push of a new branch runs too.
 */
export function codeCommitTrigger(pipeline: CodeCommitPipeline, repositoryArn: string): SourceTrigger {
  return {
    pattern: {
      source: ['aws.codecommit'],
      'detail-type': [CODECOMMIT_DETAIL_TYPE],
      resources: [repositoryArn],
      detail: {
        event: ['referenceCreated', 'referenceUpdated'],
        referenceType: ['branch', 'tag'],
      },
    },
    input: {
      pipeline: pipeline.name,
      repository: { path: '$.detail.repositoryName' },
      branch: { path: '$.detail.referenceName' },
      referenceType: { path: '$.detail.referenceType' },
      // Absent from referenceCreated events: the field is then left out.
      parentCommitId: { path: '$.detail.oldCommitId' },
      commitId: { path: '$.detail.commitId' },
      trigger: {
        kind: 'codecommit',
        deliveryId: { path: '$.id' },
        eventTime: { path: '$.time' },
        // CodeCommit names the IAM identity that pushed; a path missing from an event yields no field.
        pushedBy: { path: '$.detail.callerUserArn' },
      },
    },
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
 * Applies an input template to an event as EventBridge's input transformer does for string values:
 * a path that points to nothing yields no field.
 */
export function applyInputTemplate(template: InputTemplate | EventPath, event: unknown): unknown {
  if (isEventPath(template)) return valueAt(event, template.path);
  return applyTemplate(template, event);
}

function applyTemplate(template: InputTemplate, event: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    const resolved =
      typeof value === 'string' ? value : isEventPath(value) ? valueAt(event, value.path) : applyTemplate(value, event);
    if (resolved !== undefined) result[key] = resolved;
  }
  return result;
}

function valueAt(event: unknown, path: string): unknown {
  if (!/^\$(\.[\w-]+)+$/.test(path)) throw new Error(`unsupported input path "${path}": use $.field.field`);
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>(
      (node, field) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[field] : undefined),
      event,
    );
}
