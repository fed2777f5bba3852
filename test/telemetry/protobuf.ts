// Just enough of the protobuf wire format to read what an OTLP/HTTP-protobuf exporter sends: no
// OpenTelemetry .proto files ship in the npm packages we use (design: "Versions and facts that
// bite"), and a test only needs to walk a few nested messages and read their strings.

/** A decoded message: each field number with its values, as raw bytes (length-delimited) or numbers. */
export type Fields = Map<number, (Uint8Array | bigint)[]>;

function varint(buf: Uint8Array, at: { i: number }): bigint {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (at.i >= buf.length) throw new Error('protobuf: truncated varint');
    const b = buf[at.i++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

/** Decodes one message's fields (it does not know the schema: nested messages stay bytes). */
export function decode(buf: Uint8Array): Fields {
  const fields: Fields = new Map();
  const at = { i: 0 };
  while (at.i < buf.length) {
    const key = varint(buf, at);
    const field = Number(key >> 3n);
    let value: Uint8Array | bigint;
    switch (Number(key & 7n)) {
      case 0:
        value = varint(buf, at);
        break;
      case 1:
        value = buf.subarray(at.i, at.i + 8);
        at.i += 8;
        break;
      case 2: {
        const len = Number(varint(buf, at));
        value = buf.subarray(at.i, at.i + len);
        at.i += len;
        break;
      }
      case 5:
        value = buf.subarray(at.i, at.i + 4);
        at.i += 4;
        break;
      default:
        throw new Error(`protobuf: unsupported wire type in key ${key}`);
    }
    if (at.i > buf.length) throw new Error('protobuf: truncated field');
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

/** The nested messages at a path of field numbers, e.g. [1, 2, 2] for every span of a request. */
export function messages(buf: Uint8Array, path: number[]): Fields[] {
  let level = [decode(buf)];
  for (const field of path) {
    level = level.flatMap((m) => (m.get(field) ?? []).filter((v) => v instanceof Uint8Array).map((v) => decode(v)));
  }
  return level;
}

/** A string field's value. */
export function str(m: Fields, field: number): string | undefined {
  const v = m.get(field)?.[0];
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined;
}

/** The attributes (KeyValue, field `field`) of a message whose values are strings. */
export function stringAttributes(m: Fields, field: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of m.get(field) ?? []) {
    if (!(kv instanceof Uint8Array)) continue;
    const pair = decode(kv);
    const value = pair.get(2)?.[0];
    const s = value instanceof Uint8Array ? str(decode(value), 1) : undefined; // AnyValue.string_value
    const key = str(pair, 1);
    if (key !== undefined && s !== undefined) out[key] = s;
  }
  return out;
}
