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
  type PipelineConfig,
} from '../core/config/stepline-config';
import { BUILD_ARTIFACT_NAME } from '../core/platform';
import { acknowledgeRule } from './nag';
import { ExplicitRole } from './permissions';

export interface PipelineBuildProjectsProps {
  readonly pipeline: PipelineConfig;
  /** The bucket the build stage uploads its artifact to, as `<pipeline>/<build id>/artifact.zip` (core/platform.ts buildArtifactKey). */
  readonly artifactBucket: s3.IBucket;
  /** The platform key that encrypts the build stage's artifacts (CodeBuild's `encryptionKey`). */
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
        ...(isBuild
          ? {
              encryptionKey: props.encryptionKey,
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
      if (isBuild) {
        grantArtifactUpload(role, pipeline.name, props.artifactBucket, props.encryptionKey);
      } else {
        acknowledgeRule(
          project,
          'CB4',
          "A test stage produces no artifacts: CodeBuild's default (the AWS managed S3 key) encrypts nothing it uploads, and its role holds no KMS permission at all. The build stage, which uploads artifacts, uses the platform key.",
        );
      }
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
 * The build stage uploads its artifacts to `<bucket>/<pipeline>/…` encrypted with the platform key:
 * the object writes and bucket reads of CodeBuild's documented service role, on this pipeline's
 * prefix only, and the key actions of CodeBuild's key-policy guide without their `*` patterns
 * (CodeBuild encrypts artifacts and never re-encrypts them).
 */
function grantArtifactUpload(role: ExplicitRole, pipeline: string, bucket: s3.IBucket, key: kms.IKey) {
  role.allow(
    ['s3:PutObject'],
    [bucket.arnForObjects(`${pipeline}/*`)],
    "Artifacts are written under <pipeline>/<build id>/, the build id unknown before the build: this pipeline's prefix of the artifact bucket only.",
  );
  role.allow(['s3:GetBucketAcl', 's3:GetBucketLocation'], [bucket.bucketArn]);
  role.allow(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], [key.keyArn]);
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
