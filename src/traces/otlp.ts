// OTLP JSON (the OpenTelemetry protocol's JSON encoding) in and out, and the flat span every reader in
// this project works with. One module so the viewer, the exercise checks and scripts read traces the
// same way, whether they come from a node's spans.jsonl, an OTLP/HTTP request, Jaeger's /api/v3 or a
// file someone downloaded from Jaeger's UI.
//
// OTLP/JSON differs from the proto3 JSON mapping in two ways the spec fixes: trace and span ids are
// hex strings, and enums are integers. Some exporters still send base64 ids (the proto3 mapping of
// `bytes`) or enum names; both are accepted here, and everything that comes out is lowercase hex.

// ---------------------------------------------------------------------------------------------
// OTLP JSON types (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto)
// ---------------------------------------------------------------------------------------------
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
export interface OtlpEvent {
  timeUnixNano?: string | number;
  name?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}
export interface OtlpLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}
export interface OtlpStatus {
  code?: number | string;
  message?: string;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  name: string;
  kind?: number | string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  events?: OtlpEvent[];
  droppedEventsCount?: number;
  links?: OtlpLink[];
  droppedLinksCount?: number;
  status?: OtlpStatus;
}
export interface ScopeSpans {
  scope?: { name?: string; version?: string; attributes?: KeyValue[] };
  spans?: OtlpSpan[];
  schemaUrl?: string;
}
export interface ResourceSpans {
  resource?: { attributes?: KeyValue[]; droppedAttributesCount?: number };
  scopeSpans?: ScopeSpans[];
  schemaUrl?: string;
}
export interface ExportTraceServiceRequest {
  resourceSpans?: ResourceSpans[];
}

// ---------------------------------------------------------------------------------------------
// The flat span
// ---------------------------------------------------------------------------------------------
export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
export type StatusCodeName = 'UNSET' | 'OK' | 'ERROR';
export type AttrValue = string | number | boolean | string[];

export interface FlatEvent {
  name: string;
  timeMs: number;
  attributes: Record<string, AttrValue>;
}
export interface FlatLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, AttrValue>;
}
export interface FlatSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  service: string;
  /** raft.node.id of the span, else the resource's service.instance.id */
  nodeId?: string;
  /** milliseconds since the epoch, fractional (microsecond precision survives) */
  startMs: number;
  endMs: number;
  attributes: Record<string, AttrValue>;
  events: FlatEvent[];
  links: FlatLink[];
  status: { code: StatusCodeName; message?: string };
  resource: Record<string, string | number | boolean>;
}

/** Input that is not OTLP JSON (or not one of the other accepted formats): the message says where. */
export class OtlpError extends Error {
  override name = 'OtlpError';
}

const KINDS: SpanKindName[] = ['INTERNAL', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS: StatusCodeName[] = ['UNSET', 'OK', 'ERROR'];

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * A trace id (16 bytes) or span id (8 bytes) as lowercase hex, from hex or base64 (standard or
 * URL-safe, padded or not). Throws OtlpError for anything else, including the all-zero id, which
 * the spec declares invalid.
 */
export function normalizeId(id: unknown, bytes: 16 | 8, what: string): string {
  if (typeof id !== 'string') throw new OtlpError(`${what}: expected a string, got ${typeof id}`);
  let hex: string | null = null;
  if (id.length === bytes * 2 && HEX.test(id)) hex = id.toLowerCase();
  else if (BASE64.test(id) && id.length <= Math.ceil(bytes / 3) * 4) {
    const buf = Buffer.from(id.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === bytes) hex = buf.toString('hex');
  }
  if (hex === null)
    throw new OtlpError(`${what} ${JSON.stringify(id.slice(0, 40))}: expected ${bytes * 2} hex digits (or base64)`);
  if (/^0+$/.test(hex)) throw new OtlpError(`${what} is all zeros, which OTLP declares invalid`);
  return hex;
}

function optionalSpanId(id: unknown, what: string): string | undefined {
  if (id === undefined || id === null || id === '') return undefined;
  return normalizeId(id, 8, what);
}

// ---------------------------------------------------------------------------------------------
// Times: OTLP carries uint64 nanoseconds as decimal strings (or numbers from lenient writers)
// ---------------------------------------------------------------------------------------------
export function nanosToMs(ns: unknown, what: string): number {
  // The common case, fast (a BigInt per timestamp costs more than the rest of a span): a decimal
  // string, split where the milliseconds end so the fraction keeps its sub-millisecond digits.
  if (typeof ns === 'string' && ns.length > 6 && ns.length <= 21 && /^\d+$/.test(ns))
    return Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6;
  let n: bigint;
  try {
    if (typeof ns === 'string' && /^\d+$/.test(ns)) n = BigInt(ns);
    else if (typeof ns === 'number' && Number.isFinite(ns) && ns >= 0) n = BigInt(Math.round(ns));
    else throw new Error();
  } catch {
    throw new OtlpError(`${what}: expected unsigned nanoseconds, got ${JSON.stringify(ns)}`);
  }
  // Split so the fraction keeps sub-millisecond precision that a plain Number(ns) / 1e6 would round.
  return Number(n / 1_000_000n) + Number(n % 1_000_000n) / 1e6;
}

export function msToNanos(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------
function scalar(v: AnyValue | undefined): string | number | boolean | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  if (v.kvlistValue !== undefined) return JSON.stringify(attributesOf(v.kvlistValue.values, 'kvlist'));
  if (v.arrayValue !== undefined) return JSON.stringify((v.arrayValue.values ?? []).map(scalar));
  return undefined;
}

function attrValue(v: AnyValue | undefined): AttrValue | undefined {
  if (v && typeof v === 'object' && v.arrayValue !== undefined) {
    const values = v.arrayValue.values;
    if (values !== undefined && !Array.isArray(values)) throw new OtlpError('arrayValue.values is not an array');
    return (values ?? []).map((x) => String(scalar(x) ?? ''));
  }
  return scalar(v);
}

function attributesOf(kvs: unknown, where: string): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  if (kvs === undefined || kvs === null) return out;
  if (!Array.isArray(kvs)) throw new OtlpError(`${where}.attributes is not an array`);
  for (const kv of kvs as KeyValue[]) {
    if (!kv || typeof kv.key !== 'string') throw new OtlpError(`${where}.attributes: an entry without a key`);
    const v = attrValue(kv.value);
    if (v !== undefined) out[kv.key] = v;
  }
  return out;
}

function resourceOf(kvs: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  // Arrays on a resource (process.command_args) become their JSON text: the flat resource is scalar.
  for (const [k, v] of Object.entries(attributesOf(kvs, 'resource'))) out[k] = Array.isArray(v) ? JSON.stringify(v) : v;
  return out;
}

export function toAnyValue(v: AttrValue): AnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: v.map((s) => ({ stringValue: s })) } };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

export function toKeyValues(attrs: Record<string, AttrValue>): KeyValue[] {
  return Object.entries(attrs).map(([key, v]) => ({ key, value: toAnyValue(v) }));
}

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------
function kindOf(k: unknown): SpanKindName {
  if (k === undefined || k === null) return 'INTERNAL';
  if (typeof k === 'number' && KINDS[k]) return KINDS[k];
  if (typeof k === 'string') {
    const name = k.toUpperCase().replace(/^SPAN_KIND_/, '');
    if ((KINDS as string[]).includes(name)) return name as SpanKindName;
    if (name === 'UNSPECIFIED') return 'INTERNAL';
  }
  throw new OtlpError(`kind ${JSON.stringify(k)} is not one of OTLP's span kinds`);
}

function statusOf(s: unknown): FlatSpan['status'] {
  if (s === undefined || s === null) return { code: 'UNSET' };
  if (typeof s !== 'object') throw new OtlpError('status is not an object');
  const st = s as OtlpStatus;
  let code: StatusCodeName = 'UNSET';
  if (typeof st.code === 'number' && STATUS[st.code]) code = STATUS[st.code];
  else if (typeof st.code === 'string') {
    const name = st.code.toUpperCase().replace(/^STATUS_CODE_/, '');
    if (!(STATUS as string[]).includes(name)) throw new OtlpError(`status.code ${st.code} is not one of OTLP's`);
    code = name as StatusCodeName;
  } else if (st.code !== undefined) throw new OtlpError(`status.code ${JSON.stringify(st.code)} is not one of OTLP's`);
  return st.message ? { code, message: String(st.message) } : { code };
}

export const KIND_NUMBER: Record<SpanKindName, number> = {
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
};
const STATUS_NUMBER: Record<StatusCodeName, number> = { UNSET: 0, OK: 1, ERROR: 2 };

// ---------------------------------------------------------------------------------------------
// OTLP -> flat
// ---------------------------------------------------------------------------------------------
function arrayField<T>(v: unknown, where: string): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpError(`${where} is not an array`);
  return v as T[];
}

/** One OTLP span, flat; errors name the field relative to the span. */
function flatSpan(
  s: OtlpSpan,
  resource: FlatSpan['resource'],
  service: string,
  instance: string | number | boolean | undefined,
): FlatSpan {
  if (!s || typeof s !== 'object') throw new OtlpError(' is not an object');
  const attributes = attributesOf(s.attributes, '');
  const node = attributes['raft.node.id'] ?? instance;
  const startMs = nanosToMs(s.startTimeUnixNano, 'startTimeUnixNano');
  const endMs = nanosToMs(s.endTimeUnixNano, 'endTimeUnixNano');
  const span: FlatSpan = {
    traceId: normalizeId(s.traceId, 16, 'traceId'),
    spanId: normalizeId(s.spanId, 8, 'spanId'),
    name: typeof s.name === 'string' ? s.name : '',
    kind: kindOf(s.kind),
    service,
    startMs,
    endMs: Math.max(startMs, endMs),
    attributes,
    events:
      s.events === undefined || (Array.isArray(s.events) && s.events.length === 0)
        ? []
        : arrayField<OtlpEvent>(s.events, '.events').map((e, n) => ({
            name: typeof e?.name === 'string' ? e.name : '',
            timeMs: nanosToMs(e?.timeUnixNano ?? s.startTimeUnixNano, `events[${n}].timeUnixNano`),
            attributes: attributesOf(e?.attributes, `.events[${n}]`),
          })),
    links:
      s.links === undefined || (Array.isArray(s.links) && s.links.length === 0)
        ? []
        : arrayField<OtlpLink>(s.links, '.links').map((l, n) => ({
            traceId: normalizeId(l?.traceId, 16, `links[${n}].traceId`),
            spanId: normalizeId(l?.spanId, 8, `links[${n}].spanId`),
            attributes: attributesOf(l?.attributes, `.links[${n}]`),
          })),
    status: statusOf(s.status),
    resource,
  };
  const parent = optionalSpanId(s.parentSpanId, 'parentSpanId');
  if (parent !== undefined) span.parentSpanId = parent;
  if (node !== undefined) span.nodeId = String(node);
  return span;
}

/** Every span of an ExportTraceServiceRequest (or TracesData), flat. Throws OtlpError on malformed input. */
export function flattenOtlp(req: ExportTraceServiceRequest): FlatSpan[] {
  if (!req || typeof req !== 'object' || Array.isArray(req))
    throw new OtlpError('expected an object with resourceSpans');
  const out: FlatSpan[] = [];
  arrayField<ResourceSpans>(req.resourceSpans, 'resourceSpans').forEach((rs, i) => {
    if (!rs || typeof rs !== 'object') throw new OtlpError(`resourceSpans[${i}] is not an object`);
    const resource = resourceOf(rs.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown_service';
    const instance = resource['service.instance.id'];
    arrayField<ScopeSpans>(rs.scopeSpans, `resourceSpans[${i}].scopeSpans`).forEach((ss, j) => {
      if (!ss || typeof ss !== 'object') throw new OtlpError(`resourceSpans[${i}].scopeSpans[${j}] is not an object`);
      arrayField<OtlpSpan>(ss.spans, `resourceSpans[${i}].scopeSpans[${j}].spans`).forEach((s, k) => {
        // Locations are named only when something is wrong: building them for every span would
        // cost more than reading it.
        try {
          out.push(flatSpan(s, resource, service, instance));
        } catch (e) {
          if (!(e instanceof OtlpError)) throw e;
          const where = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
          throw new OtlpError(where + (/^[. ]/.test(e.message) ? '' : '.') + e.message);
        }
      });
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// flat -> OTLP
// ---------------------------------------------------------------------------------------------
function resourceKey(r: FlatSpan['resource']): string {
  return JSON.stringify(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k]]),
  );
}

/** One flat span as an OTLP JSON span. Empty lists and an unset status are left out, as the
 *  collector's own JSON marshaler (which Jaeger's /api/v3 uses) leaves them out. */
export function toOtlpSpan(s: FlatSpan): OtlpSpan {
  const span: OtlpSpan = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: KIND_NUMBER[s.kind],
    startTimeUnixNano: msToNanos(s.startMs),
    endTimeUnixNano: msToNanos(s.endMs),
  };
  if (s.parentSpanId) span.parentSpanId = s.parentSpanId;
  const attributes = toKeyValues(s.attributes);
  if (attributes.length) span.attributes = attributes;
  if (s.events.length)
    span.events = s.events.map((e) => {
      const ev: OtlpEvent = { timeUnixNano: msToNanos(e.timeMs), name: e.name };
      const a = toKeyValues(e.attributes);
      if (a.length) ev.attributes = a;
      return ev;
    });
  if (s.links.length)
    span.links = s.links.map((l) => {
      const link: OtlpLink = { traceId: l.traceId, spanId: l.spanId };
      const a = toKeyValues(l.attributes);
      if (a.length) link.attributes = a;
      return link;
    });
  span.status = {};
  if (s.status.code !== 'UNSET') span.status.code = STATUS_NUMBER[s.status.code];
  if (s.status.message !== undefined) span.status.message = s.status.message;
  return span;
}

/** Spans as one OTLP JSON request, grouped by resource (what Jaeger's Upload and any OTLP receiver read). */
export function toOtlp(spans: FlatSpan[]): ExportTraceServiceRequest {
  const groups = new Map<string, { resource: FlatSpan['resource']; spans: OtlpSpan[] }>();
  for (const s of spans) {
    const key = resourceKey(s.resource);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { resource: s.resource, spans: [] }));
    g.spans.push(toOtlpSpan(s));
  }
  return {
    resourceSpans: [...groups.values()].map((g) => ({
      resource: { attributes: toKeyValues(g.resource) },
      scopeSpans: [{ scope: {}, spans: g.spans }],
    })),
  };
}

/** Spans grouped by trace id, each group in start order; groups in order of first start. */
export function groupByTrace(spans: FlatSpan[]): FlatSpan[][] {
  const m = new Map<string, FlatSpan[]>();
  for (const s of spans) {
    let g = m.get(s.traceId);
    if (!g) m.set(s.traceId, (g = []));
    g.push(s);
  }
  const groups = [...m.values()];
  for (const g of groups) g.sort((a, b) => a.startMs - b.startMs);
  return groups.sort((a, b) => a[0].startMs - b[0].startMs);
}
