/**
 * Routing that does not grow with the pipelines, executed locally through the platform's rules as local mode
 * makes them from their declarations (`addPlatformRules`): a push goes through the one push rule to the real
 * source-change publisher, which lists the catalog from the local Parameter Store and puts SourceChanged
 * events through the real EventBridge client onto the local platform bus, whose one run rule hands each to
 * the run starter; an alarm's state change from local CloudWatch goes through the one alarm rule to the real
 * deploy handler, which finds the pipeline from the alarm's name and the catalog. Several pipelines, one
 * repository followed by two, one by none, pipeline names that contain `-`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentAlarms } from '../../core/alarms/deployment-alarms';
import { catalogEntry, parseConfig } from '../../core/config/stepline-config';
import { CATALOG_PATH, catalogParameterName } from '../../core/platform';
import type { FunctionDeployer } from '../../core/deployment/protocol';
import type { PlatformFunctionName } from '../../core/platform-functions';
import type { SourceChanged } from '../../core/records';
import { SsmPipelineCatalog } from '../../lambdas/adapters/pipeline-catalog';
import { createHandler as deployHandler } from '../../lambdas/deploy';
import type { LogLine } from '../../lambdas/environment';
import { handlerOn as publisherOn } from '../../lambdas/publish-source-change';
import { LocalAlarms } from '../../local/alarms';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import { codeCommitEvent } from '../../local/codecommit';
import { LocalEventBus, putEventsOperation, type Delivery } from '../../local/event-bus';
import { LocalMetrics } from '../../local/functions/metrics';
import { LocalOutbox } from '../../local/outbox';
import { LocalParameterStore } from '../../local/parameter-store';
import { addPlatformRules, localPlatform } from '../../local/platform-functions';
import { TimeScale } from '../../local/time-scale';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

const codecommit = (name: string, repository: string, deploy?: Record<string, unknown>) => ({
  name,
  source: { type: 'codecommit', repository, branch: 'main' },
  build: { buildspec: 'build.yml' },
  ...(deploy ? { deploy } : {}),
});
const { pipelines } = parseConfig({
  pipelines: [
    ...Array.from({ length: 6 }, (_, i) => codecommit(`svc-0${i + 1}`, `repo-0${i + 1}`)),
    // One repository, two pipelines.
    codecommit('api', 'shared'),
    codecommit('api-docs', 'shared'),
    // Deploying pipelines whose names contain "-" and another's alarm suffix.
    codecommit('web', 'web', { function: 'web' }),
    codecommit('web-errors', 'web-errors', { function: 'web-errors' }),
    codecommit('svc-deploy', 'svc-deploy', {
      function: 'svc-deploy',
      alarms: { errors: 1, throttles: 1, p99DurationMs: 500 },
    }),
    // A GitHub repository named like a CodeCommit one follows nothing CodeCommit sends.
    {
      name: 'gh-shared',
      source: {
        type: 'github',
        owner: 'acme',
        repo: 'shared',
        branch: 'main',
        connectionArn: 'arn:aws:codeconnections:local:000000000000:connection/0b8e3c4a-1d2f-4e5a-9b6c-7d8e9f0a1b2c',
      },
      build: { buildspec: 'build.yml' },
    },
  ],
});

const COMMIT = 'a'.repeat(40);
const OLD = 'b'.repeat(40);

describe('the platform rules route each push and each alarm to exactly its pipelines', () => {
  const runStore = useRunStore();
  let dir: string;
  let endpoint: LocalEndpoint;
  let buses: { default: LocalEventBus; platform: LocalEventBus };
  /** The pipelines the run starter was handed a SourceChanged event of, in order. */
  let started: string[];
  /** The pipelines whose deploy role the deploy handler asked for, in order. */
  let rolledBackIn: string[];
  let publisherLog: Parameters<LogLine>[0][];
  let invoked: PlatformFunctionName[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-routing-'));
    started = [];
    rolledBackIn = [];
    publisherLog = [];
    invoked = [];
    const parameters = new LocalParameterStore();
    for (const pipeline of pipelines) {
      const arn = `arn:aws:states:local:000000000000:stateMachine:stepline-${pipeline.name}`;
      parameters.put(catalogParameterName(pipeline.name), JSON.stringify(catalogEntry(pipeline, arn)));
    }
    buses = { default: new LocalEventBus(), platform: new LocalEventBus() };
    endpoint = await startLocalEndpoint({
      ...parameters.operations(),
      ...putEventsOperation({ default: buses.default, stepline: buses.platform }),
    });
    const now = () => new Date('2026-12-03T10:00:00.000Z');
    const platform = localPlatform({
      endpointUrl: endpoint.url,
      storeEndpoint: endpoint.url,
      stateDir: dir,
      outbox: new LocalOutbox(join(dir, 'outbox')),
      now,
      timeScale: TimeScale.REAL,
    });
    const publisher = publisherOn(platform, (line) => publisherLog.push(line));
    const deploy = deployHandler(
      {
        deployments: runStore.store,
        runs: runStore.store,
        catalog: new SsmPipelineCatalog(platform.clients.ssm(), CATALOG_PATH, now),
        builds: { describeBuild: unused, logTail: unused },
        now,
        forPipeline: async (pipeline) => {
          rolledBackIn.push(pipeline);
          return { deployer: { ...unusedDeployer }, alarms: { states: unused } };
        },
      },
      () => undefined,
    );
    addPlatformRules(buses, async (name, input) => {
      invoked.push(name);
      switch (name) {
        case 'publishSourceChange':
          return publisher(input);
        case 'startRun':
          started.push((input as SourceChanged).pipeline);
          return {};
        case 'deploy':
          return deploy(input);
        default:
          return {};
      }
    });
    // Each deploying pipeline has a run under way (its deployment not started: an alarm finds the run and
    // takes the pipeline's role, then finds nothing to roll back).
    for (const pipeline of pipelines.filter((p) => p.deploy)) {
      await runStore.store.createRun(queuedRun({ runId: `${pipeline.name}-run`, pipeline: pipeline.name }));
    }
  });
  afterEach(async () => {
    await endpoint.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A push to `repository` as local CodeCommit announces it, on the local default bus; its deliveries ended. */
  const push = async (repository: string) => {
    const deliveries = buses.default.put(
      codeCommitEvent({ repository, oldCommitId: OLD, commitId: COMMIT, ref: 'refs/heads/main' }),
    );
    await Promise.all(deliveries.map((delivery) => delivery.result));
    return deliveries.map((delivery) => delivery.rule);
  };

  it.each([
    ['repo-01', ['svc-01']],
    ['repo-04', ['svc-04']],
    ['web-errors', ['web-errors']],
  ])('a push to %s starts exactly %j', async (repository, expected) => {
    expect(await push(repository)).toEqual(['PushRule']);
    expect(started).toEqual(expected);
  });

  it('a push to a repository two pipelines follow starts each of them once (and not the GitHub one)', async () => {
    await push('shared');
    expect(started).toEqual(['api', 'api-docs']);
  });

  it('a push to a repository no pipeline follows starts nothing, and the publisher says so', async () => {
    await push('unrelated');

    expect(started).toEqual([]);
    expect(invoked).toEqual(['publishSourceChange']);
    expect(publisherLog).toEqual([
      expect.objectContaining({ message: 'no pipeline follows unrelated: nothing published', pipelines: [] }),
    ]);
  });

  it.each([
    ['stepline-web-errors', 'web'],
    ['stepline-web-errors-errors', 'web-errors'],
    ['stepline-web-errors-throttles', 'web-errors'],
    ['stepline-svc-deploy-p99-duration', 'svc-deploy'],
  ])('%s going into ALARM reaches exactly pipeline %s', async (alarm, pipeline) => {
    const deliveries: Delivery[] = [];
    const alarms = new LocalAlarms({
      metrics: new LocalMetrics({ now: () => Date.now() }),
      now: () => new Date(),
      onStateChange: (event) => deliveries.push(...buses.default.put(event)),
    });
    for (const p of pipelines.filter((candidate) => candidate.deploy))
      alarms.define(deploymentAlarms(p.name, p.deploy!));

    alarms.setState(alarm, 'ALARM', 'a test');
    await Promise.all(deliveries.map((delivery) => delivery.result));

    expect(deliveries.map((delivery) => delivery.rule)).toEqual(['AlarmRule']);
    expect(rolledBackIn).toEqual([pipeline]);
    // Back to OK: no rule matches.
    alarms.setState(alarm, 'OK', 'a test');
    expect(deliveries).toHaveLength(1);
  });
});

function unused(): never {
  throw new Error('not used here');
}

const unusedDeployer: FunctionDeployer = {
  updateCode: unused,
  publishVersion: unused,
  invoke: unused,
  aliasVersions: unused,
  routeAlias: unused,
};
