/**
 * A local event bus: rules made of the same pattern and input template objects the CDK app puts on
 * EventBridge, matched with core/event-pattern and transformed with core/triggers. Local mode has two,
 * as an account has: the default bus (CodeCommit's events) and the platform's bus (SourceChanged).
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { matchesPattern, validatePattern } from '../core/sources/event-pattern';
import { parseInput } from '../core/schemas';
import { applyInputTemplate, type SourceTrigger } from '../core/sources/triggers';
import { awsName, operation } from './aws-endpoint';
import { serviceError } from './aws-errors';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './constants';

export const eventEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string().regex(/^\d{12}$/, 'account must be 12 digits'),
  time: z.iso.datetime({ message: 'time must be an ISO 8601 UTC timestamp' }),
  region: z.string().min(1),
  resources: z.array(z.string()),
  detail: z.record(z.string(), z.unknown()),
});
export type BusEvent = z.infer<typeof eventEnvelopeSchema>;

/** What a service says of an event it sends; the envelope around it is EventBridge's (busEvent). */
export interface EventFields<Source extends string, DetailType extends string, Detail> {
  readonly source: Source;
  readonly detailType: DetailType;
  readonly detail: Detail;
  /** @default [] */
  readonly resources?: readonly string[];
  /** When it happened, as the sending service says. @default now */
  readonly time?: Date;
  /** @default a new version 4 UUID, as EventBridge makes one per event */
  readonly id?: string;
  /** @default LOCAL_ACCOUNT */
  readonly account?: string;
  /** @default LOCAL_REGION */
  readonly region?: string;
}

/**
 * An event as EventBridge delivers it: every local source of events (CodeCommit's ref updates, Step
 * Functions' status changes, CloudWatch's alarm state changes, PutEvents) puts its event in this one
 * envelope. The fields and their meaning are EventBridge's ("Event structure reference",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html): `version` "0" in
 * all events, `id` a version 4 UUID made for each event, `time` the timestamp the originating service
 * gives, shown there to the second without milliseconds (`"2017-12-22T18:43:48Z"`).
 */
export function busEvent<Source extends string, DetailType extends string, Detail extends Record<string, unknown>>(
  fields: EventFields<Source, DetailType, Detail>,
) {
  return {
    version: '0' as const,
    id: fields.id ?? randomUUID(),
    'detail-type': fields.detailType,
    source: fields.source,
    account: fields.account ?? LOCAL_ACCOUNT,
    time: eventTime(fields.time ?? new Date()),
    region: fields.region ?? LOCAL_REGION,
    resources: [...(fields.resources ?? [])],
    detail: fields.detail,
  } satisfies BusEvent;
}

/** An event's `time`: ISO 8601 in UTC to the second, as EventBridge writes it (busEvent). */
function eventTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface Rule {
  readonly name: string;
  readonly pattern: SourceTrigger['pattern'];
  /**
   * The target's input: a template, or one path of the event; absent, the matched event itself, as
   * EventBridge passes it to a target given no Input, InputPath or InputTransformer.
   */
  readonly input?: SourceTrigger['input'];
  readonly target: (input: unknown) => Promise<unknown>;
  /** The target is an event bus of another account (forwardTo): what it delivers is not forwarded again. */
  readonly forwards?: true;
}

export interface Delivery {
  readonly rule: string;
  /** What the rule's target was given: the event as the rule's input template shaped it. */
  readonly input: unknown;
  readonly result: Promise<unknown>;
}

export class LocalEventBus {
  private readonly rules: Rule[] = [];

  addRule(rule: Rule): void {
    validatePattern(rule.pattern);
    this.rules.push(rule);
  }

  /**
   * Delivers an event to the target of every matching rule; a malformed event is refused whole. An event
   * `forwarded` from another account's bus reaches no forwarding rule (see forwardTo).
   */
  put(event: unknown, { forwarded = false }: { forwarded?: boolean } = {}): Delivery[] {
    const valid = parseInput(eventEnvelopeSchema, event, 'event');
    return this.rules
      .filter((rule) => !(forwarded && rule.forwards) && matchesPattern(rule.pattern, valid))
      .map((rule) => {
        const input = rule.input === undefined ? valid : applyInputTemplate(rule.input, valid);
        return { rule: rule.name, input, result: rule.target(input) };
      });
  }
}

/**
 * A rule whose target is the event bus of another account (the platform's `stepline` bus, from a deploy
 * target's default bus), as EventBridge sends events between accounts ("Sending and receiving events
 * between AWS accounts in Amazon EventBridge",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html):
 * - the event arrives as it was sent: its `account` stays the sender's, so that the receiving account's rules
 *   "match events that come from the sender account" (ibid.), and "rules with an account field do not match
 *   any events sent from other accounts" (EventBridge API reference, PutPermission, `Principal`);
 * - it travels one hop: "If a receiver account sets up a rule that sends events received from a sender account
 *   on to a third account, these events are not sent to the third account" (eb-cross-account).
 * The receiving bus's resource policy and the sending rule's role, which AWS needs for this, are the target
 * stack's and the platform's (lib/); local mode has no permissions to check between its buses.
 */
export function forwardTo(name: string, pattern: SourceTrigger['pattern'], bus: LocalEventBus): Rule {
  return {
    name,
    pattern,
    forwards: true,
    // Answers the receiving bus's deliveries: its rules' targets run on their own, as EventBridge invokes them.
    target: async (event) => bus.put(event, { forwarded: true }),
  };
}

/** EventBridge's PutEvents onto the local buses by name (or ARN); a bus local mode does not have is ResourceNotFoundException. */
export function putEventsOperation(buses: Readonly<Record<string, LocalEventBus>>) {
  return {
    'AWSEvents.PutEvents': operation(
      z.object({
        Entries: z
          .array(
            z.object({
              EventBusName: awsName,
              Source: awsName,
              DetailType: awsName,
              Detail: z.string().max(256 * 1024),
              Resources: z.array(awsName).optional(),
              Time: z.number().optional(),
            }),
          )
          .min(1)
          .max(10),
      }),
      (r) => ({
        FailedEntryCount: 0,
        Entries: r.Entries.map((entry) => {
          const bus = buses[entry.EventBusName.split('/').pop()!];
          if (!bus) throw serviceError('ResourceNotFoundException', `Event bus ${entry.EventBusName} does not exist.`);
          const event = busEvent({
            source: entry.Source,
            detailType: entry.DetailType,
            time: entry.Time ? new Date(entry.Time * 1000) : undefined,
            resources: entry.Resources,
            detail: JSON.parse(entry.Detail) as Record<string, unknown>,
          });
          bus.put(event);
          return { EventId: event.id };
        }),
      }),
    ),
  };
}
