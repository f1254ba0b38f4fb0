/**
 * Roles whose every permission is written out in stepline's code. CDK constructs add grants of
 * their own choosing to the roles they are given (read/write sets, `kms:ReEncrypt*`, `s3:DeleteObject*`,
 * logging on `*`); given `ExplicitRole.immutable` they can add none, and each statement the role
 * holds comes from `allow` or `allowOnAnyResource` below, with exact actions.
 *
 * cdk-nag's IAM5 (wildcards) is acknowledged per statement, never per role: a pattern resource on the
 * role's default policy by its exact pattern, and a `*` resource only in a policy of its own that holds
 * that one statement. A `*` grant added later anywhere else is reported by cdk-nag.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GrantRefusedError } from './errors';
import { acknowledgeWildcards, wildcardResource } from './nag';

export interface ExplicitRoleProps {
  readonly assumedBy: iam.IPrincipal;
  readonly description: string;
  /**
   * A fixed name, for a role another policy names (a trust policy, an `sts:AssumeRole` grant).
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

export class ExplicitRole extends Construct {
  readonly role: iam.Role;
  /** The role as constructs see it: grants they try to add to it are dropped. */
  readonly immutable: iam.IRole;
  /** The policies holding `*` statements, by id; each holds exactly one statement. */
  readonly anyResourcePolicies = new Map<string, iam.Policy>();

  constructor(scope: Construct, id: string, props: ExplicitRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: props.assumedBy,
      description: props.description,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    this.immutable = this.role.withoutPolicyUpdates();
  }

  /**
   * Allows `actions` on `resources`, under `conditions` when given. A resource with a wildcard in it (a
   * name pattern) needs `wildcardReason`, which acknowledges cdk-nag's finding for that pattern on this
   * role only.
   */
  allow(
    actions: readonly string[],
    resources: readonly string[],
    wildcardReason?: string,
    conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>,
  ): iam.Grant {
    checkActions(this, actions);
    if (resources.length === 0)
      throw new GrantRefusedError(`${this.node.path}: a grant of ${actions.join(', ')} names no resource`);
    if (resources.includes('*')) {
      throw new GrantRefusedError(`${this.node.path}: ${actions.join(', ')} on "*" must go through allowOnAnyResource`);
    }
    const grant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: [...actions],
      resourceArns: [...resources],
      ...(conditions ? { conditions: conditions as Record<string, Record<string, unknown>> } : {}),
    });
    const patterns = resources.filter((arn) => wildcardResource(this, arn).includes('*'));
    if (patterns.length) {
      if (!wildcardReason) {
        throw new GrantRefusedError(
          `${this.node.path}: ${actions.join(', ')} on a resource pattern needs a reason (wildcardReason)`,
        );
      }
      acknowledgeWildcards(
        this.role.node.findChild('DefaultPolicy'),
        patterns.map((arn) => wildcardResource(this, arn)),
        wildcardReason,
      );
    }
    return grant;
  }

  /**
   * Allows actions that support no resource-level permission, on `*`, in a policy named `id`
   * holding this statement alone; `reason` says why nothing narrower exists.
   */
  allowOnAnyResource(id: string, actions: readonly string[], reason: string): iam.Policy {
    checkActions(this, actions);
    const policy = new iam.Policy(this, id, {
      roles: [this.role],
      statements: [new iam.PolicyStatement({ actions: [...actions], resources: ['*'] })],
    });
    acknowledgeWildcards(policy, ['Resource::*'], reason);
    this.anyResourcePolicies.set(id, policy);
    return policy;
  }

  /**
   * Makes `construct` wait for every policy of this role, so it never runs without them. (It waits
   * for the role itself anyway, through the ARN it names.)
   */
  isNeededBy(construct: Construct): void {
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    construct.node.addDependency(...(defaultPolicy ? [defaultPolicy] : []), ...this.anyResourcePolicies.values());
  }
}

function checkActions(scope: Construct, actions: readonly string[]): void {
  const wildcards = actions.filter((action) => action.includes('*'));
  if (wildcards.length) {
    throw new GrantRefusedError(`${scope.node.path}: actions must be exact, not patterns: ${wildcards.join(', ')}`);
  }
}
