/**
 * The decision endpoint from a terminal: the client `stepline approvals | approve | reject` and
 * `stepline deploy` share. The same routes on AWS (IAM-signed: the person is the caller's IAM
 * identity) and in local mode (the person is this machine's git identity).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { PLATFORM_PARAMETERS } from '../core/platform';
import { LOCAL_IDENTITY_HEADER } from '../local/approvals';
import { ENDPOINT_FILE } from '../local/runtime';

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}
export type Call = (method: 'GET' | 'POST', path: string, body?: Record<string, unknown>) => Promise<Answer>;

/** The endpoint of the AWS deployment (`aws`), or of local mode running in `stateDir`. */
export async function endpointCall(options: { readonly aws?: boolean; readonly stateDir: string }): Promise<Call> {
  return options.aws ? awsCall() : localCall(options.stateDir);
}

/** Prints the endpoint's refusal; the command's exit code. */
export function refused(answer: Answer, print: (line: string) => void): number {
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
