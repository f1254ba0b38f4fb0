/**
 * The release gate executed end to end in local mode: the pipeline's own state machine runs the
 * build and tests, opens the gate, waits on its task token, and is resumed by the decision endpoint
 * over loopback HTTP — from the CLI route, email links and Slack clicks.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import { approvalDecisionsDeps } from '../../lambdas/approval-decisions';
import { awsPlatform } from '../../lambdas/environment';
import { LocalRuntime } from '../../local/runtime';
import { demoPipeline, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';
import { decideByCli, delivered, emailLinks, gateIn, slackClick, slackResponses } from '../support/approvals';

/** The seed's commits are authored by local@stepline.invalid: dave is their author. */
const policy = {
  approvers: [
    { id: 'alice', name: 'Alice', emails: ['alice@example.com'], slack: 'UALICE001' },
    { id: 'bob', name: 'Bob', emails: ['bob@example.com'], slack: 'UBOB00001' },
    { id: 'carol', name: 'Carol', emails: ['carol@example.com'] },
    { id: 'dave', name: 'Dave', emails: ['local@stepline.invalid'] },
  ],
  groups: { cab: ['alice', 'bob', 'dave'] },
  classes: { normal: { approvals: 1 }, high: { approvals: 2, group: 'cab' } },
  rules: [
    { class: 'standard', onlyPaths: ['docs/**'], reason: 'documentation only' },
    { class: 'high', paths: ['infra/**'], reason: 'touches infrastructure' },
  ],
  emergencyApprovers: ['carol'],
};
const notifications = {
  slack: { webhookUrlSecret: 'stepline/notifications/demo-slack' },
  email: { from: 'ci@example.com', to: ['team@example.com'] },
};

describe('the release gate, executed', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  async function pushed(files: Record<string, string>, message = 'change') {
    const commitId = await fixture.push(files, message);
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    return started!.runId;
  }

  it('a normal change waits for one approval, then the run succeeds; the audit trail is complete and in order', async () => {
    fixture = await startFixture({}, { approval: policy, notifications });
    const runId = await pushed(passingSeed);
    const waiting = await gateIn(fixture.runtime, runId, 'WAITING');
    expect(waiting.risk.class).toBe('normal');
    expect(waiting.required).toEqual({ approvals: 1 });
    // The author is never asked; everyone else who may approve is.
    expect(waiting.asked).toEqual(['alice', 'bob', 'carol']);
    expect(waiting.changedFiles).toEqual(['build.yml', 'lint.yml', 'unit.yml']);
    expect(waiting.tests.map((t) => `${t.stage}:${t.status}`)).toEqual([
      'build:SUCCEEDED',
      'unit:SUCCEEDED',
      'lint:SUCCEEDED',
    ]);
    expect((await fixture.runtime.store.getRun(runId))!.status).toBe('RUNNING');

    const answer = await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve');
    expect(answer.status).toBe(200);
    expect(answer.body.message).toBe('approved by bob');
    expect(JSON.stringify(answer.body)).not.toContain('taskToken');

    const run = await fixture.runtime.waitForRun(runId);
    expect(run.status).toBe('SUCCEEDED');
    const approval = (await fixture.runtime.store.getApproval(runId))!;
    expect(approval).toMatchObject({ status: 'APPROVED', approvedBy: ['bob'] });
    expect(approval.resumedAt).toBeDefined();
    const audit = await fixture.runtime.store.listAudit(runId);
    expect(audit.map((e) => e.event)).toEqual([
      'gate-opened',
      'approval-requested',
      'decision-recorded',
      'approved',
      'execution-resumed',
    ]);
    expect(audit.map((e) => e.at)).toEqual([...audit.map((e) => e.at)].sort());
    expect(audit[2]).toMatchObject({ actor: 'bob', via: 'cli', detail: 'approve' });
  });

  it("refuses the author's own approval with the reason, and decides nothing", async () => {
    fixture = await startFixture({}, { approval: policy });
    const runId = await pushed(passingSeed);
    await gateIn(fixture.runtime, runId, 'WAITING');

    const answer = await decideByCli(fixture.runtime, runId, 'local@stepline.invalid', 'approve');
    expect(answer.status).toBe(403);
    expect(answer.body.message).toMatch(
      /^separation of duties: dave wrote commit [0-9a-f]{12} of this change, and may not approve it; who may approve: alice \(alice@example\.com\), bob \(bob@example\.com\), carol \(carol@example\.com\)$/,
    );
    const unknown = await decideByCli(fixture.runtime, runId, 'mallory@example.com', 'approve');
    expect(unknown).toEqual({
      status: 403,
      body: {
        message:
          'you (mallory@example.com, your git user.email) are not an approver of pipeline demo; who may approve: alice (alice@example.com), bob (bob@example.com), carol (carol@example.com); set git config user.email to one of theirs',
      },
    });
    expect((await fixture.runtime.store.getApproval(runId))!.status).toBe('WAITING');
    expect(await fixture.runtime.store.listDecisions(runId)).toEqual([]);
    const refusals = (await fixture.runtime.store.listAudit(runId)).filter((e) => e.event === 'decision-refused');
    expect(refusals.map((e) => e.actor)).toEqual(['dave', expect.stringContaining('mallory@example.com')]);
  });

  it('a high-risk change needs two distinct approvers from the CAB; one person counts once, however often and fast they click', async () => {
    fixture = await startFixture({}, { approval: policy });
    const runId = await pushed({ ...passingSeed, 'infra/stack.ts': 'export {}' });
    const waiting = await gateIn(fixture.runtime, runId, 'WAITING');
    expect(waiting.risk).toEqual({ class: 'high', reasons: ['touches infrastructure'] });
    expect(waiting.required).toEqual({ approvals: 2, group: 'cab' });
    expect(waiting.asked).toEqual(['alice', 'bob']);

    const [first, second] = await Promise.all([
      decideByCli(fixture.runtime, runId, 'alice@example.com', 'approve'),
      decideByCli(fixture.runtime, runId, 'alice@example.com', 'approve'),
    ]);
    expect([first!.status, second!.status]).toEqual([200, 200]);
    expect([first!.body.message, second!.body.message].sort()).toEqual([
      'approval recorded; 1 more distinct approval needed from group cab',
      expect.stringMatching(/^your approve of .* was counted already; it counts once$/),
    ]);
    expect(await fixture.runtime.store.listDecisions(runId)).toHaveLength(1);
    expect((await fixture.runtime.store.getApproval(runId))!.status).toBe('WAITING');

    const outsider = await decideByCli(fixture.runtime, runId, 'carol@example.com', 'approve');
    expect(outsider).toEqual({
      status: 403,
      body: {
        message:
          'a high-risk change needs approvers from group "cab", and carol is not in it; who may approve: alice (alice@example.com), bob (bob@example.com)',
      },
    });

    expect((await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve')).body.message).toBe(
      'approved by alice, bob',
    );
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
  });

  it('an email link works once even while the gate stays open', async () => {
    fixture = await startFixture({}, { approval: policy, notifications });
    const runId = await pushed({ ...passingSeed, 'infra/stack.ts': 'export {}' });
    await gateIn(fixture.runtime, runId, 'WAITING');
    await delivered(fixture.runtime, runId, 'email:approval:alice');
    const link = emailLinks(fixture.runtime, runId, 'alice').approve;
    const token = new URL(link).searchParams.get('token')!;
    const post = () =>
      fetch(link.split('?')[0]!, { method: 'POST', body: new URLSearchParams({ token, decision: 'approve' }) });

    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('approval recorded; 1 more distinct approval needed from group cab');
    const again = await post();
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('this link was used already: each link works once');
    expect((await fixture.runtime.store.getApproval(runId))!.status).toBe('WAITING');
  });

  it('a standard change passes on its own, recorded; the change since the last release is what is judged', async () => {
    fixture = await startFixture({}, { approval: policy });
    const first = await pushed(passingSeed);
    await gateIn(fixture.runtime, first, 'WAITING');
    await decideByCli(fixture.runtime, first, 'alice@example.com', 'approve');
    expect((await fixture.runtime.waitForRun(first)).status).toBe('SUCCEEDED');

    const second = await pushed({ ...passingSeed, 'docs/guide.md': '# guide' }, 'docs: a guide');
    const run = await fixture.runtime.waitForRun(second);
    expect(run.status).toBe('SUCCEEDED');
    const approval = (await fixture.runtime.store.getApproval(second))!;
    expect(approval).toMatchObject({
      status: 'APPROVED',
      risk: { class: 'standard', reasons: ['documentation only'] },
      required: { approvals: 0 },
      changedFiles: ['docs/guide.md'],
      commitRange: { from: (await fixture.runtime.store.getRun(first))!.commit.id, to: run.commit.id },
      outcome: 'a standard change: pre-approved by policy',
    });
    expect(approval.commits.map((c) => c.message)).toEqual(['docs: a guide']);
    expect((await fixture.runtime.store.listAudit(second)).map((e) => e.event)).toEqual([
      'gate-opened',
      'passed-as-standard',
    ]);
  });

  it("a change to the pipeline's own configuration is high, whatever the rules say", async () => {
    fixture = await startFixture({}, { approval: { ...policy, defaultClass: 'standard' } });
    const runId = await pushed({ ...passingSeed, 'stepline.config.ts': 'export default {}' });
    const waiting = await gateIn(fixture.runtime, runId, 'WAITING');
    expect(waiting.risk.class).toBe('high');
    expect(waiting.risk.reasons[0]).toMatch(
      /^it changes the pipeline's own configuration or approval policy \(.*stepline\.config\.ts.*\)/,
    );
  });

  it('a rejection with a reason from an email link: GET decides nothing, the POST rejects, the link then works no more', async () => {
    fixture = await startFixture({}, { approval: policy, notifications });
    const runId = await pushed(passingSeed);
    await gateIn(fixture.runtime, runId, 'WAITING');
    await delivered(fixture.runtime, runId, 'email:approval:carol');
    const links = emailLinks(fixture.runtime, runId, 'carol');

    const page = await fetch(links.reject);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('you are about to <b>reject</b>');
    expect((await fixture.runtime.store.getApproval(runId))!.status).toBe('WAITING');

    const token = new URL(links.reject).searchParams.get('token')!;
    const post = (form: Record<string, string>) =>
      fetch(links.reject.split('?')[0]!, { method: 'POST', body: new URLSearchParams(form) });
    const wrongDecision = await post({ token, decision: 'approve' });
    expect(wrongDecision.status).toBe(400);
    expect(await wrongDecision.text()).toContain('this link is for rejecting only');
    const noReason = await post({ token, decision: 'reject' });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain('a rejection needs a reason');
    const tampered = await post({
      token: token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      decision: 'reject',
      reason: 'no',
    });
    expect(tampered.status).toBe(403);

    const rejected = await post({ token, decision: 'reject', reason: 'the migration is not reversible' });
    expect(rejected.status).toBe(200);
    expect(await rejected.text()).toContain('rejected by carol: the migration is not reversible');
    const run = await fixture.runtime.waitForRun(runId);
    expect(run.status).toBe('REJECTED');
    expect(run.failure).toEqual({
      error: 'Approval.Rejected',
      cause: 'rejected by carol: the migration is not reversible',
    });

    const reused = await post({ token, decision: 'reject', reason: 'again' });
    expect(reused.status).toBe(409);
    expect(await reused.text()).toContain('the gate is closed: the release was rejected');
  });
});

describe('Slack interactions on the gate', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  it('refuses forged, stale and future requests and an unauthorized clicker, deciding nothing; a valid click updates the message in place', async () => {
    fixture = await startFixture({}, { approval: policy, notifications });
    const commitId = await fixture.push(passingSeed);
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    const runId = started!.runId;
    await gateIn(fixture.runtime, runId, 'WAITING');
    const click = { runId, userId: 'UALICE001', action: 'approve' as const };

    expect(await slackClick(fixture.runtime, { ...click, secret: 'not-the-signing-secret' })).toBe(401);
    expect(await slackClick(fixture.runtime, { ...click, at: new Date(Date.now() - 6 * 60_000) })).toBe(401);
    expect(await slackClick(fixture.runtime, { ...click, at: new Date(Date.now() + 6 * 60_000) })).toBe(401);
    expect(await fixture.runtime.store.listDecisions(runId)).toEqual([]);

    expect(await slackClick(fixture.runtime, { ...click, userId: 'UEVE00001' })).toBe(200);
    expect(slackResponses(fixture.runtime, runId)).toEqual([
      {
        response_type: 'ephemeral',
        replace_original: false,
        text: "stepline did not take your approve: Slack user UEVE00001 is not an approver of pipeline demo; who may approve: alice (Slack UALICE001), bob (Slack UBOB00001), carol; a Slack user is an approver's when their slack names that user id",
      },
    ]);
    expect(await fixture.runtime.store.listDecisions(runId)).toEqual([]);

    expect(await slackClick(fixture.runtime, click)).toBe(200);
    const [, updated] = slackResponses(fixture.runtime, runId);
    expect(updated).toMatchObject({ replace_original: true, text: expect.stringMatching(/approved by alice$/) });
    expect(JSON.stringify(updated)).toMatch(/Approved by alice via slack at \d{4}-/);
    // Ended: no controls left on the message.
    expect(JSON.stringify(updated)).not.toContain('stepline-approve');
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
  });
});

describe('change windows, expiry, the demo approver and restarts', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());
  const day = (at: Date) => at.toISOString().slice(0, 10);

  async function pushed(files: Record<string, string> = passingSeed) {
    const commitId = await fixture.push(files);
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    return started!.runId;
  }

  it('a freeze holds an approved change; an emergency override passes it with a reason, flagged for review', async () => {
    const today = new Date();
    const tomorrow = new Date(today.getTime() + 86_400_000);
    const freezes = [{ name: 'release freeze', dates: [day(today), day(tomorrow)] }];
    fixture = await startFixture({}, { approval: { ...policy, freezes } });
    const runId = await pushed();
    await gateIn(fixture.runtime, runId, 'WAITING');

    const approved = await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve');
    const ends = `${day(new Date(tomorrow.getTime() + 86_400_000))}T00:00:00.000Z`;
    expect(approved.body.message).toBe(`approved; the release is held by freeze "release freeze" until ${ends}`);
    expect(await gateIn(fixture.runtime, runId, 'HELD')).toMatchObject({
      approvedBy: ['bob'],
      heldBy: { freeze: 'release freeze', until: ends },
    });
    expect((await fixture.runtime.store.getRun(runId))!.status).toBe('RUNNING');

    expect(await decideByCli(fixture.runtime, runId, 'alice@example.com', 'override', 'hotfix')).toEqual({
      status: 403,
      body: {
        message:
          'alice is not an emergency approver of pipeline demo (emergencyApprovers: carol); who may override: carol (carol@example.com)',
      },
    });
    expect((await decideByCli(fixture.runtime, runId, 'carol@example.com', 'override')).status).toBe(400);
    const override = await decideByCli(
      fixture.runtime,
      runId,
      'carol@example.com',
      'override',
      'checkout is down: INC-42',
    );
    expect(override.status).toBe(200);
    expect(override.body.message).toBe('emergency override by carol: checkout is down: INC-42');

    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    expect(await fixture.runtime.store.getApproval(runId)).toMatchObject({
      status: 'APPROVED',
      override: { by: 'carol', reason: 'checkout is down: INC-42' },
      postImplementationReview: true,
    });
    expect((await fixture.runtime.store.listAudit(runId)).map((e) => e.event)).toEqual([
      'gate-opened',
      'approval-requested',
      'decision-recorded',
      'held-for-window',
      'decision-refused',
      'decision-refused',
      'decision-recorded',
      'override',
      'execution-resumed',
    ]);
  });

  it('a held change goes out when its window opens, at the sweep after the freeze ends', async () => {
    let now = new Date();
    const freezes = [{ name: 'today', dates: [day(now)] }];
    fixture = await startFixture({ now: () => now }, { approval: { ...policy, freezes } });
    const runId = await pushed();
    await gateIn(fixture.runtime, runId, 'WAITING');
    await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve');
    await gateIn(fixture.runtime, runId, 'HELD');

    await fixture.runtime.sweepApprovals();
    expect((await fixture.runtime.store.getApproval(runId))!.status).toBe('HELD');
    now = new Date(`${day(new Date(now.getTime() + 86_400_000))}T00:01:00.000Z`);
    await fixture.runtime.sweepApprovals();

    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    const audit = (await fixture.runtime.store.listAudit(runId)).map((e) => e.event);
    expect(audit.slice(-3)).toEqual(['approved', 'execution-resumed', 'released-by-window']);
  });

  it('a gate nobody decides expires at its deadline: the run is EXPIRED, and late decisions and links are refused', async () => {
    let now = new Date();
    fixture = await startFixture({ now: () => now }, { approval: { ...policy, expiresAfterHours: 1 }, notifications });
    const runId = await pushed();
    await gateIn(fixture.runtime, runId, 'WAITING');
    await delivered(fixture.runtime, runId, 'email:approval:bob');
    const link = emailLinks(fixture.runtime, runId, 'bob').approve;

    now = new Date(now.getTime() + 61 * 60_000);
    const token = new URL(link).searchParams.get('token')!;
    const late = await fetch(link.split('?')[0]!, {
      method: 'POST',
      body: new URLSearchParams({ token, decision: 'approve' }),
    });
    expect(late.status).toBe(410);
    expect(await late.text()).toMatch(/the link expired at \d{4}-/);
    expect(await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve')).toMatchObject({
      status: 410,
      body: { message: expect.stringMatching(/^the gate expired at /) },
    });
    const run = await fixture.runtime.waitForRun(runId);
    expect(run.status).toBe('EXPIRED');
    expect(run.failure).toMatchObject({
      error: 'Approval.Expired',
      cause: expect.stringMatching(/^nobody decided before the deadline /),
    });
    expect(await fixture.runtime.store.listDecisions(runId)).toEqual([]);
  });

  it("local mode's demo approver decides only when local mode has no one to ask, and is recorded as the demo", async () => {
    fixture = await startFixture({ demoApprover: true }, { approval: policy });
    const runId = await pushed({ ...passingSeed, 'infra/stack.ts': 'export {}' });
    await gateIn(fixture.runtime, runId, 'WAITING');

    expect((await decideByCli(fixture.runtime, runId, 'demo', 'approve')).status).toBe(200);
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    const decisions = await fixture.runtime.store.listDecisions(runId);
    expect(decisions.map((d) => [d.approverId, d.demo, d.principal])).toEqual([
      ['demo-approver-1', true, 'local mode demo approver'],
      ['demo-approver-2', true, 'local mode demo approver'],
    ]);
    expect((await fixture.runtime.store.getApproval(runId))!.outcome).toBe(
      'approved by demo-approver-1, demo-approver-2',
    );
  });

  it('a gate whose execution was stopped takes no decision', async () => {
    fixture = await startFixture({}, { approval: policy });
    const runId = await pushed();
    await gateIn(fixture.runtime, runId, 'WAITING');
    const execution = fixture.runtime.stepFunctions.listExecutions().find((e) => e.name === runId)!;
    await fixture.runtime.stepFunctions.stopExecution(execution.executionArn);
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('FAILED');

    expect(await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve')).toEqual({
      status: 409,
      body: { message: `the gate is closed: run ${runId} is FAILED (ExecutionAborted)` },
    });
  });

  it('without the demo option, the demo approver is nobody', async () => {
    fixture = await startFixture({}, { approval: policy });
    const runId = await pushed();
    await gateIn(fixture.runtime, runId, 'WAITING');
    expect(await decideByCli(fixture.runtime, runId, 'demo', 'approve')).toEqual({
      status: 403,
      body: {
        message: "local mode's demo approver decides only when local mode has no terminal to ask a person at",
      },
    });
  });
});

describe('a gate open when local mode stops', () => {
  it('waits again at the gate after a restart (a redrive), and the approval then finishes the run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-gate-restart-'));
    const config = parseConfig({ pipelines: [{ ...demoPipeline(), approval: policy }] });
    const options = { config, stateDir: join(dir, 'state'), persistStore: true };
    try {
      let runtime = await LocalRuntime.start(options);
      const seed = join(dir, 'seed');
      await mkdir(seed);
      for (const [path, content] of Object.entries(passingSeed)) await writeFile(join(seed, path), content);
      const commitId = await runtime.pushSeed(config.pipelines[0]!, seed, 'change');
      const [started] = await runtime.runsStartedFor(commitId);
      const runId = started!.runId;
      const before = await gateIn(runtime, runId, 'WAITING');
      await runtime.close();

      runtime = await LocalRuntime.start(options);
      try {
        expect(runtime.interruptedRuns).toEqual([]);
        expect(runtime.resumedExecutions).toEqual([runId]);
        expect((await runtime.store.getRun(runId))!.status).toBe('RUNNING');
        // The resumed Task asked for a new token; the old one is dead.
        for (let i = 0; i < 100 && (await runtime.store.getApproval(runId))!.taskToken === before.taskToken; i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect((await runtime.store.getApproval(runId))!.taskToken).not.toBe(before.taskToken);

        expect((await decideByCli(runtime, runId, 'bob@example.com', 'approve')).status).toBe(200);
        expect((await runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
      } finally {
        await runtime.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a held gate across a restart', () => {
  it('keeps its approvals and goes out when its window opens after the restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-held-restart-'));
    let now = new Date();
    const freezes = [{ name: 'today', dates: [now.toISOString().slice(0, 10)] }];
    const config = parseConfig({ pipelines: [{ ...demoPipeline(), approval: { ...policy, freezes } }] });
    const options = { config, stateDir: join(dir, 'state'), persistStore: true, now: () => now };
    try {
      let runtime = await LocalRuntime.start(options);
      const seed = join(dir, 'seed');
      await mkdir(seed);
      for (const [path, content] of Object.entries(passingSeed)) await writeFile(join(seed, path), content);
      const [started] = await runtime.runsStartedFor(await runtime.pushSeed(config.pipelines[0]!, seed, 'change'));
      const runId = started!.runId;
      await gateIn(runtime, runId, 'WAITING');
      await decideByCli(runtime, runId, 'bob@example.com', 'approve');
      const held = await gateIn(runtime, runId, 'HELD');
      await runtime.close();

      now = new Date(`${new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10)}T00:01:00.000Z`);
      runtime = await LocalRuntime.start(options);
      try {
        expect(runtime.resumedExecutions).toEqual([runId]);
        for (let i = 0; i < 100 && (await runtime.store.getApproval(runId))!.taskToken === held.taskToken; i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await runtime.store.getApproval(runId)).toMatchObject({ status: 'HELD', approvedBy: ['bob'] });
        await runtime.sweepApprovals();
        expect((await runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
      } finally {
        await runtime.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the decision endpoint refuses what it cannot authenticate', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture({}, { approval: policy });
  });
  afterAll(() => fixture.close());
  const url = (path: string) => `${fixture.runtime.endpoint.url}${path}`;

  it('answers the CLI routes only for a known caller, and unknown paths with 404', async () => {
    const anonymous = await fetch(url('/cli/approvals'));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      message: 'the CLI routes need an IAM-signed request (the caller is the approver)',
    });
    const nothing = await fetch(url('/approvals/elsewhere'));
    expect(nothing.status).toBe(404);
    const list = await fetch(url('/cli/approvals'), { headers: { 'x-stepline-local-identity': 'bob@example.com' } });
    expect(await list.json()).toEqual({ approvals: [] });
  });

  it('shows a malformed link as such, deciding nothing', async () => {
    const page = await fetch(url('/approvals/decide?token=not-a-token'));
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('the link is not a stepline decision link');
  });

  it('refuses a signed Slack interaction it does not understand, and a response URL that is not Slack', async () => {
    const status = await slackClick(fixture.runtime, { runId: 'no-such-run', userId: 'UALICE001', action: 'approve' });
    // Signed and understood, but there is no gate: the clicker is told through the response URL.
    expect(status).toBe(200);
    expect(slackResponses(fixture.runtime, 'no-such-run')).toEqual([
      {
        response_type: 'ephemeral',
        replace_original: false,
        text: 'stepline did not take your approve: run no-such-run does not exist',
      },
    ]);
    // On AWS only hooks.slack.com is followed, whatever a (signed) payload says.
    process.env.RUN_TABLE_NAME = 'unused';
    try {
      await expect(
        approvalDecisionsDeps(awsPlatform()).respondToSlack('http://127.0.0.1:9/hook', {}, 2500),
      ).rejects.toThrow('not a Slack response URL: http://127.0.0.1:9');
    } finally {
      delete process.env.RUN_TABLE_NAME;
    }
  });
});
