import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { splitBucketPath } from '../config';
import { InputError } from '../errors';
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
      throw err;
    }
  }
}
