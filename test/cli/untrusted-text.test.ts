/**
 * The hostile corpus (test/support/hostile-text.ts) as the terminal meets it: `stepline approvals`
 * and `stepline approvals RUN` against a decision endpoint on loopback that answers with it, and the
 * progress and failure lines `npm start` prints. No printed line may carry a control sequence or a
 * line break of the change's, and each must still read.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApprovalsCommand } from '../../cli/approvals';
import { runDeployCommand } from '../../cli/deploy';
import { failureLines, ProgressPrinter } from '../../cli/progress';
import { APPROVAL_ROUTES } from '../../core/platform';
import type { ApprovalDecision, ApprovalRecord, AuditEvent, StageRecord } from '../../core/records';
import { ENDPOINT_FILE } from '../../local/runtime';
import { expectOneInertLine, expectStillReads, HOSTILE, HOSTILE_LINE, HOSTILE_TEXT } from '../support/hostile-text';
import { queuedRun } from '../support/records';

const runId = 'web-0123456789ab-0badcafe';
const approval: ApprovalRecord = {
  runId,
  pipeline: 'web',
  branch: HOSTILE_LINE,
  commitRange: { to: 'b'.repeat(40) },
  commits: (['mentions', 'links', 'markup', 'fences', 'controls', 'terminal', 'bidi', 'invalid'] as const).map(
    (kind, i) => ({
      runId,
      id: `${i}`.repeat(40),
      author: { name: `${kind} ${HOSTILE.breaks}`, email: `${kind}@example.com` },
      message: HOSTILE[kind],
    }),
  ),
  changedFiles: [HOSTILE.terminal, `src/${HOSTILE.breaks}.ts`],
  tests: [],
  risk: { class: 'normal', reasons: [HOSTILE.terminal] },
  required: { approvals: 1 },
  asked: ['alice'],
  openedAt: '2026-12-03T10:00:00.000Z',
  deadline: '2026-12-04T10:00:00.000Z',
  status: 'REJECTED',
  outcome: HOSTILE_TEXT,
};
const decisions: ApprovalDecision[] = [
  {
    runId,
    approverId: 'bob',
    decision: 'reject',
    reason: HOSTILE_TEXT,
    via: 'cli',
    principal: 'bob',
    at: '2026-12-03T10:05:00.000Z',
  },
];
const audit: AuditEvent[] = [
  { runId, at: '2026-12-03T10:05:00.000Z', event: 'rejected', actor: 'bob', via: 'cli', detail: HOSTILE_TEXT },
];

/** A decision endpoint on loopback answering the CLI routes with the corpus, as local mode's would. */
async function hostileEndpoint(): Promise<{ stateDir: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const answer =
      request.url === APPROVAL_ROUTES.cli
        ? { approvals: [{ ...approval, pipeline: HOSTILE.terminal, asked: [HOSTILE.breaks] }] }
        : request.url === `${APPROVAL_ROUTES.cli}/${runId}`
          ? { approval, decisions, audit }
          : { message: HOSTILE_TEXT };
    response.writeHead(request.url?.startsWith(APPROVAL_ROUTES.deployments) ? 409 : 200, {
      'content-type': 'application/json',
    });
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stateDir = await mkdtemp(join(tmpdir(), 'stepline-hostile-cli-'));
  await writeFile(
    join(stateDir, ENDPOINT_FILE),
    JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
  );
  return {
    stateDir,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

describe('the CLI prints text from a change inert', () => {
  let endpoint: Awaited<ReturnType<typeof hostileEndpoint>>;
  const identity = { ...process.env };
  beforeAll(async () => {
    endpoint = await hostileEndpoint();
    // The CLI knows its person by git's user.email.
    Object.assign(process.env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'user.email',
      GIT_CONFIG_VALUE_0: 'bob@example.com',
    });
  });
  afterAll(async () => {
    process.env = identity;
    await endpoint.close();
  });

  it('`stepline approvals RUN`: change record, decisions and audit trail, one inert line each', async () => {
    const printed: string[] = [];
    const code = await runApprovalsCommand({ command: 'approvals', runId, stateDir: endpoint.stateDir }, (line) =>
      printed.push(line),
    );
    expect(code).toBe(0);
    printed.forEach(expectOneInertLine);
    const shown = printed.join('\n');
    expectStillReads(shown);
    // A forged line stays inside the value it came in: no printed line starts with it.
    expect(printed.some((line) => line.startsWith('Approved by alice'))).toBe(false);
    expect(shown).toContain('mentions first Approved by alice via slack third fourth fifth Bcc: eve@evil.example');
    expect(printed.filter((line) => line.startsWith('  2026-12-03T10:05:00.000Z  bob  reject via cli: '))).toHaveLength(
      1,
    );
  });

  it('`stepline approvals` and a refusal answered with the corpus', async () => {
    const printed: string[] = [];
    await runApprovalsCommand({ command: 'approvals', stateDir: endpoint.stateDir }, (line) => printed.push(line));
    await runDeployCommand({ action: 'abort', runId, reason: 'r', stateDir: endpoint.stateDir }, (line) =>
      printed.push(line),
    );
    expect(printed).toHaveLength(2);
    printed.forEach(expectOneInertLine);
    expect(printed[1]).toMatch(/^refused \(409\): ping <!channel>/);
  });

  it('`npm start`: stage lines, the failure, failing tests and the log tail', () => {
    const failure = {
      stage: 'build',
      error: HOSTILE.terminal,
      cause: HOSTILE_TEXT,
      logTail: [...Object.values(HOSTILE), HOSTILE_LINE],
      failedTests: [{ name: HOSTILE_LINE, suite: HOSTILE.breaks, status: 'ERROR' as const, message: HOSTILE_TEXT }],
    };
    const printed: string[] = [];
    const stage: StageRecord = { runId, name: 'build', status: 'FAILED', durationMs: 1200 };
    new ProgressPrinter((line) => printed.push(line)).update([stage], ['build']);
    printed.push(...failureLines(queuedRun({ runId, status: 'FAILED', failure })));
    printed.forEach(expectOneInertLine);
    expectStillReads(printed.join('\n'));
    expect(printed).toContain('    │ red click  ');
  });
});
