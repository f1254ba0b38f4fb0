/**
 * `stepline rerun RUN` and `stepline release PIPELINE [--commit SHA]`: runs started by hand, through the
 * platform's run-control routes (cli/decision-endpoint.ts: local mode as your git identity, `--aws` as your
 * IAM identity). The run starts as any push's does; this prints its id, and whether it waits in its lane.
 */
import { RUN_CONTROL_ROUTES } from '../core/platform';
import { forTerminal } from '../core/text';
import { EXIT } from './args';
import { endpointCall, refused } from './decision-endpoint';

export async function runManualRunCommand(
  options:
    | { command: 'rerun'; runId: string; aws?: boolean; stateDir: string }
    | { command: 'release'; pipeline: string; commit?: string; aws?: boolean; stateDir: string },
  printLine = console.log,
): Promise<number> {
  const print = (line: string) => printLine(forTerminal.line(line));
  const call = await endpointCall(options);
  const answer =
    options.command === 'rerun'
      ? await call('POST', `${RUN_CONTROL_ROUTES.runs}/${encodeURIComponent(options.runId)}/rerun`)
      : await call(
          'POST',
          `${RUN_CONTROL_ROUTES.releases}/${encodeURIComponent(options.pipeline)}`,
          options.commit ? { commit: options.commit } : {},
        );
  if (answer.status !== 202) return refused(answer, print);
  const { runId, status } = answer.body as { runId?: string; status?: string };
  print(String(runId));
  print(
    status === 'QUEUED'
      ? '  queued: it starts when the runs before it in its pipeline end'
      : status
        ? `  ${status.toLowerCase()}`
        : '  requested: the run starter has not recorded it yet',
  );
  return EXIT.ok;
}
