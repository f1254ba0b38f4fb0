/**
 * The release gate's policy as code: who may approve, how many must, which changes need whom, and
 * when changes may go out. Declared per pipeline in `stepline.config.ts` (validated here with
 * precise errors), published in the pipeline's catalog entry, and judged by the pure functions below.
 *
 * Risk is decided by rules, not by a board: a `standard` change passes on its own (still recorded), a
 * `normal` one needs peers, a `high` one a named group (the CAB). A change that touches the pipeline's
 * own configuration or policy is always `high`, judged by the policy already in force: the gate cannot
 * be weakened by the change passing through it.
 */
import * as z from 'zod';
import {
  freezeAt,
  freezeSchema,
  inTimeRange,
  timeRangeSchema,
  timeZoneSchema,
  type FreezeInForce,
} from './change-windows';
import { globToRegExp } from '../glob';
import { RISK_CLASSES, type ChangeCommit, type ChangeRecord, type RiskClass } from '../records';

const RISK_ORDER: Readonly<Record<RiskClass, number>> = { standard: 0, normal: 1, high: 2 };

/**
 * Files that define a pipeline or its policy, in a repository that carries them: a change touching
 * one is always high. @default DEFAULT_PROTECTED_PATHS
 */
export const DEFAULT_PROTECTED_PATHS = ['**/stepline.config.*', 'stepline/**', '.stepline/**'] as const;

/** The longest a gate may wait: within what both Step Functions and local mode's executor time out correctly. */
export const MAX_GATE_HOURS = 24 * 24;

const identityId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, ".", "_" and "-"');

const approverSchema = z.strictObject({
  /** How the policy and the audit trail name this person. */
  id: identityId,
  name: z.string().min(1).max(128).optional(),
  /** Addresses they receive approval emails at, and their commits' author emails (separation of duties). */
  emails: z
    .array(z.email({ error: 'must be an email address' }))
    .min(1, 'list at least one email address')
    .max(10),
  /** Their Slack user id (U… or W…): a click on an approval button is theirs when it comes from this id. */
  slack: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack user id such as U0123ABCD')
    .optional(),
  /** Their GitHub login: a push by it is theirs (separation of duties). */
  github: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,39}$/, 'must be a GitHub login')
    .optional(),
  /**
   * IAM principals that are this person (the CLI against AWS): user ARNs, or assumed-role session
   * ARNs. An assumed-role session whose name is one of their emails (AWS IAM Identity Center) is
   * theirs without being listed.
   */
  iam: z
    .array(
      z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/, 'must be an IAM user or STS session ARN'),
    )
    .max(10)
    .optional(),
});
export type Approver = z.output<typeof approverSchema>;

const classRequirement = z.strictObject({
  /** Distinct approvers needed. */
  approvals: z.number().int().min(1).max(10),
  /** A group (of `groups`) every approver must belong to; any listed approver when absent. */
  group: identityId.optional(),
});

const riskRuleSchema = z
  .strictObject({
    /** The class a change matching this rule gets (the highest matching rule wins). */
    class: z.enum(RISK_CLASSES, { error: 'class must be standard, normal or high' }),
    /** Why, as the change record and the approvers' messages say it. */
    reason: z.string().min(1).max(200).optional(),
    /** Matches when any changed file matches one of these globs. */
    paths: z.array(z.string().min(1).max(256)).min(1).max(16).optional(),
    /** Matches when every changed file matches one of these globs (a docs-only change). */
    onlyPaths: z.array(z.string().min(1).max(256)).min(1).max(16).optional(),
    /** Matches when the change touches at least this many files. */
    minFiles: z.number().int().min(1).optional(),
    /** Matches when the change holds at least this many pushes since the last release. */
    minCommits: z.number().int().min(1).optional(),
    /** Matches when the gate opens in this time range (the policy's time zone). */
    during: timeRangeSchema.optional(),
    /** Matches when the gate guards one of these targets. */
    targets: z.array(identityId).min(1).max(16).optional(),
  })
  .refine(
    (rule) =>
      [rule.paths, rule.onlyPaths, rule.minFiles, rule.minCommits, rule.during, rule.targets].some(
        (c) => c !== undefined,
      ),
    'a rule needs at least one condition: paths, onlyPaths, minFiles, minCommits, during or targets',
  );
export type RiskRule = z.output<typeof riskRuleSchema>;

export const approvalPolicySchema = z
  .strictObject({
    /** Everyone who may decide on this pipeline's releases. */
    approvers: z.array(approverSchema).min(1, 'list at least one approver').max(50, 'at most 50 approvers'),
    /** Named groups of approver ids, e.g. `cab`. */
    groups: z.record(identityId, z.array(identityId).min(1).max(50)).default({}),
    /** What each class requires. `standard` changes are pre-approved and require nobody. */
    classes: z
      .strictObject({
        normal: classRequirement.default({ approvals: 1 }),
        high: classRequirement.default({ approvals: 2 }),
      })
      .default({ normal: { approvals: 1 }, high: { approvals: 2 } }),
    /** Risk rules; a change matching none gets `defaultClass`. */
    rules: z.array(riskRuleSchema).max(32, 'at most 32 rules').default([]),
    /** @default 'normal' */
    defaultClass: z.enum(RISK_CLASSES).default('normal'),
    /** Files that define the pipeline or this policy in its repository. @default DEFAULT_PROTECTED_PATHS */
    protectedPaths: z
      .array(z.string().min(1).max(256))
      .max(16)
      .default([...DEFAULT_PROTECTED_PATHS]),
    /** How long the gate waits for a decision before the run is EXPIRED. @default 72 */
    expiresAfterHours: z
      .number()
      .min(1 / 60)
      .max(MAX_GATE_HOURS, `expiresAfterHours is at most ${MAX_GATE_HOURS} (24 days)`)
      .default(72),
    /** The time zone of change windows and time-of-day rules. @default 'UTC' */
    timeZone: timeZoneSchema.default('UTC'),
    /** When changes may not go out: the gate holds an approved change until the window opens. */
    freezes: z.array(freezeSchema).max(32, 'at most 32 freezes').default([]),
    /** Who may override a freeze in an emergency (approver ids); each override is flagged for review. */
    emergencyApprovers: z.array(identityId).max(10).default([]),
    /** The target this gate guards, for rules and messages (e.g. `production`). */
    target: identityId.optional(),
  })
  .superRefine((policy, context) => {
    const ids = new Set<string>();
    policy.approvers.forEach((approver, index) => {
      if (ids.has(approver.id))
        context.addIssue({
          code: 'custom',
          path: ['approvers', index, 'id'],
          message: `approver ids must be unique: "${approver.id}" is listed twice`,
        });
      ids.add(approver.id);
    });
    const unknown = (id: string) => !ids.has(id);
    for (const [group, members] of Object.entries(policy.groups)) {
      members.forEach((member, index) => {
        if (unknown(member))
          context.addIssue({
            code: 'custom',
            path: ['groups', group, index],
            message: `"${member}" is not an approver: list it in approvers first`,
          });
      });
    }
    for (const riskClass of ['normal', 'high'] as const) {
      const { approvals, group } = policy.classes[riskClass];
      if (group !== undefined && !policy.groups[group]) {
        context.addIssue({
          code: 'custom',
          path: ['classes', riskClass, 'group'],
          message: `no group "${group}" in groups`,
        });
        continue;
      }
      const pool = group === undefined ? policy.approvers.length : new Set(policy.groups[group]).size;
      if (approvals > pool)
        context.addIssue({
          code: 'custom',
          path: ['classes', riskClass, 'approvals'],
          message: `${approvals} distinct approvals can never be given: ${group ? `group "${group}"` : 'approvers'} has ${pool}`,
        });
    }
    policy.emergencyApprovers.forEach((id, index) => {
      if (unknown(id))
        context.addIssue({
          code: 'custom',
          path: ['emergencyApprovers', index],
          message: `"${id}" is not an approver: list it in approvers first`,
        });
    });
  });

export type ApprovalPolicyInput = z.input<typeof approvalPolicySchema>;
export type ApprovalPolicy = z.output<typeof approvalPolicySchema>;

/**
 * Risk classes whose changes, written by one of `authors`, no approval can release: separation of
 * duties rules the authors out, and fewer than the class requires are left (only an emergency
 * override could release such a change). One warning each, naming the pipeline, the class and what
 * to change. Not an error: another author's changes pass, and a config may mean it. A class that no
 * author can pass at all (more approvals than approvers) is refused by the schema instead.
 */
export function gateWarnings(pipeline: string, policy: ApprovalPolicy, authors: readonly string[]): string[] {
  const reachable = new Set<RiskClass>(['high', policy.defaultClass, ...policy.rules.map((rule) => rule.class)]);
  const isAuthor = (approver: Approver) => approver.emails.some((email) => authors.some((a) => sameEmail(email, a)));
  const warnings: string[] = [];
  for (const riskClass of ['normal', 'high'] as const) {
    if (!reachable.has(riskClass)) continue;
    const { approvals, group } = policy.classes[riskClass];
    const members =
      group === undefined ? policy.approvers : policy.approvers.filter((a) => policy.groups[group]?.includes(a.id));
    const ruledOut = members.filter(isAuthor);
    const left = members.length - ruledOut.length;
    if (!ruledOut.length || left >= approvals) continue;
    const from = group === undefined ? 'approvers' : `members of group "${group}"`;
    const override = policy.approvers
      .filter((a) => policy.emergencyApprovers.includes(a.id) && !isAuthor(a))
      .map((a) => a.id);
    const add = `add ${group === undefined ? 'an approver' : `a member to group "${group}"`} who does not write its changes`;
    const fix = left === 0 ? add : `${add}, or require ${left}`;
    const meanwhile = override.length
      ? ` (until then only an emergency override by ${override.join(', ')} releases it)`
      : '';
    warnings.push(
      `pipeline "${pipeline}": a ${riskClass}-risk change by ${listed(authors)} can never be approved: it needs ${approvals} distinct approval${approvals > 1 ? 's' : ''} from ${from}, and separation of duties rules out ${ruledOut.map((a) => a.id).join(', ')} (its author), leaving ${left}; ${fix}${meanwhile}`,
    );
  }
  return warnings;
}

/** What a change is judged on. */
export interface ChangeFacts {
  /** Undefined when some of the change's files are not known. */
  readonly changedFiles?: readonly string[];
  readonly commits: number;
  readonly openedAt: Date;
}

export interface RiskAssessment {
  readonly class: RiskClass;
  readonly reasons: readonly string[];
}

/**
 * The change's risk class under the policy in force. The highest class among the matching rules wins
 * (the default when none matches); a change touching a protected path, or whose files are not all
 * known, is high whatever the rules say.
 */
export function assessRisk(policy: ApprovalPolicy, change: ChangeFacts): RiskAssessment {
  const files = change.changedFiles;
  if (files === undefined) {
    return {
      class: 'high',
      reasons: [
        "the change's files are not all known, so it cannot be shown to leave the pipeline's configuration and policy alone",
      ],
    };
  }
  const protectedFiles = files.filter((file) => matchesAny(policy.protectedPaths, file));
  if (protectedFiles.length) {
    return {
      class: 'high',
      reasons: [
        `it changes the pipeline's own configuration or approval policy (${listed(protectedFiles)}); judged by the policy in force before it`,
      ],
    };
  }
  const matching = policy.rules.filter((rule) => ruleMatches(rule, policy, { ...change, changedFiles: files }));
  if (!matching.length) return { class: policy.defaultClass, reasons: ['no risk rule matched: the default class'] };
  const top = matching.reduce((a, b) => (RISK_ORDER[b.class] > RISK_ORDER[a.class] ? b : a)).class;
  return {
    class: top,
    reasons: matching.filter((rule) => rule.class === top).map((rule) => rule.reason ?? describeRule(rule)),
  };
}

function ruleMatches(
  rule: RiskRule,
  policy: ApprovalPolicy,
  change: ChangeFacts & { changedFiles: readonly string[] },
): boolean {
  const files = change.changedFiles;
  if (rule.paths && !files.some((file) => matchesAny(rule.paths!, file))) return false;
  if (rule.onlyPaths && !(files.length > 0 && files.every((file) => matchesAny(rule.onlyPaths!, file)))) return false;
  if (rule.minFiles !== undefined && files.length < rule.minFiles) return false;
  if (rule.minCommits !== undefined && change.commits < rule.minCommits) return false;
  if (rule.during && !inTimeRange(change.openedAt, policy.timeZone, rule.during)) return false;
  if (rule.targets && !(policy.target && rule.targets.includes(policy.target))) return false;
  return true;
}

function describeRule(rule: RiskRule): string {
  const parts = [
    rule.paths && `touches ${rule.paths.join(', ')}`,
    rule.onlyPaths && `only touches ${rule.onlyPaths.join(', ')}`,
    rule.minFiles !== undefined && `touches ${rule.minFiles} files or more`,
    rule.minCommits !== undefined && `holds ${rule.minCommits} pushes or more`,
    rule.during && `opened ${rule.during.days?.join('/') ?? 'daily'} ${rule.during.from}–${rule.during.to}`,
    rule.targets && `targets ${rule.targets.join(', ')}`,
  ].filter(Boolean);
  return `the change ${parts.join(' and ')}`;
}

/** What a class requires of approvers. */
export function requirementOf(policy: ApprovalPolicy, riskClass: RiskClass): ChangeRecord['required'] {
  return riskClass === 'standard' ? { approvals: 0 } : policy.classes[riskClass];
}

/**
 * How an edge names a caller to them, when it knows them better than their IAM identity: local mode's
 * CLI caller is their git email, presented as an IAM session (local/approvals.ts).
 */
export interface CallerNaming {
  /** Who the caller is, in the second person: `eve@example.com, your git user.email`. */
  readonly you: string;
  /** How to become one of the approvers named: `set git config user.email to one of theirs`. */
  readonly remedy: string;
}

/** Who a request comes from, as its channel authenticates it. */
export type Principal =
  | { readonly kind: 'slack'; readonly userId: string }
  | { readonly kind: 'email'; readonly address: string }
  | { readonly kind: 'iam'; readonly arn: string; readonly naming?: CallerNaming }
  /** An approver named by a signed link: the link's signature is the authentication. */
  | { readonly kind: 'approver'; readonly id: string };

export function describePrincipal(principal: Principal): string {
  switch (principal.kind) {
    case 'slack':
      return `Slack user ${principal.userId}`;
    case 'email':
      return principal.address;
    case 'iam':
      return principal.arn;
    case 'approver':
      return principal.id;
  }
}

/**
 * Why a principal is refused as no approver of the pipeline: themselves as their channel knows them,
 * who may take the decision instead (each by id and the identity this channel matches them by), and
 * how a person becomes one of those.
 */
export function notAnApproverMessage(
  policy: ApprovalPolicy,
  principal: Principal,
  change: ChangeRecord,
  decision: 'approve' | 'reject' | 'override',
): string {
  const who =
    principal.kind === 'iam' && principal.naming
      ? `you (${principal.naming.you}) are`
      : `${describePrincipal(principal)} is`;
  return `${who} not an approver of pipeline ${change.pipeline}; ${whoMayDecide(policy, change, decision, principal.kind)}; ${remedyFor(principal)}`;
}

/**
 * The approvers who may take this decision on this change, each as `id (what the channel matches
 * them by)`; when nobody may, the policy's approvers and that none of them may.
 */
export function whoMayDecide(
  policy: ApprovalPolicy,
  change: ChangeRecord,
  decision: 'approve' | 'reject' | 'override',
  channel: Principal['kind'],
): string {
  const may = policy.approvers.filter((approver) => eligibility(policy, approver, change, decision) === undefined);
  if (!may.length)
    return `nobody may ${decision} this change: its approvers (${named(policy.approvers, channel)}) are all ruled out by group, emergency or separation-of-duties rules`;
  return `who may ${decision}: ${named(may, channel)}`;
}

/** At most this many approvers are named in a message; the rest are counted. */
const NAMED_APPROVERS = 10;

function named(approvers: readonly Approver[], channel: Principal['kind']): string {
  const names = approvers.slice(0, NAMED_APPROVERS).map((approver) => {
    const ids =
      channel === 'slack'
        ? approver.slack
          ? [`Slack ${approver.slack}`]
          : []
        : channel === 'iam'
          ? [...approver.emails, ...(approver.iam ?? [])]
          : channel === 'email'
            ? approver.emails
            : [];
    return ids.length ? `${approver.id} (${ids.join(', ')})` : approver.id;
  });
  const more = approvers.length - names.length;
  return `${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

function remedyFor(principal: Principal): string {
  switch (principal.kind) {
    case 'iam':
      return (
        principal.naming?.remedy ??
        "an IAM identity is an approver's when their iam lists it, or when it is an IAM Identity Center session named by one of their emails"
      );
    case 'slack':
      return "a Slack user is an approver's when their slack names that user id";
    case 'email':
      return "an address is an approver's when it is one of their emails";
    case 'approver':
      return 'the link names someone the policy no longer lists';
  }
}

/** The approver a principal is, if any. */
export function approverOf(policy: ApprovalPolicy, principal: Principal): Approver | undefined {
  return policy.approvers.find((approver) => {
    switch (principal.kind) {
      case 'slack':
        return approver.slack === principal.userId;
      case 'email':
        return approver.emails.some((email) => sameEmail(email, principal.address));
      case 'approver':
        return approver.id === principal.id;
      case 'iam': {
        if (approver.iam?.includes(principal.arn)) return true;
        // arn:aws:sts::<account>:assumed-role/<role>/<session>: Identity Center names the session by email.
        const session = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(principal.arn)?.[1];
        return session !== undefined && approver.emails.some((email) => sameEmail(email, session));
      }
    }
  });
}

/** Whether the approver wrote or pushed any commit of the change (separation of duties). */
export function authoredBy(approver: Approver, commits: readonly ChangeCommit[]): ChangeCommit | undefined {
  return commits.find(
    (commit) =>
      (commit.author?.email !== undefined && approver.emails.some((email) => sameEmail(email, commit.author!.email))) ||
      (commit.pushedBy !== undefined &&
        (commit.pushedBy === approver.github ||
          approver.iam?.includes(commit.pushedBy) ||
          approver.emails.some((email) => sameEmail(email, commit.pushedBy!.split('/').pop()!)))),
  );
}

/** The approvers a change's request goes to: everyone who could approve it. */
export function eligibleApprovers(policy: ApprovalPolicy, change: ChangeRecord): Approver[] {
  return policy.approvers.filter((approver) => eligibility(policy, approver, change, 'approve') === undefined);
}

/**
 * Why an approver may not take this decision on this change, or undefined when they may. Rejecting
 * needs the same standing as approving, except that an author may withdraw their own change.
 */
export function eligibility(
  policy: ApprovalPolicy,
  approver: Approver,
  change: ChangeRecord,
  decision: 'approve' | 'reject' | 'override',
): string | undefined {
  // Withdrawing is always allowed: an author may reject their own change, whatever group it needs.
  if (decision === 'reject' && authoredBy(approver, change.commits)) return undefined;
  if (decision === 'override') {
    if (!policy.emergencyApprovers.includes(approver.id))
      return `${approver.id} is not an emergency approver of pipeline ${change.pipeline} (emergencyApprovers: ${policy.emergencyApprovers.join(', ') || 'none'})`;
  } else {
    const group = change.required.group;
    if (group && !(policy.groups[group] ?? []).includes(approver.id))
      return `a ${change.risk.class}-risk change needs approvers from group "${group}", and ${approver.id} is not in it`;
  }
  if (decision === 'reject') return undefined;
  const own = authoredBy(approver, change.commits);
  if (own)
    return `separation of duties: ${approver.id} ${own.author && approver.emails.some((e) => sameEmail(e, own.author!.email)) ? 'wrote' : 'pushed'} commit ${own.id.slice(0, 12)} of this change, and may not approve it`;
  return undefined;
}

/** The freeze holding the gate at `at`, if any. */
export function freezeInForce(policy: ApprovalPolicy, at: Date): FreezeInForce | undefined {
  return freezeAt(at, policy.timeZone, policy.freezes);
}

function matchesAny(globs: readonly string[], file: string): boolean {
  return globs.some((glob) => globToRegExp(glob).test(file));
}

function sameEmail(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function listed(files: readonly string[]): string {
  return files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
}
