/**
 * A local build's log as GetLogEvents answers it (local/build-logs.ts): found by its group and stream only, whole lines
 * only, read forward from a token that comes back unchanged at the end of the stream.
 */
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localBuildLogFile, localBuildLogGroup, readLogEvents } from '../../local/build-logs';

describe("a local build's log, as GetLogEvents", () => {
  let dir: string;
  let file: string;
  const group = localBuildLogGroup('stepline-demo-build');
  const stream = '0b6a2f8c-1f63-4b5e-9f3a-2d1c0e9b8a7f';
  const messages = async (request: Parameters<typeof readLogEvents>[1]) =>
    (await readLogEvents(file, request)).events.map((event) => event.message);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-build-logs-'));
    await mkdir(join(dir, 'builds', 'stepline-demo-build', stream), { recursive: true });
    file = join(dir, 'builds', 'stepline-demo-build', stream, 'build.log');
    await writeFile(file, 'one\ntwo\nthr');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test("is found by its project's group and its stream, and by nothing that would leave the builds' directory", () => {
    expect(localBuildLogFile(dir, group, stream)).toBe(file);
    expect(localBuildLogFile(dir, group, 'no-such-build')).toBeUndefined();
    expect(localBuildLogFile(dir, '/aws/codebuild/stepline-demo-build', stream)).toBeUndefined();
    expect(localBuildLogFile(dir, localBuildLogGroup('..'), stream)).toBeUndefined();
    expect(localBuildLogFile(dir, group, `../${stream}`)).toBeUndefined();
  });

  test('serves whole lines; a forward token reads on from where the last answer ended, and comes back at the end', async () => {
    const first = await readLogEvents(file, { logStreamName: stream, startFromHead: true });
    expect(first.events.map((event) => event.message)).toEqual(['one', 'two']);
    const atEnd = await readLogEvents(file, { logStreamName: stream, nextToken: first.nextForwardToken });
    expect(atEnd).toMatchObject({ events: [], nextForwardToken: first.nextForwardToken });

    await appendFile(file, 'ee\nfour\n');
    const more = await readLogEvents(file, { logStreamName: stream, nextToken: first.nextForwardToken });
    expect(more.events.map((event) => event.message)).toEqual(['three', 'four']);
    expect(more.nextForwardToken).not.toBe(first.nextForwardToken);
  });

  test('without startFromHead the newest `limit` lines; a backward token reads the lines before', async () => {
    const newest = await readLogEvents(file, { logStreamName: stream, limit: 2 });
    expect(newest.events.map((event) => event.message)).toEqual(['three', 'four']);
    expect(await messages({ logStreamName: stream, limit: 2, nextToken: newest.nextBackwardToken })).toEqual([
      'one',
      'two',
    ]);
    expect(await messages({ logStreamName: stream, startFromHead: true, limit: 1 })).toEqual(['one']);
  });

  test('refuses a token it did not give, as CloudWatch Logs does', async () => {
    await expect(readLogEvents(file, { logStreamName: stream, nextToken: 'nope' })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});
