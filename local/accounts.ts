/**
 * The accounts local mode stands in for: the platform's (LOCAL_ENVIRONMENT) and each account and Region the
 * config places a deploy target in (core/deployment/targets.ts), each with what a target account has of its
 * own: its Lambda functions (their ARNs name it), their metrics, its CloudWatch alarms, its default bus. A
 * request to local Lambda or CloudWatch acts in the account its signer's key belongs to (local/iam.ts: the
 * platform's own keys, or a session AssumeRole issued in a target's account), in the Region it signed for,
 * and reaches nothing of another account.
 */
import type { AccountRegion } from '../core/deployment/targets';
import type { Clock } from '../core/ports';
import { LocalAlarms } from './alarms';
import { describeAlarmsOperation } from './describe-alarms';
import { operation, type FunctionUrlRoute } from './aws-endpoint';
import { AwsError, serviceError } from './aws-errors';
import { signerOf, type Signer } from './aws-query';
import { LocalEventBus } from './event-bus';
import { LAMBDA_API_PREFIX, lambdaApiRoute } from './functions/lambda-api';
import { LocalFunctions } from './functions/local-lambda';
import { LocalMetrics } from './functions/metrics';
import type { LocalIam } from './iam';
import type { LocalFunction } from './adapters';
import type { TimeScale } from './time-scale';

/** One account in one Region, as local mode stands it up. */
export interface LocalAccount {
  readonly environment: AccountRegion;
  /** Its Lambda: the deploy targets placed here, their versions and aliases. */
  readonly lambdas: LocalFunctions;
  /** Its CloudWatch alarms, over its Lambda's metrics. */
  readonly alarms: LocalAlarms;
  /** Its default bus, where its alarms' state changes go. */
  readonly bus: LocalEventBus;
}

/** Stands up an account's services: Lambda publishing its metrics, alarms over them announcing to its default bus. */
export function localAccount(
  environment: AccountRegion,
  options: { readonly lambdaDir: string; readonly now: Clock; readonly timeScale: TimeScale },
): LocalAccount {
  const { now, timeScale } = options;
  const bus = new LocalEventBus();
  const metrics = new LocalMetrics({ now: () => now().getTime() });
  const lambdas = new LocalFunctions({ rootDir: options.lambdaDir, metrics, now, environment });
  // As CloudWatch does: an alarm's state change is an event on its account's default bus.
  const alarms = new LocalAlarms({
    metrics,
    now,
    timeScale,
    ...environment,
    onStateChange: (event) => void bus.put(event),
  });
  return { environment, lambdas, alarms, bus };
}

const keyOf = ({ account, region }: AccountRegion) => `${account}/${region}`;

export class LocalAccounts {
  private readonly accounts = new Map<string, LocalAccount>();

  constructor(
    readonly platform: LocalAccount,
    private readonly iam: LocalIam,
  ) {
    this.add(platform);
  }

  add(account: LocalAccount): void {
    this.accounts.set(keyOf(account.environment), account);
  }

  /** The account stood up for an account and Region. */
  get(environment: AccountRegion): LocalAccount {
    const account = this.accounts.get(keyOf(environment));
    if (!account)
      throw serviceError(
        'ResourceNotFoundException',
        `local mode stands up nothing in account ${environment.account}, Region ${environment.region}`,
      );
    return account;
  }

  all(): LocalAccount[] {
    return [...this.accounts.values()];
  }

  /** The account a request acts in: its signer's, in the Region it signed for (see the module comment). */
  signedBy(signer: Signer | undefined): LocalAccount {
    if (!signer) throw serviceError('MissingAuthenticationToken', 'Request is missing Authentication Token');
    return this.get({ account: this.iam.callerOf(signer.accessKeyId).account, region: signer.region });
  }

  /** CloudWatch's DescribeAlarms over the alarms of the caller's account (alarms.ts describeAlarmsOperation). */
  describeAlarmsOperation() {
    const { request } = describeAlarmsOperation(this.platform.alarms);
    return operation(request, (parsed, signer) =>
      describeAlarmsOperation(this.signedBy(signer).alarms).handle(parsed, signer),
    );
  }

  /**
   * Lambda's REST API over the functions of the caller's account (functions/lambda-api.ts); the platform's
   * own functions (`platformFunction`, in local mode's process) are the platform account's alone. A request
   * whose key or account is refused is answered as Lambda's REST protocol answers an error.
   */
  lambdaApiRoute(platformFunction: (name: string) => LocalFunction | undefined): Record<string, FunctionUrlRoute> {
    return {
      [LAMBDA_API_PREFIX]: async (request) => {
        let account: LocalAccount;
        try {
          account = this.signedBy(signerOf(request.headers));
        } catch (error) {
          if (!(error instanceof AwsError)) throw error;
          return {
            statusCode: error.name === 'ResourceNotFoundException' ? 404 : 403,
            headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.name },
            body: JSON.stringify({ message: error.message }),
          };
        }
        const own = account === this.platform ? platformFunction : () => undefined;
        return lambdaApiRoute(account.lambdas, own)[LAMBDA_API_PREFIX]!(request);
      },
    };
  }
}
