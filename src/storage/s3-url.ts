/**
 * The grammar of `s3://` URLs and of `bucket/prefix` paths. No SDK here: configuration and
 * planning read these without loading the AWS client.
 */

/** S3's rule for bucket names: 3 to 63 lower-case letters, digits, dots and hyphens. */
const BUCKET_NAME = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';

/** `bucket` or `bucket/prefix`, without a scheme: ANALYSIS_BUCKET and `s3_output_bucket`. */
export const BUCKET_PATH = new RegExp(`^${BUCKET_NAME}(\\/[^\\s]*)?$`);

const ASSET_LOCATION = new RegExp(`^s3:\\/\\/(${BUCKET_NAME})\\/+(.+)$`);

export interface S3Address {
  bucket: string;
  /** Empty for the bucket itself. */
  key: string;
}

/** `s3://bucketPath/key`; the bucket may carry a prefix (`results/2024`). */
export function s3Url(bucketPath: string, key: string): string {
  return `s3://${bucketPath}/${key}`;
}

/** Bucket and key of `s3://bucket/key`; undefined for anything that is not an s3:// URL. */
export function parseS3Url(url: string): S3Address | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/**
 * Bucket and key prefix of an asset's location, trimmed and without trailing slashes; undefined
 * unless it is `s3://bucket/prefix` with a valid bucket name (an asset is never a whole bucket).
 */
export function parseAssetLocation(location: unknown): { bucket: string; prefix: string } | undefined {
  if (typeof location !== 'string') return undefined;
  const match = ASSET_LOCATION.exec(location.trim());
  const prefix = match?.[2]?.replace(/\/+$/, '');
  if (!match?.[1] || !prefix) return undefined;
  return { bucket: match[1], prefix };
}

/** `bucket/prefix` split in two; the prefix has no leading or trailing slash. */
export function splitBucketPath(path: string): { bucket: string; prefix: string } {
  const [bucket = '', ...rest] = path.split('/');
  return { bucket, prefix: rest.join('/').replace(/^\/+|\/+$/g, '') };
}

/**
 * What lies under `path` as under a folder: `path/`, whatever slashes `path` (a key or a URL)
 * ends with; an empty key stays empty, the whole bucket.
 */
export function folderPrefix(path: string): string {
  return path === '' ? '' : `${path.replace(/\/+$/, '')}/`;
}
