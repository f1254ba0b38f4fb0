/**
 * A CodeCommit push through the path local mode gives it: the push rule's pattern and input transformer
 * (core/sources/triggers.ts, on a LocalEventBus), then the source-change publisher's handler. The events are
 * CodeCommit's documented ones.
 */
import { parseConfig, type CodeCommitPipeline } from '../../core/config/stepline-config';
import type { SourceChanged } from '../../core/records';
import { MissingEventPathError } from '../../core/sources/errors';
import { codeCommitTrigger, applyInputTemplate } from '../../core/sources/triggers';
import { createHandler } from '../../lambdas/publish-source-change';
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

const [pipeline] = parseConfig({
  pipelines: [
    {
      name: 'demo',
      source: { type: 'codecommit', repository: 'MyDemoRepo', branch: 'main' },
      build: { buildspec: 'build.yml' },
    },
  ],
}).pipelines as [CodeCommitPipeline];

describe('a CodeCommit push through the push rule and the source-change publisher', () => {
  const published: SourceChanged[] = [];
  const bus = new LocalEventBus();
  const publish = createHandler(
    {
      publisher: {
        publish: async (changes) => {
          published.push(...changes);
        },
      },
    },
    () => undefined,
  );
  bus.addRule({ name: 'stepline-demo-push', ...codeCommitTrigger(pipeline, REPOSITORY_ARN), target: publish });
  beforeEach(() => (published.length = 0));

  it('publishes the first push of a new branch (referenceCreated: no oldCommitId, no callerUserArn)', async () => {
    const deliveries = bus.put(referenceCreated);

    expect(deliveries.map((d) => d.rule)).toEqual(['stepline-demo-push']);
    await expect(deliveries[0]!.result).resolves.toEqual({ published: 1 });
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

  it('refuses a template path the event lacks, rather than guess what EventBridge puts there', () => {
    expect(() => applyInputTemplate({ parent: { path: '$.detail.oldCommitId' } }, referenceCreated)).toThrow(
      MissingEventPathError,
    );
  });
});
