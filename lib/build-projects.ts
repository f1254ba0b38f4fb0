/** One CodeBuild project per stage of a pipeline: the build stage, then each test stage. */
import { ArnFormat, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import {
  BUILD_STAGE,
  COMPUTE_TYPES,
  stageSpecs,
  type GitHubSource,
  CODEBUILD_CACHE_MODES,
  type PipelineConfig,
  type StageCache,
} from '../core/config/stepline-config';
import { BUILD_ARTIFACT_NAME, cachePrefix } from '../core/platform';
import { acknowledgeRule } from './nag';
import { ExplicitRole } from './permissions';

export interface PipelineBuildProjectsProps {
  readonly pipeline: PipelineConfig;
  /**
   * The bucket the build stage uploads its artifact to, as `<pipeline>/<build id>/artifact.zip` (core/platform.ts
   * buildArtifactKey), and where a stage with an S3 cache keeps it, under `cache/<pipeline>/<stage>/` (cachePrefix).
   */
  readonly artifactBucket: s3.IBucket;
  /** The platform key that encrypts what the stages write to the artifact bucket (CodeBuild's `encryptionKey`). */
  readonly encryptionKey: kms.IKey;
  /**
   * The build image of every stage.
   * @default codebuild.LinuxBuildImage.STANDARD_7_0
   */
  readonly buildImage?: codebuild.IBuildImage;
  /**
   * Retention of the projects' build log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

export class PipelineBuildProjects extends Construct {
  /** The projects by stage name: `build` first, then the test stages in declaration order. */
  readonly projects: ReadonlyMap<string, codebuild.Project>;
  /** Each project's role, by stage name. */
  readonly roles: ReadonlyMap<string, ExplicitRole>;
  /** Each project's build log group, by stage name. */
  readonly logGroups: ReadonlyMap<string, logs.LogGroup>;
  /** The CodeCommit repository of a CodeCommit pipeline; undefined for other sources. */
  readonly repository?: codecommit.IRepository;

  constructor(scope: Construct, id: string, props: PipelineBuildProjectsProps) {
    super(scope, id);
    const { pipeline } = props;
    const source = pipeline.source;
    let sourceFor: () => codebuild.ISource;
    if (source.type === 'codecommit') {
      const repository = codecommit.Repository.fromRepositoryName(this, 'Repository', source.repository);
      this.repository = repository;
      sourceFor = () => codebuild.Source.codeCommit({ repository, branchOrRef: source.branch });
    } else {
      // Runs are started by stepline, never by a CodeBuild webhook.
      sourceFor = () =>
        codebuild.Source.gitHub({ owner: source.owner, repo: source.repo, branchOrRef: source.branch, webhook: false });
    }

    const projects = new Map<string, codebuild.Project>();
    const roles = new Map<string, ExplicitRole>();
    const logGroups = new Map<string, logs.LogGroup>();
    const stackId = Fn.select(2, Fn.split('/', Stack.of(this).stackId));
    for (const { name: stage, project: name, ...config } of stageSpecs(pipeline)) {
      const isBuild = stage === BUILD_STAGE;
      const cachePath = cachePrefix(pipeline.name, stage);
      // What a stage writes to the artifact bucket (the build stage's artifact, an S3 cache) is encrypted with
      // the platform key: CodeBuild encrypts its cache with the project's key as it does its artifacts
      // (https://docs.aws.amazon.com/codebuild/latest/userguide/security-encryption.html).
      const writesToBucket = isBuild || config.cache.type === 's3';
      const role = new ExplicitRole(this, `Stage-${stage}-Role`, {
        assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
        description: `stepline pipeline "${pipeline.name}", stage "${stage}"`,
      });
      // The project's log group, made here rather than by CodeBuild's first build: CodeBuild would create
      // /aws/codebuild/<project> with the project role's credentials (logs:CreateLogGroup, checked against
      // the `…:log-group:<name>:log-stream:` ARN) and without a retention. Made here it has a retention,
      // the role needs no CreateLogGroup at all, and a build never waits on a grant. Encrypted as every
      // stepline log group is, by CloudWatch Logs' own encryption (no KMS key). Kept when the pipeline is
      // removed, so its name ends with the stack's id: a pipeline added again gets a new group.
      const logGroup = new logs.LogGroup(this, `Stage-${stage}-Logs`, {
        logGroupName: buildLogGroupName(name, stackId),
        retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
      const project = new codebuild.Project(this, `Stage-${stage}`, {
        projectName: name,
        description: `stepline pipeline "${pipeline.name}", stage "${stage}"`,
        source: sourceFor(),
        buildSpec: codebuild.BuildSpec.fromSourceFilename(config.buildspec),
        environment: {
          buildImage: props.buildImage ?? codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: computeType(pipeline.name, stage, config.computeSize),
          privileged: false,
        },
        timeout: Duration.minutes(config.timeoutMinutes),
        role: role.immutable,
        logging: { cloudWatch: { logGroup } },
        cache: projectCache(config.cache, props.artifactBucket, cachePath),
        ...(writesToBucket ? { encryptionKey: props.encryptionKey } : {}),
        ...(isBuild
          ? {
              // One zip named by stepline, never by the buildspec: `<pipeline>/<build id>/artifact.zip`
              // (CodeBuild joins path, the build id and name: core/platform.ts buildArtifactKey).
              artifacts: codebuild.Artifacts.s3({
                bucket: props.artifactBucket,
                path: pipeline.name,
                includeBuildId: true,
                name: BUILD_ARTIFACT_NAME,
                packageZip: true,
              }),
            }
          : {}),
      });
      grantStageBasics(role, project, name, logGroup, this.repository);
      logGroups.set(stage, logGroup);
      if (source.type === 'github') useConnection(project, role, source);
      if (writesToBucket) {
        grantBucketWrites(role, props.artifactBucket, props.encryptionKey);
      } else {
        acknowledgeRule(
          project,
          'CB4',
          "A test stage without an S3 cache writes nothing to S3: CodeBuild's default (the AWS managed S3 key) encrypts nothing it uploads, and its role holds no KMS permission at all. The stages that write to the artifact bucket (artifacts, S3 caches) use the platform key.",
        );
      }
      if (isBuild) grantArtifactUpload(role, pipeline.name, props.artifactBucket);
      if (config.cache.type === 's3') grantCacheUse(role, props.artifactBucket, cachePath);
      role.isNeededBy(project);
      projects.set(stage, project);
      roles.set(stage, role);
    }
    this.projects = projects;
    this.roles = roles;
    this.logGroups = logGroups;
  }
}

/** What every stage does: write its logs, publish its test reports, pull its CodeCommit source. */
function grantStageBasics(
  role: ExplicitRole,
  scope: IConstruct,
  project: string,
  logGroup: logs.ILogGroup,
  repository?: codecommit.IRepository,
) {
  // No logs:CreateLogGroup: the group is the stack's (see the constructor).
  const group = logGroupArn(scope, logGroup.logGroupName);
  role.allow(
    ['logs:CreateLogStream', 'logs:PutLogEvents'],
    [group, `${group}:*`],
    "CodeBuild names each build's log stream after the build id, unknown before the build: the streams of this project's own log group only.",
  );
  role.allow(
    [
      'codebuild:CreateReportGroup',
      'codebuild:CreateReport',
      'codebuild:UpdateReport',
      'codebuild:BatchPutTestCases',
      'codebuild:BatchPutCodeCoverages',
    ],
    [reportGroupsArn(scope, project)],
    "CodeBuild creates report groups from the buildspec's reports section, named <project>-<report>: this project's report groups only.",
  );
  if (repository) role.allow(['codecommit:GitPull'], [repository.repositoryArn]);
}

/**
 * A GitHub source is fetched through the pipeline's CodeConnections connection (per project, as
 * `Source.Auth`), which CodeBuild needs before it creates the project; the role may read that one
 * connection's short-lived tokens, as CodeBuild's connection guide grants.
 */
function useConnection(project: codebuild.Project, role: ExplicitRole, source: GitHubSource) {
  (project.node.defaultChild as codebuild.CfnProject).addPropertyOverride('Source.Auth', {
    Type: 'CODECONNECTIONS',
    Resource: source.connectionArn,
  });
  // Connections made before July 2024 carry the codestar-connections prefix, and their actions with it.
  const service = source.connectionArn.split(':')[2];
  role.allow([`${service}:GetConnectionToken`, `${service}:GetConnection`], [source.connectionArn]);
}

/**
 * A stage that writes to the artifact bucket (the build stage's artifacts, an S3 cache) with the platform key:
 * the bucket reads of CodeBuild's documented service role (its `S3BucketIdentity` statement), and the key
 * actions of CodeBuild's key-policy guide without their `*` patterns (CodeBuild encrypts and decrypts with
 * the key and never re-encrypts)
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html,
 * https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-kms.html).
 */
function grantBucketWrites(role: ExplicitRole, bucket: s3.IBucket, key: kms.IKey): iam.Grant {
  return role
    .allow(['s3:GetBucketAcl', 's3:GetBucketLocation'], [bucket.bucketArn])
    .combine(role.allow(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], [key.keyArn]));
}

/** The build stage uploads its artifacts to `<bucket>/<pipeline>/…`: the object write, on this pipeline's prefix only. */
function grantArtifactUpload(role: ExplicitRole, pipeline: string, bucket: s3.IBucket): iam.Grant {
  return role.allow(
    ['s3:PutObject'],
    [bucket.arnForObjects(`${pipeline}/*`)],
    "Artifacts are written under <pipeline>/<build id>/, the build id unknown before the build: this pipeline's prefix of the artifact bucket only.",
  );
}

/**
 * A stage's S3 cache, under the stage's own prefix only. AWS documents no policy for the cache itself; these
 * are the actions of the one the CodeBuild console generates for an S3 cache (`CodeBuildCachePolicy-<project>`,
 * as exported from accounts: s3:GetObject, s3:PutObject, s3:ListBucket, with the bucket reads of
 * grantBucketWrites), narrowed from the whole bucket to the prefix, the listing by `s3:prefix`. Listing is
 * also what makes a missing key (a cache miss) answer 404 rather than 403
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"). To confirm on a first
 * deployment: docs/aws-assumptions.md.
 *
 * Not `Cache.bucket`'s own grant: it calls `bucket.grantReadWrite(project)`, every object of the bucket with
 * deletes and tagging, which the project's immutable role drops.
 */
function grantCacheUse(role: ExplicitRole, bucket: s3.IBucket, prefix: string): iam.Grant {
  return role
    .allow(
      ['s3:GetObject', 's3:PutObject'],
      [bucket.arnForObjects(`${prefix}/*`)],
      "CodeBuild names the cache's objects (a keyed cache's by its key, resolved in the build): this stage's cache prefix of the artifact bucket only.",
    )
    .combine(
      role.allow(['s3:ListBucket'], [bucket.bucketArn], undefined, { StringLike: { 's3:prefix': [`${prefix}/*`] } }),
    );
}

/**
 * The project's cache as configured. An S3 cache's location is `<bucket>/cache/<pipeline>/<stage>`, without a
 * `cacheNamespace`: a namespace only shares a keyed cache between projects
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html), and a stage's cache is its own.
 */
function projectCache(cache: StageCache, bucket: s3.IBucket, prefix: string): codebuild.Cache {
  switch (cache.type) {
    case 's3':
      return codebuild.Cache.bucket(bucket, { prefix });
    case 'local':
      return codebuild.Cache.local(
        ...cache.modes.map((mode) => CODEBUILD_CACHE_MODES[mode] as codebuild.LocalCacheMode),
      );
    case 'none':
      return codebuild.Cache.none();
  }
}

function computeType(pipeline: string, stage: string, size: keyof typeof COMPUTE_TYPES): codebuild.ComputeType {
  const value = COMPUTE_TYPES[size];
  const known = Object.values(codebuild.ComputeType) as string[];
  if (!known.includes(value)) {
    // Programming error: core's COMPUTE_TYPES names a compute type this aws-cdk-lib does not know.
    throw new Error(
      `pipeline "${pipeline}" stage "${stage}": computeSize "${size}" maps to unknown CodeBuild compute type ${value}`,
    );
  }
  return value as codebuild.ComputeType;
}

/**
 * A project's log group: CodeBuild's own default name, `/aws/codebuild/<project>`, then the stack's id.
 * The recorder reads the logs of `/aws/codebuild/stepline-*` (lib/platform-functions.ts).
 */
function buildLogGroupName(project: string, stackId: string): string {
  return `/aws/codebuild/${project}-${stackId}`;
}

function logGroupArn(scope: IConstruct, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The report groups of a project: CodeBuild creates them from the buildspec as `<project>-<report>`. */
function reportGroupsArn(scope: IConstruct, project: string): string {
  return Stack.of(scope).formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project}-*` });
}
