/**
 * Where pushes arrive on the platform: its own EventBridge bus, which carries one SourceChanged event
 * per push and pipeline (core/sources/source-events.ts), with an archive so a lost window of pushes can be
 * replayed (a replayed push finds the run it started: runs are named by delivery), and the secret
 * GitHub signs webhook deliveries with.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { GITHUB_WEBHOOK_SECRET_NAME, SOURCE_BUS_NAME } from '../core/platform';
import { SOURCE_CHANGED } from '../core/sources/source-events';
import { acknowledgeRule } from './nag';

export interface SourceEventsProps {
  /**
   * How long the archive keeps SourceChanged events for replay.
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;
}

export class SourceEvents extends Construct {
  /** The platform's bus; each pipeline's run rule lives on it. */
  readonly bus: events.EventBus;
  /** Generated at the first deploy; its value is what a GitHub webhook's "Secret" field takes. */
  readonly webhookSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SourceEventsProps = {}) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: SOURCE_BUS_NAME,
      description: 'stepline: one SourceChanged event per push and pipeline, from CodeCommit and GitHub',
    });
    this.bus.archive('Archive', {
      archiveName: `${SOURCE_BUS_NAME}-source-changes`,
      description: 'stepline: SourceChanged events, kept for replay',
      eventPattern: { source: [SOURCE_CHANGED.source] },
      retention: props.archiveRetention ?? Duration.days(30),
    });
    this.webhookSecret = new secretsmanager.Secret(this, 'GitHubWebhookSecret', {
      secretName: GITHUB_WEBHOOK_SECRET_NAME,
      description: 'stepline: the secret GitHub webhooks sign their deliveries with (X-Hub-Signature-256)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeRule(
      this.webhookSecret,
      'SMG4',
      "The webhook secret is shared with GitHub, which has no rotation hook: a rotation Lambda could not update the webhooks' configuration, so rotation is done by hand (README: rotate the GitHub webhook secret) and the receiver re-reads the secret every 5 minutes.",
    );
  }
}
