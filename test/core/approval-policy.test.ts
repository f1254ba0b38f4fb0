import { parseConfig } from '../../core/config/stepline-config';
import type { ConfigError } from '../../core/config/errors';
import {
  approvalPolicySchema,
  approverOf,
  assessRisk,
  eligibility,
  gateWarnings,
  notAnApproverMessage,
  type ApprovalPolicyInput,
} from '../../core/approval/policy';
import type { ChangeRecord } from '../../core/records';

const input: ApprovalPolicyInput = {
  approvers: [
    { id: 'alice', emails: ['alice@example.com'], slack: 'UALICE001', github: 'alice-gh' },
    { id: 'bob', emails: ['Bob@Example.com'], iam: ['arn:aws:iam::111122223333:user/bob'] },
    { id: 'carol', emails: ['carol@example.com'] },
  ],
  groups: { cab: ['alice', 'bob'] },
  classes: { normal: { approvals: 1 }, high: { approvals: 2, group: 'cab' } },
  rules: [
    { class: 'standard', onlyPaths: ['docs/**', '**/*.md'] },
    { class: 'high', paths: ['infra/**'], reason: 'infrastructure' },
    { class: 'high', minFiles: 50 },
    { class: 'high', during: { days: ['fri'], from: '16:00', to: '24:00' }, reason: 'Friday afternoon' },
    { class: 'normal', targets: ['staging'] },
  ],
  timeZone: 'Europe/Berlin',
};
const policy = approvalPolicySchema.parse(input);
const tuesdayNoon = new Date('2026-11-24T11:00:00Z');

describe('assessRisk', () => {
  const judge = (changedFiles: string[] | undefined, openedAt = tuesdayNoon, p = policy) =>
    assessRisk(p, { changedFiles, commits: 1, openedAt });

  it('the highest matching rule wins; a change matching none gets the default class', () => {
    expect(judge(['docs/a.md', 'README.md'])).toEqual({
      class: 'standard',
      reasons: ['the change only touches docs/**, **/*.md'],
    });
    expect(judge(['docs/a.md', 'infra/x.ts'])).toEqual({ class: 'high', reasons: ['infrastructure'] });
    expect(judge(['src/a.ts'])).toEqual({ class: 'normal', reasons: ['no risk rule matched: the default class'] });
    expect(judge(Array.from({ length: 50 }, (_, i) => `src/${i}.ts`)).class).toBe('high');
  });

  it('time-of-day rules read the policy time zone: Friday 16:00 in Berlin is 15:00 UTC in November', () => {
    expect(judge(['src/a.ts'], new Date('2026-11-27T14:59:00Z')).class).toBe('normal');
    expect(judge(['src/a.ts'], new Date('2026-11-27T15:00:00Z'))).toEqual({
      class: 'high',
      reasons: ['Friday afternoon'],
    });
  });

  it('a target rule matches the target the gate guards', () => {
    expect(judge(['src/a.ts'], tuesdayNoon, { ...policy, defaultClass: 'standard', target: 'staging' }).class).toBe(
      'normal',
    );
    expect(judge(['src/a.ts'], tuesdayNoon, { ...policy, defaultClass: 'standard', target: 'production' }).class).toBe(
      'standard',
    );
  });

  it("cannot be lowered by the change: touching the pipeline's config, or files not all known, is high", () => {
    expect(judge(['docs/a.md', 'stepline.config.ts'])).toMatchObject({ class: 'high' });
    expect(judge(['services/web/stepline.config.ts']).class).toBe('high');
    expect(judge(undefined).reasons[0]).toMatch(/^the change's files are not all known/);
  });
});

describe('who is who', () => {
  it('maps Slack ids, emails (any case), IAM users and Identity Center sessions named by email', () => {
    expect(approverOf(policy, { kind: 'slack', userId: 'UALICE001' })?.id).toBe('alice');
    expect(approverOf(policy, { kind: 'email', address: 'bob@example.com' })?.id).toBe('bob');
    expect(approverOf(policy, { kind: 'iam', arn: 'arn:aws:iam::111122223333:user/bob' })?.id).toBe('bob');
    expect(
      approverOf(policy, {
        kind: 'iam',
        arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/carol@example.com',
      })?.id,
    ).toBe('carol');
    expect(approverOf(policy, { kind: 'slack', userId: 'UOTHER001' })).toBeUndefined();
    expect(approverOf(policy, { kind: 'iam', arn: 'arn:aws:iam::111122223333:user/carol' })).toBeUndefined();
  });

  const change = (commits: ChangeRecord['commits'], riskClass: 'normal' | 'high' = 'high') =>
    ({
      pipeline: 'web',
      commits,
      risk: { class: riskClass, reasons: [] },
      required: riskClass === 'high' ? { approvals: 2, group: 'cab' } : { approvals: 1 },
    }) as unknown as ChangeRecord;
  const alice = policy.approvers[0]!;
  const carol = policy.approvers[2]!;

  it('separation of duties: the author or pusher of any commit of the change may not approve it, but may reject it', () => {
    const byEmail = change([
      { runId: 'r2', id: 'b'.repeat(40) },
      { runId: 'r1', id: 'a'.repeat(40), author: { name: 'A', email: 'ALICE@example.com' } },
    ]);
    expect(eligibility(policy, alice, byEmail, 'approve')).toBe(
      'separation of duties: alice wrote commit aaaaaaaaaaaa of this change, and may not approve it',
    );
    expect(eligibility(policy, alice, byEmail, 'reject')).toBeUndefined();
    const pushed = change([{ runId: 'r1', id: 'c'.repeat(40), pushedBy: 'alice-gh' }]);
    expect(eligibility(policy, alice, pushed, 'approve')).toBe(
      'separation of duties: alice pushed commit cccccccccccc of this change, and may not approve it',
    );
  });

  it('a high-risk change needs its group; an override needs an emergency approver', () => {
    expect(eligibility(policy, carol, change([]), 'approve')).toBe(
      'a high-risk change needs approvers from group "cab", and carol is not in it',
    );
    expect(eligibility(policy, carol, change([], 'normal'), 'approve')).toBeUndefined();
    expect(eligibility(policy, carol, change([]), 'override')).toBe(
      'carol is not an emergency approver of pipeline web (emergencyApprovers: none)',
    );
  });
});

describe('notAnApproverMessage', () => {
  const change = { pipeline: 'web', commits: [], risk: { class: 'normal', reasons: [] }, required: { approvals: 1 } };
  const normal = change as unknown as ChangeRecord;

  it('on AWS names the caller by their ARN, who may decide by id and email or IAM identity, and how an IAM identity counts', () => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/dev/eve@example.com';
    expect(notAnApproverMessage(policy, { kind: 'iam', arn }, normal, 'approve')).toBe(
      `${arn} is not an approver of pipeline web; who may approve: alice (alice@example.com), bob (Bob@Example.com, arn:aws:iam::111122223333:user/bob), carol (carol@example.com); ` +
        "an IAM identity is an approver's when their iam lists it, or when it is an IAM Identity Center session named by one of their emails",
    );
  });

  it('names the caller as an edge names them, with its remedy; leaves out who may not decide (the author, outside the group)', () => {
    const high = {
      ...change,
      risk: { class: 'high', reasons: [] },
      required: { approvals: 2, group: 'cab' },
      commits: [{ runId: 'r1', id: 'a'.repeat(40), author: { name: 'A', email: 'alice@example.com' } }],
    } as unknown as ChangeRecord;
    const naming = {
      you: 'eve@example.com, your git user.email',
      remedy: 'set git config user.email to one of theirs',
    };
    expect(
      notAnApproverMessage(
        policy,
        { kind: 'iam', arn: 'arn:aws:sts::000000000000:assumed-role/x/eve@example.com', naming },
        high,
        'approve',
      ),
    ).toBe(
      'you (eve@example.com, your git user.email) are not an approver of pipeline web; who may approve: bob (Bob@Example.com, arn:aws:iam::111122223333:user/bob); set git config user.email to one of theirs',
    );
  });

  it('a Slack clicker is told the approvers by Slack user id; when nobody may decide, it says so', () => {
    const slack = { kind: 'slack', userId: 'UEVE00001' } as const;
    expect(notAnApproverMessage(policy, slack, normal, 'approve')).toMatch(
      /^Slack user UEVE00001 is not an approver of pipeline web; who may approve: alice \(Slack UALICE001\), bob, carol; /,
    );
    expect(notAnApproverMessage(policy, slack, normal, 'override')).toMatch(
      /; nobody may override this change: its approvers \(alice \(Slack UALICE001\), bob, carol\) are all ruled out /,
    );
  });
});

describe('gateWarnings', () => {
  const only = (approvals: number, extra: ApprovalPolicyInput['approvers'] = []) =>
    approvalPolicySchema.parse({
      approvers: [{ id: 'me', emails: ['me@example.com'] }, ...extra],
      classes: { normal: { approvals }, high: { approvals } },
    });

  it('warns when the author is the only approver: neither a normal nor a high change of theirs can pass', () => {
    expect(gateWarnings('web', only(1), ['Me@Example.com'])).toEqual([
      'pipeline "web": a normal-risk change by Me@Example.com can never be approved: it needs 1 distinct approval from approvers, and separation of duties rules out me (its author), leaving 0; add an approver who does not write its changes',
      'pipeline "web": a high-risk change by Me@Example.com can never be approved: it needs 1 distinct approval from approvers, and separation of duties rules out me (its author), leaving 0; add an approver who does not write its changes',
    ]);
    expect(gateWarnings('web', only(1), ['someone@example.com'])).toEqual([]);
    expect(gateWarnings('web', only(1, [{ id: 'you', emails: ['you@example.com'] }]), ['me@example.com'])).toEqual([]);
  });

  it("warns when the author's group has too few others, naming the group and the emergency way out", () => {
    // cab is alice and bob, high needs 2: a change by alice has bob only.
    expect(gateWarnings('web', { ...policy, emergencyApprovers: ['bob', 'alice'] }, ['alice@example.com'])).toEqual([
      'pipeline "web": a high-risk change by alice@example.com can never be approved: it needs 2 distinct approvals from members of group "cab", and separation of duties rules out alice (its author), leaving 1; add a member to group "cab" who does not write its changes, or require 1 (until then only an emergency override by bob releases it)',
    ]);
  });

  it('a class no rule or default gives is not warned about', () => {
    const highOnly = approvalPolicySchema.parse({
      approvers: [{ id: 'me', emails: ['me@example.com'] }],
      defaultClass: 'standard',
      classes: { normal: { approvals: 1 }, high: { approvals: 1 } },
    });
    expect(gateWarnings('web', highOnly, ['me@example.com'])).toEqual([
      expect.stringMatching(/^pipeline "web": a high-risk change by me@example.com can never be approved/),
    ]);
  });
});

describe('the policy in the config', () => {
  const pipeline = {
    name: 'web',
    source: { type: 'codecommit', repository: 'web', branch: 'main' },
    build: { buildspec: 'build.yml' },
  };
  const problemsOf = (approval: unknown): string[] => {
    try {
      parseConfig({ pipelines: [{ ...pipeline, approval }] });
      return [];
    } catch (error) {
      return (error as ConfigError).problems as string[];
    }
  };

  it('names each problem by pipeline and field', () => {
    expect(
      problemsOf({
        approvers: [
          { id: 'alice', emails: ['alice@example.com'], slack: 'alice' },
          { id: 'alice', emails: ['not-an-email'] },
        ],
        groups: { cab: ['alice', 'zed'] },
        classes: { high: { approvals: 3, group: 'cab' }, normal: { approvals: 1, group: 'ops' } },
        rules: [{ class: 'high' }],
        timeZone: 'Mars/Olympus',
        freezes: [{ name: 'weekend', from: { day: 'fri', time: '16:00' }, to: { day: 'fri', time: '16:00' } }],
        emergencyApprovers: ['nobody'],
        expiresAfterHours: 1000,
      }),
    ).toEqual(
      expect.arrayContaining([
        'pipeline "web" → approval.approvers[0].slack: must be a Slack user id such as U0123ABCD',
        'pipeline "web" → approval.approvers[1].emails[0]: must be an email address',
        'pipeline "web" → approval.rules[0]: a rule needs at least one condition: paths, onlyPaths, minFiles, minCommits, during or targets',
        'pipeline "web" → approval.timeZone: must be an IANA time zone name such as Europe/Berlin',
        'pipeline "web" → approval.expiresAfterHours: expiresAfterHours is at most 576 (24 days)',
      ]),
    );
    // Cross-field checks run once the fields themselves are valid.
    expect(
      problemsOf({
        approvers: [
          { id: 'alice', emails: ['alice@example.com'] },
          { id: 'alice', emails: ['alice2@example.com'] },
        ],
        groups: { cab: ['alice', 'zed'] },
        classes: { high: { approvals: 3, group: 'cab' }, normal: { approvals: 1, group: 'ops' } },
        emergencyApprovers: ['nobody'],
      }),
    ).toEqual([
      'pipeline "web" → approval.approvers[1].id: approver ids must be unique: "alice" is listed twice',
      'pipeline "web" → approval.groups.cab[1]: "zed" is not an approver: list it in approvers first',
      'pipeline "web" → approval.classes.normal.group: no group "ops" in groups',
      'pipeline "web" → approval.classes.high.approvals: 3 distinct approvals can never be given: group "cab" has 2',
      'pipeline "web" → approval.emergencyApprovers[0]: "nobody" is not an approver: list it in approvers first',
    ]);
  });
});
