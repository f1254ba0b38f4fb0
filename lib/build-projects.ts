/** One CodeBuild project per stage of a pipeline: the build stage, then each test stage. */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { BUILD_STAGE, COMPUTE_TYPES, stageSpecs, type PipelineConfig } from '../core/config';
import { acknowledgeWildcards, wildcardResource } from './nag';

export interface PipelineBuildProjectsProps {
  readonly pipeline: PipelineConfig;
  /** The bucket the build stage uploads its artifacts to, under `<pipeline>/<build id>/`. */
  readonly artifactBucket: s3.IBucket;
  /** The platform key that encrypts build artifacts and caches (CodeBuild's `encryptionKey`). */
  readonly encryptionKey: kms.IKey;
  /**
   * The build image of every stage.
   * @default codebuild.LinuxBuildImage.STANDARD_7_0
   */
  readonly buildImage?: codebuild.IBuildImage;
}

export class PipelineBuildProjects extends Construct {
  /** The projects by stage name: `build` first, then the test stages in declaration order. */
  readonly projects: ReadonlyMap<string, codebuild.Project>;
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
      // CodeBuild reaches GitHub with the account's stored source credentials; runs are started by
      // stepline, never by a CodeBuild webhook.
      sourceFor = () =>
        codebuild.Source.gitHub({ owner: source.owner, repo: source.repo, branchOrRef: source.branch, webhook: false });
    }

    const projects = new Map<string, codebuild.Project>();
    for (const { name: stage, project: name, ...config } of stageSpecs(pipeline)) {
      const isBuild = stage === BUILD_STAGE;
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
        encryptionKey: props.encryptionKey,
        ...(isBuild
          ? {
              artifacts: codebuild.Artifacts.s3({
                bucket: props.artifactBucket,
                path: pipeline.name,
                includeBuildId: true,
                packageZip: true,
              }),
            }
          : {}),
      });
      acknowledgeProjectRole(project, isBuild ? props.artifactBucket : undefined);
      projects.set(stage, project);
    }
    this.projects = projects;
  }
}

function computeType(pipeline: string, stage: string, size: keyof typeof COMPUTE_TYPES): codebuild.ComputeType {
  const value = COMPUTE_TYPES[size];
  const known = Object.values(codebuild.ComputeType) as string[];
  if (!known.includes(value)) {
    throw new Error(
      `pipeline "${pipeline}" stage "${stage}": computeSize "${size}" maps to unknown CodeBuild compute type ${value}`,
    );
  }
  return value as codebuild.ComputeType;
}

/** The log streams of a project's builds: CodeBuild names each after its build id. */
export function buildLogStreamsArn(scope: IConstruct, project: string): string {
  return Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: `/aws/codebuild/${project}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The report groups of a project: CodeBuild creates them from the buildspec as `<project>-<report>`. */
export function reportGroupsArn(scope: IConstruct, project: string): string {
  return Stack.of(scope).formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project}-*` });
}

/** The wildcards CDK's own grants give a project's role, each limited to this project's resources. */
function acknowledgeProjectRole(project: codebuild.Project, artifactBucket?: s3.IBucket): void {
  acknowledgeWildcards(
    project,
    ['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'],
    "CodeBuild encrypts the project's artifacts and logs with the platform key: these are KMS's data-key actions, granted on that one key's ARN only.",
  );
  acknowledgeWildcards(
    project,
    [wildcardResource(project, buildLogStreamsArn(project, project.projectName))],
    "CodeBuild names each build's log stream after the build id, unknown before the build: the grant covers the streams of this project's own log group only.",
  );
  acknowledgeWildcards(
    project,
    [wildcardResource(project, reportGroupsArn(project, project.projectName))],
    "CodeBuild creates report groups from the buildspec's reports section, named <project>-<report>: the grant covers this project's report groups only.",
  );
  if (artifactBucket) {
    acknowledgeWildcards(
      project,
      [
        'Action::s3:GetObject*',
        'Action::s3:GetBucket*',
        'Action::s3:List*',
        'Action::s3:DeleteObject*',
        'Action::s3:Abort*',
        wildcardResource(project, artifactBucket.arnForObjects('*')),
      ],
      "The build stage uploads its artifacts to the artifact bucket (codebuild.Artifacts.s3 grants the bucket's read/write set): the actions apply to that one bucket and its objects.",
    );
  }
}
