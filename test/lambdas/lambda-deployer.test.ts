/**
 * lambdas/adapters/lambda-deployer.ts's code update against mocked Lambda and S3 clients (local mode's Lambda takes
 * artifact directories and there is no local S3): a function in the artifact bucket's Region takes the artifact by its
 * location, a function in another Region takes its bytes, read from the bucket's Region; an artifact above Lambda's
 * direct upload limit stops the release before the function is touched.
 */
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionCodeCommand,
  type UpdateFunctionCodeCommandInput,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ArtifactTooLargeForUploadError, ArtifactUnreadableError } from '../../core/deployment/errors';
import { DIRECT_UPLOAD_LIMIT_BYTES, LambdaDeployer } from '../../lambdas/adapters/lambda-deployer';

const ARTIFACT = 's3://stepline-artifacts-1a2b/web/web-build-3f9c/artifact.zip';
const CREDENTIALS = { accessKeyId: 'A', secretAccessKey: 'S' };

/** An S3 response body as the SDK hands it: read once with transformToByteArray, or destroyed unread. */
class ObjectBody {
  read = false;
  destroyed = false;
  constructor(private readonly bytes: Uint8Array) {}
  async transformToByteArray(): Promise<Uint8Array> {
    this.read = true;
    return this.bytes;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function objectAnswer(body: ObjectBody, contentLength: number | undefined): GetObjectCommandOutput {
  return { $metadata: {}, ContentLength: contentLength, Body: body as unknown as GetObjectCommandOutput['Body'] };
}

describe('LambdaDeployer.updateCode: where the function takes its code from', () => {
  const lambdaMock = mockClient(LambdaClient);
  const s3Mock = mockClient(S3Client);
  beforeEach(() => {
    lambdaMock.on(UpdateFunctionCodeCommand).resolves({});
    lambdaMock.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful' });
  });
  afterEach(() => {
    lambdaMock.reset();
    s3Mock.reset();
  });

  const updates = (): UpdateFunctionCodeCommandInput[] =>
    lambdaMock.commandCalls(UpdateFunctionCodeCommand).map((call) => call.args[0].input);

  it("gives a function in the bucket's Region the artifact's location, and reads nothing itself", async () => {
    const deployer = new LambdaDeployer(new LambdaClient({ region: 'eu-west-1', credentials: CREDENTIALS }), {
      artifacts: new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS }),
    });
    await deployer.updateCode('web', ARTIFACT);
    expect(updates()).toEqual([
      { FunctionName: 'web', S3Bucket: 'stepline-artifacts-1a2b', S3Key: 'web/web-build-3f9c/artifact.zip' },
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("gives a function in another Region the artifact's bytes, read from the bucket's Region", async () => {
    const bytes = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5]);
    const body = new ObjectBody(bytes);
    s3Mock.on(GetObjectCommand).resolves(objectAnswer(body, bytes.length));
    const artifacts = new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS });
    const deployer = new LambdaDeployer(new LambdaClient({ region: 'us-east-1', credentials: CREDENTIALS }), {
      artifacts,
    });
    await deployer.updateCode('web', ARTIFACT);

    const reads = s3Mock.commandCalls(GetObjectCommand);
    expect(reads.map((call) => call.args[0].input)).toEqual([
      { Bucket: 'stepline-artifacts-1a2b', Key: 'web/web-build-3f9c/artifact.zip' },
    ]);
    expect(await artifacts.config.region()).toBe('eu-west-1');
    expect(updates()).toEqual([{ FunctionName: 'web', ZipFile: bytes }]);
    // The update went to the function's Region: the deployer's one Lambda client.
    expect(
      await (lambdaMock.commandCalls(UpdateFunctionCodeCommand)[0]!.thisValue as LambdaClient).config.region(),
    ).toBe('us-east-1');
    expect(body.read).toBe(true);
  });

  it('stops a release into another Region whose artifact is above the direct upload limit, before the function is touched', async () => {
    const body = new ObjectBody(new Uint8Array());
    s3Mock.on(GetObjectCommand).resolves(objectAnswer(body, DIRECT_UPLOAD_LIMIT_BYTES + 1));
    const deployer = new LambdaDeployer(new LambdaClient({ region: 'us-east-1', credentials: CREDENTIALS }), {
      artifacts: new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS }),
    });
    const update = deployer.updateCode('web', ARTIFACT);
    await expect(update).rejects.toThrow(ArtifactTooLargeForUploadError);
    await expect(update).rejects.toThrow(
      `the artifact ${ARTIFACT} is 50000001 bytes, and web is in us-east-1, not in the artifact bucket's Region eu-west-1: ` +
        "Lambda takes code from an S3 bucket only in the function's own Region, and an uploaded zip of at most 50000000 bytes; " +
        'release within eu-west-1, or keep the artifact under 50000000 bytes',
    );
    expect(body.read).toBe(false);
    expect(body.destroyed).toBe(true);
    expect(lambdaMock.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0);
  });

  it('uploads an artifact of exactly the limit', async () => {
    const body = new ObjectBody(new Uint8Array([1]));
    s3Mock.on(GetObjectCommand).resolves(objectAnswer(body, DIRECT_UPLOAD_LIMIT_BYTES));
    const deployer = new LambdaDeployer(new LambdaClient({ region: 'us-east-1', credentials: CREDENTIALS }), {
      artifacts: new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS }),
    });
    await deployer.updateCode('web', ARTIFACT);
    expect(updates()).toEqual([{ FunctionName: 'web', ZipFile: new Uint8Array([1]) }]);
  });

  it('refuses an answer without a size, before the function is touched', async () => {
    s3Mock.on(GetObjectCommand).resolves(objectAnswer(new ObjectBody(new Uint8Array([1])), undefined));
    const deployer = new LambdaDeployer(new LambdaClient({ region: 'us-east-1', credentials: CREDENTIALS }), {
      artifacts: new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS }),
    });
    await expect(deployer.updateCode('web', ARTIFACT)).rejects.toThrow(ArtifactUnreadableError);
    expect(lambdaMock.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0);
  });
});
