/**
 * Runs started by hand (core/runs/manual-runs.ts) over the real run store (dynalite): what each request puts
 * on the bus, and each refusal. The whole path, through local mode and the CLI: test/local/manual-runs.test.ts.
 */
import type { PipelineCatalogEntry } from '../../core/catalog';
import { BranchNotFoundError, CommitNotFoundError } from '../../core/errors';
import type { RunRecord, SourceChanged } from '../../core/records';
import {
  BranchHeadUnknownError,
  PipelineNotDeployedError,
  ReleaseCommitNotFoundError,
  RunNotEndedError,
  RunToRerunNotFoundError,
} from '../../core/runs/errors';
import { release, rerun, type ManualRunDeps } from '../../core/runs/manual-runs';
import { useRunStore } from '../support/store';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const ADA = 'arn:aws:sts::111122223333:assumed-role/ops/ada@example.com';

const entry = (kind: 'codecommit' | 'github', repository: string): PipelineCatalogEntry => ({
  stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
  source: { kind, repository, branch: 'main' },
  executionMode: 'QUEUED',
  stages: { build: { name: 'build', project: 'stepline-web-build' }, tests: [], testConcurrency: 0 },
  filters: { branches: ['main'], tags: false, skipMarkers: [] },
});

const ended: RunRecord = {
  runId: 'web-0123456789ab-00000001',
  pipeline: 'web',
  status: 'FAILED',
  commit: {
    repository: 'web',
    branch: 'main',
    id: COMMIT,
    author: { name: 'Ada', email: 'ada@example.com' },
    message: 'Fix it',
    committedAt: '2026-11-24T08:00:00.000Z',
  },
  trigger: { kind: 'codecommit', deliveryId: 'evt-1', eventTime: '2026-11-24T08:01:00Z' },
  executionName: 'web-0123456789ab-00000001',
  stageNames: ['build'],
  createdAt: '2026-11-24T08:01:01.000Z',
  changedFiles: ['src/a.ts'],
};

describe('runs started by hand', () => {
  const runStore = useRunStore();
  let published: SourceChanged[];
  let deps: ManualRunDeps;
  let catalog: Record<string, PipelineCatalogEntry>;

  beforeEach(() => {
    published = [];
    catalog = { web: entry('codecommit', 'web'), site: entry('github', 'octo/site') };
    deps = {
      runs: runStore.store,
      history: runStore.store,
      catalog: { lookup: async (name) => catalog[name] },
      commits: {
        getCommit: async (repository, id) => {
          if (id !== COMMIT && id !== HEAD) throw new CommitNotFoundError(repository, id);
          return {};
        },
      },
      branches: {
        head: async (repository, branch) => {
          if (branch !== 'main') throw new BranchNotFoundError(repository, branch, 'branch');
          return HEAD;
        },
      },
      publisher: { publish: async (events) => void published.push(...events) },
      deliveryId: () => 'c0ffee00-0000-4000-8000-000000000001',
      now: () => new Date('2026-11-25T09:00:00.000Z'),
      sleep: async () => undefined,
    };
  });

  describe('rerun', () => {
    it("puts RUN's pipeline and commit on the bus once, as a re-run by the caller, with what its record knows", async () => {
      await runStore.store.createRun(ended);
      const started = await rerun(ended.runId, ADA, deps);
      expect(published).toEqual([
        {
          pipeline: 'web',
          repository: 'web',
          branch: 'main',
          referenceType: 'branch',
          commitId: COMMIT,
          author: { name: 'Ada', email: 'ada@example.com' },
          message: 'Fix it',
          committedAt: '2026-11-24T08:00:00.000Z',
          changedFiles: ['src/a.ts'],
          trigger: {
            kind: 'manual',
            deliveryId: 'c0ffee00-0000-4000-8000-000000000001',
            eventTime: '2026-11-25T09:00:00.000Z',
            pushedBy: ADA,
            rerunOf: ended.runId,
          },
        },
      ]);
      // A new run id, from the new delivery; no status: the starter (not run here) recorded nothing.
      expect(started).toEqual({
        runId: 'web-0123456789ab-dadf8923',
        pipeline: 'web',
        commitId: COMMIT,
        branch: 'main',
      });
      expect(started.runId).not.toBe(ended.runId);
    });

    it('answers with the status the starter recorded, when it records the run in time', async () => {
      await runStore.store.createRun(ended);
      deps = {
        ...deps,
        publisher: {
          publish: async ([event]) => {
            const runId = 'web-0123456789ab-dadf8923';
            await runStore.store.createRun({
              ...ended,
              runId,
              executionName: runId,
              status: 'QUEUED',
              trigger: event!.trigger,
            });
          },
        },
      };
      expect((await rerun(ended.runId, ADA, deps)).status).toBe('QUEUED');
    });

    it('refuses a run that has not ended, naming its status, and an unknown run', async () => {
      await runStore.store.createRun({ ...ended, status: 'RUNNING' });
      await expect(rerun(ended.runId, ADA, deps)).rejects.toThrow(RunNotEndedError);
      await expect(rerun(ended.runId, ADA, deps)).rejects.toThrow(`run ${ended.runId} is RUNNING`);
      await expect(rerun('web-nope', ADA, deps)).rejects.toThrow(RunToRerunNotFoundError);
      expect(published).toEqual([]);
    });
  });

  describe('release', () => {
    it("runs the head of a CodeCommit pipeline's branch, or the commit given", async () => {
      expect((await release('web', undefined, ADA, deps)).commitId).toBe(HEAD);
      expect((await release('web', COMMIT, ADA, deps)).commitId).toBe(COMMIT);
      expect(
        published.map((e) => [e.commitId, e.branch, e.trigger.kind, e.trigger.pushedBy, e.trigger.rerunOf]),
      ).toEqual([
        [HEAD, 'main', 'manual', ADA, undefined],
        [COMMIT, 'main', 'manual', ADA, undefined],
      ]);
    });

    it('refuses an unknown pipeline, an unknown commit and a missing branch, putting nothing on the bus', async () => {
      await expect(release('nope', undefined, ADA, deps)).rejects.toThrow(PipelineNotDeployedError);
      const unknown = 'deadbeef'.repeat(5);
      await expect(release('web', unknown, ADA, deps)).rejects.toThrow(
        `commit ${unknown} cannot be released by web: web has no such commit`,
      );
      catalog.web = { ...catalog.web!, source: { ...catalog.web!.source, branch: 'gone' } };
      await expect(release('web', undefined, ADA, deps)).rejects.toThrow(
        'cannot release web without --commit: branch gone does not exist in repository web',
      );
      expect(published).toEqual([]);
    });

    it('needs --commit for a GitHub pipeline, and takes only a commit one of its runs recorded', async () => {
      await expect(release('site', undefined, ADA, deps)).rejects.toThrow(BranchHeadUnknownError);
      await expect(release('site', undefined, ADA, deps)).rejects.toThrow(/give --commit SHA/);
      await expect(release('site', COMMIT, ADA, deps)).rejects.toThrow(ReleaseCommitNotFoundError);
      const pushed = {
        ...ended,
        runId: 'site-0123456789ab-00000002',
        pipeline: 'site',
        executionName: 'x',
        status: 'SUCCEEDED' as const,
      };
      await runStore.store.createRun({
        ...pushed,
        commit: { ...pushed.commit, repository: 'octo/site', branch: 'main' },
      });
      const started = await release('site', COMMIT, ADA, deps);
      expect(started).toMatchObject({ pipeline: 'site', commitId: COMMIT, branch: 'main' });
      expect(published).toEqual([
        expect.objectContaining({
          repository: 'octo/site',
          commitId: COMMIT,
          message: 'Fix it',
          committedAt: '2026-11-24T08:00:00.000Z',
        }),
      ]);
    });
  });
});
