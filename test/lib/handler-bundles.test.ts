/**
 * The bundles the platform's functions run as: built by `platformFunction` (lib/platform-function.ts), as
 * `cdk synth` builds them, and loaded. Lambda reports a thrown error's `name` as its errorType, which
 * Step Functions' Retry/Catch and the decision endpoint match; a minifier that renames classes would
 * turn `ControlRefusedError` into two letters.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { platformFunction } from '../../lib/platform-function';

describe('a platform function bundle', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'stepline-bundle-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('keeps the class names of the errors it throws, which Lambda reports as errorType', async () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundleTest');
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    platformFunction(
      stack,
      {
        entry: 'test/lib/fixtures/throws-domain-error.ts',
        id: 'Thrower',
        localName: 'stepline-thrower',
        description: 'test',
        timeoutSeconds: 3,
        settings: [],
        invokedBy: [],
        grants: [],
      },
      {
        table,
        sourceBus: events.EventBus.fromEventBusName(stack, 'Bus', 'bus'),
        deadLetterQueue: new sqs.Queue(stack, 'Failed'),
      },
    );
    app.synth();
    // The stack has one function, so the assembly holds one bundle.
    const [asset] = readdirSync(outdir).filter((name) => existsSync(join(outdir, name, 'index.js')));
    const bundle = join(outdir, asset!, 'index.js');

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle) as { handler: (event: unknown) => Promise<unknown> };
    const thrown = await handler({ runId: 'r-1' }).catch((error: unknown) => error as Error);

    expect(thrown).toMatchObject({ name: 'RunNotFoundError', message: 'run r-1 does not exist' });
  });
});
