/**
 * The notifier end to end on the real run store (dynalite) and real HTTP: a Slack webhook and the
 * GitHub API are servers on loopback; SES, which has no local implementation, is a mocked client
 * whose requests are asserted whole.
 */
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotifyDeps } from '../../core/notification/delivery';
import type { PipelineCatalogEntry } from '../../core/catalog';
import type { NotificationSettings, RunRecord } from '../../core/records';
import { ChannelSenders } from '../../lambdas/adapters/notification-senders';
import { SecretReader } from '../../lambdas/adapters/secrets';
import { createHandler } from '../../lambdas/notify';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

const SLACK_PATH = '/services/T000/B000/very-secret-path';
const TOKEN = 'ghp_notARealTokenButSecretAnyway';
const sha = 'abcdef0123456789abcdef0123456789abcdef01';

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

/** A loopback HTTP server answering with the statuses given, in turn (the last one repeats). */
async function fakeService(
  statuses: number[],
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req
      .on('data', (c: Buffer) => (body += c.toString()))
      .on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
        const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no_service');
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('notifier', () => {
  const runStore = useRunStore();
  const secrets = mockClient(SecretsManagerClient);
  const ses = mockClient(SESv2Client);
  let slack: Awaited<ReturnType<typeof fakeService>>;
  let github: Awaited<ReturnType<typeof fakeService>>;
  let logs: Record<string, unknown>[];
  const settings: NotificationSettings = {
    on: { failed: true, fixed: true, succeeded: false },
    slack: { webhookUrlSecret: 'stepline/notifications/slack' },
    email: { from: 'ci@example.com', to: ['team@example.com'] },
    githubStatuses: { tokenSecret: 'stepline/notifications/github' },
  };
  const entry: PipelineCatalogEntry = {
    stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
    source: { kind: 'github', repository: 'octo/web' },
    stages: {
      build: { name: 'build', project: 'p-build' },
      tests: [{ name: 'unit', project: 'p-unit' }],
      testConcurrency: 0,
    },
    filters: { branches: ['main'], tags: false, skipMarkers: [] },
    executionMode: 'QUEUED',
    notifications: settings,
  };

  afterEach(async () => {
    await slack?.close();
    await github?.close();
  });

  async function setUp(slackStatuses = [200], githubStatuses = [201]) {
    slack = await fakeService(slackStatuses);
    github = await fakeService(githubStatuses);
    logs = [];
    secrets.reset();
    ses.reset();
    secrets
      .on(GetSecretValueCommand, { SecretId: 'stepline/notifications/slack' })
      .resolves({ SecretString: `${slack.url}${SLACK_PATH}` })
      .on(GetSecretValueCommand, { SecretId: 'stepline/notifications/github' })
      .resolves({ SecretString: TOKEN });
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const deps: NotifyDeps = {
      catalog: { lookup: async () => entry },
      runs: runStore.store,
      notifications: runStore.store,
      sender: new ChannelSenders({
        secrets: new SecretReader(new SecretsManagerClient({}), () => new Date()),
        ses: () => new SESv2Client({}),
        githubApi: github.url,
      }),
      links: (run) => ({ run: `https://console.example/${run.runId}` }),
      now: () => new Date('2026-11-25T10:00:00.000Z'),
      sleep: async () => undefined,
    };
    return createHandler(deps, (line) => logs.push(line));
  }

  /** A run as the recorder leaves it: build failed in phase BUILD with its log tail; unit never ran. */
  async function failedRun(runId = 'web-run-2', createdAt = '2026-11-25T09:30:00.000Z'): Promise<RunRecord> {
    const run = queuedRun({
      runId,
      pipeline: 'web',
      createdAt,
      stageNames: ['build', 'unit'],
      commit: {
        repository: 'octo/web',
        branch: 'main',
        id: sha,
        message: 'Break the build\n\nbody',
        author: { name: 'Ada', email: 'ada@example.com' },
      },
    });
    await runStore.store.createRun(run);
    await runStore.store.transitionRun(runId, 'RUNNING', { startedAt: createdAt, executionArn: `arn:x:${runId}` });
    const failure = {
      stage: 'build',
      error: 'States.TaskFailed',
      cause: 'build p-build:7 FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: npm run build exited 2',
      logTail: ['> tsc', "src/index.ts(3,1): error TS2304: Cannot find name 'x'."],
    };
    await runStore.store.transitionStage(runId, 'build', 'IN_PROGRESS', {});
    await runStore.store.transitionStage(runId, 'build', 'FAILED', {
      failure,
      logs: { deepLink: 'https://logs.example/p-build/7' },
    });
    return runStore.store.transitionRun(runId, 'FAILED', {
      endedAt: '2026-11-25T09:31:00.000Z',
      durationMs: 60_000,
      failure,
    });
  }

  async function succeededRun(runId: string, createdAt: string): Promise<RunRecord> {
    await runStore.store.createRun(
      queuedRun({
        runId,
        pipeline: 'web',
        createdAt,
        stageNames: ['build', 'unit'],
        commit: { repository: 'octo/web', branch: 'main', id: sha, message: 'Fix the build' },
      }),
    );
    await runStore.store.transitionRun(runId, 'RUNNING', { startedAt: createdAt });
    for (const stage of ['build', 'unit']) {
      await runStore.store.transitionStage(runId, stage, 'IN_PROGRESS', {});
      await runStore.store.transitionStage(runId, stage, 'SUCCEEDED', {
        ...(stage === 'unit'
          ? { tests: { total: 3, passed: 3, failed: 0, skipped: 0, other: 0, durationMs: 5, reports: [] } }
          : {}),
      });
    }
    return runStore.store.transitionRun(runId, 'SUCCEEDED', { endedAt: createdAt });
  }

  it('a failed run: one Slack message and one email naming the stage, phase and log tail, and a status per stage', async () => {
    const handler = await setUp();
    const run = await failedRun();
    const result = await handler({ kind: 'RunEnded', runId: run.runId, pipeline: 'web' });
    expect([...result.delivered].sort()).toEqual([
      'email:ended',
      'github:ended:stepline/build',
      'github:ended:stepline/unit',
      'slack:ended',
    ]);

    expect(slack.received).toHaveLength(1);
    expect(slack.received[0]!.path).toBe(SLACK_PATH);
    const payload = slack.received[0]!.body as { text: string; blocks: { type: string; text?: { text: string } }[] };
    expect(payload.text).toBe('web failed at build: Break the build');
    const shown = JSON.stringify(payload.blocks);
    expect(shown).toContain('in phase BUILD: COMMAND_EXECUTION_ERROR');
    expect(shown).toContain("error TS2304: Cannot find name 'x'.");
    expect(shown).toContain(`${sha.slice(0, 12)} on main of octo/web by Ada`);
    expect(payload.blocks.find((b) => b.type === 'actions')).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open the run' },
          url: 'https://console.example/web-run-2',
        },
        { type: 'button', text: { type: 'plain_text', text: 'Open the log' }, url: 'https://logs.example/p-build/7' },
      ],
    });

    const emails = ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      FromEmailAddress: 'ci@example.com',
      Destination: { ToAddresses: ['team@example.com'] },
      Content: { Simple: { Subject: { Data: '[stepline] web failed at build: Break the build', Charset: 'UTF-8' } } },
    });
    const body = emails[0]!.Content!.Simple!.Body!;
    expect(body.Text!.Data).toContain('What failed: build: States.TaskFailed — build p-build:7 FAILED in phase BUILD');
    expect(body.Text!.Data).toContain("  src/index.ts(3,1): error TS2304: Cannot find name 'x'.");
    expect(body.Html!.Data).toContain(
      '<pre>&#62; tsc\nsrc/index.ts(3,1): error TS2304: Cannot find name &#39;x&#39;.</pre>',
    );

    const statuses = github.received.map((r): Record<string, unknown> => ({ path: r.path, ...r.body }));
    expect(statuses.sort((a, b) => String(a.context).localeCompare(String(b.context)))).toEqual([
      {
        path: `/repos/octo/web/statuses/${sha}`,
        state: 'failure',
        context: 'stepline/build',
        description:
          'build failed: build p-build:7 FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: npm run build exited 2',
        target_url: 'https://console.example/web-run-2',
      },
      {
        path: `/repos/octo/web/statuses/${sha}`,
        state: 'error',
        context: 'stepline/unit',
        description: 'unit did not finish: the run failed (States.TaskFailed)',
        target_url: 'https://console.example/web-run-2',
      },
    ]);
    expect(github.received[0]!.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${TOKEN}`,
      'x-github-api-version': '2022-11-28',
    });
    // The run's own record is what the recorder left.
    expect(await runStore.store.getRun(run.runId)).toEqual(run);
  });

  it('a repeated RunEnded sends nothing twice; a fixed run says so', async () => {
    const handler = await setUp();
    const failed = await failedRun();
    await handler({ kind: 'RunEnded', runId: failed.runId, pipeline: 'web' });
    const again = await handler({ kind: 'RunEnded', runId: failed.runId, pipeline: 'web' });
    expect(again.delivered).toEqual([]);
    expect(slack.received).toHaveLength(1);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);

    const fixed = await succeededRun('web-run-3', '2026-11-25T09:40:00.000Z');
    await handler({ kind: 'RunEnded', runId: fixed.runId, pipeline: 'web' });
    expect(slack.received.map((r) => r.body.text)).toEqual([
      'web failed at build: Break the build',
      'web is fixed: Fix the build',
    ]);
    // A second success in a row asks for no message (on.succeeded is off); statuses still go.
    const ok = await succeededRun('web-run-4', '2026-11-25T09:50:00.000Z');
    const quiet = await handler({ kind: 'RunEnded', runId: ok.runId, pipeline: 'web' });
    expect([...quiet.delivered].sort()).toEqual(['github:ended:stepline/build', 'github:ended:stepline/unit']);
  });

  it('a Slack webhook answering 500 then 200 gets the message once, each attempt recorded', async () => {
    const handler = await setUp([500, 200]);
    const run = await failedRun();
    await handler({ kind: 'RunEnded', runId: run.runId, pipeline: 'web' });
    expect(slack.received.map((r) => r.body.text)).toEqual([
      'web failed at build: Break the build',
      'web failed at build: Break the build',
    ]);
    const record = (await runStore.store.listNotifications(run.runId)).find((n) => n.id === 'slack:ended');
    expect(record).toMatchObject({
      status: 'DELIVERED',
      attempts: [{ outcome: 'FAILED', error: 'Slack answered 500: no_service' }, { outcome: 'DELIVERED' }],
    });
  });

  it('a delivery that keeps failing is recorded FAILED, the call fails (for the DLQ), and the secrets never reach the logs', async () => {
    const handler = await setUp([503], [201]);
    const run = await failedRun();
    await expect(handler({ kind: 'RunEnded', runId: run.runId, pipeline: 'web' })).rejects.toThrow(
      '1 notification(s) not delivered: slack:ended: Slack answered 503: no_service',
    );
    const slackRecord = (await runStore.store.listNotifications(run.runId)).find((n) => n.id === 'slack:ended');
    expect(slackRecord?.status).toBe('FAILED');
    expect(slackRecord?.attempts).toHaveLength(3);
    // The others were delivered and are not sent again by the retry.
    await expect(handler({ kind: 'RunEnded', runId: run.runId, pipeline: 'web' })).rejects.toThrow('slack:ended');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(github.received).toHaveLength(2);
    expect(await runStore.store.getRun(run.runId)).toEqual(run);
    const logged = JSON.stringify(logs);
    expect(logged).toContain('notifications not delivered');
    expect(logged).not.toContain(SLACK_PATH);
    expect(logged).not.toContain(TOKEN);
  });

  it('a run start posts pending statuses; a missing secret is named and not retried', async () => {
    const handler = await setUp();
    const run = await failedRun();
    await handler({ kind: 'RunStarted', runId: run.runId, pipeline: 'web' });
    expect(github.received.map((r) => [r.body.context, r.body.state, r.body.description])).toEqual([
      ['stepline/build', 'pending', 'build is running'],
      ['stepline/unit', 'pending', 'unit is running'],
    ]);
    // A fresh container whose Slack secret was never created.
    await slack.close();
    await github.close();
    const fresh = await setUp();
    secrets.on(GetSecretValueCommand, { SecretId: 'stepline/notifications/slack' }).rejects(
      Object.assign(new Error("Secrets Manager can't find the specified secret."), {
        name: 'ResourceNotFoundException',
      }),
    );
    await expect(fresh({ kind: 'RunEnded', runId: run.runId, pipeline: 'web' })).rejects.toThrow(
      'slack:ended: secret stepline/notifications/slack does not exist: create it (see the README, "Notifications")',
    );
    const record = (await runStore.store.listNotifications(run.runId)).find((n) => n.id === 'slack:ended');
    expect(record?.attempts).toHaveLength(1);
  });
});
