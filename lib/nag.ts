/**
 * cdk-nag acknowledgements that name exactly what they accept. Wildcard findings (AwsSolutions-IAM5)
 * carry the resource as cdk-nag prints it, `<LogicalId>` for a Ref and `<LogicalId.Attr>` for a
 * GetAtt; `nagResource` renders an ARN token the same way, so an acknowledgement is derived from
 * the very ARN that was granted instead of being copied from a synth log with its logical-ID hashes.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Accepts wildcard findings (`Action::…` or `Resource::…`) on `scope` and everything under it. */
export function acknowledgeWildcards(scope: IConstruct, findings: readonly string[], reason: string): void {
  for (const finding of findings) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

/** Acknowledges one AwsSolutions rule on `scope` (and everything under it). */
export function acknowledgeRule(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/** `Resource::<arn>` as cdk-nag renders the ARN (a string that may hold tokens). */
export function wildcardResource(scope: IConstruct, arn: string): string {
  return `Resource::${flatten(Stack.of(scope).resolve(arn))}`;
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string') return `<${node.Ref}>`;
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = node['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) return (join[1] as unknown[]).map(flatten).join(String(join[0]));
  }
  // Programming error: lib/ built an ARN from a token other than Ref, Fn::GetAtt, Fn::Join.
  throw new Error(`cannot render ${JSON.stringify(value)} as a cdk-nag resource`);
}
