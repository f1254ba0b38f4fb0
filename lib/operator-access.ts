/**
 * What an operator's IAM identity needs for the CLI's reads against AWS (`stepline runs | run | logs --aws`), as one
 * managed policy: the CLI reads with the SDK and the caller's own credentials (the default chain), so its reads are
 * the caller's, and this policy is all of them — read only, nothing written. Writes (cancel, redrive, re-run,
 * release, decisions) go through the decision endpoint's IAM-authorized routes instead (ReleaseApprovals).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CATALOG_PATH, PLATFORM_PARAMETERS, RESOURCE_PREFIX } from '../core/platform';
import { INDEXES } from '../store/schema';
import { acknowledgeWildcards, wildcardResource } from './nag';

export interface OperatorAccessProps {
  /** The run store's table. */
  readonly table: dynamodb.ITable;
  /**
   * The customer managed key that encrypts the table, which a reader must be allowed to decrypt with.
   * @default - none: the table is encrypted with a key DynamoDB manages, which needs no grant
   */
  readonly encryptionKey?: kms.IKey;
}

export class OperatorAccess extends Construct {
  /** The managed policy to attach to operators' roles, users or groups. */
  readonly policy: iam.ManagedPolicy;
  private readonly statements: iam.PolicyStatement[];

  constructor(scope: Construct, id: string, props: OperatorAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const format = (service: string, resource: string, resourceName: string, arnFormat: ArnFormat) =>
      stack.formatArn({ service, resource, resourceName, arnFormat });
    const catalog = format('ssm', 'parameter', CATALOG_PATH.slice(1), ArnFormat.SLASH_RESOURCE_NAME);
    const executions = format('states', 'execution', `${RESOURCE_PREFIX}*:*`, ArnFormat.COLON_RESOURCE_NAME);
    const buildLogs = format(
      'logs',
      'log-group',
      `/aws/codebuild/${RESOURCE_PREFIX}*:log-stream:*`,
      ArnFormat.COLON_RESOURCE_NAME,
    );
    this.statements = [
      // RunStore.getRun and a run's items (GetItem, Query on the key), a pipeline's runs (Query on byPipeline).
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [
          props.table.tableArn,
          ...Object.values(INDEXES).map((index) => `${props.table.tableArn}/index/${index.name}`),
        ],
      }),
      ...(props.encryptionKey
        ? [new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn] })]
        : []),
      // Where the run table is (`--aws` reads its name first).
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          format('ssm', 'parameter', PLATFORM_PARAMETERS.runTableName.slice(1), ArnFormat.SLASH_RESOURCE_NAME),
        ],
      }),
      // The pipelines whose runs `stepline runs` merges: the catalog, listed by its path.
      new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources: [catalog, `${catalog}/*`] }),
      // A run's execution, and its history: where a running stage's build (and so its log) is.
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executions],
      }),
      // The build logs of stepline's projects (`stepline logs`).
      new iam.PolicyStatement({ actions: ['logs:GetLogEvents'], resources: [buildLogs] }),
    ];
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'stepline: the CLI reads of runs against AWS (stepline runs | run | logs --aws), read only',
      statements: this.statements,
    });
    acknowledgeWildcards(
      this.policy,
      [wildcardResource(this, `${catalog}/*`)],
      "GetParametersByPath lists the catalog's entries, one parameter per pipeline under /stepline/pipelines/; that path only.",
    );
    acknowledgeWildcards(
      this.policy,
      [wildcardResource(this, executions)],
      "A run's execution is named after the run (stepline-<pipeline>:<run id>), and operators read any run: the executions of stepline's machines only.",
    );
    acknowledgeWildcards(
      this.policy,
      [wildcardResource(this, buildLogs)],
      "A build's log stream is named after its build id, in its project's log group /aws/codebuild/<project>-<stack id>: the streams of stepline's projects only.",
    );
  }

  /** Lets `grantee` (an operator's role, user or group) read runs with the CLI: exactly the policy's statements. */
  grantRunReads(grantee: iam.IGrantable): iam.Grant {
    return this.statements
      .map((statement) =>
        iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources }),
      )
      .reduce((all, grant) => all.combine(grant));
  }
}
