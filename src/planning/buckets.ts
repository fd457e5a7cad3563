import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import { splitBucketPath } from '../storage/s3-url';
import type { AnalysisSpec } from '../types';

/** Fails before anything runs when an output bucket is missing, instead of in every task's upload. */
export async function checkOutputBuckets(s3: S3Client, specs: AnalysisSpec[]): Promise<void> {
  const buckets = [
    ...new Set(
      specs.flatMap((spec) => (spec.s3_output_bucket ? [splitBucketPath(spec.s3_output_bucket).bucket] : [])),
    ),
  ];
  for (const bucket of buckets) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchBucket') {
        throw new InputError(`output bucket ${bucket} (s3_output_bucket) does not exist`);
      }
      // Still a plain (retryable) error: S3 may be back in a moment. The SDK's own message, such as
      // "connect ECONNREFUSED 127.0.0.1:7070", does not say which service it could not reach.
      throw new Error(`cannot reach S3 to check output bucket ${bucket}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
