/**
 * The one rule of a target stack that carries its alarms' state changes to the platform: on the target
 * account's default bus (where CloudWatch puts them), matching stepline's alarms as the platform's own
 * alarm rule does, target the platform's Region, through a role that may put events on that one bus only
 * (core/deployment/targets.ts alarmForwardingDestination):
 * - from another account, the platform account's `stepline` bus, which accepts them from the config's target
 *   accounts (lib/target-account-access.ts) and whose forwarded-alarm rule hands them to the deploy function
 *   with the account they came from: one bus hop more than an alarm in the platform's own account;
 * - from the platform's own account in another Region, the platform account's default bus, whose alarm rule
 *   hands them to the deploy function as it does the platform Region's own alarms (same account: no bus policy).
 *
 * EventBridge delivers to an event bus of another account, and to one of another Region
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html). The cross-Region
 * destinations were first only us-east-1, us-west-2 and eu-west-1
 * (https://aws.amazon.com/blogs/compute/introducing-cross-region-event-routing-with-amazon-eventbridge/);
 * since then events are routed "between any AWS Regions, except AWS GovCloud (US) and China"
 * (https://aws.amazon.com/blogs/compute/expanding-cross-region-event-routing-with-amazon-eventbridge/): every
 * commercial Region forwards to every other. A platform in GovCloud or China refuses a target in another Region
 * at synth (core/deployment/targets.ts targetPlacementProblems).
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  ALARM_FORWARDING_RULE_NAME,
  alarmForwardingDestination,
  alarmForwardingPattern,
  type AccountRegion,
} from '../core/deployment/targets';
import { ExplicitRole } from './permissions';
import { toCdkEventPattern } from './source-triggers';

export interface AlarmForwardingProps {
  /** The platform's account and Region, whose `stepline` bus (or, from its own account, default bus) receives the events. */
  readonly platform: AccountRegion;
}

export class AlarmForwarding extends Construct {
  readonly rule: events.Rule;
  /** Assumed by EventBridge to put the events on the platform's bus; that one action on that one bus. */
  readonly role: ExplicitRole;

  constructor(scope: Construct, id: string, props: AlarmForwardingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const busArn = alarmForwardingDestination(stack.partition, props.platform, stack.account);
    const bus = `the ${busArn.split('/').pop()} bus of platform account ${props.platform.account} in ${props.platform.region}`;
    this.role = new ExplicitRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `stepline: forwards alarm state changes to ${bus}`,
    });
    this.role.allow(['events:PutEvents'], [busArn]);
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: ALARM_FORWARDING_RULE_NAME,
      description: `stepline: the state changes of stepline's alarms, to ${bus}, where they roll deployments back`,
      eventPattern: toCdkEventPattern(alarmForwardingPattern()),
      // The event as it is (an input transformer would change what the platform's rule matches).
      targets: [
        new targets.EventBus(events.EventBus.fromEventBusArn(this, 'PlatformBus', busArn), {
          role: this.role.immutable,
        }),
      ],
    });
    this.role.isNeededBy(this.rule);
  }
}
