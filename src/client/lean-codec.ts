import { LEAN_SCHEMA } from './lean-schema';

/**
 * Encodes and decodes the messages of the lean schema by walking its definitions, in protobuf's
 * wire format (varints and length-delimited fields, all these messages use): loading a protobuf
 * library and generating its code is most of what it would add to a command that runs for a
 * tenth of a second. A unit test checks both directions against the API's own encoding.
 *
 * Decoded messages are plain objects as protobufjs's `toObject` gives them: fields absent from
 * the wire are absent, enums by name, 64-bit integers as numbers, bytes as Buffers, maps as
 * objects. Fields the schema leaves out are skipped.
 */

interface FieldJson {
  type: string;
  id: number;
  rule?: string;
  keyType?: string;
}

interface Field extends FieldJson {
  name: string;
}

type Definition =
  | { kind: 'message'; fields: Field[]; byId: Map<number, Field> }
  | { kind: 'enum'; values: Record<string, number>; names: Map<number, string> };

interface NamespaceJson {
  nested?: Record<
    string,
    NamespaceJson & { fields?: Record<string, FieldJson>; values?: Record<string, number> }
  >;
}

const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_DELIMITED = 2;
const WIRE_32BIT = 5;

let definitions: Map<string, Definition> | undefined;

/** Reads protobuf's wire format from a buffer. */
class Reader {
  pos = 0;
  constructor(readonly buffer: Buffer) {}

  /** A varint of up to 64 bits, as a number (exact up to 2^53, which ids and times stay within). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.buffer[this.pos++];
      if (byte === undefined) throw new RangeError('varint past the end of the message');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new RangeError('varint of more than 10 bytes');
  }

  /** int32 and enums: a negative value is sent as the 64-bit two's complement. */
  int32(): number {
    return this.varint() | 0;
  }

  /** int64 as a number; a negative one as the 64-bit two's complement read back. */
  int64(): number {
    const value = this.varint();
    return value >= 2 ** 63 ? value - 2 ** 64 : value;
  }

  bytes(): Buffer {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.buffer.length) throw new RangeError('field past the end of the message');
    const bytes = this.buffer.subarray(this.pos, end);
    this.pos = end;
    return bytes;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_DELIMITED) this.bytes();
    else if (wire === WIRE_64BIT) this.pos += 8;
    else if (wire === WIRE_32BIT) this.pos += 4;
    else throw new RangeError(`wire type ${wire} is not read here`);
  }
}

/** Writes protobuf's wire format: parts collected, joined once. */
class Writer {
  readonly parts: Buffer[] = [];

  varint(value: number): void {
    // Negative int32 and enum values go as ten bytes of two's complement, as protobuf sends them.
    let rest = value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
    const bytes: number[] = [];
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      bytes.push(rest > 0n ? low | 0x80 : low);
    } while (rest > 0n);
    this.parts.push(Buffer.from(bytes));
  }

  delimited(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.parts.push(Buffer.from(bytes));
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function index(namespace: NamespaceJson, prefix: string, into: Map<string, Definition>): void {
  for (const [name, definition] of Object.entries(namespace.nested ?? {})) {
    const full = prefix ? `${prefix}.${name}` : name;
    if (definition.fields) {
      const fields = Object.entries(definition.fields).map(([field, json]) => ({ ...json, name: field }));
      into.set(full, { kind: 'message', fields, byId: new Map(fields.map((field) => [field.id, field])) });
    } else if (definition.values) {
      const names = new Map(Object.entries(definition.values).map(([value, number]) => [number, value]));
      into.set(full, { kind: 'enum', values: definition.values, names });
    }
    index(definition, full, into);
  }
}

function definition(name: string): Definition {
  if (!definitions) {
    definitions = new Map();
    index(LEAN_SCHEMA as NamespaceJson, '', definitions);
  }
  const found = definitions.get(name);
  if (!found) throw new Error(`${name} is not in the lean schema`);
  return found;
}

function message(name: string) {
  const found = definition(name);
  if (found.kind !== 'message') throw new Error(`${name} is not a message`);
  return found;
}

const SCALAR_WIRE: Record<string, number> = {
  string: WIRE_DELIMITED,
  bytes: WIRE_DELIMITED,
  bool: WIRE_VARINT,
  int32: WIRE_VARINT,
  int64: WIRE_VARINT,
};

function write(writer: Writer, type: string, value: object): void {
  for (const field of message(type).fields) {
    const item = (value as Record<string, unknown>)[field.name];
    if (item === undefined || item === null) continue;
    if (field.rule === 'repeated' || field.keyType)
      throw new Error(`${type}.${field.name}: not written here`);
    const scalar = SCALAR_WIRE[field.type];
    const kind = scalar === undefined ? definition(field.type).kind : 'scalar';
    const wire = scalar ?? (kind === 'enum' ? WIRE_VARINT : WIRE_DELIMITED);
    writer.varint(field.id * 8 + wire);
    if (kind === 'message') {
      const nested = new Writer();
      write(nested, field.type, item as object);
      writer.delimited(nested.finish());
    } else if (kind === 'enum') {
      const values = (definition(field.type) as { values: Record<string, number> }).values;
      writer.varint(typeof item === 'string' ? values[item]! : (item as number));
    } else if (field.type === 'string') writer.delimited(Buffer.from(item as string, 'utf8'));
    else if (field.type === 'bytes') writer.delimited(item as Uint8Array);
    else if (field.type === 'bool') writer.varint(item ? 1 : 0);
    else writer.varint(item as number);
  }
}

function read(reader: Reader, type: string, end: number): Record<string, unknown> {
  const { byId } = message(type);
  const result: Record<string, unknown> = {};
  while (reader.pos < end) {
    const tag = reader.varint();
    const field = byId.get(Math.floor(tag / 8));
    const wire = tag % 8;
    if (!field || wire !== expectedWire(field)) {
      reader.skip(wire);
      continue;
    }
    if (field.keyType) {
      const entry = readMapEntry(reader);
      ((result[field.name] ??= {}) as Record<string, unknown>)[entry.key] = entry.value;
    } else if (field.rule === 'repeated') {
      ((result[field.name] ??= []) as unknown[]).push(readValue(reader, field.type));
    } else {
      result[field.name] = readValue(reader, field.type);
    }
  }
  return result;
}

function expectedWire(field: Field): number {
  if (field.keyType) return WIRE_DELIMITED;
  return SCALAR_WIRE[field.type] ?? (definition(field.type).kind === 'enum' ? WIRE_VARINT : WIRE_DELIMITED);
}

function readValue(reader: Reader, type: string): unknown {
  switch (type) {
    case 'string':
      return reader.bytes().toString('utf8');
    case 'bytes':
      return Buffer.from(reader.bytes());
    case 'bool':
      return reader.varint() !== 0;
    case 'int32':
      return reader.int32();
    case 'int64':
      return reader.int64();
  }
  const found = definition(type);
  if (found.kind === 'enum') {
    const number = reader.int32();
    return found.names.get(number) ?? number;
  }
  const length = reader.varint();
  const end = reader.pos + length;
  if (end > reader.buffer.length) throw new RangeError(`${type} past the end of the message`);
  const value = read(reader, type, end);
  reader.pos = end;
  return value;
}

/** An entry of a map<string, bytes> (the schema's one kind of map): key 1, value 2. */
function readMapEntry(reader: Reader): { key: string; value: Buffer } {
  const entry = reader.bytes();
  const fields = new Reader(entry);
  let key = '';
  let value = Buffer.alloc(0);
  while (fields.pos < entry.length) {
    const tag = fields.varint();
    if (tag === 1 * 8 + WIRE_DELIMITED) key = fields.bytes().toString('utf8');
    else if (tag === 2 * 8 + WIRE_DELIMITED) value = Buffer.from(fields.bytes());
    else fields.skip(tag % 8);
  }
  return { key, value };
}

/** The wire bytes of a message of the lean schema, from a plain object (enums by name or number). */
export function encodeMessage(type: string, value: object): Buffer {
  const writer = new Writer();
  write(writer, type, value);
  return writer.finish();
}

/** A message of the lean schema, decoded into a plain object. */
export function decodeMessage<T>(type: string, bytes: Uint8Array): T {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return read(new Reader(buffer), type, buffer.length) as T;
}
