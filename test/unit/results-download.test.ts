import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ListObjectsV2Command, type GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { downloadRecord } from '../../src/client/results/download';
import type { AnalysisRecord } from '../../src/types';

/** Lists and reads objects of one bucket from memory, one key per list page to exercise paging. */
function fakeBucket(objects: Record<string, string>): S3Client {
  return {
    async send(command: ListObjectsV2Command | GetObjectCommand) {
      if (command instanceof ListObjectsV2Command) {
        const keys = Object.keys(objects)
          .filter((key) => key.startsWith(command.input.Prefix ?? ''))
          .sort();
        const start = Number(command.input.ContinuationToken ?? 0);
        const more = start + 1 < keys.length;
        return {
          Contents: keys.slice(start, start + 1).map((Key) => ({ Key })),
          IsTruncated: more,
          NextContinuationToken: String(start + 1),
        };
      }
      return { Body: Readable.from([Buffer.from(objects[command.input.Key!]!)]) };
    },
  } as unknown as S3Client;
}

const record = (id: string) => ({ _id: id, location: `s3://bucket/results/${id}` }) as AnalysisRecord;

describe('results-download', () => {
  test('downloadRecord keeps relative paths and refuses keys that would escape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-download-'));
    const s3 = fakeBucket({
      'results/h1/metadata.nd.json': '{}',
      'results/h1/plots/a.png': 'png',
      'results/h1/../../escape.txt': 'no',
      'results/h10/other.txt': 'not this record',
    });
    const result = await downloadRecord(s3, record('h1'), dir);
    assert.equal(result.files, 2);
    assert.deepEqual(result.refused, ['results/h1/../../escape.txt']);
    assert.equal(readFileSync(join(dir, 'h1', 'plots', 'a.png'), 'utf8'), 'png');
    assert.ok(!existsSync(join(dir, 'escape.txt')) && !existsSync(join(dir, '..', 'escape.txt')));
    assert.ok(!existsSync(join(dir, 'h1', 'other.txt')));
  });

  test('downloadRecord refuses a record id that is not a folder name', async () => {
    await assert.rejects(
      downloadRecord(fakeBucket({}), record('../up'), '/tmp/x'),
      /not usable as a folder name/,
    );
  });
});
