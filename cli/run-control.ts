/**
 * `stepline cancel RUN --reason TEXT` and `stepline redrive RUN`: through the run-control routes
 * (`POST /cli/runs/<run>/cancel | redrive`, cli/decision-endpoint.ts: IAM-signed with --aws, the git identity locally).
 */
import { RUN_CONTROL_ROUTES } from '../core/platform';
import { forTerminal } from '../core/text';
import { endpointCall, refused } from './decision-endpoint';

export async function runRunControlCommand(
  options: { command: 'cancel' | 'redrive'; runId: string; reason?: string; aws?: boolean; stateDir: string },
  printLine = console.log,
): Promise<number> {
  const print = (line: string) => printLine(forTerminal.line(line));
  const call = await endpointCall(options);
  const answer = await call(
    'POST',
    `${RUN_CONTROL_ROUTES.runs}/${encodeURIComponent(options.runId)}/${options.command}`,
    options.command === 'cancel' ? { reason: options.reason ?? '' } : {},
  );
  if (answer.status !== 200) return refused(answer, print);
  print(String(answer.body.message));
  return 0;
}
