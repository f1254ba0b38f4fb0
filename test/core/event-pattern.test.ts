import { matchesPattern, validatePattern } from '../../core/sources/event-pattern';
import { EventPatternError } from '../../core/sources/errors';
import type { EventPattern } from '../../core/sources/event-pattern';
import { codeCommitPushTrigger } from '../../core/sources/triggers';

/** The EC2 sample event the EventBridge docs and event-ruler README use throughout. */
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

function problemOf(pattern: unknown): EventPatternError {
  try {
    validatePattern(pattern);
  } catch (error) {
    expect(error).toBeInstanceOf(EventPatternError);
    return error as EventPatternError;
  }
  throw new Error('expected the pattern to be refused');
}

describe('exact values', () => {
  it('matches when every field matches one of its values (And)', () => {
    const pattern: EventPattern = { Location: ['New York'], Day: ['Monday'] };

    const matches = matchesPattern(pattern, { Location: 'New York', Day: 'Monday' });
    const missesDay = matchesPattern(pattern, { Location: 'New York', Day: 'Tuesday' });

    expect(matches).toBe(true);
    expect(missesDay).toBe(false);
  });

  it('matches any value of the list and ignores fields the pattern does not name (Equals)', () => {
    const pattern: EventPattern = {
      source: ['aws.ec2', 'aws.fargate'],
      detail: { state: ['initializing', 'running'] },
    };

    const matched = matchesPattern(pattern, ec2Event);

    expect(matched).toBe(true);
  });

  it('is case sensitive and requires the field to be present', () => {
    const pattern: EventPattern = { Name: ['Alice'] };

    expect(matchesPattern(pattern, { Name: 'alice' })).toBe(false);
    expect(matchesPattern(pattern, { Other: 'Alice' })).toBe(false);
  });

  it('compares numbers numerically and never as strings', () => {
    const pattern: EventPattern = { detail: { 'x-limit': [3.018e2] } };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { detail: { 'x-limit': '301.8' } })).toBe(false);
  });

  it('matches booleans only against booleans', () => {
    const pattern: EventPattern = { enabled: [true] };

    expect(matchesPattern(pattern, { enabled: true })).toBe(true);
    expect(matchesPattern(pattern, { enabled: 'true' })).toBe(false);
    expect(matchesPattern(pattern, { enabled: 1 })).toBe(false);
  });

  it('matches an empty string and null separately, and neither matches a missing field (Empty, Null)', () => {
    const event = { detail: { eventVersion: '', responseElements: null } };

    expect(matchesPattern({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { responseElements: [''] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { missing: [null] } }, event)).toBe(false);
  });
});

describe('arrays in the event', () => {
  it('matches when the pattern values and the event array intersect', () => {
    const pattern: EventPattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };

    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern(pattern, { resources: [] })).toBe(false);
  });

  it('matches a nested pattern against one array element at a time', () => {
    const event = {
      employees: [
        [
          { firstName: 'John', lastName: 'Doe', ids: [1234, 1000, 9999] },
          { firstName: 'Anna', lastName: 'Smith' },
        ],
        [{ firstName: 'Peter', lastName: 'Jones', ids: [] }],
      ],
    };

    expect(matchesPattern({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['John'], ids: [1000] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
    expect(matchesPattern({ employees: { firstName: ['Anna'], ids: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], ids: [{ exists: true }] } }, event)).toBe(false);
    expect(matchesPattern({ employees: ['b'] }, event)).toBe(false);
  });
});

describe('prefix', () => {
  it('matches strings that begin with the prefix (Begins with)', () => {
    const pattern: EventPattern = { Region: [{ prefix: 'us-' }] };

    expect(matchesPattern(pattern, { Region: 'us-east-1' })).toBe(true);
    expect(matchesPattern(pattern, { Region: 'eu-west-1' })).toBe(false);
  });

  it('matches the time example of the docs', () => {
    const pattern: EventPattern = { time: [{ prefix: '2017-10-02' }] };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
  });

  it('ignores case with equals-ignore-case (Begins with, ignore case)', () => {
    const pattern: EventPattern = { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] };

    expect(matchesPattern(pattern, { service: 'EventBridge' })).toBe(true);
    expect(matchesPattern(pattern, { service: 'EVENTBRIDGE' })).toBe(true);
    expect(matchesPattern(pattern, { service: 'Lambda' })).toBe(false);
  });

  it('does not match numbers', () => {
    const pattern: EventPattern = { code: [{ prefix: '12' }] };

    expect(matchesPattern(pattern, { code: 123 })).toBe(false);
  });
});

describe('suffix', () => {
  it('matches strings that end with the suffix (Ends with)', () => {
    const pattern: EventPattern = { FileName: [{ suffix: '.png' }] };

    expect(matchesPattern(pattern, { FileName: 'photo.png' })).toBe(true);
    expect(matchesPattern(pattern, { FileName: 'photo.PNG' })).toBe(false);
  });

  it('ignores case with equals-ignore-case (Ends with, ignore case)', () => {
    const pattern: EventPattern = { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] };

    expect(matchesPattern(pattern, { service: 'EventBridge' })).toBe(true);
    expect(matchesPattern(pattern, { service: 'EVENTBRIDGE' })).toBe(true);
    expect(matchesPattern(pattern, { service: 'EventBus' })).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches a string in any casing (Equals, ignore case)', () => {
    const pattern: EventPattern = { Name: [{ 'equals-ignore-case': 'alice' }] };

    expect(matchesPattern(pattern, { Name: 'Alice' })).toBe(true);
    expect(matchesPattern(pattern, { Name: 'ALICE' })).toBe(true);
    expect(matchesPattern(pattern, { Name: 'Alicia' })).toBe(false);
  });
});

describe('anything-but', () => {
  it('matches any value besides the one given (Anything-but)', () => {
    const pattern: EventPattern = { state: [{ 'anything-but': 'initializing' }] };

    expect(matchesPattern(pattern, { state: 'running' })).toBe(true);
    expect(matchesPattern(pattern, { state: 'initializing' })).toBe(false);
  });

  it('requires the field to be present', () => {
    const pattern: EventPattern = { state: [{ 'anything-but': 'initializing' }] };

    expect(matchesPattern(pattern, { other: 'running' })).toBe(false);
  });

  it('excludes a list of strings', () => {
    const pattern: EventPattern = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { detail: { state: 'overloaded' } })).toBe(false);
  });

  it('excludes numbers numerically, letting strings through', () => {
    const pattern: EventPattern = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { detail: { 'x-limit': 2e2 } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { 'x-limit': '200' } })).toBe(true);
  });

  it('matches an event array that holds some other value', () => {
    const pattern: EventPattern = { state: [{ 'anything-but': 'initializing' }] };

    expect(matchesPattern(pattern, { state: ['initializing', 'running'] })).toBe(true);
    expect(matchesPattern(pattern, { state: ['initializing'] })).toBe(false);
  });

  it('excludes a prefix (Anything-but, begins with)', () => {
    const pattern: EventPattern = { Region: [{ 'anything-but': { prefix: 'us-' } }] };

    expect(matchesPattern(pattern, { Region: 'eu-west-1' })).toBe(true);
    expect(matchesPattern(pattern, { Region: 'us-east-1' })).toBe(false);
  });

  it('excludes a suffix (Anything-but, ends with)', () => {
    const pattern: EventPattern = { FileName: [{ 'anything-but': { suffix: '.png' } }] };

    expect(matchesPattern(pattern, { FileName: 'notes.txt' })).toBe(true);
    expect(matchesPattern(pattern, { FileName: 'photo.png' })).toBe(false);
  });

  it('excludes any casing of a value (Anything-but, ignore case)', () => {
    const pattern: EventPattern = { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] };

    expect(matchesPattern(pattern, { state: 'running' })).toBe(true);
    expect(matchesPattern(pattern, { state: 'INITIALIZING' })).toBe(false);
  });

  it('excludes a wildcard (Anything-but, wildcard)', () => {
    const pattern: EventPattern = { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] };

    expect(matchesPattern(pattern, { FilePath: 'dir/bin/tool' })).toBe(true);
    expect(matchesPattern(pattern, { FilePath: 'dir/lib/util.js' })).toBe(false);
  });

  it('excludes a list of prefixes', () => {
    const pattern: EventPattern = { state: [{ 'anything-but': { prefix: ['init', 'error'] } }] };

    expect(matchesPattern(pattern, { state: 'running' })).toBe(true);
    expect(matchesPattern(pattern, { state: 'error-3' })).toBe(false);
  });
});

describe('numeric', () => {
  it('matches every condition of the docs example', () => {
    const pattern: EventPattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
  });

  it.each([
    [['=', 5], 5, true],
    [['=', 5], 5.5, false],
    [['<', 5], 4.9, true],
    [['<', 5], 5, false],
    [['<=', 5], 5, true],
    [['>', 5], 5, false],
    [['>=', 5], 5, true],
    [['>', 0, '<=', 5], 0, false],
    [['>', 0, '<=', 5], 5, true],
    [['>=', 10, '<', 20], 20, false],
  ] as const)('numeric %j against %p is %p', (condition, value, expected) => {
    const pattern: EventPattern = { Price: [{ numeric: condition }] };

    const matched = matchesPattern(pattern, { Price: value });

    expect(matched).toBe(expected);
  });

  it('does not match numbers written as strings', () => {
    const pattern: EventPattern = { Price: [{ numeric: ['>', 0] }] };

    expect(matchesPattern(pattern, { Price: '10' })).toBe(false);
  });
});

describe('exists', () => {
  it('matches a present leaf with exists true, including null', () => {
    const pattern: EventPattern = { detail: { 'c-count': [{ exists: true }] } };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { detail: { 'c-count': null } })).toBe(true);
    expect(matchesPattern(pattern, { detail: {} })).toBe(false);
  });

  it('matches a missing field with exists false', () => {
    const pattern: EventPattern = { detail: { 'c-count': [{ exists: false }] } };

    expect(matchesPattern(pattern, { detail: { state: ['initializing', 'running'] } })).toBe(true);
    expect(matchesPattern(pattern, ec2Event)).toBe(false);
    expect(matchesPattern(pattern, { detail: { 'c-count': null } })).toBe(false);
  });

  it('treats a field holding an object as not a leaf, so exists false matches it', () => {
    const event = { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } };

    expect(matchesPattern({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
  });

  it('treats an empty array as absent', () => {
    const event = { detail: { ids: [] } };

    expect(matchesPattern({ detail: { ids: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { ids: [{ exists: true }] } }, event)).toBe(false);
  });

  it('is one alternative among the values of a field', () => {
    const pattern: EventPattern = { tier: [{ 'anything-but': ['gold', 'silver'] }, { exists: false }] };

    expect(matchesPattern(pattern, {})).toBe(true);
    expect(matchesPattern(pattern, { tier: 'bronze' })).toBe(true);
    expect(matchesPattern(pattern, { tier: 'gold' })).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches any run of characters with *', () => {
    const pattern: EventPattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };

    expect(matchesPattern(pattern, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' })).toBe(
      true,
    );
    expect(matchesPattern(pattern, { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/orders' })).toBe(
      false,
    );
  });

  it('matches zero characters and the whole value only', () => {
    const pattern: EventPattern = { source: [{ wildcard: 'Simple*Service' }] };

    expect(matchesPattern(pattern, { source: 'SimpleService' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'SimpleQueueService' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'SimpleQueueServices' })).toBe(false);
  });

  it('treats \\* as a literal asterisk and \\\\ as a literal backslash', () => {
    const literalAsterisk: EventPattern = { name: [{ wildcard: 'a\\*b' }] };
    const literalBackslash: EventPattern = { name: [{ wildcard: 'a\\\\*' }] };

    expect(matchesPattern(literalAsterisk, { name: 'a*b' })).toBe(true);
    expect(matchesPattern(literalAsterisk, { name: 'axb' })).toBe(false);
    expect(matchesPattern(literalBackslash, { name: 'a\\anything' })).toBe(true);
    expect(matchesPattern(literalBackslash, { name: 'ab' })).toBe(false);
  });

  it('treats regular expression characters literally', () => {
    const pattern: EventPattern = { name: [{ wildcard: 'file.(1)*' }] };

    expect(matchesPattern(pattern, { name: 'file.(1).txt' })).toBe(true);
    expect(matchesPattern(pattern, { name: 'fileX(1).txt' })).toBe(false);
  });

  it('refuses consecutive wildcards and escapes of other characters', () => {
    expect(problemOf({ name: [{ wildcard: 'a**b' }] }).message).toBe(
      '$.name[0].wildcard: consecutive wildcard characters at position 1 of "a**b"',
    );
    expect(problemOf({ name: [{ wildcard: 'a\\b' }] }).path).toBe('$.name[0].wildcard');
    expect(problemOf({ name: [{ wildcard: 'a\\' }] }).message).toMatch(/invalid escape at position 1/);
  });
});

describe('cidr', () => {
  it('matches IPv4 addresses inside the block', () => {
    const pattern: EventPattern = { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } };

    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { detail: { 'source-ip': '10.0.1.33' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { 'source-ip': 'not an ip' } })).toBe(false);
  });

  it('handles the whole address space and a single address', () => {
    expect(matchesPattern({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '203.0.113.9' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '203.0.113.9/32' }] }, { ip: '203.0.113.9' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '203.0.113.9/32' }] }, { ip: '203.0.113.10' })).toBe(false);
  });

  it('refuses IPv6 and malformed blocks', () => {
    expect(problemOf({ ip: [{ cidr: '2001:db8::/32' }] }).message).toBe(
      '$.ip[0].cidr: IPv6 CIDR blocks are not supported by local mode',
    );
    expect(problemOf({ ip: [{ cidr: '10.0.0.0/33' }] }).path).toBe('$.ip[0].cidr');
    expect(problemOf({ ip: [{ cidr: '10.0.0.256/8' }] }).path).toBe('$.ip[0].cidr');
  });
});

describe('$or', () => {
  it('matches when any alternative matches', () => {
    const pattern: EventPattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };

    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', metricName: 'ReadLatency' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/S3' })).toBe(false);
    expect(matchesPattern(pattern, { source: 'aws.ec2', namespace: 'AWS/EC2' })).toBe(false);
  });

  it('nests inside objects and inside alternatives', () => {
    const pattern: EventPattern = {
      detail: {
        $or: [
          { metricName: ['CPUUtilization'] },
          { metricType: ['MetricType'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        ],
      },
    };

    expect(matchesPattern(pattern, { detail: { metricType: 'MetricType', spaceId: 1000 } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { metricType: 'MetricType', spaceId: 1 } })).toBe(false);
  });

  it('refuses fewer than two alternatives', () => {
    const problem = problemOf({ detail: { $or: [{ a: ['x'] }] } });

    expect(problem.message).toBe('$.detail.$or: $or must be an array of at least two pattern objects');
  });
});

describe('the one CodeCommit push rule (core/triggers)', () => {
  const repositoryArn = 'arn:aws:codecommit:us-east-1:123456789012:my-repo';
  const { pattern } = codeCommitPushTrigger();

  function pushEvent(overrides: { resources?: string[]; detail?: Record<string, unknown> } = {}) {
    return {
      version: '0',
      id: '01234567-0123-0123-0123-012345678901',
      'detail-type': 'CodeCommit Repository State Change',
      source: 'aws.codecommit',
      account: '123456789012',
      time: '2024-05-01T12:00:00Z',
      region: 'us-east-1',
      resources: overrides.resources ?? [repositoryArn],
      detail: {
        callerUserArn: 'arn:aws:iam::123456789012:user/dev',
        commitId: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12',
        event: 'referenceUpdated',
        oldCommitId: '0011223344556677889900112233445566778899',
        referenceFullName: 'refs/heads/main',
        referenceName: 'main',
        referenceType: 'branch',
        repositoryId: '12345678-1234-5678-abcd-12345678abcd',
        repositoryName: 'my-repo',
        ...overrides.detail,
      },
    };
  }

  it('accepts the pattern', () => {
    expect(() => validatePattern(pattern)).not.toThrow();
  });

  // Every branch and tag push reaches the run starter, which records the ones the filters drop as SKIPPED.
  it.each([
    ['an update of main', {}],
    ['the creation of main', { event: 'referenceCreated' }],
    ['another branch', { referenceName: 'feature/x', referenceFullName: 'refs/heads/feature/x' }],
    ['a tag', { referenceType: 'tag', referenceName: 'v1', referenceFullName: 'refs/tags/v1' }],
  ])('matches %s', (_case, detail) => {
    const event = pushEvent({ detail });

    const matched = matchesPattern(pattern, event);

    expect(matched).toBe(true);
  });

  it('matches a push to any repository: the publisher finds the pipelines following it in the catalog', () => {
    const event = pushEvent({
      resources: ['arn:aws:codecommit:us-east-1:123456789012:other-repo'],
      detail: { repositoryName: 'other-repo' },
    });

    expect(matchesPattern(pattern, event)).toBe(true);
  });

  it.each([
    ['the deletion of main', { detail: { event: 'referenceDeleted' } }],
    ['a commit, not a reference', { detail: { referenceType: 'commit' } }],
  ])('does not match %s', (_case, overrides) => {
    const event = pushEvent(overrides);

    const matched = matchesPattern(pattern, event);

    expect(matched).toBe(false);
  });
});

describe('validatePattern', () => {
  it('rejects an unknown operator, naming its path', () => {
    const problem = problemOf({ detail: { state: ['running', { contains: 'run' }] } });

    expect(problem.name).toBe('EventPatternError');
    expect(problem.path).toBe('$.detail.state[1].contains');
    expect(problem.message).toMatch(
      /^\$\.detail\.state\[1\]\.contains: unknown operator "contains"; supported operators: /,
    );
  });

  it('rejects a leaf that is not an array, naming its path', () => {
    const problem = problemOf({ 'detail-type': 'CodeCommit Repository State Change' });

    expect(problem.message).toBe(
      '$.detail-type: a field must hold an array of match values or a nested pattern object, ' +
        'got string "CodeCommit Repository State Change"',
    );
  });

  it.each([
    ['an empty array', { source: [] }, '$.source'],
    ['an empty object', { detail: {} }, '$.detail'],
    ['a nested array value', { source: [['aws.ec2']] }, '$.source[0]'],
    ['an operator object with two keys', { source: [{ prefix: 'a', suffix: 'b' }] }, '$.source[0]'],
    ['a non-boolean exists', { source: [{ exists: 'yes' }] }, '$.source[0].exists'],
    ['a numeric operator it does not know', { n: [{ numeric: ['!=', 1] }] }, '$.n[0].numeric[0]'],
    ['a numeric range upside down', { n: [{ numeric: ['<', 10, '>', 0] }] }, '$.n[0].numeric'],
    ['a numeric range that is empty', { n: [{ numeric: ['>=', 5, '<=', 5] }] }, '$.n[0].numeric'],
    ['a numeric value that is a string', { n: [{ numeric: ['>', '1'] }] }, '$.n[0].numeric[1]'],
    ['anything-but of mixed types', { s: [{ 'anything-but': ['a', 1] }] }, '$.s[0].anything-but'],
    [
      'anything-but of an unknown operator',
      { s: [{ 'anything-but': { numeric: ['>', 1] } }] },
      '$.s[0].anything-but.numeric',
    ],
    ['anything-but of an empty prefix', { s: [{ 'anything-but': { prefix: '' } }] }, '$.s[0].anything-but.prefix'],
    ['prefix with another modifier', { s: [{ prefix: { wildcard: 'a*' } }] }, '$.s[0].prefix.wildcard'],
    ['a key with dots', { 'a.b': 'x' }, '$["a.b"]'],
    ['a pattern that is not an object', ['source'], '$'],
  ])('rejects %s', (_case, pattern, path) => {
    const problem = problemOf(pattern);

    expect(problem.path).toBe(path);
  });

  it('makes matchesPattern refuse what it cannot evaluate instead of not matching', () => {
    const pattern = { source: [{ regex: 'aws\\..*' }] } as unknown as EventPattern;

    const match = () => matchesPattern(pattern, { source: 'aws.ec2' });

    expect(match).toThrow(EventPatternError);
  });
});
