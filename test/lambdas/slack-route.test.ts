/**
 * The Slack interactions route and Slack's 3-second acknowledgement window: the message's update through the
 * response URL gets what is left of the window, measured from when the request reached the endpoint
 * (requestContext.timeEpoch), and is not tried when too little is left. Against the real run store (dynalite).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackResponder } from '../../lambdas/adapters/slack-response';
import { signSlackRequest } from '../../lambdas/adapters/slack-signature';
import { slack, type DecisionRoutesDeps, type HttpEvent } from '../../lambdas/decision-routes';
import { useRunStore } from '../support/store';

const SECRET = 'slack-signing-secret';
const NOW = new Date('2026-12-03T10:00:00.000Z');

/** A port a decision on a missing run never reaches: calling it fails the test. */
const unreachable = new Proxy({} as never, {
  get: (_, method) => () => {
    throw new Error(`not expected: ${String(method)}`);
  },
});

/** A signed click on run `no-such-run`'s approve button, as API Gateway hands it over `msAgo` after it arrived. */
function click(msAgo: number): HttpEvent {
  const payload = {
    type: 'block_actions',
    user: { id: 'UALICE001', username: 'ualice001' },
    response_url: 'https://hooks.slack.com/actions/T1/1/abc',
    actions: [{ action_id: 'stepline-approve', block_id: 'stepline-gate:no-such-run', value: 'x', type: 'button' }],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(Math.floor(NOW.getTime() / 1000));
  return {
    headers: { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signSlackRequest(SECRET, timestamp, body) },
    body,
    isBase64Encoded: false,
    requestContext: { timeEpoch: NOW.getTime() - msAgo },
  } as unknown as HttpEvent;
}

describe('the Slack route within the 3-second window', () => {
  const runStore = useRunStore();
  const sent: { url: string; timeoutMs: number }[] = [];
  const logged: Record<string, unknown>[] = [];
  const deps = (): DecisionRoutesDeps =>
    ({
      runs: runStore.store,
      approvals: runStore.store,
      catalog: unreachable,
      executions: unreachable,
      notifications: unreachable,
      events: unreachable,
      now: () => NOW,
      linkKey: async () => 'unused',
      slackSigningSecret: async () => SECRET,
      respondToSlack: async (url: string, _body: Record<string, unknown>, timeoutMs: number) => {
        sent.push({ url, timeoutMs });
      },
    }) as unknown as DecisionRoutesDeps;
  beforeEach(() => {
    sent.length = 0;
    logged.length = 0;
  });

  it('gives the update what is left of the window, less a margin for the answer', async () => {
    const answer = await slack(click(1000), deps(), (entry) => logged.push(entry));
    expect(answer.statusCode).toBe(200);
    expect(sent).toEqual([{ url: 'https://hooks.slack.com/actions/T1/1/abc', timeoutMs: 1600 }]);
  });

  it('does not try the update when the window is all but gone, and says so', async () => {
    const answer = await slack(click(2600), deps(), (entry) => logged.push(entry));
    expect(answer.statusCode).toBe(200);
    expect(sent).toEqual([]);
    expect(logged).toContainEqual({
      message: 'Slack response URL skipped: no time left in the 3-second window',
      runId: 'no-such-run',
      leftMs: 0,
    });
  });
});

describe('slackResponder', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // A response URL that never answers.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gives up when its time is up', async () => {
    await expect(slackResponder(/^http:\/\/127\.0\.0\.1:/)(url, {}, 200)).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});
