/**
 * A failed conditional write on AWS hands back the item it found (`ReturnValuesOnConditionCheckFailure:
 * 'ALL_OLD'`), in DynamoDB's attribute-value form: the document client does not convert errors
 * (aws/aws-sdk-js-v3#6723). dynalite never returns the item, so a loopback endpoint answers here as
 * DynamoDB does (JSON 1.0 protocol: `__type`, `message`, and `Item` for this exception), and the real
 * SDK and the real store read it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RunAlreadyExistsError } from '../../core/errors';
import { RunStore } from '../../store/run-store';
import { queuedRun } from '../support/records';

describe('RunStore when DynamoDB returns the existing item with a failed condition', () => {
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  let server: Server;
  let store: RunStore;
  const existing = { ...queuedRun(), status: 'RUNNING' as const, startedAt: '2026-11-25T09:00:02.000Z' };

  beforeAll(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        requests.push({ target: String(request.headers['x-amz-target']), body: JSON.parse(text) });
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
            message: 'The conditional request failed',
            Item: {
              pk: { S: `RUN#${existing.runId}` },
              sk: { S: 'RUN' },
              ...Object.fromEntries(Object.entries(existing).map(([name, value]) => [name, { S: String(value) }])),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    store = new RunStore(client, 'runs');
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('hands back the existing run as a plain record, without reading it again', async () => {
    const duplicate = store.createRun(queuedRun());

    await expect(duplicate).rejects.toBeInstanceOf(RunAlreadyExistsError);
    await expect(duplicate).rejects.toMatchObject({ existing: { runId: existing.runId, status: 'RUNNING' } });
    expect(requests).toEqual([
      {
        target: 'DynamoDB_20120810.PutItem',
        body: expect.objectContaining({
          TableName: 'runs',
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      },
    ]);
  });

  it('takes a repeated transition as done from the item the failed condition returned, without reading it again', async () => {
    requests.length = 0;
    const again = await store.transitionRun(existing.runId, 'RUNNING', { startedAt: 'later' });

    expect(again).toMatchObject({ runId: existing.runId, status: 'RUNNING', startedAt: existing.startedAt });
    expect(requests).toEqual([
      {
        target: 'DynamoDB_20120810.UpdateItem',
        body: expect.objectContaining({ TableName: 'runs', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      },
    ]);
  });
});
