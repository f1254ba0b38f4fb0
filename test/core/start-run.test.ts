import { CommitNotFoundError } from '../../core/errors';
import type { ExecutionStarter } from '../../core/ports';
import type { PipelineCatalogEntry } from '../../core/catalog';
import { startRun, type StartRunDeps } from '../../core/runs/start-run';
import { createHandler } from '../../lambdas/start-run';
import { useRunStore } from '../support/store';

const request = {
  pipeline: 'web',
  repository: 'web',
  branch: 'main',
  referenceType: 'branch' as const,
  commitId: '0123456789abcdef0123456789abcdef01234567',
  trigger: { kind: 'codecommit' as const, deliveryId: 'evt-1', eventTime: '2026-11-25T09:00:00Z' },
};

describe('startRun', () => {
  const runStore = useRunStore();
  let deps: StartRunDeps;
  let starts: Parameters<ExecutionStarter['start']>[0][];
  const web: PipelineCatalogEntry = {
    stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
    source: { kind: 'codecommit', repository: 'web' },
    executionMode: 'PARALLEL',
    stages: {
      build: { name: 'build', project: 'stepline-web-build' },
      tests: [{ name: 'unit', project: 'stepline-web-unit' }],
      testConcurrency: 0,
    },
    filters: { branches: ['main', 'release/*'], tags: false, skipMarkers: ['[skip ci]'] },
  };

  beforeEach(() => {
    starts = [];
    deps = {
      catalog: { lookup: async (pipeline) => (pipeline === 'web' ? web : undefined) },
      runs: runStore.store,
      lanes: runStore.store,
      commits: {
        getCommit: async () => ({ author: { name: 'Ada', email: 'ada@example.com' }, message: 'Fix it' }),
        changedFiles: async () => [],
      },
      executions: {
        status: async () => 'RUNNING',
        start: async (r) => {
          starts.push(r);
          return { executionArn: `exec:${r.name}`, alreadyStarted: starts.length > 1 };
        },
      },
      now: () => new Date('2026-11-25T09:00:01.000Z'),
    };
  });

  it('records a queued run and starts its execution under the same name', async () => {
    const result = await startRun(request, deps);

    expect(result).toEqual({
      runId: 'web-0123456789ab-b2c6a304',
      executionArn: 'exec:web-0123456789ab-b2c6a304',
      duplicate: false,
    });
    expect(await deps.runs.getRun(result.runId)).toEqual({
      runId: result.runId,
      pipeline: 'web',
      status: 'QUEUED',
      commit: {
        repository: 'web',
        branch: 'main',
        id: request.commitId,
        author: { name: 'Ada', email: 'ada@example.com' },
        message: 'Fix it',
      },
      trigger: request.trigger,
      executionName: result.runId,
      stageNames: ['build', 'unit'],
      createdAt: '2026-11-25T09:00:01.000Z',
    });
    expect(starts).toEqual([
      {
        stateMachineArn: web.stateMachineArn,
        name: result.runId,
        input: {
          runId: result.runId,
          pipeline: 'web',
          commit: { repository: 'web', branch: 'main', id: request.commitId },
          stages: web.stages,
        },
      },
    ]);
  });

  it('answers a redelivery with the run it started, re-sending the same start', async () => {
    const first = await startRun(request, deps);
    const again = await startRun(request, deps);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(starts[1]).toEqual(starts[0]);
  });

  it('records a run of an unknown pipeline as FAILED, naming the stack to deploy, and starts nothing', async () => {
    const result = await startRun({ ...request, pipeline: 'api' }, deps);
    const refused = {
      error: 'UnknownPipelineError',
      cause:
        'unknown pipeline "api": the catalog has no entry for it; is it declared in stepline.config.ts and its stack (Stepline-api) deployed?',
    };
    expect(result).toEqual({ runId: 'api-0123456789ab-b2c6a304', duplicate: false, refused });
    expect(await deps.runs.getRun(result.runId)).toMatchObject({
      status: 'FAILED',
      pipeline: 'api',
      stageNames: [],
      failure: refused,
      endedAt: '2026-11-25T09:00:01.000Z',
    });
    expect(starts).toEqual([]);
    // A redelivery finds the refusal.
    expect(await startRun({ ...request, pipeline: 'api' }, deps)).toEqual({ ...result, duplicate: true });
  });

  it('records a push of a commit the repository does not have as FAILED, and starts nothing', async () => {
    deps = {
      ...deps,
      commits: {
        getCommit: async (repository, commitId) => {
          throw new CommitNotFoundError(repository, commitId);
        },
        changedFiles: async () => [],
      },
    };
    const result = await startRun(request, deps);
    expect(result.refused).toEqual({
      error: 'CommitNotFoundError',
      cause: `commit ${request.commitId} does not exist in repository web`,
    });
    expect((await deps.runs.getRun(result.runId))?.status).toBe('FAILED');
    expect(starts).toEqual([]);
  });

  it.each([
    [{ branch: 'feature/x' }, "branch feature/x matches none of the pipeline's branch patterns (main, release/*)"],
    [
      { branch: 'v1.0', referenceType: 'tag' as const },
      'tag v1.0: tag pushes do not run this pipeline (filters.tags is off)',
    ],
  ])('records a push its filters drop as SKIPPED without reading the commit: %j', async (push, reason) => {
    let read = 0;
    deps = { ...deps, commits: { getCommit: async () => (read++, {}), changedFiles: async () => [] } };
    const result = await startRun({ ...request, ...push }, deps);
    expect(result).toEqual({ runId: expect.any(String), duplicate: false, skipped: reason });
    expect(await deps.runs.getRun(result.runId)).toMatchObject({
      status: 'SKIPPED',
      skipReason: reason,
      stageNames: [],
    });
    expect(read).toBe(0);
    expect(starts).toEqual([]);
  });

  it('records a commit whose message carries a skip marker as SKIPPED, with its author and message', async () => {
    deps = {
      ...deps,
      commits: { getCommit: async () => ({ message: 'Typo [skip ci]' }), changedFiles: async () => [] },
    };
    const result = await startRun(request, deps);
    expect(result.skipped).toBe('the commit message says [skip ci]');
    expect(await deps.runs.getRun(result.runId)).toMatchObject({
      status: 'SKIPPED',
      commit: { message: 'Typo [skip ci]' },
    });
    expect(starts).toEqual([]);
    // A redelivery finds the skipped run.
    expect(await startRun(request, deps)).toEqual({ ...result, duplicate: true });
  });

  describe('path filters', () => {
    const withPaths = { ...web, filters: { ...web.filters, paths: { include: ['src/**'], exclude: [] } } };
    let diffs: [string, string][];
    const reader = (parents?: string[]) => ({
      getCommit: async () => ({ message: 'change', parents }),
      changedFiles: async (_repository: string, before: string, after: string) => {
        diffs.push([before, after]);
        return ['docs/guide.md'];
      },
    });
    beforeEach(() => {
      diffs = [];
      deps = { ...deps, catalog: { lookup: async () => withPaths } };
    });

    it('compare the pushed commit with the one the branch had, and skip when nothing relevant changed', async () => {
      deps = { ...deps, commits: reader() };
      const parent = 'f'.repeat(40);
      const result = await startRun({ ...request, parentCommitId: parent }, deps);
      expect(diffs).toEqual([[parent, request.commitId]]);
      expect(result.skipped).toBe("none of the 1 changed files matches the pipeline's paths (include src/**)");
      expect(starts).toEqual([]);
    });

    it('read the changed files alongside the commit when the branch had one before', async () => {
      const calls: string[] = [];
      deps = {
        ...deps,
        commits: {
          getCommit: async () => {
            calls.push('commit asked');
            await new Promise((resolve) => setImmediate(resolve));
            calls.push('commit answered');
            return { message: 'change' };
          },
          changedFiles: async () => (calls.push('files asked'), ['src/a.ts']),
        },
      };
      const result = await startRun({ ...request, parentCommitId: 'f'.repeat(40) }, deps);
      expect(calls.indexOf('files asked')).toBeLessThan(calls.indexOf('commit answered'));
      expect(await deps.runs.getRun(result.runId)).toMatchObject({ changedFiles: ['src/a.ts'] });
    });

    it('refuse a commit the repository does not have, though its changed files were asked for too', async () => {
      deps = {
        ...deps,
        commits: {
          getCommit: async (repository, commitId) => Promise.reject(new CommitNotFoundError(repository, commitId)),
          changedFiles: async () => Promise.reject(new Error('CommitDoesNotExistException')),
        },
      };
      const result = await startRun({ ...request, parentCommitId: 'f'.repeat(40) }, deps);
      expect(result.refused?.error).toBe('CommitNotFoundError');
      expect(starts).toEqual([]);
    });

    it("compare a new branch's commit with its first parent", async () => {
      deps = { ...deps, commits: reader(['e'.repeat(40)]) };
      await startRun(request, deps);
      expect(diffs).toEqual([['e'.repeat(40), request.commitId]]);
    });

    it("judge a repository's first commit by every file it has (compared with nothing)", async () => {
      deps = { ...deps, commits: reader([]) };
      const result = await startRun(request, deps);
      expect(diffs).toEqual([[undefined, request.commitId]]);
      expect(result.skipped).toBe("none of the 1 changed files matches the pipeline's paths (include src/**)");
      expect(starts).toEqual([]);
    });
  });

  describe('a GitHub push', () => {
    const pushed = {
      ...request,
      repository: 'octo/web',
      author: { name: 'Grace', email: 'grace@example.com' },
      message: 'Ship it',
      changedFiles: ['docs/guide.md'],
      trigger: {
        kind: 'github' as const,
        deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        eventTime: '2026-11-25T09:00:00Z',
      },
    };
    const codeCommitUnused = {
      getCommit: async () => Promise.reject(new Error('CodeCommit must not be asked about a GitHub commit')),
      changedFiles: async () => Promise.reject(new Error('CodeCommit must not be asked about a GitHub commit')),
    };

    it('takes author and message from the push, never from CodeCommit', async () => {
      const result = await startRun(pushed, { ...deps, commits: codeCommitUnused });
      expect((await deps.runs.getRun(result.runId))?.commit).toEqual({
        repository: 'octo/web',
        branch: 'main',
        id: request.commitId,
        author: { name: 'Grace', email: 'grace@example.com' },
        message: 'Ship it',
      });
      expect(starts).toHaveLength(1);
    });

    it('filters paths on the files the push lists', async () => {
      const withPaths = { ...web, filters: { ...web.filters, paths: { include: ['src/**'], exclude: [] } } };
      const catalog = { lookup: async () => withPaths };
      const skipped = await startRun(pushed, { ...deps, catalog, commits: codeCommitUnused });
      expect(skipped.skipped).toBe("none of the 1 changed files matches the pipeline's paths (include src/**)");
      const unknown = { ...pushed, changedFiles: undefined, trigger: { ...pushed.trigger, deliveryId: 'other' } };
      expect((await startRun(unknown, { ...deps, catalog, commits: codeCommitUnused })).skipped).toBeUndefined();
      expect(starts).toHaveLength(1);
    });
  });

  it('lets other commit errors through, recording nothing, so the request is retried', async () => {
    deps = {
      ...deps,
      commits: {
        getCommit: async () => Promise.reject(new Error('ThrottlingException')),
        changedFiles: async () => [],
      },
    };
    await expect(startRun(request, deps)).rejects.toThrow('ThrottlingException');
    expect((await runStore.store.listRuns('web')).items).toEqual([]);
  });

  it('refuses a malformed run request at the handler with every bad field named', async () => {
    const handler = createHandler(deps);
    await expect(handler({ pipeline: 'web', commitId: 'main' })).rejects.toThrow(
      'invalid SourceChanged event: repository: Invalid input: expected string, received undefined; branch: Invalid input: expected string, received undefined; commitId: must be a 40-character hex commit id; trigger: Invalid input: expected object, received undefined',
    );
    expect(starts).toEqual([]);
  });

  describe('a run started by hand (trigger manual)', () => {
    const byHand = {
      ...request,
      trigger: {
        kind: 'manual' as const,
        deliveryId: 'b7f2c0de-0000-4000-8000-000000000001',
        eventTime: '2026-11-25T09:00:00Z',
        pushedBy: 'arn:aws:sts::111122223333:assumed-role/ops/ada@example.com',
        rerunOf: 'web-0123456789ab-b2c6a304',
      },
    };

    it('is not dropped by the filters that drop a push of the same commit', async () => {
      const filtered: PipelineCatalogEntry = {
        ...web,
        filters: {
          branches: ['release/*'],
          tags: false,
          skipMarkers: ['[skip ci]'],
          paths: { include: ['src/**'], exclude: [] },
        },
      };
      deps = {
        ...deps,
        catalog: { lookup: async () => filtered },
        commits: { getCommit: async () => ({ message: 'docs [skip ci]' }), changedFiles: async () => ['README.md'] },
      };
      // The push of the same commit: dropped (its branch matches no filter; its message and files would be too).
      expect((await startRun(request, deps)).skipped).toMatch(/^branch main /);
      const started = await startRun(byHand, deps);
      expect(started).toMatchObject({ duplicate: false, executionArn: `exec:${started.runId}` });
      expect(await deps.runs.getRun(started.runId)).toMatchObject({ status: 'QUEUED', trigger: byHand.trigger });
    });

    it('starts one run for a repeated delivery', async () => {
      const first = await startRun(byHand, deps);
      const again = await startRun(byHand, deps);
      expect(again).toEqual({ ...first, duplicate: true });
      expect(new Set(starts.map((s) => s.name))).toEqual(new Set([first.runId]));
    });

    it("reads a CodeCommit pipeline's commit, its time among it, whatever the trigger", async () => {
      deps = {
        ...deps,
        commits: {
          getCommit: async () => ({ message: 'Fix it', committedAt: '2026-11-24T08:00:00.000Z' }),
          changedFiles: async () => [],
        },
      };
      const started = await startRun(byHand, deps);
      expect((await deps.runs.getRun(started.runId))?.commit).toEqual({
        repository: 'web',
        branch: 'main',
        id: request.commitId,
        message: 'Fix it',
        committedAt: '2026-11-24T08:00:00.000Z',
      });
    });
  });

  it("records a GitHub push's commit time (head_commit.timestamp) on the run", async () => {
    deps = {
      ...deps,
      catalog: { lookup: async () => ({ ...web, source: { kind: 'github', repository: 'octo/web' } }) },
    };
    const push = {
      ...request,
      repository: 'octo/web',
      committedAt: '2026-11-24T07:59:00.000Z',
      trigger: { kind: 'github' as const, deliveryId: 'gh-1', eventTime: '2026-11-25T09:00:00Z' },
    };
    const started = await startRun(push, deps);
    expect((await deps.runs.getRun(started.runId))?.commit.committedAt).toBe('2026-11-24T07:59:00.000Z');
  });
});
