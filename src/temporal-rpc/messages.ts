import { Root, type Type } from 'protobufjs/light';
import subset from './workflow-service.json';

/**
 * The WorkflowService messages `status` sends and reads, encoded by protobufjs from descriptors
 * taken out of the SDK's own (workflow-service.json, written by
 * scripts/workflow-service-subset.ts). The SDK's client builds descriptors for the whole API on
 * start, a third of a second; these few build in milliseconds, with protobufjs's light build.
 *
 * Decoded messages are plain objects: fields absent from the wire are absent, enums by name,
 * 64-bit integers as numbers, bytes as Buffers, maps as objects. Fields not in the subset (all a
 * response carries beyond what `status` reads) are skipped.
 */

let root: Root | undefined;

function messageType(name: string): Type {
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
