/**
 * An approver decides in a real browser (headless Chromium): the email's link opens the confirmation
 * page, which decides nothing until its button is pressed; the run then goes on to its end.
 */
import { decideByCli, delivered, emailLinks, gateIn } from '../support/approvals';
import { useBrowser } from '../support/browser';
import { passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

const approval = {
  approvers: [
    { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
    { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
  ],
};
const notifications = { email: { from: 'ci@example.com', to: ['team@example.com'] } };

describe('deciding in a browser', () => {
  const { page } = useBrowser();
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  async function waitingRun(): Promise<string> {
    fixture = await startFixture({}, { approval, notifications });
    const [started] = await fixture.runtime.runsStartedFor(await fixture.push(passingSeed));
    await gateIn(fixture.runtime, started!.runId, 'WAITING');
    await delivered(fixture.runtime, started!.runId, 'email:approval:alice');
    await delivered(fixture.runtime, started!.runId, 'email:approval:bob');
    return started!.runId;
  }

  it('opens the approve link, confirms, and the run succeeds', async () => {
    const runId = await waitingRun();
    const { approve } = emailLinks(fixture.runtime, runId, 'alice');

    const opened = await page().goto(approve);
    expect(opened?.status()).toBe(200);
    await expect(page().title()).resolves.toBe('Approve the release of demo? — stepline');
    expect(await page().textContent('body')).toContain('Risk: normal');
    // Opening the page (as a mail scanner would) decides nothing.
    expect((await fixture.runtime.store.getApproval(runId))!.status).toBe('WAITING');

    await Promise.all([page().waitForURL(/\/approvals\/decide$/), page().click('#decide')]);
    expect(await page().textContent('#result')).toBe('approved by alice');
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    expect((await fixture.runtime.store.listDecisions(runId))[0]).toMatchObject({ approverId: 'alice', via: 'email' });

    // Decided: the link, opened again, says so and offers nothing to submit.
    const again = await page().goto(approve);
    expect(again?.status()).toBe(409);
    expect(await page().textContent('#result')).toBe('the gate is closed: the release was approved');
    expect(await page().$('#decide')).toBeNull();
  });

  it("rejecting asks for a reason in the page, and the reason is the run's", async () => {
    const runId = await waitingRun();
    const { reject } = emailLinks(fixture.runtime, runId, 'bob');

    await page().goto(reject);
    await page().fill('#reason', 'the changelog is missing');
    await Promise.all([page().waitForURL(/\/approvals\/decide$/), page().click('#decide')]);

    expect(await page().textContent('#result')).toBe('rejected by bob: the changelog is missing');
    const run = await fixture.runtime.waitForRun(runId);
    expect(run.status).toBe('REJECTED');
    expect(run.failure?.cause).toBe('rejected by bob: the changelog is missing');
    // Decided: the CLI is told the gate is closed.
    expect((await decideByCli(fixture.runtime, runId, 'alice@example.com', 'approve')).status).toBe(409);
  });
});
