/** The bucket that build stages upload their artifacts to, with its server access log bucket. */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ArtifactStoreProps {
  /**
   * Customer managed key for the artifact bucket. The access log bucket always uses S3-managed keys,
   * the only encryption S3 server access logging can deliver to.
   * @default - S3-managed keys (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long noncurrent versions of an artifact are kept.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * What happens to both buckets when they leave the stack.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (kept, except when their first create rolls back)
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class ArtifactStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy,
    } satisfies s3.BucketProps;

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // No ACLs: S3 log delivery is authorised by a bucket policy (@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy).
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server access log destination of the artifact bucket; logging its own access would need a further log bucket without end.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...common,
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [{ noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(90) }],
    });
  }
}
