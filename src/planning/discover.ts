import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import { mapWithConcurrency } from './pool';
import { parseS3Location, s3Url } from './s3-url';

/**
 * Files under each `s3://bucket/prefix` location whose key ends with `extension`, at any depth,
 * as sorted `s3://` URLs. Prefixes are listed side by side (the original dispatcher listed them one
 * after another, its known slowness); each listing follows its continuation tokens.
 */
export async function discoverFiles(
  s3: S3Client,
  locations: string[],
  extension: string,
  concurrency = 32,
  onListed: () => void = () => undefined,
): Promise<Map<string, string[]>> {
  const unique = [...new Set(locations)];
  const found = await mapWithConcurrency(unique, concurrency, async (location) => {
    const urls = await listMatching(s3, location, extension);
    onListed();
    return urls;
  });
  return new Map(unique.map((location, index) => [location, found[index] ?? []]));
}

async function listMatching(s3: S3Client, location: string, extension: string): Promise<string[]> {
  const parsed = parseS3Location(location);
  if (!parsed) throw new InputError(`asset location ${location} is not s3://bucket/prefix`);
  const { bucket, prefix } = parsed;
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await listPage(s3, bucket, `${prefix}/`, token);
    for (const { Key } of page.Contents ?? []) {
      // A key ending in "/" is a folder marker, never a file.
      if (Key && !Key.endsWith('/') && Key.endsWith(extension)) urls.push(s3Url(bucket, Key));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return urls.sort();
}

async function listPage(s3: S3Client, bucket: string, prefix: string, token: string | undefined) {
  try {
    return await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
  } catch (err) {
    // A missing bucket will not appear on retry; anything else (throttling, network) might pass.
    if ((err as Error).name === 'NoSuchBucket') {
      throw new InputError(`bucket ${bucket} (of asset location s3://${bucket}/${prefix}) does not exist`);
    }
    throw err;
  }
}
