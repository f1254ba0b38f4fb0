/**
 * The release gate as the state machine calls it: "Assess release risk" opens the gate with its
 * change record (core/approval/gate.ts assessRelease); "Wait for release approval" keeps the task
 * token and asks the approvers (awaitApproval). Deciding is the decision endpoint's
 * (lambdas/approval-decisions.ts), which alone may resume an execution.
 */
import { assessRelease, awaitApproval, type AssessDeps, type AwaitDeps } from '../core/approval/gate';
import { gateRequestSchema, parseInput } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { signedApprovalLinks } from './adapters/approval-links';
import { EventBridgeRunEventPublisher } from './adapters/bus-publishers';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { CachedSecret } from './adapters/secrets';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

/** What both of the gate's functions work on: the run store, the catalog, the platform's bus. */
export function gateStoreDeps(platform: HandlerPlatform) {
  const { clients } = platform;
  const store = new RunStore(clients.dynamodb(), platform.tableName);
  return {
    runs: store,
    approvals: store,
    notifications: store,
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    events: new EventBridgeRunEventPublisher(clients.eventbridge(), platform.sourceBusName),
    now: platform.now,
  };
}

function approvalGateDeps(platform: HandlerPlatform): AwaitDeps & AssessDeps {
  const linkKey = new CachedSecret(platform.clients.secretsManager(), platform.linkKeySecretId, platform.now);
  return {
    ...gateStoreDeps(platform),
    waitLength: platform.waitLength,
    links: (approval) => signedApprovalLinks(approval, platform.approvalsUrl, () => linkKey.value()),
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  const deps = approvalGateDeps(platform);
  return async (event: unknown) => {
    const request = parseInput(gateRequestSchema, event, 'release gate request');
    if (request.kind === 'assess') {
      const assessment = await assessRelease(request.runId, deps);
      log({ message: 'release assessed', runId: request.runId, ...assessment });
      return assessment;
    }
    const approval = await awaitApproval(request.runId, request.taskToken, deps);
    // Never the token: it would let whoever reads the logs decide.
    log({ message: 'approval requested', runId: request.runId, asked: approval.asked, deadline: approval.deadline });
    return { status: approval.status };
  };
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
