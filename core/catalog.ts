/**
 * A pipeline's catalog entry: what the run starter, the recorder and the release gate know of a deployed
 * pipeline. Its stack publishes it (SSM `/stepline/pipelines/<pipeline>`, core/platform.ts), built from
 * the pipeline's config (`catalogEntry` in core/config/stepline-config.ts) and read back through core/schemas.ts.
 * It carries the pipeline's policies (approval, deploy, filters), whose modules read the records; so it
 * lives here rather than in core/records.ts, which imports none of them and no module imports back.
 */
import type { ApprovalPolicy } from './approval/policy';
import type { DeployConfig } from './deployment/config';
import type { PushFilters } from './sources/filters';
import type { ExecutionMode, NotificationSettings, RunInput, TriggerKind } from './records';

/** What the run starter knows of a deployed pipeline: published by its stack, one entry per pipeline. */
export interface PipelineCatalogEntry {
  readonly stateMachineArn: string;
  /**
   * Where its pushes come from: GitHub deliveries are matched to pipelines by this. `branch` is the branch it
   * follows (the config's `source.branch`), whose head `stepline release` runs; absent in entries published
   * before it was added (a release then needs `--commit`).
   */
  readonly source: { readonly kind: TriggerKind; readonly repository: string; readonly branch?: string };
  readonly stages: RunInput['stages'];
  readonly filters: PushFilters;
  readonly executionMode: ExecutionMode;
  readonly notifications?: NotificationSettings;
  /** The release gate's policy: the policy in force, which a change passing the gate cannot alter. */
  readonly approval?: ApprovalPolicy;
  /** The release to Lambda after the gate. */
  readonly deploy?: DeployConfig;
}
