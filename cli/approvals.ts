/**
 * `stepline approvals | approve | reject`: the release gate from a terminal, through the decision
 * endpoint's CLI routes — the same routes on AWS (IAM-signed: the person is the caller's IAM
 * identity) and in local mode (the person is this machine's git identity).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { summaryLines } from '../core/approval-messages';
import { APPROVAL_ROUTES, PLATFORM_PARAMETERS } from '../core/platform';
import type { ApprovalDecision, ApprovalRecord, AuditEvent } from '../core/records';
import { forTerminal } from '../core/text';
import { LOCAL_IDENTITY_HEADER } from '../local/approvals';
import { ENDPOINT_FILE } from '../local/runtime';

export interface ApprovalsCommand {
  readonly command: 'approvals' | 'approve' | 'reject';
  readonly runId?: string;
  readonly reason?: string;
  /** approve: an emergency override of a freeze (needs a reason). */
  readonly override?: boolean;
  /** Against the AWS deployment (the caller's IAM identity) instead of local mode. */
  readonly aws?: boolean;
  readonly stateDir: string;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}
type Call = (method: 'GET' | 'POST', path: string, body?: Record<string, unknown>) => Promise<Answer>;

/**
 * `stepline deploy <promote|pause|resume|abort> <run> --reason …`: an operator's control of a run's
 * deployment (its arguments checked by cli/args.ts).
 */
export async function runDeployCommand(
  options: { action: string; runId: string; reason: string; aws?: boolean; stateDir: string },
  printLine = console.log,
): Promise<number> {
  const print = (line: string) => printLine(forTerminal.line(line));
  const call = options.aws ? await awsCall() : localCall(options.stateDir);
  const answer = await call('POST', `${APPROVAL_ROUTES.deployments}/${encodeURIComponent(options.runId)}`, {
    action: options.action,
    reason: options.reason,
  });
  if (answer.status !== 200) return fail(answer, print);
  print(String(answer.body.message));
  return 0;
}

export async function runApprovalsCommand(options: ApprovalsCommand, printLine = console.log): Promise<number> {
  // Every line shows text from a change or a person (messages, names, paths, reasons): printed inert.
  const print = (line: string) => printLine(forTerminal.line(line));
  const call = options.aws ? await awsCall() : localCall(options.stateDir);
  if (options.command === 'approvals') {
    if (options.runId) return showApproval(call, options.runId, print);
    const answer = await call('GET', APPROVAL_ROUTES.cli);
    if (answer.status !== 200) return fail(answer, print);
    const approvals = answer.body.approvals as ApprovalRecord[];
    if (!approvals.length) print('no release waits for approval');
    for (const a of approvals) {
      const need = `${a.required.approvals}${a.required.group ? ` from ${a.required.group}` : ''}`;
      print(
        `${a.runId}  ${a.pipeline}  ${a.status}  ${a.risk.class} risk, needs ${need}  asked: ${a.asked.join(', ') || 'nobody'}  deadline ${a.deadline}`,
      );
    }
    return 0;
  }
  if (!options.runId) throw new Error(`stepline ${options.command} needs a run id`);
  const decision = options.command === 'reject' ? 'reject' : options.override ? 'override' : 'approve';
  const answer = await call('POST', `${APPROVAL_ROUTES.cli}/${encodeURIComponent(options.runId)}`, {
    decision,
    ...(options.reason ? { reason: options.reason } : {}),
  });
  if (answer.status !== 200) return fail(answer, print);
  print(String(answer.body.message));
  return 0;
}

/** One gate whole: the change record, every decision, the audit trail in order. */
async function showApproval(call: Call, runId: string, print: (line: string) => void): Promise<number> {
  const answer = await call('GET', `${APPROVAL_ROUTES.cli}/${encodeURIComponent(runId)}`);
  if (answer.status !== 200) return fail(answer, print);
  const approval = answer.body.approval as ApprovalRecord;
  print(`run ${approval.runId} (${approval.pipeline}) — release gate ${approval.status}`);
  summaryLines(approval).forEach((line) => print(`  ${line}`));
  print(`  Asked: ${approval.asked.join(', ') || 'nobody'}`);
  if (approval.outcome) print(`  Outcome: ${approval.outcome}`);
  if (approval.postImplementationReview) print('  Flagged for post-implementation review (emergency override)');
  print('decisions:');
  for (const d of answer.body.decisions as ApprovalDecision[])
    print(
      `  ${d.at}  ${d.approverId}${d.demo ? ' (demo)' : ''}  ${d.decision} via ${d.via}${d.reason ? `: ${d.reason}` : ''}`,
    );
  print('audit trail:');
  for (const e of answer.body.audit as AuditEvent[])
    print(`  ${e.at}  ${e.event}${e.actor ? `  ${e.actor}` : ''}${e.via ? ` (${e.via})` : ''}: ${e.detail}`);
  return 0;
}

function fail(answer: Answer, print: (line: string) => void): number {
  print(`refused (${answer.status}): ${String(answer.body.message)}`);
  return 1;
}

/** Local mode: its endpoint from the state directory; the person is `git config user.email`. */
function localCall(stateDir: string): Call {
  let url: string;
  try {
    url = (JSON.parse(readFileSync(join(stateDir, ENDPOINT_FILE), 'utf8')) as { url: string }).url;
  } catch {
    throw new Error(`local mode is not running in ${stateDir}: start it with \`npm start -- --serve\``);
  }
  let identity = '';
  try {
    // This process's environment, named: git's GIT_CONFIG_* variables can set the identity too.
    identity = execFileSync('git', ['config', 'user.email'], { encoding: 'utf8', env: process.env }).trim();
  } catch {
    // Reported below.
  }
  if (!identity)
    throw new Error('local mode knows you by your git email: set it with `git config user.email you@example.com`');
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', [LOCAL_IDENTITY_HEADER]: identity },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
}

/** AWS: the endpoint from the platform's SSM parameter; each request SigV4-signed with this shell's credentials. */
async function awsCall(): Promise<Call> {
  const ssm = new SSMClient({});
  const parameter = await ssm.send(new GetParameterCommand({ Name: PLATFORM_PARAMETERS.approvalsUrl }));
  const base = new URL(parameter.Parameter!.Value!);
  const region = await ssm.config.region();
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });
  return async (method, path, body) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const signed = await signer.sign({
      method,
      protocol: base.protocol,
      hostname: base.hostname,
      path,
      headers: { host: base.hostname, ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { body: payload } : {}),
    });
    const response = await fetch(`${base.origin}${path}`, {
      method,
      headers: signed.headers as Record<string, string>,
      ...(payload ? { body: payload } : {}),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { message: text };
    }
    return { status: response.status, body: parsed };
  };
}
