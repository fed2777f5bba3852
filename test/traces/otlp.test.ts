// The shared trace reader: what the nodes export, Jaeger's /api/v3 answers and UI downloads, and a
// spans.jsonl all read as the same flat spans; flat spans write back as OTLP JSON that reads the same.
import { describe, expect, it } from 'vitest';
import {
  OtlpError,
  flattenOtlp,
  groupByTrace,
  msToNanos,
  nanosToMs,
  normalizeId,
  toOtlp,
  type ExportTraceServiceRequest,
  type FlatSpan,
} from '../../src/traces/otlp.js';
import { parseTraceText } from '../../src/traces/documents.js';
import { electionSpans, otlpJsonBody } from './sdk-spans.js';

function sdkFlat(): { body: string; spans: FlatSpan[] } {
  const body = otlpJsonBody(electionSpans('n1'));
  return { body, spans: parseTraceText(body) };
}

describe('flattenOtlp on what the nodes export', () => {
  it('reads every field of the SDK serializer output', () => {
    const { spans } = sdkFlat();
    expect(spans).toHaveLength(3);
    const root = spans.find((s) => s.name === 'raft.election');
    const votes = spans.filter((s) => s.name === 'raft.Raft/RequestVote');
    expect(root).toBeDefined();
    expect(root!.parentSpanId).toBeUndefined();
    expect(root!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(root!).toMatchObject({
      kind: 'INTERNAL',
      service: 'raft-n1',
      nodeId: 'n1',
      attributes: { 'raft.trace.kind': 'election', 'raft.term': 3 },
      status: { code: 'UNSET' },
      resource: { 'service.name': 'raft-n1', 'service.instance.id': 'n1', 'service.namespace': 'raft-otel' },
    });
    expect(root!.resource['process.command_args']).toBe('["node","raft-otel"]');
    expect(root!.events.map((e) => e.name)).toEqual(['became leader']);
    expect(root!.endMs).toBeGreaterThanOrEqual(root!.startMs);
    expect(Math.abs(root!.startMs - Date.now())).toBeLessThan(60_000);
    expect(votes).toHaveLength(2);
    for (const v of votes) {
      expect(v.parentSpanId).toBe(root!.spanId);
      expect(v.traceId).toBe(root!.traceId);
      expect(v.kind).toBe('CLIENT');
      expect(v.attributes['server.port']).toBe(7002);
      expect(v.attributes['raft.vote.granted']).toBe(true);
      expect(v.events[0]).toMatchObject({ name: 'vote granted', attributes: { 'raft.term': 3 } });
    }
    const failed = votes.find((v) => v.attributes['raft.peer.id'] === 'n3')!;
    expect(failed.status).toEqual({ code: 'ERROR', message: 'UNAVAILABLE' });
  });

  it('accepts base64 ids and enum names (proto3 JSON) and yields the same lowercase hex', () => {
    const hex = parseTraceText(sdkFlat().body);
    const req = JSON.parse(sdkFlat().body) as ExportTraceServiceRequest;
    const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64');
    const first = hex[0];
    const span = req.resourceSpans![0].scopeSpans![0].spans![0];
    span.traceId = b64(first.traceId);
    span.spanId = b64(first.spanId);
    span.kind = 'SPAN_KIND_SERVER';
    span.status = { code: 'STATUS_CODE_ERROR', message: 'x' };
    const out = flattenOtlp(req)[0];
    expect(out.traceId).toBe(first.traceId);
    expect(out.spanId).toBe(first.spanId);
    expect(out.kind).toBe('SERVER');
    expect(out.status).toEqual({ code: 'ERROR', message: 'x' });
  });

  it('normalizes ids: upper-case hex, URL-safe unpadded base64; refuses wrong lengths and all zeros', () => {
    expect(normalizeId('0AF7651916CD43DD8448EB211C80319C', 16, 't')).toBe('0af7651916cd43dd8448eb211c80319c');
    const bytes = Buffer.from('fbff00112233445566778899aabbccdd', 'hex');
    expect(normalizeId(bytes.toString('base64url'), 16, 't')).toBe('fbff00112233445566778899aabbccdd');
    expect(() => normalizeId('abc', 16, 'traceId')).toThrow(/traceId "abc": expected 32 hex digits/);
    expect(() => normalizeId('0'.repeat(16), 8, 'spanId')).toThrow(/all zeros/);
    expect(() => normalizeId(42, 8, 'spanId')).toThrow(OtlpError);
  });

  it('nanoseconds to fractional milliseconds keeps microseconds, and back', () => {
    expect(nanosToMs('1763900000123456789', 't')).toBeCloseTo(1763900000123.4568, 3);
    expect(msToNanos(1763900000123.456)).toMatch(/^1763900000123456/);
    expect(() => nanosToMs('-5', 't')).toThrow(/unsigned nanoseconds/);
    expect(() => nanosToMs('12.5', 't')).toThrow(OtlpError);
  });

  it('names where malformed input is wrong', () => {
    expect(() => flattenOtlp({ resourceSpans: {} } as unknown as ExportTraceServiceRequest)).toThrow(
      /resourceSpans is not an array/,
    );
    const req = JSON.parse(sdkFlat().body) as ExportTraceServiceRequest;
    delete (req.resourceSpans![0].scopeSpans![0].spans![1] as Partial<{ startTimeUnixNano: string }>).startTimeUnixNano;
    expect(() => flattenOtlp(req)).toThrow(/resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]\.startTimeUnixNano/);
    expect(() => parseTraceText('{"foo": 1}')).toThrow(/no resourceSpans, result or data field/);
    expect(() => parseTraceText('[1]')).toThrow(OtlpError);
  });
});

describe('toOtlp', () => {
  it('round trips: flat -> OTLP JSON -> flat is the same spans', () => {
    const { spans } = sdkFlat();
    const other = parseTraceText(otlpJsonBody(electionSpans('n2')));
    const all = [...spans, ...other];
    const doc = toOtlp(all);
    // grouped by resource: one resourceSpans per node
    expect(doc.resourceSpans).toHaveLength(2);
    const back = parseTraceText(JSON.stringify(doc));
    expect(back).toHaveLength(all.length);
    const byId = new Map(back.map((s) => [s.spanId, s]));
    for (const s of all) {
      const b = byId.get(s.spanId)!;
      expect({ ...b, startMs: 0, endMs: 0, events: [] }).toEqual({ ...s, startMs: 0, endMs: 0, events: [] });
      expect(b.startMs).toBeCloseTo(s.startMs, 3);
      expect(b.endMs).toBeCloseTo(s.endMs, 3);
      expect(b.events.map((e) => [e.name, e.attributes])).toEqual(s.events.map((e) => [e.name, e.attributes]));
    }
  });

  it('writes OTLP/JSON as the spec fixes it: hex ids, integer enums, decimal-string nanoseconds and ints', () => {
    const { spans } = sdkFlat();
    const span = toOtlp(spans).resourceSpans![0].scopeSpans![0].spans!.find((s) => s.name.includes('RequestVote'))!;
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.kind).toBe(3);
    expect(span.startTimeUnixNano).toMatch(/^\d{19}$/);
    expect(span.attributes).toContainEqual({ key: 'server.port', value: { intValue: '7002' } });
    const failed = toOtlp(spans)
      .resourceSpans![0].scopeSpans![0].spans!.filter((s) => s.status?.code === 2)
      .map((s) => s.status);
    expect(failed).toEqual([{ code: 2, message: 'UNAVAILABLE' }]);
    // an unset status is {} and empty lists are left out, as the collector's JSON marshaler does
    const root = toOtlp(spans).resourceSpans![0].scopeSpans![0].spans!.find((s) => s.name === 'raft.election')!;
    expect(root.status).toEqual({});
    expect(root.links).toBeUndefined();
  });
});

describe('parseTraceText: the files people have', () => {
  it('reads a spans.jsonl (one export request per line, blank lines ignored)', () => {
    const lines = [otlpJsonBody(electionSpans('n1')), '', otlpJsonBody(electionSpans('n2')), ''].join('\n');
    const spans = parseTraceText(lines);
    expect(spans).toHaveLength(6);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['raft-n1', 'raft-n2']));
    expect(groupByTrace(spans)).toHaveLength(2);
  });

  it('names the line of a bad JSON line', () => {
    const text = `${otlpJsonBody(electionSpans('n1'))}\n{"resourceSpans": [\n`;
    expect(() => parseTraceText(text)).toThrow(/line 2: not JSON/);
  });

  it("reads Jaeger's /api/v3 answer (OTLP under result), as in Jaeger's own GetTrace snapshot", () => {
    // cmd/jaeger/internal/extension/jaegerquery/internal/apiv3/snapshots/GetTrace.json
    const jaeger = `{
  "result": {
    "resourceSpans": [
      {
        "resource": {},
        "scopeSpans": [
          {
            "scope": {},
            "spans": [
              {
                "kind": 2,
                "name": "foobar",
                "spanId": "0000000000000002",
                "status": {
                  "code": 2
                },
                "traceId": "00000000000000000000000000000001"
              }
            ]
          }
        ]
      }
    ]
  }
}`;
    // Jaeger's snapshot omits the times (zero in proto3 JSON); a real answer carries them.
    const withTimes = jaeger.replace('"kind": 2,', '"kind": 2, "startTimeUnixNano": "0", "endTimeUnixNano": "0",');
    const [s] = parseTraceText(withTimes);
    expect(s).toMatchObject({
      traceId: '00000000000000000000000000000001',
      spanId: '0000000000000002',
      name: 'foobar',
      kind: 'SERVER',
      service: 'unknown_service',
      status: { code: 'ERROR' },
    });
  });

  it("reads a trace downloaded from Jaeger's UI ({data: [{traceID, spans, processes}]})", () => {
    const doc = {
      data: [
        {
          traceID: '4bf92f3577b34da6a3ce929d0e0e4736',
          spans: [
            {
              traceID: '4bf92f3577b34da6a3ce929d0e0e4736',
              spanID: '00f067aa0ba902b7',
              operationName: 'raft.election',
              references: [],
              startTime: 1763900000123456,
              duration: 1500,
              tags: [
                { key: 'raft.term', type: 'int64', value: 4 },
                { key: 'span.kind', type: 'string', value: 'internal' },
              ],
              logs: [{ timestamp: 1763900000124000, fields: [{ key: 'event', type: 'string', value: 'won' }] }],
              processID: 'p1',
            },
            {
              traceID: '4bf92f3577b34da6a3ce929d0e0e4736',
              spanID: 'a902b7',
              operationName: 'raft.Raft/RequestVote',
              references: [
                { refType: 'CHILD_OF', traceID: '4bf92f3577b34da6a3ce929d0e0e4736', spanID: '00f067aa0ba902b7' },
              ],
              startTime: 1763900000123500,
              duration: 800,
              tags: [
                { key: 'span.kind', type: 'string', value: 'client' },
                { key: 'otel.status_code', type: 'string', value: 'ERROR' },
                { key: 'otel.status_description', type: 'string', value: 'UNAVAILABLE' },
              ],
              processID: 'p1',
            },
          ],
          processes: {
            p1: { serviceName: 'raft-n1', tags: [{ key: 'service.instance.id', type: 'string', value: 'n1' }] },
          },
        },
      ],
    };
    const spans = parseTraceText(JSON.stringify(doc));
    expect(spans).toHaveLength(2);
    const [root, vote] = spans;
    expect(root).toMatchObject({ name: 'raft.election', kind: 'INTERNAL', service: 'raft-n1', nodeId: 'n1' });
    expect(root.startMs).toBeCloseTo(1763900000123.456, 3);
    expect(root.endMs - root.startMs).toBeCloseTo(1.5, 6);
    expect(root.attributes).toEqual({ 'raft.term': 4 });
    expect(root.events).toEqual([{ name: 'won', timeMs: 1763900000124, attributes: {} }]);
    expect(vote).toMatchObject({
      spanId: '0000000000a902b7', // Jaeger trims leading zeros; they are put back
      parentSpanId: '00f067aa0ba902b7',
      kind: 'CLIENT',
      status: { code: 'ERROR', message: 'UNAVAILABLE' },
    });
  });
});
