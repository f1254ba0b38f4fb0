/**
 * A local event bus: rules made of the same pattern and input template objects the CDK app puts on
 * EventBridge, matched with core/event-pattern and transformed with core/triggers. Local mode has two,
 * as an account has: the default bus (CodeCommit's events) and the platform's bus (SourceChanged).
 */
import * as z from 'zod';
import { matchesPattern, validatePattern } from '../core/event-pattern';
import { parseInput } from '../core/schemas';
import { applyInputTemplate, type SourceTrigger } from '../core/triggers';

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

export interface Rule extends SourceTrigger {
  readonly name: string;
  readonly target: (input: unknown) => Promise<unknown>;
}

export interface Delivery {
  readonly rule: string;
  readonly result: Promise<unknown>;
}

export class LocalEventBus {
  private readonly rules: Rule[] = [];

  addRule(rule: Rule): void {
    validatePattern(rule.pattern);
    this.rules.push(rule);
  }

  /** Delivers an event to the target of every matching rule; a malformed event is refused whole. */
  put(event: unknown): Delivery[] {
    const valid = parseInput(eventEnvelopeSchema, event, 'event');
    return this.rules
      .filter((rule) => matchesPattern(rule.pattern, valid))
      .map((rule) => ({ rule: rule.name, result: rule.target(applyInputTemplate(rule.input, valid)) }));
  }
}
