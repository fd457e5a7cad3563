import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';

/** S3 client from the standard AWS settings; a custom endpoint implies path-style addressing. */
export function createS3(config: Config): S3Client {
  return new S3Client({
    region: config.AWS_REGION,
    ...(config.AWS_ENDPOINT_URL_S3 ? { endpoint: config.AWS_ENDPOINT_URL_S3, forcePathStyle: true } : {}),
  });
}

export interface ListedObject {
  key: string;
  size: number;
}

/** Every object under `prefix`, page after page: one listing returns at most 1,000 keys. */
export async function* listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedObject> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) if (item.Key) yield { key: item.Key, size: item.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** A listed object with what identifies its content: ETag (without quotes) and size. */
export interface ListedObjectFacts extends ListedObject {
  etag?: string;
}

/**
 * One page of at most `maxKeys` objects under `prefix` that sort after `startAfter`, for a walk
 * that decides where its next page starts; `truncated` says whether keys remain past this page.
 * Each object comes with its ETag and size, which the listing returns anyway.
 */
export async function listObjectsAfter(
  s3: S3Client,
  page: { bucket: string; prefix: string; startAfter: string; maxKeys: number },
): Promise<{ objects: ListedObjectFacts[]; truncated: boolean }> {
  const listed = await s3.send(
    new ListObjectsV2Command({
      Bucket: page.bucket,
      Prefix: page.prefix,
      StartAfter: page.startAfter,
      MaxKeys: page.maxKeys,
    }),
  );
  const objects = (listed.Contents ?? []).flatMap((item) =>
    item.Key ? [{ key: item.Key, size: item.Size ?? 0, ...etagOf(item.ETag) }] : [],
  );
  return { objects, truncated: listed.IsTruncated === true };
}

/** S3 quotes ETags; the quotes say nothing. */
function etagOf(etag: string | undefined): { etag?: string } {
  return etag ? { etag: etag.replace(/^"|"$/g, '') } : {};
}
