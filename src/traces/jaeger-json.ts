// The JSON Jaeger's UI downloads ("Download JSON" on a trace, and what its classic Upload reads):
// `{data: [{traceID, spans, processes}]}` with microsecond times, tags and logs. Converted to flat
// spans the same way Jaeger maps its model to OTLP (span.kind / otel.status_code tags become the
// kind and status; the process's serviceName and tags become the resource).
import type { AttrValue, FlatSpan, SpanKindName, StatusCodeName } from './otlp.js';
import { OtlpError, normalizeId } from './otlp.js';

interface JaegerTag {
  key: string;
  type?: string;
  value: unknown;
}
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName?: string;
  references?: { refType?: string; traceID: string; spanID: string }[];
  startTime: number;
  duration?: number;
  tags?: JaegerTag[];
  logs?: { timestamp: number; fields?: JaegerTag[] }[];
  processID?: string;
  process?: { serviceName?: string; tags?: JaegerTag[] };
}
export interface JaegerJsonDocument {
  data: {
    traceID?: string;
    spans?: JaegerSpan[];
    processes?: Record<string, { serviceName?: string; tags?: JaegerTag[] }>;
  }[];
}

// Jaeger trims leading zeros of ids in some places: pad back to the full width before normalizing.
function id(v: unknown, bytes: 16 | 8, what: string): string {
  if (typeof v === 'string' && /^[0-9a-fA-F]+$/.test(v) && v.length < bytes * 2) v = v.padStart(bytes * 2, '0');
  return normalizeId(v, bytes, what);
}

function tagValue(t: JaegerTag): AttrValue {
  const v = t.value;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

function tags(list: JaegerTag[] | undefined, where: string): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  if (list === undefined) return out;
  if (!Array.isArray(list)) throw new OtlpError(`${where}: tags is not an array`);
  for (const t of list) {
    if (!t || typeof t.key !== 'string') throw new OtlpError(`${where}: a tag without a key`);
    out[t.key] = tagValue(t);
  }
  return out;
}

const KIND: Record<string, SpanKindName> = {
  server: 'SERVER',
  client: 'CLIENT',
  producer: 'PRODUCER',
  consumer: 'CONSUMER',
  internal: 'INTERNAL',
};

export function jaegerJsonToFlat(doc: JaegerJsonDocument): FlatSpan[] {
  const out: FlatSpan[] = [];
  doc.data.forEach((trace, i) => {
    if (!trace || typeof trace !== 'object') throw new OtlpError(`data[${i}] is not an object`);
    const processes = trace.processes ?? {};
    (trace.spans ?? []).forEach((s, j) => {
      const where = `data[${i}].spans[${j}]`;
      if (!s || typeof s !== 'object') throw new OtlpError(`${where} is not an object`);
      if (typeof s.startTime !== 'number') throw new OtlpError(`${where}.startTime: expected microseconds`);
      const proc = s.process ?? (s.processID !== undefined ? processes[s.processID] : undefined) ?? {};
      const resource: FlatSpan['resource'] = {};
      for (const [k, v] of Object.entries(tags(proc.tags, `${where}.process`)))
        resource[k] = Array.isArray(v) ? JSON.stringify(v) : v;
      const service = proc.serviceName ?? 'unknown_service';
      resource['service.name'] = service;
      const attributes = tags(s.tags, where);
      const kind = KIND[String(attributes['span.kind'] ?? 'internal')] ?? 'INTERNAL';
      let code: StatusCodeName = 'UNSET';
      const otelCode = attributes['otel.status_code'];
      if (otelCode === 'ERROR' || attributes.error === true || attributes.error === 'true') code = 'ERROR';
      else if (otelCode === 'OK') code = 'OK';
      const message = attributes['otel.status_description'];
      // These tags are Jaeger's encoding of OTLP fields, not attributes of the span.
      for (const k of ['span.kind', 'otel.status_code', 'otel.status_description', 'error', 'otel.scope.name'])
        delete attributes[k];
      const parentRef = (s.references ?? []).find((r) => r.refType === undefined || r.refType === 'CHILD_OF');
      const startMs = s.startTime / 1000;
      const span: FlatSpan = {
        traceId: id(s.traceID, 16, `${where}.traceID`),
        spanId: id(s.spanID, 8, `${where}.spanID`),
        name: s.operationName ?? '',
        kind,
        service,
        startMs,
        endMs: startMs + (s.duration ?? 0) / 1000,
        attributes,
        events: (s.logs ?? []).map((l, n) => {
          const fields = tags(l.fields, `${where}.logs[${n}]`);
          const name =
            typeof fields.event === 'string'
              ? fields.event
              : typeof fields.message === 'string'
                ? fields.message
                : 'log';
          delete fields.event;
          return { name, timeMs: l.timestamp / 1000, attributes: fields };
        }),
        links: (s.references ?? [])
          .filter((r) => r !== parentRef)
          .map((r, n) => ({
            traceId: id(r.traceID, 16, `${where}.references[${n}].traceID`),
            spanId: id(r.spanID, 8, `${where}.references[${n}].spanID`),
            attributes: {},
          })),
        status: typeof message === 'string' && message !== '' ? { code, message } : { code },
        resource,
      };
      if (parentRef) span.parentSpanId = id(parentRef.spanID, 8, `${where}.references.spanID`);
      const node = attributes['raft.node.id'] ?? resource['service.instance.id'];
      if (node !== undefined) span.nodeId = String(node);
      out.push(span);
    });
  });
  return out;
}
