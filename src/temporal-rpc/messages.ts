import type * as Protobuf from 'protobufjs/light';
import subset from './workflow-service.json';

/**
 * The WorkflowService messages `status` sends and reads, encoded by protobufjs from descriptors
 * taken out of the SDK's own (workflow-service.json, written by
 * scripts/workflow-service-subset.ts). The SDK's client builds descriptors for the whole API on
 * start, a third of a second; these few build in milliseconds.
 *
 * Decoded messages are plain objects: fields absent from the wire are absent, enums by name,
 * 64-bit integers as numbers, bytes as Buffers, maps as objects. Fields not in the subset (all a
 * response carries beyond what `status` reads) are skipped.
 */

// protobufjs's light build as the package ships it in one file: it loads in a fifth of the time
// its 42 separate modules take (9 ms against 45 here), most of what `status` adds to Node's start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Root } = require('protobufjs/dist/light/protobuf.min.js') as typeof Protobuf;

let root: Protobuf.Root | undefined;

function messageType(name: string): Protobuf.Type {
  root ??= Root.fromJSON(subset);
  return root.lookupType(name);
}

export function encodeMessage(name: string, value: object): Uint8Array {
  const type = messageType(name);
  return type.encode(type.fromObject(value)).finish();
}

export function decodeMessage<T>(name: string, bytes: Uint8Array): T {
  const type = messageType(name);
  return type.toObject(type.decode(bytes), { enums: String, longs: Number }) as T;
}
