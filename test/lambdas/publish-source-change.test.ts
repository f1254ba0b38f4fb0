/**
 * A CodeCommit push through the path local mode gives it: the one push rule's pattern and input transformer
 * (core/sources/triggers.ts, on a LocalEventBus), then the source-change publisher's handler, which finds the
 * pipelines following the repository in the catalog (core/sources/followers.ts). The events are CodeCommit's
 * documented ones.
 */
import { catalogEntry, parseConfig, type PipelineConfig } from '../../core/config/stepline-config';
import type { PipelineCatalogEntry } from '../../core/catalog';
import type { SourceChanged } from '../../core/records';
import { MissingEventPathError } from '../../core/sources/errors';
import { applyInputTemplate, codeCommitPushTrigger } from '../../core/sources/triggers';
import { createHandler } from '../../lambdas/publish-source-change';
import type { LogLine } from '../../lambdas/environment';
import { LocalEventBus } from '../../local/event-bus';

const REPOSITORY_ARN = 'arn:aws:codecommit:us-east-2:123456789012:MyDemoRepo';
/** The documented examples' commit ids are placeholders ("3e5983DESTINATION"); real ones are 40 hex digits. */
const COMMIT = '3e5983d0b1a2c3d4e5f60718293a4b5c6d7e8f90';
const OLD_COMMIT = '7e9993d0b1a2c3d4e5f60718293a4b5c6d7e8f91';

/**
 * The referenceCreated example of the CodeCommit user guide ("Monitoring CodeCommit events in Amazon
 * EventBridge", https://docs.aws.amazon.com/codecommit/latest/userguide/monitoring-events.html#referenceCreated):
 * no `oldCommitId`, no `callerUserArn`.
 */
const referenceCreated = {
  version: '0',
  id: '01234567-EXAMPLE',
  'detail-type': 'CodeCommit Repository State Change',
  source: 'aws.codecommit',
  account: '123456789012',
  time: '2019-06-12T10:23:43Z',
  region: 'us-east-2',
  resources: [REPOSITORY_ARN],
  detail: {
    event: 'referenceCreated',
    repositoryName: 'MyDemoRepo',
    repositoryId: '12345678-1234-5678-abcd-12345678abcd',
    referenceType: 'branch',
    referenceName: 'myBranch',
    referenceFullName: 'refs/heads/myBranch',
    commitId: COMMIT,
  },
};

const codecommit = (name: string, repository: string) => ({
  name,
  source: { type: 'codecommit', repository, branch: 'main' },
  build: { buildspec: 'build.yml' },
});
const { pipelines } = parseConfig({
  pipelines: [
    codecommit('demo', 'MyDemoRepo'),
    codecommit('shared-api', 'shared'),
    codecommit('shared-docs', 'shared'),
    codecommit('other', 'OtherRepo'),
    // A GitHub repository of the same name is another repository.
    {
      name: 'gh-demo',
      source: {
        type: 'github',
        owner: 'acme',
        repo: 'MyDemoRepo',
        branch: 'main',
        connectionArn: 'arn:aws:codeconnections:us-east-2:123456789012:connection/0b8e3c4a-1d2f-4e5a-9b6c-7d8e9f0a1b2c',
      },
      build: { buildspec: 'build.yml' },
    },
  ],
});
/** The catalog as the pipeline stacks publish it: each pipeline's entry, by name. */
const catalog = new Map<string, PipelineCatalogEntry>(
  pipelines.map((p: PipelineConfig) => [
    p.name,
    catalogEntry(p, `arn:aws:states:us-east-2:123456789012:stateMachine:stepline-${p.name}`),
  ]),
);

describe('a CodeCommit push through the one push rule and the source-change publisher', () => {
  const published: SourceChanged[] = [];
  const logged: Parameters<LogLine>[0][] = [];
  const bus = new LocalEventBus();
  const publish = createHandler(
    {
      catalog: { list: async () => catalog },
      publisher: {
        publish: async (changes) => {
          published.push(...changes);
        },
      },
    },
    (line) => logged.push(line),
  );
  bus.addRule({ name: 'PushRule', ...codeCommitPushTrigger(), target: publish });
  beforeEach(() => {
    published.length = 0;
    logged.length = 0;
  });
  const pushTo = (repository: string) => ({
    ...referenceCreated,
    resources: [`arn:aws:codecommit:us-east-2:123456789012:${repository}`],
    detail: { ...referenceCreated.detail, repositoryName: repository },
  });

  it('publishes the first push of a new branch (referenceCreated: no oldCommitId, no callerUserArn)', async () => {
    const deliveries = bus.put(referenceCreated);

    expect(deliveries.map((d) => d.rule)).toEqual(['PushRule']);
    await expect(deliveries[0]!.result).resolves.toEqual({ published: 1, pipelines: ['demo'] });
    expect(published).toEqual([
      {
        pipeline: 'demo',
        repository: 'MyDemoRepo',
        branch: 'myBranch',
        referenceType: 'branch',
        commitId: COMMIT,
        trigger: { kind: 'codecommit', deliveryId: '01234567-EXAMPLE', eventTime: '2019-06-12T10:23:43Z' },
      },
    ]);
  });

  it('carries oldCommitId as the parent and callerUserArn as the pusher of a referenceUpdated', async () => {
    const callerUserArn = 'arn:aws:iam::123456789012:user/Mary_Major';
    const updated = {
      ...referenceCreated,
      detail: { ...referenceCreated.detail, event: 'referenceUpdated', oldCommitId: OLD_COMMIT, callerUserArn },
    };

    await bus.put(updated)[0]!.result;

    expect(published).toEqual([
      expect.objectContaining({
        commitId: COMMIT,
        parentCommitId: OLD_COMMIT,
        trigger: {
          kind: 'codecommit',
          deliveryId: '01234567-EXAMPLE',
          eventTime: '2019-06-12T10:23:43Z',
          pushedBy: callerUserArn,
        },
      }),
    ]);
  });

  it('a repository two pipelines follow: one SourceChanged event for each, of the same delivery', async () => {
    const deliveries = bus.put(pushTo('shared'));

    expect(deliveries.map((d) => d.rule)).toEqual(['PushRule']);
    await expect(deliveries[0]!.result).resolves.toEqual({ published: 2, pipelines: ['shared-api', 'shared-docs'] });
    expect(published.map((change) => [change.pipeline, change.repository, change.trigger.deliveryId])).toEqual([
      ['shared-api', 'shared', '01234567-EXAMPLE'],
      ['shared-docs', 'shared', '01234567-EXAMPLE'],
    ]);
  });

  it('a repository no pipeline follows: nothing published, and the log says so', async () => {
    await expect(bus.put(pushTo('unrelated'))[0]!.result).resolves.toEqual({ published: 0, pipelines: [] });

    expect(published).toEqual([]);
    expect(logged).toEqual([
      {
        message: 'no pipeline follows unrelated: nothing published',
        repository: 'unrelated',
        branch: 'myBranch',
        commitId: COMMIT,
        deliveryId: '01234567-EXAMPLE',
        pipelines: [],
      },
    ]);
  });

  it('a repository is matched by its exact name, and only by CodeCommit pipelines', async () => {
    await bus.put(pushTo('mydemorepo'))[0]!.result;
    await bus.put(pushTo('MyDemoRepo'))[0]!.result;

    expect(published.map((change) => change.pipeline)).toEqual(['demo']);
  });

  it('refuses a template path the event lacks, rather than guess what EventBridge puts there', () => {
    expect(() => applyInputTemplate({ parent: { path: '$.detail.oldCommitId' } }, referenceCreated)).toThrow(
      MissingEventPathError,
    );
  });
});
