import { parseConfig, projectName, pushFilters, stagePlan } from '../../core/config/stepline-config';
import { pipeline, problemsOf } from '../support/config';
import config from '../../stepline.config';

describe('parseConfig', () => {
  it('accepts the bundled config and fills defaults', () => {
    const parsed = parseConfig(config);
    expect(parsed.pipelines[0]!.build).toEqual({
      buildspec: 'buildspecs/build.yml',
      computeSize: 'small',
      timeoutMinutes: 60,
      cache: { type: 's3' },
    });
    expect(parsed.pipelines[0]!.tests.map((t) => t.name)).toEqual(['unit-tests', 'lint']);
  });

  it('names the pipeline and the field of each problem', () => {
    const problems = problemsOf({ pipelines: [{ ...pipeline, build: { buildspec: '../outside.yml' } }] });
    expect(problems).toEqual(['pipeline "web" → build.buildspec: buildspec must be a path inside the repository']);
  });

  it('names a pipeline by index when it has no usable name', () => {
    const problems = problemsOf({ pipelines: [{ ...pipeline, name: 'Bad Name' }] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^pipeline "Bad Name" → name: pipeline name must be/);
  });

  it('refuses unknown fields, duplicate stages and an invalid deploy target', () => {
    const problems = problemsOf({
      pipelines: [
        {
          ...pipeline,
          colour: 'blue',
          tests: [pipeline.tests[0], pipeline.tests[0]],
          deploy: { function: 'web', strategy: { type: 'canary', steps: [50, 10] } },
        },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pipeline "web" → \(pipeline\): Unrecognized key: "colour"/),
        'pipeline "web" → tests: test stage names must be unique',
        'pipeline "web" → deploy.strategy.steps: canary steps must increase',
      ]),
    );
  });

  it('bounds a pause: 24 h unless said, more than 0 and at most 72 h (the history events it costs)', () => {
    const deployOf = (deploy: Record<string, unknown>) =>
      parseConfig({ pipelines: [{ ...pipeline, deploy: { function: 'web', ...deploy } }] }).pipelines[0]!.deploy!;
    expect(deployOf({}).maxPauseHours).toBe(24);
    expect(deployOf({ maxPauseHours: 0.5 }).maxPauseHours).toBe(0.5);
    expect(problemsOf({ pipelines: [{ ...pipeline, deploy: { function: 'web', maxPauseHours: 73 } }] })).toEqual([
      'pipeline "web" → deploy.maxPauseHours: maxPauseHours is at most 72: a longer pause nears Step Functions\' 25,000 history events',
    ]);
    expect(problemsOf({ pipelines: [{ ...pipeline, deploy: { function: 'web', maxPauseHours: 0 } }] })).toEqual([
      'pipeline "web" → deploy.maxPauseHours: maxPauseHours must be more than 0',
    ]);
  });

  it('requires a GitHub source to name the CodeConnections connection CodeBuild fetches it through', () => {
    const github = { type: 'github', owner: 'acme', repo: 'web', branch: 'main' };
    expect(problemsOf({ pipelines: [{ ...pipeline, source: github }] })).toEqual([
      'pipeline "web" → source.connectionArn: connectionArn is required: the CodeConnections connection CodeBuild fetches GitHub sources through',
    ]);
    expect(
      problemsOf({ pipelines: [{ ...pipeline, source: { ...github, connectionArn: 'arn:aws:iam::1:role/x' } }] }),
    ).toEqual([
      'pipeline "web" → source.connectionArn: connectionArn must be a CodeConnections connection ARN, arn:aws:codeconnections:<region>:<account>:connection/<id>',
    ]);
    const legacy =
      'arn:aws:codestar-connections:us-east-1:111122223333:connection/0b8e3c4a-1d2f-4e5a-9b6c-7d8e9f0a1b2c';
    expect(
      parseConfig({ pipelines: [{ ...pipeline, source: { ...github, connectionArn: legacy } }] }).pipelines[0]!.source,
    ).toMatchObject({
      connectionArn: legacy,
    });
  });

  it('defaults the push filters to the source branch, no tags and the common skip markers', () => {
    const parsed = parseConfig({ pipelines: [pipeline] }).pipelines[0]!;
    expect(pushFilters(parsed)).toEqual({
      branches: ['main'],
      tags: false,
      skipMarkers: ['[skip ci]', '[ci skip]', '[no ci]', '[skip stepline]'],
    });
    const custom = parseConfig({
      pipelines: [{ ...pipeline, filters: { branches: ['main', 'release/*'], tags: true, skipMarkers: [] } }],
    }).pipelines[0]!;
    expect(pushFilters(custom)).toEqual({ branches: ['main', 'release/*'], tags: true, skipMarkers: [] });
  });

  it('refuses more than 8 branch patterns and unknown filter keys', () => {
    const branches = Array.from({ length: 9 }, (_, i) => `b${i}`);
    expect(problemsOf({ pipelines: [{ ...pipeline, filters: { branches } }] })).toEqual([
      'pipeline "web" → filters.branches: at most 8 branch patterns',
    ]);
    expect(problemsOf({ pipelines: [{ ...pipeline, filters: { commits: 1 } }] })[0]).toMatch(
      /^pipeline "web" → filters: Unrecognized key: "commits"/,
    );
  });

  it('takes a local repository or a local seed for a pipeline, not both', () => {
    expect(problemsOf({ pipelines: [{ ...pipeline, localSeed: 'seed', localRepository: '../repo' }] })).toEqual([
      'pipeline "web" → localRepository: declare localSeed or localRepository, not both: local mode runs one source per pipeline',
    ]);
  });

  it('validates notifications: secrets under stepline/notifications/, addresses, statuses for GitHub sources only', () => {
    const notifications = {
      slack: { webhookUrlSecret: 'my-slack-url' },
      email: { from: 'not an address', to: [] },
      githubStatuses: { tokenSecret: 'stepline/notifications/token' },
    };
    expect(problemsOf({ pipelines: [{ ...pipeline, notifications }] })).toEqual([
      'pipeline "web" → notifications.slack.webhookUrlSecret: must be the name of a Secrets Manager secret under stepline/notifications/ (the only secrets the notifier may read)',
      'pipeline "web" → notifications.email.from: must be an email address',
      'pipeline "web" → notifications.email.to: Too small: expected array to have >=1 items',
      'pipeline "web" → notifications.githubStatuses: commit statuses are posted to GitHub: only a pipeline with a github source can have them',
    ]);
    const parsed = parseConfig({
      pipelines: [{ ...pipeline, notifications: { email: { from: 'ci@example.com', to: ['a@example.com'] } } }],
    });
    expect(parsed.pipelines[0]!.notifications).toEqual({
      on: { failed: true, fixed: true, succeeded: false },
      email: { from: 'ci@example.com', to: ['a@example.com'] },
    });
    expect(parsed.pipelines[0]!.executionMode).toBe('QUEUED');
    expect(problemsOf({ pipelines: [{ ...pipeline, executionMode: 'SERIAL' }] })).toEqual([
      'pipeline "web" → executionMode: executionMode must be QUEUED, SUPERSEDED or PARALLEL',
    ]);
  });

  it('refuses duplicate pipelines and an unknown source type', () => {
    expect(problemsOf({ pipelines: [pipeline, { ...pipeline, name: 'api' }, pipeline] })).toEqual([
      'pipeline "web" → name: pipeline names must be unique: pipelines[0] is "web" too',
    ]);
    const problems = problemsOf({ pipelines: [{ ...pipeline, source: { type: 'svn', url: 'x' } }] });
    expect(problems[0]).toMatch(/^pipeline "web" → source\.type: /);
  });

  it('derives one project per stage, build first; test stages all at once unless limited', () => {
    const plan = stagePlan(parseConfig({ pipelines: [pipeline] }).pipelines[0]!);
    expect(plan).toEqual({
      build: { name: 'build', project: projectName('web', 'build') },
      tests: [{ name: 'unit', project: 'stepline-web-unit' }],
      testConcurrency: 0,
    });
    const limited = stagePlan(parseConfig({ pipelines: [{ ...pipeline, testConcurrency: 1 }] }).pipelines[0]!);
    expect(limited.testConcurrency).toBe(1);
  });

  it('refuses a test concurrency that is not a count of stages', () => {
    expect(problemsOf({ pipelines: [{ ...pipeline, testConcurrency: -1 }] })).toEqual([
      'pipeline "web" → testConcurrency: Too small: expected number to be >=0',
    ]);
    expect(problemsOf({ pipelines: [{ ...pipeline, testConcurrency: 1.5 }] })[0]).toMatch(
      /^pipeline "web" → testConcurrency: /,
    );
  });

  it('refuses more than ten test stages, saying so', () => {
    const tests = Array.from({ length: 11 }, (_, i) => ({ name: `t${i}`, buildspec: 'x.yml' }));
    expect(problemsOf({ pipelines: [{ ...pipeline, tests }] })).toEqual([
      'pipeline "web" → tests: at most 10 test stages per pipeline',
    ]);
  });
});
