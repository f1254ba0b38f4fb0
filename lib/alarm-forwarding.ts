/**
 * The one rule of a target stack that carries its alarms' state changes to the platform: on the target
 * account's default bus (where CloudWatch puts them), matching stepline's alarms as the platform's own
 * alarm rule does, target the platform account's `stepline` bus, through a role that may put events on
 * that bus only. The platform's bus accepts them from the config's target accounts
 * (lib/target-account-access.ts) and its forwarded-alarm rule hands them to the deploy function: one bus
 * hop more than an alarm in the platform's own account.
 *
 * EventBridge delivers to an event bus of another account, and to one of another Region
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html); the cross-Region
 * destinations were first only us-east-1, us-west-2 and eu-west-1
 * (https://aws.amazon.com/blogs/compute/introducing-cross-region-event-routing-with-amazon-eventbridge/).
 * stepline's targets are in the platform's Region (core/deployment/targets.ts targetPlacementProblems), so
 * the hop crosses accounts only, never Regions.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  ALARM_FORWARDING_RULE_NAME,
  alarmForwardingPattern,
  platformBusArn,
  type AccountRegion,
} from '../core/deployment/targets';
import { ExplicitRole } from './permissions';
import { toCdkEventPattern } from './source-triggers';

export interface AlarmForwardingProps {
  /** The platform's account and Region, whose `stepline` bus receives the events. */
  readonly platform: AccountRegion;
}

export class AlarmForwarding extends Construct {
  readonly rule: events.Rule;
  /** Assumed by EventBridge to put the events on the platform's bus; that one action on that one bus. */
  readonly role: ExplicitRole;

  constructor(scope: Construct, id: string, props: AlarmForwardingProps) {
    super(scope, id);
    const busArn = platformBusArn(Stack.of(this).partition, props.platform);
    this.role = new ExplicitRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `stepline: forwards alarm state changes to the stepline bus of platform account ${props.platform.account}`,
    });
    this.role.allow(['events:PutEvents'], [busArn]);
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: ALARM_FORWARDING_RULE_NAME,
      description: `stepline: the state changes of stepline's alarms, to the stepline bus of platform account ${props.platform.account}, where they roll deployments back`,
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
