import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { mapWithConcurrency } from '../concurrency';
import { parseS3Url, s3Url } from '../storage/s3-url';

/** Subjects of the demo lab and the project each belongs to. */
const SUBJECTS = [
  { subject_id: '741213', project_name: 'Dynamic Foraging', sex: 'Female' },
  { subject_id: '741214', project_name: 'Dynamic Foraging', sex: 'Male' },
  { subject_id: '702345', project_name: 'Ephys Platform', sex: 'Male' },
];
const MODALITIES = [
  { prefix: 'behavior', abbreviation: 'behavior', name: 'Behavior' },
  { prefix: 'ecephys', abbreviation: 'ecephys', name: 'Extracellular electrophysiology' },
];
const FIRST_SESSION = Date.UTC(2024, 2, 1, 10, 0, 0);
const DAY_MS = 24 * 3600 * 1000;

export interface DemoAsset {
  _id: string;
  name: string;
  location: string;
  created: string;
  subject: { subject_id: string; sex: string };
  data_description: {
    project_name: string;
    modality: Array<{ abbreviation: string; name: string }>;
    data_level: string;
  };
  session: { session_start_time: string; rig_id: string };
}

export interface DemoObject {
  key: string;
  body: string | Uint8Array;
  contentType: string;
}

/**
 * `count` processed assets: every day one behavior and one ecephys session per subject, named the
 * AIND way (`behavior_741213_2024-03-01_10-00-00_processed_2024-03-02_08-30-00`). The default 36
 * cover six days. Everything derives from the index, so seeding twice gives the same catalogue.
 */
export function demoAssets(bucket: string, count = 36): DemoAsset[] {
  const perDay = SUBJECTS.length * MODALITIES.length;
  return Array.from({ length: count }, (_, index) => {
    const subject = SUBJECTS[index % SUBJECTS.length]!;
    const modality = MODALITIES[Math.floor(index / SUBJECTS.length) % MODALITIES.length]!;
    const session = new Date(FIRST_SESSION + Math.floor(index / perDay) * DAY_MS);
    const processed = new Date(session.getTime() + DAY_MS - 90 * 60 * 1000);
    const name = `${modality.prefix}_${subject.subject_id}_${stamp(session)}_processed_${stamp(processed)}`;
    return {
      _id: uuidFrom(name),
      name,
      location: s3Url(bucket, name),
      created: processed.toISOString(),
      subject: { subject_id: subject.subject_id, sex: subject.sex },
      data_description: {
        project_name: subject.project_name,
        modality: [{ abbreviation: modality.abbreviation, name: modality.name }],
        data_level: 'derived',
      },
      session: { session_start_time: session.toISOString(), rig_id: `rig-${1 + (index % 4)}` },
    };
  });
}

/** Files under an asset's prefix: a units table, lick times, session metadata and an NWB stand-in. */
export function demoObjects(asset: DemoAsset): DemoObject[] {
  const random = seededRandom(asset.name);
  const prefix = parseS3Url(asset.location)!.key;
  const units = Array.from({ length: 16 + Math.floor(random() * 9) }, (_, unit) =>
    [
      unit,
      (-Math.log(1 - random()) * 0.4).toFixed(4),
      (0.05 + random() * 25).toFixed(3),
      (0.55 + random() * 0.45).toFixed(3),
    ].join(','),
  );
  const licks: number[] = [];
  for (let time = random() * 2; time < 600; time += 0.1 + -Math.log(1 - random()) * 1.5)
    licks.push(round(time));
  const nwb = new Uint8Array(512);
  nwb.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]); // the HDF5 signature NWB files start with
  for (let i = 8; i < nwb.length; i++) nwb[i] = Math.floor(random() * 256);
  return [
    {
      key: `${prefix}/spikes/units.csv`,
      body: ['unit_id,isi_violations,firing_rate,presence_ratio', ...units].join('\n') + '\n',
      contentType: 'text/csv',
    },
    {
      key: `${prefix}/behavior/licks.json`,
      body: JSON.stringify({ lick_times: licks }),
      contentType: 'application/json',
    },
    {
      key: `${prefix}/metadata/session.json`,
      body: JSON.stringify(
        { name: asset.name, subject_id: asset.subject.subject_id, ...asset.session },
        null,
        2,
      ),
      contentType: 'application/json',
    },
    { key: `${prefix}/nwb/${asset.name}.nwb`, body: nwb, contentType: 'application/x-hdf5' },
  ];
}

export interface SeedOptions {
  db: Db;
  s3: S3Client;
  assetsCollection: string;
  bucket: string;
  count?: number;
  /** Parallel S3 puts. */
  concurrency?: number;
}

/**
 * Loads the demo catalogue; idempotent. Assets are replaced in bulk (one delete of their ids, then
 * batched inserts) rather than upserted one by one, which FerretDB makes slow for large counts.
 */
export async function seedDemo({
  db,
  s3,
  assetsCollection,
  bucket,
  count = 36,
  concurrency = 64,
}: SeedOptions) {
  const assets = demoAssets(bucket, count);
  const collection = db.collection<DemoAsset>(assetsCollection);
  for (let start = 0; start < assets.length; start += 1000) {
    const batch = assets.slice(start, start + 1000);
    await collection.deleteMany({ _id: { $in: batch.map((asset) => asset._id) } });
    await collection.insertMany(batch);
  }
  const objects = assets.flatMap(demoObjects);
  await mapWithConcurrency(objects, concurrency, (object) =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
      }),
    ),
  );
  return { assets: assets.length, objects: objects.length };
}

function stamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '-');
}

/** A stable UUID-shaped id, as the AIND catalogue's ids are UUIDs. */
function uuidFrom(name: string): string {
  const hex = createHash('sha1').update(`demo:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** mulberry32 seeded from the asset name: plausible values, the same on every run. */
function seededRandom(seed: string): () => number {
  let state = createHash('sha1').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
