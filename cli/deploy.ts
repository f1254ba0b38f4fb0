/**
 * `stepline deploy <promote|pause|resume|abort> <run> --reason …`: an operator's control of a run's
 * deployment (its arguments checked by cli/args.ts), through the decision endpoint's deployment route
 * (cli/decision-endpoint.ts).
 */
import { APPROVAL_ROUTES } from '../core/platform';
import { forTerminal } from '../core/text';
import { endpointCall, refused } from './decision-endpoint';

export async function runDeployCommand(
  options: { action: string; runId: string; reason: string; aws?: boolean; stateDir: string },
  printLine = console.log,
): Promise<number> {
  const print = (line: string) => printLine(forTerminal.line(line));
  const call = await endpointCall(options);
  const answer = await call('POST', `${APPROVAL_ROUTES.deployments}/${encodeURIComponent(options.runId)}`, {
    action: options.action,
    reason: options.reason,
  });
  if (answer.status !== 200) return refused(answer, print);
  print(String(answer.body.message));
  return 0;
}
