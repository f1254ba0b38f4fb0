/** What the gate's outcome line says for each way a gate ends (Slack, email and the CLI show it). */
import { outcomeLine } from '../../core/approval/messages';
import type { ApprovalRecord } from '../../core/records';

const gate: ApprovalRecord = {
  runId: 'web-0123456789ab-1',
  pipeline: 'web',
  branch: 'main',
  commitRange: { to: '0123456789abcdef0123' },
  commits: [],
  tests: [],
  risk: { class: 'normal', reasons: [] },
  required: { approvals: 1 },
  asked: ['alice'],
  openedAt: '2026-11-26T10:00:00.000Z',
  deadline: '2026-11-29T10:00:00.000Z',
  status: 'WAITING',
};
const release = 'Release of web at 0123456789ab';

describe('outcomeLine', () => {
  it('says who approved, who rejected and why, and when nobody decided', () => {
    expect(outcomeLine({ ...gate, status: 'APPROVED', approvedBy: ['alice', 'bob'] })).toBe(
      `${release} approved by alice, bob`,
    );
    expect(outcomeLine({ ...gate, status: 'REJECTED', outcome: 'rejected by bob: not now' })).toBe(
      `${release} rejected: rejected by bob: not now`,
    );
    expect(outcomeLine({ ...gate, status: 'EXPIRED' })).toBe(
      `${release} expired: nobody decided before 2026-11-29T10:00:00.000Z`,
    );
  });

  it('says an approved change expired because a freeze held it past the deadline', () => {
    const held = { ...gate, approvedBy: ['alice'], heldBy: { freeze: 'weekend', until: '2026-11-30T08:00:00.000Z' } };
    expect(outcomeLine({ ...held, status: 'HELD' })).toBe(
      `${release} approved by alice and held by freeze "weekend" until 2026-11-30T08:00:00.000Z`,
    );
    expect(outcomeLine({ ...held, status: 'EXPIRED' })).toBe(
      `${release} expired: approved by alice but held by freeze "weekend" past 2026-11-29T10:00:00.000Z`,
    );
  });
});
