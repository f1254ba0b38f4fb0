/**
 * A synthesized app read as AWS would see it once deployed: every CloudFormation reference resolved
 * to the value it takes (pseudo parameters of one account and Region, each resource's name and ARN
 * as its type forms them, a pipeline stack's SSM-typed parameters from the platform's parameters),
 * and IAM's evaluation of a role's identity policies for one action on one resource.
 *
 * IAM evaluation (IAM user guide, "Policy evaluation logic" and "IAM JSON policy elements: Action /
 * Resource"): an explicit Deny wins, then an Allow whose Action and Resource match; action names are
 * case-insensitive, and `*` in an action or a resource matches any run of characters (`?` one), across
 * `:` and `/` too. A statement with a Condition, NotAction or NotResource is not taken as allowing
 * (this check cannot know the request's context): the app writes none on these roles.
 */
import type { Template } from '../../support/cdk';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

type Value = unknown;

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: unknown;
  readonly NotAction?: unknown;
  readonly NotResource?: unknown;
}

/** One stack's template with its references resolvable; `parameters` gives SSM-typed parameters' values. */
export class DeployedTemplate {
  constructor(
    readonly stackName: string,
    readonly template: Template,
    private readonly ssmValue: (name: string) => string = (name) => {
      throw new Error(`${stackName}: no value for SSM parameter ${name}`);
    },
  ) {}

  /** The stack's id, as CloudFormation forms it. */
  get stackId(): string {
    return `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stackName}/0c0ffee0-aaaa-4bbb-8ccc-${hex12(this.stackName)}`;
  }

  resolve(value: Value): Value {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    const node = value as Record<string, Value>;
    if ('Ref' in node) return this.ref(String(node.Ref));
    if ('Fn::GetAtt' in node) {
      const [id, attribute] = node['Fn::GetAtt'] as [string, string];
      return this.getAtt(id, attribute);
    }
    if ('Fn::Join' in node) {
      const [separator, parts] = node['Fn::Join'] as [string, Value[]];
      return (this.resolve(parts) as Value[]).map(String).join(separator);
    }
    if ('Fn::Select' in node) {
      const [index, list] = node['Fn::Select'] as [number, Value];
      return (this.resolve(list) as Value[])[Number(index)];
    }
    if ('Fn::Split' in node) {
      const [separator, text] = node['Fn::Split'] as [string, Value];
      return String(this.resolve(text)).split(separator);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, this.resolve(v)]));
  }

  resolveString(value: Value): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`${JSON.stringify(value)} does not resolve to a string`);
    return resolved;
  }

  private ref(id: string): Value {
    switch (id) {
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackId':
        return this.stackId;
      case 'AWS::StackName':
        return this.stackName;
    }
    const parameter = this.template.Parameters?.[id];
    if (parameter) {
      if (!parameter.Type.startsWith('AWS::SSM::Parameter::Value')) throw new Error(`parameter ${id} has no value`);
      return this.ssmValue(parameter.Default!);
    }
    const resource = this.resource(id);
    const props = resource.Properties;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return this.nameOr(props.TableName, id);
      case 'AWS::Lambda::Function':
        return this.nameOr(props.FunctionName, id);
      case 'AWS::IAM::Role':
        return this.nameOr(props.RoleName, id);
      case 'AWS::Logs::LogGroup':
        return this.nameOr(props.LogGroupName, id);
      case 'AWS::S3::Bucket':
        return this.nameOr(props.BucketName, id).toLowerCase();
      case 'AWS::Events::EventBus':
        return this.nameOr(props.Name, id);
      case 'AWS::SSM::Parameter':
        return this.nameOr(props.Name, id);
      case 'AWS::SecretsManager::Secret':
        // A secret's Ref is its ARN: the name, a hyphen and six random characters.
        return `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${this.nameOr(props.Name, id)}-AbCdEf`;
      case 'AWS::KMS::Key':
        return `key-${hex12(id)}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
      case 'AWS::ApiGatewayV2::Api':
        return `api${hex12(id).slice(0, 7)}`;
      case 'AWS::StepFunctions::StateMachine':
        return this.getAtt(id, 'Arn');
      case 'AWS::CodeBuild::Project':
        return this.nameOr(props.Name, id);
    }
    throw new Error(`${this.stackName}: no deployed value for Ref ${id} (${resource.Type})`);
  }

  private getAtt(id: string, attribute: string): Value {
    const resource = this.resource(id);
    const arn = (service: string, resourcePart: string, region = REGION) =>
      `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resourcePart}`;
    const name = () => String(this.ref(id));
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${name()}`);
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${name()}`);
      case 'AWS::IAM::Role.Arn':
        return arn('iam', `role/${name()}`, '');
      case 'AWS::Logs::LogGroup.Arn':
        // CloudFormation's Arn of a log group ends with `:*`.
        return arn('logs', `log-group:${name()}:*`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:${PARTITION}:s3:::${name()}`;
      case 'AWS::KMS::Key.Arn':
        return arn('kms', `key/${name()}`);
      case 'AWS::SQS::Queue.Arn':
        return arn('sqs', id);
      case 'AWS::Events::EventBus.Arn':
        return arn('events', `event-bus/${name()}`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return arn('states', `stateMachine:${this.nameOr(resource.Properties.StateMachineName, id)}`);
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${name()}.execute-api.${REGION}.amazonaws.com`;
    }
    throw new Error(`${this.stackName}: no deployed value for GetAtt ${id}.${attribute} (${resource.Type})`);
  }

  private nameOr(name: Value, id: string): string {
    return name === undefined ? id : this.resolveString(name);
  }

  resource(id: string) {
    const resource = this.template.Resources[id];
    if (!resource) throw new Error(`${this.stackName} has no resource ${id}`);
    return resource;
  }

  /** The statements of every identity policy of the role with this logical id (inline and AWS::IAM::Policy). */
  roleStatements(roleId: string): PolicyStatement[] {
    const role = this.resource(roleId);
    if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is a ${role.Type}, not a role`);
    if (role.Properties.ManagedPolicyArns) throw new Error(`${roleId} has managed policies this check cannot read`);
    const inline = ((role.Properties.Policies ?? []) as { PolicyDocument: { Statement: PolicyStatement[] } }[]).flatMap(
      (p) => p.PolicyDocument.Statement,
    );
    const attached = Object.values(this.template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.Roles as Value[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement);
    return [...inline, ...attached].map((statement) => this.resolve(statement) as PolicyStatement);
  }
}

/** Whether IAM allows `action` on `resource` under these (resolved) identity-policy statements. */
export function allows(statements: readonly PolicyStatement[], action: string, resource: string): boolean {
  const matching = statements.filter(
    (s) =>
      [s.Action ?? []].flat().some((a) => wildcard(a, action, 'i')) &&
      [s.Resource ?? []].flat().some((r) => wildcard(r, resource, '')),
  );
  if (matching.some((s) => s.Effect === 'Deny')) return false;
  return matching.some((s) => s.Effect === 'Allow' && !s.Condition && !s.NotAction && !s.NotResource);
}

function wildcard(pattern: string, value: string, flags: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, flags).test(value);
}

function hex12(text: string): string {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash.toString(16).padStart(12, '0').slice(-12);
}
