/**
 * Local IAM roles and STS: who a request's key says calls (each account local mode stands in for is told
 * apart by its callers' keys), the roles a deploy target's stack holds with their trust policies, and
 * AssumeRole, which checks a role's trust policy against its caller as STS does and hands out credentials
 * that act in the role's account only (local/accounts.ts scopes Lambda and CloudWatch by them).
 *
 * What is imitated, and from where:
 * - AssumeRole's answer and refusal (STS API reference, AssumeRole): `Credentials` (`AccessKeyId` starting
 *   `ASIA` for temporary keys, `SecretAccessKey`, `SessionToken`, `Expiration`) and `AssumedRoleUser`
 *   (`AssumedRoleId` `<role id>:<session name>`, `Arn` `arn:aws:sts::<account>:assumed-role/<role>/<session>`);
 *   a role that does not exist or does not trust the caller answers 403 `AccessDenied` "User: <caller ARN> is
 *   not authorized to perform: sts:AssumeRole on resource: <role ARN>" (as in Netflix/security_monkey#77);
 *   `DurationSeconds` 900 to the role's maximum session, 1 hour unless set ("The requested DurationSeconds
 *   exceeds the MaxSessionDuration set for this role." otherwise); the keys expire with the session
 *   (`ExpiredToken`), and a key STS never issued is `InvalidClientTokenId`.
 * - The trust policy's evaluation ("Policy evaluation logic", "AWS JSON policy elements: Principal"): an
 *   explicit Deny wins, else an Allow whose Action covers `sts:AssumeRole`, whose Principal names the caller
 *   (`*`; the account, as its id or `:root`, for any principal of it; a role, for any session of that role; a
 *   session's own ARN) and whose every Condition holds. A condition key the request context lacks fails its
 *   condition ("If the key … is not present in the request context, the policy evaluation fails": AWS global
 *   condition context keys; `aws:SourceAccount` is there "only when the call to your resource is made directly
 *   by an AWS service principal", never for one role assuming another). A policy local mode cannot evaluate
 *   (NotPrincipal, NotAction, an operator it does not know) is refused when the role is made.
 * What is not: the caller's own permission to call sts:AssumeRole (its identity policy, lib/'s to grant) and
 * the role's permission policies: the assumed keys may do anything in their account.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { deployFunctionRoleArn } from '../core/deployment/targets';
import { deployFunctionRoleName } from '../core/platform';
import { PLATFORM_FUNCTIONS } from '../core/platform-functions';
import type { Clock } from '../core/ports';
import { parseInput } from '../core/schemas';
import { queryOperation, type AnyQueryOperation, type Signer } from './aws-query';
import { serviceError } from './aws-errors';
import { LOCAL_CREDENTIALS, LOCAL_DEPLOY_FUNCTION_CREDENTIALS, LOCAL_ENVIRONMENT } from './constants';

/** Whoever a request's key belongs to. */
export interface Principal {
  /** The account it acts in. */
  readonly account: string;
  /** Its ARN as STS names it (GetCallerIdentity's `Arn`, AccessDenied's "User: …"). */
  readonly arn: string;
  /** What policies name it by: for a role session, its role's ARN (`aws:PrincipalArn`); else its own ARN. */
  readonly principalArn: string;
  /** GetCallerIdentity's `UserId`. */
  readonly userId: string;
}

const stringOrList = z.union([z.string(), z.array(z.string()).min(1)]);
const conditionOperators = [
  'StringEquals',
  'StringNotEquals',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
] as const;
const statementSchema = z.strictObject({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Principal: z.union([
    z.literal('*'),
    z.strictObject({
      AWS: stringOrList.optional(),
      Service: stringOrList.optional(),
      Federated: stringOrList.optional(),
    }),
  ]),
  Action: stringOrList,
  Condition: z.partialRecord(z.enum(conditionOperators), z.record(z.string(), stringOrList)).optional(),
});
/** A role's trust policy, as far as local mode evaluates one. */
export const trustPolicySchema = z.strictObject({
  Version: z.literal('2012-10-17').optional(),
  Id: z.string().optional(),
  Statement: z.union([statementSchema, z.array(statementSchema).min(1)]),
});
export type TrustPolicy = z.infer<typeof trustPolicySchema>;
type Statement = z.infer<typeof statementSchema>;

/** IAM's default maximum session of a role: one hour (CreateRole, `MaxSessionDuration`). */
const MAX_SESSION_SECONDS = 3600;

interface Role {
  readonly arn: string;
  readonly id: string;
  trustPolicy: TrustPolicy;
}

export class LocalIam {
  private readonly roles = new Map<string, Role>();
  private readonly keys = new Map<string, { readonly principal: Principal; readonly expiresAt?: number }>();

  constructor(private readonly now: Clock) {}

  /** Gives a key to a principal local mode runs as (its own clients, a platform function's role). */
  addKey(accessKeyId: string, principal: Principal): void {
    this.keys.set(accessKeyId, { principal });
  }

  /** Creates a role with its trust policy, as a target stack's deploy role is created (CreateRole). */
  createRole(arn: string, trustPolicy: unknown): void {
    if (this.roles.has(arn))
      throw serviceError('EntityAlreadyExists', `Role with name ${roleName(arn)} already exists.`);
    this.roles.set(arn, { arn, id: `AROA${randomId(17)}`, trustPolicy: parsePolicy(trustPolicy) });
  }

  /** Replaces a role's trust policy (UpdateAssumeRolePolicy). */
  updateAssumeRolePolicy(arn: string, trustPolicy: unknown): void {
    const role = this.roles.get(arn);
    if (!role) throw serviceError('NoSuchEntity', `The role with name ${roleName(arn)} cannot be found.`);
    role.trustPolicy = parsePolicy(trustPolicy);
  }

  /** Who a request's key belongs to; a key never issued, or expired, is refused as STS and the services refuse it. */
  callerOf(accessKeyId: string): Principal {
    const key = this.keys.get(accessKeyId);
    if (!key) throw serviceError('InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (key.expiresAt !== undefined && this.now().getTime() >= key.expiresAt)
      throw serviceError('ExpiredToken', 'The security token included in the request is expired');
    return key.principal;
  }

  /** STS's AssumeRole (see the module comment). */
  assumeRole(caller: Principal, request: AssumeRoleRequest) {
    const role = this.roles.get(request.RoleArn);
    const context: Readonly<Record<string, string | undefined>> = {
      'aws:principalarn': caller.principalArn,
      'aws:principalaccount': caller.account,
      'sts:externalid': request.ExternalId,
      'sts:rolesessionname': request.RoleSessionName,
    };
    if (!role || !trusts(role.trustPolicy, caller, context)) {
      throw serviceError(
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${request.RoleArn}`,
      );
    }
    const seconds = request.DurationSeconds ?? MAX_SESSION_SECONDS;
    if (seconds > MAX_SESSION_SECONDS)
      throw serviceError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    const [, partition, , , account] = role.arn.split(':');
    const session: Principal = {
      account: account!,
      arn: `arn:${partition}:sts::${account}:assumed-role/${roleName(role.arn)}/${request.RoleSessionName}`,
      principalArn: role.arn,
      userId: `${role.id}:${request.RoleSessionName}`,
    };
    const accessKeyId = `ASIA${randomId(16)}`;
    const expiration = new Date(this.now().getTime() + seconds * 1000);
    this.keys.set(accessKeyId, { principal: session, expiresAt: expiration.getTime() });
    return {
      Credentials: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: randomBytes(30).toString('base64'),
        SessionToken: randomBytes(60).toString('base64'),
        Expiration: expiration,
      },
      AssumedRoleUser: { AssumedRoleId: session.userId, Arn: session.arn },
    };
  }
}

/**
 * Local mode's IAM: its own key, the platform account's (every client of local mode's but one), and the deploy
 * function's, a session of its role as Lambda gives a function its execution role's credentials (the session
 * named after the function), which the deploy roles trust.
 */
export function localIam(now: Clock): LocalIam {
  const iam = new LocalIam(now);
  const { account, region } = LOCAL_ENVIRONMENT;
  const root = `arn:aws:iam::${account}:root`;
  iam.addKey(LOCAL_CREDENTIALS.accessKeyId, { account, arn: root, principalArn: root, userId: account });
  const session = PLATFORM_FUNCTIONS.deploy.localName;
  iam.addKey(LOCAL_DEPLOY_FUNCTION_CREDENTIALS.accessKeyId, {
    account,
    arn: `arn:aws:sts::${account}:assumed-role/${deployFunctionRoleName(region)}/${session}`,
    principalArn: deployFunctionRoleArn('aws', LOCAL_ENVIRONMENT),
    userId: `AROA${randomId(17)}:${session}`,
  });
  return iam;
}

/** The XML namespace of STS's answers. */
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * AssumeRole's parameters local mode serves. Strict: session policies, tags, MFA and source identity, which
 * local mode does not evaluate, are refused rather than ignored.
 */
const assumeRoleRequest = z.strictObject({
  RoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'),
  RoleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of [\\w+=,.@-]'),
  DurationSeconds: z.coerce.number().int().min(900).max(43200).optional(),
  ExternalId: z
    .string()
    .regex(/^[\w+=,.@:/-]{2,1224}$/)
    .optional(),
});
type AssumeRoleRequest = z.infer<typeof assumeRoleRequest>;

/** STS's operations over local IAM, for the local endpoint's Query API: AssumeRole and GetCallerIdentity. */
export function stsOperations(iam: LocalIam): Record<string, AnyQueryOperation> {
  const caller = (signer: Signer | undefined) => {
    if (!signer) throw serviceError('MissingAuthenticationToken', 'Request is missing Authentication Token');
    return iam.callerOf(signer.accessKeyId);
  };
  return {
    AssumeRole: queryOperation(assumeRoleRequest, (request, signer) => iam.assumeRole(caller(signer), request)),
    GetCallerIdentity: queryOperation(z.strictObject({}), (_request, signer) => {
      const { userId, account, arn } = caller(signer);
      return { UserId: userId, Account: account, Arn: arn };
    }),
  };
}

function parsePolicy(document: unknown): TrustPolicy {
  try {
    return parseInput(
      trustPolicySchema,
      typeof document === 'string' ? JSON.parse(document) : document,
      'trust policy',
    );
  } catch (error) {
    throw serviceError('MalformedPolicyDocument', (error as Error).message, { cause: error });
  }
}

function trusts(policy: TrustPolicy, caller: Principal, context: Readonly<Record<string, string | undefined>>) {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const applies = (statement: Statement) =>
    list(statement.Action).some((action) => like(action, 'sts:AssumeRole', true)) &&
    namesCaller(statement.Principal, caller) &&
    Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, values]) => holds(operator, context[key.toLowerCase()], list(values))),
    );
  const applying = statements.filter(applies);
  return !applying.some((s) => s.Effect === 'Deny') && applying.some((s) => s.Effect === 'Allow');
}

function namesCaller(principal: Statement['Principal'], caller: Principal): boolean {
  if (principal === '*') return true;
  return list(principal.AWS ?? []).some((named) => {
    if (named === '*') return true;
    const account = /^(\d{12})$|^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(named);
    if (account) return (account[1] ?? account[2]) === caller.account;
    return named === caller.principalArn || named === caller.arn;
  });
}

/** One condition operator over one key ("IAM JSON policy elements: Condition operators"); any value may match. */
function holds(operator: string, value: string | undefined, values: readonly string[]): boolean {
  // A key missing from the request context fails the condition, whatever the operator (no …IfExists here).
  if (value === undefined) return false;
  switch (operator) {
    case 'StringEquals':
    case 'ArnEquals':
      return values.includes(value);
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return !values.includes(value);
    case 'StringLike':
    case 'ArnLike':
      return values.some((pattern) => like(pattern, value));
    case 'StringNotLike':
    case 'ArnNotLike':
      return !values.some((pattern) => like(pattern, value));
    default:
      throw new Error(`local mode does not evaluate the condition operator ${operator}`);
  }
}

/** A policy pattern: `*` any run of characters, `?` any one; actions compare without case. */
function like(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

function list(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

function roleName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** Upper-case letters and digits, as AWS's key and role ids are made of. */
function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}
