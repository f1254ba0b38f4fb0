/**
 * Cancel and redrive (core/runs/run-control.ts) over the real run store on dynalite, with the executions a recording
 * stand-in (ExecutionControl is what Step Functions answers; test/local/run-control.test.ts runs the real thing): a
 * run cancelled at its gate leaves an audit entry; a redrive whose execution cannot start leaves the run as it was.
 */
import type { ApprovalRecord, RunEvent } from '../../core/records';
import type { ExecutionEvent } from '../../core/runs/execution-history';
import { ExecutionHistoryGoneError, NotResumableError } from '../../core/runs/errors';
import { cancelRun, redriveRun, type ExecutionControl, type RunControlDeps } from '../../core/runs/run-control';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';
import testStageFailed from './fixtures/history-test-stage-failed.json';

const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web';
const ANA = 'arn:aws:iam::111122223333:user/ana';

describe('run control', () => {
  const runStore = useRunStore();
  let calls: string[];
  let announced: RunEvent[];
  let history: readonly ExecutionEvent[] | undefined;
  let startFails: boolean;
  let deps: RunControlDeps;

  beforeEach(async () => {
    calls = [];
    announced = [];
    history = testStageFailed as ExecutionEvent[];
    startFails = false;
    const executionControl: ExecutionControl = {
      start: async ({ name, input }) => {
        calls.push(`start ${name} from ${(input.redrive as { from: string }).from}`);
        if (startFails) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;
      },
      stop: async (arn) => void calls.push(`stop ${arn}`),
      history: async () => history,
    };
    const store = runStore.store;
    deps = {
      runs: store,
      lanes: store,
      control: store,
      approvals: store,
      catalog: { lookup: async () => ({ stateMachineArn: MACHINE, executionMode: 'PARALLEL' }) as never },
      executions: { start: async () => Promise.reject(new Error('no lane')), status: async () => undefined },
      executionControl,
      events: { publish: async (event) => void announced.push(event) },
      now: () => new Date('2026-12-03T12:00:00.000Z'),
    };
    await store.createRun(queuedRun({ runId: 'r1', stageNames: ['build', 'unit', 'lint'] }));
    await store.transitionRun('r1', 'RUNNING', {
      executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:r1`,
    });
  });

  it('cancels a run at its gate: CANCELLED, its execution stopped, the gate keeps its status and audits the cancel', async () => {
    const { store } = runStore;
    await store.createApproval({ runId: 'r1', pipeline: 'web', status: 'WAITING' } as unknown as ApprovalRecord);

    const run = await cancelRun({ runId: 'r1', by: ANA, reason: 'wrong change' }, deps);

    expect(run).toMatchObject({ status: 'CANCELLED', cancelled: { by: ANA, reason: 'wrong change' } });
    expect(calls).toEqual(['stop arn:aws:states:eu-west-1:111122223333:execution:stepline-web:r1']);
    expect((await store.getApproval('r1'))!.status).toBe('WAITING');
    expect(await store.listAudit('r1')).toEqual([
      expect.objectContaining({
        event: 'run-cancelled',
        actor: ANA,
        detail: 'the run was cancelled while its gate was WAITING: wrong change',
      }),
    ]);
    expect(announced).toEqual([{ kind: 'RunEnded', runId: 'r1', pipeline: 'web' }]);
  });

  it('undoes a redrive whose execution cannot start: FAILED as before, its stage as before, the attempt listed', async () => {
    const { store } = runStore;
    await store.transitionStage('r1', 'unit', 'FAILED', { failure: { stage: 'unit', error: 'E', cause: 'c' } });
    await store.transitionRun('r1', 'FAILED', {
      endedAt: '2026-12-03T11:00:00.000Z',
      failure: { error: 'E', cause: 'c' },
    });
    const before = (await store.getRun('r1'))!;
    const stagesBefore = await store.listStages('r1');
    startFails = true;

    await expect(redriveRun({ runId: 'r1', by: ANA }, deps)).rejects.toThrow('Rate exceeded');

    expect(calls).toEqual(['start r1-redrive-1 from Run test stages']);
    const after = (await store.getRun('r1'))!;
    const { redrives, ...rest } = after;
    expect(rest).toEqual(before);
    expect(redrives).toEqual([expect.objectContaining({ executionArn: expect.stringMatching(/:r1-redrive-1$/) })]);
    expect(await store.listStages('r1')).toEqual(stagesBefore);
    expect((await store.listActiveRuns()).items).toEqual([]);

    // The next attempt takes the next name.
    startFails = false;
    expect((await redriveRun({ runId: 'r1', by: ANA }, deps)).redrive.executionArn).toMatch(/:r1-redrive-2$/);
  });

  it('refuses a redrive whose history is gone (410) or shows nothing to resume (409)', async () => {
    await runStore.store.transitionRun('r1', 'FAILED');
    history = undefined;
    await expect(redriveRun({ runId: 'r1', by: ANA }, deps)).rejects.toThrow(ExecutionHistoryGoneError);
    history = [];
    await expect(redriveRun({ runId: 'r1', by: ANA }, deps)).rejects.toThrow(NotResumableError);
    expect(calls).toEqual([]);
    expect((await runStore.store.getRun('r1'))!.status).toBe('FAILED');
  });
});
