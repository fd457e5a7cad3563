/** Bucket and key prefix of an asset location; undefined unless it is `s3://bucket/prefix`. */
export function parseS3Location(location: unknown): { bucket: string; prefix: string } | undefined {
  if (typeof location !== 'string') return undefined;
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/+(.+)$/.exec(location.trim());
  const prefix = match?.[2]?.replace(/\/+$/, '');
  if (!match?.[1] || !prefix) return undefined;
  return { bucket: match[1], prefix };
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
