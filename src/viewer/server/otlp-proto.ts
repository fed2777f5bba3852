// OTLP's protobuf definitions, read at run time from proto/opentelemetry/ (copied unchanged from
// open-telemetry/opentelemetry-proto; see its README for why and which version). Loaded on first
// use only: a viewer fed OTLP/JSON never pays for them.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExportTraceServiceRequest } from '../../traces/otlp.js';
import { OtlpError } from '../../traces/otlp.js';

/** The project's proto/ folder (holding opentelemetry/proto/...), found above this file (sources and dist alike). */
export function otlpProtoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    // proto/ is the include root: the files import each other as "opentelemetry/proto/...".
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'opentelemetry', 'proto', 'trace', 'v1', 'trace.proto'))) return candidate;
    const up = dirname(dir);
    if (up === dir)
      throw new Error(
        `cannot find proto/opentelemetry/proto/trace/v1/trace.proto above ${fileURLToPath(import.meta.url)}`,
      );
    dir = up;
  }
}

export const TRACE_SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
export const METRICS_SERVICE_PROTO = 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto';

/** Conversion to the OTLP JSON shape flattenOtlp reads: camelCase names, ids as base64, enums as
 *  numbers, 64-bit integers as decimal strings. */
export const TO_JSON_SHAPE = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true } as const;

interface Decoder {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, opts: typeof TO_JSON_SHAPE): unknown;
}
let decoder: Promise<Decoder> | null = null;

async function loadDecoder(): Promise<Decoder> {
  const { default: protobuf } = await import('protobufjs');
  const root = new protobuf.Root();
  const base = otlpProtoRoot();
  root.resolvePath = (_origin, target) => join(base, target);
  await root.load(TRACE_SERVICE_PROTO, { keepCase: false });
  const type = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  return {
    decode: (buf) => type.decode(buf),
    toObject: (msg, opts) => type.toObject(msg as InstanceType<typeof protobuf.Message>, opts),
  };
}

/** An OTLP/HTTP protobuf body as the JSON-shaped request. Throws OtlpError when it does not decode. */
export async function decodeTraceRequest(buf: Uint8Array): Promise<ExportTraceServiceRequest> {
  decoder ??= loadDecoder();
  const d = await decoder;
  let msg: unknown;
  try {
    msg = d.decode(buf);
  } catch (e) {
    throw new OtlpError(`not an OTLP protobuf ExportTraceServiceRequest: ${(e as Error).message}`);
  }
  return d.toObject(msg, TO_JSON_SHAPE) as ExportTraceServiceRequest;
}
