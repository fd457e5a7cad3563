import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Collection } from 'mongodb';

/** The few fields the same-work anchor writes: a record as small as a task's can be. */
export interface AnchorRecord {
  _id: string;
  location: string;
  created: Date;
}

export interface AnchorStores {
  /** The records collection the dispatch worker writes its task records to. */
  records: Collection<AnchorRecord>;
  s3: S3Client;
  bucket: string;
}

/** Resolves when `program` exits 0: spawned and waited for, as a run waits for its analysis. */
function run(program: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${program} exited ${code ?? signal}`)),
    );
  });
}

/**
 * The baseline worker's activities, over the clients that worker builds once. The same-work ones
 * do by hand what a run of a command analysis does, with none of the project's code in between.
 */
export function createBaselineActivities({ records, s3, bucket }: AnchorStores) {
  const folder = (id: string) => `anchor/${id}`;
  return {
    /** Nothing to do, so its cost is Temporal's round trip alone. */
    async noop(): Promise<void> {},
    /** Writes the time it started (ms since the epoch) to `path`: when the work itself began. */
    async stamp(path: string): Promise<void> {
      await writeFile(path, `${Date.now()}\n`);
    },
    /** The duplicate check: is there a record of this unit of work already? */
    async findRecord(id: string): Promise<boolean> {
      return (await records.findOne({ _id: id }, { projection: { _id: 1, location: 1 } })) !== null;
    },
    async runTrue(): Promise<void> {
      await run('true');
    },
    /** A result file and the metadata beside it. */
    async putResults(id: string): Promise<void> {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${folder(id)}/result.txt`, Body: `${id}\n` }),
      );
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${folder(id)}/metadata.json`,
          Body: JSON.stringify({ id, files: ['result.txt'] }),
          ContentType: 'application/json',
        }),
      );
    },
    async insertRecord(id: string): Promise<void> {
      await records.insertOne({ _id: id, location: `s3://${bucket}/${folder(id)}`, created: new Date() });
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
