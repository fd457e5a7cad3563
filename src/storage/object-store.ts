import { DeleteObjectsCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../concurrency';
import { listObjects, type ListedObject } from './s3';

/** S3 takes at most this many keys in one delete. */
const KEYS_PER_DELETE = 1000;

/** The few object operations a task's commit needs: small enough to fake in a unit test. */
export interface ObjectStore {
  /** An object's text, or undefined when there is no such object. */
  readText(bucket: string, key: string): Promise<string | undefined>;
  list(bucket: string, prefix: string): Promise<ListedObject[]>;
  remove(bucket: string, keys: string[]): Promise<void>;
}

export function s3ObjectStore(s3: S3Client): ObjectStore {
  return {
    async readText(bucket, key) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await object.Body?.transformToString();
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },

    async list(bucket, prefix) {
      const objects: ListedObject[] = [];
      for await (const object of listObjects(s3, bucket, prefix)) objects.push(object);
      return objects;
    },

    async remove(bucket, keys) {
      const batches: string[][] = [];
      for (let start = 0; start < keys.length; start += KEYS_PER_DELETE)
        batches.push(keys.slice(start, start + KEYS_PER_DELETE));
      await mapWithConcurrency(batches, 4, async (batch) => {
        const answer = await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = answer.Errors ?? [];
        if (failed.length > 0)
          throw new Error(
            `${failed.length} objects could not be removed, e.g. ${failed[0]?.Key}: ${failed[0]?.Message}`,
          );
      });
    },
  };
}
