/** Local stand-ins for CodeBuild's ARNs: region `local`, account `000000000000`. */
const PREFIX = 'arn:aws:codebuild:local:000000000000';

export const buildArn = (buildId: string): string => `${PREFIX}:build/${buildId}`;
export const projectArn = (projectName: string): string => `${PREFIX}:project/${projectName}`;

/** A buildspec report group is a name (the group becomes `<project>-<name>`) or an existing group's ARN. */
export function reportGroupOf(projectName: string, group: string): { name: string; arn: string } {
  if (group.startsWith('arn:')) return { name: group.slice(group.lastIndexOf('/') + 1), arn: group };
  const name = `${projectName}-${group}`;
  return { name, arn: `${PREFIX}:report-group/${name}` };
}

export const reportArn = (reportGroupName: string, reportId: string): string =>
  `${PREFIX}:report/${reportGroupName}:${reportId}`;
