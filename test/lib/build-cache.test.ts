/**
 * A stage's build cache on its CodeBuild project, synthesized as `cdk synth` does (cdk-nag on): the cache
 * settings per type, the default, and the grants an S3 cache gets, on exactly the stage's prefix.
 */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig } from '../../core/config/stepline-config';
import { PLATFORM_PARAMETERS } from '../../core/platform';
import type { PipelineStack } from '../../lib/pipeline-stack';
import { statementsOf, statementsOfRole, synthesize, type Statement, type Synthesized } from '../support/cdk';

const config = parseConfig({
  pipelines: [
    {
      name: 'shop',
      source: { type: 'codecommit', repository: 'shop', branch: 'main' },
      build: { buildspec: 'build.yml' },
      tests: [
        { name: 'unit', buildspec: 'unit.yml', cache: { type: 's3' } },
        { name: 'lint', buildspec: 'lint.yml', cache: { type: 'local', modes: ['source', 'custom'] } },
        { name: 'e2e', buildspec: 'e2e.yml', cache: { type: 'none' } },
      ],
    },
  ],
});

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize(config);
});

const stack = (): PipelineStack => synthesized.stepline.pipelines.get('shop')!;
const template = () => synthesized.templates.get(stack().stackName)!;
const logicalId = (construct: IConstruct) =>
  (construct.node.defaultChild as CfnElement).stack.getLogicalId(construct.node.defaultChild as CfnElement);
const projectProps = (stage: string) =>
  template().Resources[logicalId(stack().builds.projects.get(stage)!)]!.Properties;
const roleStatements = (stage: string): Statement[] =>
  statementsOfRole(template(), logicalId(stack().builds.roles.get(stage)!.role));
/** The template parameter through which the pipeline stack reads a platform SSM parameter. */
const platformParameter = (s: Stack, name: string) => {
  const [id] = Object.entries(synthesized.templates.get(s.stackName)!.Parameters ?? {}).find(
    ([, p]) => p.Default === name,
  )!;
  return { Ref: id };
};
const bucket = () => platformParameter(stack(), PLATFORM_PARAMETERS.artifactBucketName);
const key = () => platformParameter(stack(), PLATFORM_PARAMETERS.platformKeyArn);
const bucketArn = (suffix = '') => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', bucket(), ...(suffix ? [suffix] : [])]],
});

/** What an S3-cached stage's role holds beyond its logs, reports and repository. */
const s3CacheGrants = (stage: string): Statement[] => [
  { Effect: 'Allow', Action: ['s3:GetBucketAcl', 's3:GetBucketLocation'], Resource: bucketArn() },
  {
    Effect: 'Allow',
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    Resource: key(),
  },
  { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: bucketArn(`/cache/shop/${stage}/*`) },
  {
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: bucketArn(),
    Condition: { StringLike: { 's3:prefix': [`cache/shop/${stage}/*`] } },
  },
];
const s3Statements = (statements: Statement[]) =>
  statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:') || a.startsWith('kms:')));

describe('a stage build cache on AWS', () => {
  test('s3 (the default, for the build stage): the artifact bucket under cache/<pipeline>/<stage>', () => {
    for (const stage of ['build', 'unit']) {
      expect(projectProps(stage).Cache).toEqual({
        Type: 'S3',
        Location: { 'Fn::Join': ['/', [bucket(), `cache/shop/${stage}`]] },
      });
      // Encrypted with the platform key, the key the bucket's objects are written with.
      expect(projectProps(stage).EncryptionKey).toEqual(key());
    }
  });

  test('local: its modes, by the names CodeBuild gives them; the project stays unprivileged', () => {
    expect(projectProps('lint').Cache).toEqual({ Type: 'LOCAL', Modes: ['LOCAL_SOURCE_CACHE', 'LOCAL_CUSTOM_CACHE'] });
    expect(projectProps('lint').Environment).toMatchObject({ PrivilegedMode: false });
  });

  test('none: NO_CACHE, said explicitly', () => {
    expect(projectProps('e2e').Cache).toEqual({ Type: 'NO_CACHE' });
  });

  test('a stage without an S3 cache writes nothing to the bucket: no key, no S3 or KMS grant', () => {
    for (const stage of ['lint', 'e2e']) {
      expect(projectProps(stage).EncryptionKey).toEqual('alias/aws/s3');
      expect(s3Statements(roleStatements(stage))).toEqual([]);
    }
  });

  test("an S3-cached test stage's role: exactly the cache's object reads and writes and the listing, on its prefix", () => {
    expect(s3Statements(roleStatements('unit'))).toEqual(s3CacheGrants('unit'));
  });

  test("the build stage's role: its artifact prefix and its cache prefix, nothing else of the bucket", () => {
    const [identity, keyUse, ...cache] = s3CacheGrants('build');
    expect(s3Statements(roleStatements('build'))).toEqual([
      identity,
      keyUse,
      { Effect: 'Allow', Action: 's3:PutObject', Resource: bucketArn('/shop/*') },
      ...cache,
    ]);
  });

  test("no statement of the stack grants more of the bucket: Cache.bucket's own read-write grant is not there", () => {
    const objectResources = statementsOf(template())
      .map(({ statement }) => statement)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
      .flatMap((s) => [s.Resource].flat())
      .filter((r) => JSON.stringify(r).includes('/'));
    expect(objectResources).toEqual([
      bucketArn('/shop/*'),
      bucketArn('/cache/shop/build/*'),
      bucketArn('/cache/shop/unit/*'),
    ]);
    const actions = statementsOf(template()).flatMap(({ statement }) => [statement.Action].flat());
    expect(
      actions.filter((a) => /^s3:(Delete|Abort|PutObjectTagging|GetObjectVersion|List(?!Bucket$))/.test(a)),
    ).toEqual([]);
  });

  test('cdk-nag finds nothing unacknowledged in the pipeline stack', () => {
    const report = new AwsSolutionsChecks().validateScope(stack());
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
