/**
 * The platform's side of releasing into other accounts (core/deployment/targets.ts): what the target
 * stacks' deploy roles and forwarding rules need of the platform's own resources, and nothing more.
 * - The artifact bucket's policy and the platform key's policy let each target deploy role read its own
 *   pipeline's prefix (`<pipeline>/…`, core/platform.ts buildArtifactKey) and decrypt it: a cross-account
 *   read needs the resource's policy as well as the role's own.
 * - The platform bus's policy accepts CloudWatch's alarm state changes from exactly the target accounts.
 *
 * The roles are named by `aws:PrincipalArn` conditions on their account's principal, not as principals:
 * S3 and KMS resolve a role principal to its unique id when the policy is saved and refuse one that does
 * not exist ("Invalid principal in policy",
 * https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error; KMS: MalformedPolicyDocumentException),
 * and the target roles are created after the platform (their trust names the platform's deploy function
 * role, which must exist first). A condition on the ARN is evaluated at request time and admits the role
 * whenever it exists, also after it is created again
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { alarmForwardingBusStatement, type AccountRegion, type TargetDeployRole } from '../core/deployment/targets';

export interface TargetAccountAccessProps {
  /** The deploy roles of the target stacks (core/deployment/targets.ts targetDeployRoles). */
  readonly roles: readonly TargetDeployRole[];
  /** The accounts other than the platform's that forward alarm events (targetAccounts). */
  readonly accounts: readonly string[];
  readonly platform: AccountRegion;
  readonly artifactBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  readonly bus: events.IEventBus;
}

export class TargetAccountAccess extends Construct {
  /** The bus policy admitting the target accounts' alarm events; absent without targets in other accounts. */
  readonly busPolicy?: events.CfnEventBusPolicy;

  constructor(scope: Construct, id: string, props: TargetAccountAccessProps) {
    super(scope, id);
    props.roles.forEach(({ pipeline, account, roleArn }, index) => {
      const onlyThisRole = { ArnEquals: { 'aws:PrincipalArn': roleArn } };
      // Statement ids are letters and digits, unique in the policy: the role's place in the plan.
      const sid = `TargetDeployRole${index}${account}`;
      props.artifactBucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.AccountPrincipal(account)],
          actions: ['s3:GetObject'],
          resources: [props.artifactBucket.arnForObjects(`${pipeline}/*`)],
          conditions: onlyThisRole,
        }),
      );
      // The key policy's Resource "*" is this key (a key policy names no other resource).
      props.encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.AccountPrincipal(account)],
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: onlyThisRole,
        }),
      );
    });
    const statement = alarmForwardingBusStatement(Stack.of(this).partition, props.platform, props.accounts);
    if (statement) {
      const { Sid, ...withoutSid } = statement;
      this.busPolicy = new events.CfnEventBusPolicy(this, 'AlarmForwardingBusPolicy', {
        eventBusName: props.bus.eventBusName,
        statementId: Sid,
        statement: withoutSid,
      });
    }
  }
}
