/**
 * Local builds' logs as CloudWatch Logs' GetLogEvents answers them: the one reader of a local build's log file, for
 * the local endpoint (local/codebuild.ts) and for the CLI when local mode is stopped (cli/run-logs.ts). A local
 * build's log is `<codebuild dir>/builds/<project>/<stream>/build.log` (local/build-runner/runner.ts), in the log
 * group `/stepline/local/codebuild/<project>` and the stream named after the build, as on CodeBuild.
 *
 * As GetLogEvents: events oldest first from the head with `startFromHead`, else the newest `limit`; at most 10,000
 * events; a forward and a backward token always, a forward token that is passed back when the end of the stream was
 * reached, and a `nextToken` read forward from where the last answer ended
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html). A line still being
 * written (no newline yet) is not an event until it ends, as CloudWatch Logs receives whole lines.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { serviceError } from './aws-errors';

/** The log group of a local project's builds. */
export function localBuildLogGroup(project: string): string {
  return `${LOCAL_BUILD_LOG_GROUP_PREFIX}${project}`;
}

const LOCAL_BUILD_LOG_GROUP_PREFIX = '/stepline/local/codebuild/';
/** A project's name (CodeBuild's rule) and a stream's (a build's UUID): never a path of its own. */
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;
const MAX_EVENTS = 10_000;

export interface LogEventsRequest {
  readonly logGroupName?: string;
  readonly logStreamName: string;
  readonly limit?: number;
  readonly startFromHead?: boolean;
  readonly nextToken?: string;
}

export interface LogEvents {
  readonly events: { readonly timestamp: number; readonly ingestionTime: number; readonly message: string }[];
  readonly nextForwardToken: string;
  readonly nextBackwardToken: string;
}

/** Where a local build's log file is: from its group (the project) and stream; undefined when no such build ran. */
export function localBuildLogFile(codebuildDir: string, groupName: string, streamName: string): string | undefined {
  if (!groupName.startsWith(LOCAL_BUILD_LOG_GROUP_PREFIX)) return undefined;
  const project = groupName.slice(LOCAL_BUILD_LOG_GROUP_PREFIX.length);
  if (!PROJECT_NAME.test(project) || !STREAM_NAME.test(streamName)) return undefined;
  const file = join(codebuildDir, 'builds', project, streamName, 'build.log');
  return existsSync(file) ? file : undefined;
}

/** GetLogEvents over a build's log file; its events are stamped with the file's last change. */
export async function readLogEvents(logFile: string, request: LogEventsRequest): Promise<LogEvents> {
  // A build just started may not have opened its log yet: an empty stream.
  const [text, mtimeMs] = await Promise.all([
    readFile(logFile, 'utf8').catch(ifMissing('')),
    stat(logFile).then((s) => s.mtimeMs, ifMissing(Date.now())),
  ]);
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  const lines = whole ? whole.slice(0, -1).split('\n') : [];
  const limit = Math.min(request.limit ?? MAX_EVENTS, MAX_EVENTS);
  const token = request.nextToken === undefined ? undefined : tokenPosition(request.nextToken);
  let from: number;
  let to: number;
  if (token?.direction === 'b') {
    to = Math.min(token.at, lines.length);
    from = Math.max(0, to - limit);
  } else if (token) {
    from = Math.min(token.at, lines.length);
    to = Math.min(lines.length, from + limit);
  } else if (request.startFromHead) {
    from = 0;
    to = Math.min(lines.length, limit);
  } else {
    to = lines.length;
    from = Math.max(0, to - limit);
  }
  const timestamp = Math.round(mtimeMs);
  return {
    events: lines.slice(from, to).map((message) => ({ timestamp, ingestionTime: timestamp, message })),
    // At the end of the stream the token passed in comes back: `f/<next line>` is the same position.
    nextForwardToken: `f/${to}`,
    nextBackwardToken: `b/${from}`,
  };
}

function ifMissing<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === 'ENOENT') return value;
    throw error;
  };
}

function tokenPosition(token: string): { direction: 'f' | 'b'; at: number } {
  const match = /^([fb])\/(\d{1,9})$/.exec(token);
  if (!match) throw serviceError('InvalidParameterException', 'The specified nextToken is invalid.');
  return { direction: match[1] as 'f' | 'b', at: Number(match[2]) };
}
