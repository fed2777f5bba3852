// The viewer's APIs, in process: the OTLP/HTTP receiver (JSON, protobuf, gzip; malformed and
// oversized bodies refused with nothing stored), Jaeger's /api/v3 shapes (and our own /api/v3 client
// against it), the page's /api/viewer/* endpoints, the stream, and the control endpoint's guard.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOtlp, type ExportTraceServiceRequest, type FlatSpan } from '../../src/traces/otlp.js';
import { parseTraceText } from '../../src/traces/documents.js';
import { TraceQueryClient } from '../../src/traces/query-client.js';
import { decodeTimeline, toTimelineSpan, type TimelineWire } from '../../src/traces/timeline-span.js';
import { startViewer, type Viewer } from '../../src/viewer/server/server.js';
import { electionSpans, otlpJsonBody } from '../traces/sdk-spans.js';
import { waitUntil } from '../support/wait.js';
import { getJson, post, syntheticTrace } from './fixtures.js';

let v: Viewer;
const BODY_CAP = 256 * 1024;

beforeAll(async () => {
  v = await startViewer({ port: 0, dataDir: null, bodyCap: BODY_CAP, importCap: BODY_CAP, webRoot: '/nonexistent' });
});
afterAll(() => v?.close());

const stats = async () => (await getJson<{ spans: number; traces: number }>(`${v.url}/api/viewer/stats`)).body;

describe('OTLP/HTTP receiver', () => {
  it('stores what the SDK sends as JSON, and answers an empty ExportTraceServiceResponse', async () => {
    const body = otlpJsonBody(electionSpans('n1'));
    const r = await post(`${v.url}/v1/traces`, body);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({});
    const [root] = parseTraceText(body).filter((s) => s.name === 'raft.election');
    expect(
      v.store
        .trace(root.traceId)
        ?.map((s) => s.name)
        .sort(),
    ).toEqual(['raft.Raft/RequestVote', 'raft.Raft/RequestVote', 'raft.election']);
  });

  it("decodes protobuf as the SDK's own protobuf serializer writes it, and answers in protobuf", async () => {
    const spans = electionSpans('n2');
    const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
    const r = await fetch(`${v.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(bytes),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await r.arrayBuffer()).byteLength).toBe(0);
    const expected = parseTraceText(otlpJsonBody(spans));
    const stored = v.store.trace(expected[0].traceId)!;
    const byId = new Map(stored.map((s) => [s.spanId, s]));
    for (const s of expected) expect(byId.get(s.spanId)).toEqual(s); // same flat span whichever encoding
  });

  it('inflates gzip bodies (the collector compresses by default)', async () => {
    const body = otlpJsonBody(electionSpans('n3'));
    const r = await post(`${v.url}/v1/traces`, gzipSync(body), { 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(v.store.hasTrace(parseTraceText(body)[0].traceId)).toBe(true);
  });

  it('400 for malformed OTLP, naming what is wrong, with nothing of the request stored', async () => {
    const before = await stats();
    const good = JSON.parse(otlpJsonBody(electionSpans('n1'))) as ExportTraceServiceRequest;
    // a good span first, then a bad one in the same request: all or nothing
    good.resourceSpans![0].scopeSpans![0].spans![2].spanId = 'not-an-id';
    const cases: [string, RegExp][] = [
      [JSON.stringify(good), /spans\[2\]\.spanId "not-an-id"/],
      ['{"resourceSpans": [', /not JSON/],
      ['[1, 2]', /expected an ExportTraceServiceRequest/],
      ['{"resourceSpans": {"a": 1}}', /resourceSpans is not an array/],
    ];
    for (const [body, why] of cases) {
      const r = await post(`${v.url}/v1/traces`, body);
      expect([body.slice(0, 30), r.status]).toEqual([body.slice(0, 30), 400]);
      const err = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe('bad_otlp');
      expect(err.message).toMatch(why);
    }
    const garbage = await post(`${v.url}/v1/traces`, Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]), {
      'content-type': 'application/x-protobuf',
    });
    expect(garbage.status).toBe(400);
    expect(await stats()).toMatchObject({ spans: before.spans, traces: before.traces });
    expect(v.store.hasTrace(good.resourceSpans![0].scopeSpans![0].spans![0].traceId)).toBe(false);
  });

  it('413 over the body cap (declared, streamed, or inflated from gzip), nothing stored', async () => {
    const before = await stats();
    const big = JSON.stringify(
      toOtlp(Array.from({ length: 400 }, (_, i) => syntheticTrace(50_000 + i, 1000, 3)).flat()),
    );
    expect(big.length).toBeGreaterThan(BODY_CAP);
    const r = await post(`${v.url}/v1/traces`, big);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: 'body_too_large' } });
    const bomb = gzipSync(Buffer.alloc(BODY_CAP * 4, 32)); // a few KB that inflate past the cap
    expect(bomb.length).toBeLessThan(BODY_CAP);
    const z = await post(`${v.url}/v1/traces`, bomb, { 'content-encoding': 'gzip' });
    expect(z.status).toBe(413);
    expect(await stats()).toMatchObject({ spans: before.spans, traces: before.traces });
    // and the server still answers
    expect((await post(`${v.url}/v1/traces`, otlpJsonBody(electionSpans('n1')))).status).toBe(200);
  });

  it('/v1/metrics is accepted and ignored', async () => {
    const r = await post(`${v.url}/v1/metrics`, '{"resourceMetrics": []}');
    expect(r.status).toBe(200);
  });
});

describe("Jaeger's /api/v3", () => {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();

  it('services and operations, with spanKind (and span_kind) filters', async () => {
    const s = await getJson<{ services: string[] }>(`${v.url}/api/v3/services`);
    expect(s.status).toBe(200);
    expect(s.body.services).toEqual(expect.arrayContaining(['raft-n1', 'raft-n2', 'raft-n3']));
    const ops = await getJson<{ operations: { name: string; spanKind: string }[] }>(
      `${v.url}/api/v3/operations?service=raft-n1`,
    );
    expect(ops.body.operations).toEqual(
      expect.arrayContaining([
        { name: 'raft.election', spanKind: 'internal' },
        { name: 'raft.Raft/RequestVote', spanKind: 'client' },
      ]),
    );
    for (const p of ['spanKind', 'span_kind']) {
      const only = await getJson<{ operations: { name: string; spanKind: string }[] }>(
        `${v.url}/api/v3/operations?service=raft-n1&${p}=client`,
      );
      expect(only.body.operations).toEqual([{ name: 'raft.Raft/RequestVote', spanKind: 'client' }]);
    }
    expect((await getJson(`${v.url}/api/v3/operations?service=nobody`)).body).toEqual({ operations: [] });
  });

  it('find traces: OTLP under result, canonical and snake_case parameters, attributes and duration filters', async () => {
    const q = (p: Record<string, string>) => `${v.url}/api/v3/traces?${new URLSearchParams(p).toString()}`;
    const canonical = await getJson<{ result: ExportTraceServiceRequest }>(
      q({
        'query.serviceName': 'raft-n2',
        'query.operationName': 'raft.election',
        'query.startTimeMin': iso(now - 60_000),
        'query.startTimeMax': iso(now + 60_000),
        'query.searchDepth': '10',
      }),
    );
    expect(canonical.status).toBe(200);
    expect(canonical.headers.get('content-type')).toMatch(/^application\/json/);
    const spans = parseTraceText(JSON.stringify(canonical.body));
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['raft-n2']));
    const rs = canonical.body.result.resourceSpans![0];
    const span = rs.scopeSpans![0].spans![0];
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/); // OTLP/JSON: hex ids, as Jaeger's marshaler writes
    expect(typeof span.kind).toBe('number');
    expect(span.startTimeUnixNano).toMatch(/^\d+$/);
    const snake = await getJson(
      q({
        'query.service_name': 'raft-n2',
        'query.start_time_min': iso(now - 60_000),
        'query.start_time_max': iso(now + 60_000),
        'query.num_traces': '1',
      }),
    );
    expect(snake.status).toBe(200);
    const attr = (a: Record<string, string>) =>
      getJson(
        q({
          'query.serviceName': 'raft-n1',
          'query.startTimeMin': iso(now - 60_000),
          'query.startTimeMax': iso(now + 60_000),
          'query.attributes': JSON.stringify(a),
        }),
      );
    expect((await attr({ 'raft.term': '3', 'raft.node.id': 'n1' })).status).toBe(200);
    expect((await attr({ 'raft.term': '4' })).status).toBe(404);
    const slow = await getJson(
      q({
        'query.serviceName': 'raft-n1',
        'query.startTimeMin': iso(now - 60_000),
        'query.startTimeMax': iso(now + 60_000),
        'query.durationMin': '1h',
      }),
    );
    expect(slow.status).toBe(404);
  });

  it("errors as Jaeger's gateway writes them: text/plain {error: {httpCode, message}}", async () => {
    const missing = await fetch(`${v.url}/api/v3/traces?query.serviceName=raft-n1`);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await missing.text()).toBe(
      '{"error":{"httpCode":400,"message":"query.startTimeMin and query.startTimeMax are required"}}\n',
    );
    const bad = await getJson<{ error: { httpCode: number; message: string } }>(
      `${v.url}/api/v3/traces?query.startTimeMin=yesterday&query.startTimeMax=${iso(now)}`,
    );
    expect(bad.body.error.httpCode).toBe(400);
    expect(bad.body.error.message).toMatch(/malformed parameter query.startTimeMin/);
    const none = await fetch(
      `${v.url}/api/v3/traces?query.serviceName=nobody&query.startTimeMin=${iso(now - 1000)}&query.startTimeMax=${iso(now)}`,
    );
    expect(none.status).toBe(404);
    expect(await none.text()).toBe('{"error":{"httpCode":404,"message":"No traces found"}}\n');
  });

  it('get a trace by hex or base64 id; 404 unknown, 400 malformed', async () => {
    const [first] = parseTraceText(otlpJsonBody(electionSpans('n1')));
    await post(`${v.url}/v1/traces`, JSON.stringify(toOtlp([first])));
    const hex = await getJson<{ result: ExportTraceServiceRequest }>(`${v.url}/api/v3/traces/${first.traceId}`);
    expect(hex.status).toBe(200);
    expect(parseTraceText(JSON.stringify(hex.body))).toEqual([first]);
    const b64 = Buffer.from(first.traceId, 'hex').toString('base64url');
    expect((await getJson(`${v.url}/api/v3/traces/${b64}`)).status).toBe(200);
    const unknown = await getJson<{ error: { httpCode: number } }>(`${v.url}/api/v3/traces/${'ab'.repeat(16)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.httpCode).toBe(404);
    const malformed = await getJson<{ error: { message: string } }>(`${v.url}/api/v3/traces/xyz!`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/malformed parameter trace_id/);
  });

  it("the project's /api/v3 client reads the viewer unchanged", async () => {
    const client = new TraceQueryClient(v.url);
    expect(await client.services()).toEqual(expect.arrayContaining(['raft-n1']));
    const traces = await client.findTraces({
      service: 'raft-n3',
      operation: 'raft.election',
      startMin: now - 60_000,
      startMax: now + 60_000,
    });
    expect(traces.length).toBe(1);
    expect(traces[0].map((s) => s.name)).toContain('raft.Raft/RequestVote');
    expect(await client.getTrace(traces[0][0].traceId)).toHaveLength(traces[0].length);
    expect(await client.getTrace('cd'.repeat(16))).toEqual([]);
  });
});

describe('/api/viewer', () => {
  const base = 1_700_000_000_000;
  beforeAll(async () => {
    const spans = [syntheticTrace(1, base, 4, 'n1'), syntheticTrace(2, base + 10_000, 4, 'n2')].flat();
    spans[5].status = { code: 'ERROR', message: 'UNAVAILABLE' };
    expect((await post(`${v.url}/v1/traces`, JSON.stringify(toOtlp(spans)))).status).toBe(200);
  });

  it('spans in a window, in start order, capped with truncated', async () => {
    const w = await getJson<{ spans: FlatSpan[]; truncated: boolean }>(
      `${v.url}/api/viewer/spans?start=${base}&end=${base + 5000}`,
    );
    expect(w.body.truncated).toBe(false);
    expect(w.body.spans.map((s) => s.startMs)).toEqual([base, base + 1, base + 2, base + 3]);
    const capped = await getJson<{ spans: FlatSpan[]; truncated: boolean }>(
      `${v.url}/api/viewer/spans?start=${base}&end=${base + 20_000}&limit=5`,
    );
    expect(capped.body).toMatchObject({ truncated: true });
    expect(capped.body.spans).toHaveLength(5);
    expect((await getJson(`${v.url}/api/viewer/spans?start=10&end=5`)).status).toBe(400);
  });

  it('the timeline form of a window: exactly what the timeline reads of each span, fresh after the store changes', async () => {
    const at = base + 30_000;
    const [root, rpc] = syntheticTrace(7, at, 2, 'n3');
    rpc.startMs += 0.5; // sub-millisecond times survive the offsets
    rpc.attributes = { 'raft.peer.id': 'n4', 'rpc.method': 'Custom', 'raft.term': 3, 'http.request.body.size': 99 };
    rpc.events = [
      { name: 'chaos.drop', timeMs: at + 1.25, attributes: { 'raft.chaos.kind': 'drop', other: 1 } },
      { name: 'retry', timeMs: at + 1.5, attributes: {} },
    ];
    rpc.links = [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { why: 'caused by' } }];
    rpc.status = { code: 'ERROR', message: 'dropped' };
    expect((await post(`${v.url}/v1/traces`, JSON.stringify(toOtlp([root, rpc])))).status).toBe(200);
    const timeline = async () => {
      const r = await getJson<TimelineWire>(`${v.url}/api/viewer/timeline?start=${at}&end=${at + 1000}`);
      expect(r.status).toBe(200);
      return decodeTimeline(r.body);
    };
    const got = await timeline();
    expect(got).toEqual([root, rpc].map(toTimelineSpan));
    // What the timeline reads is there; what only the trace pane shows is left for /traces/{id}.
    expect(got[1]).toMatchObject({
      nodeId: 'n3',
      startMs: at + 1.5,
      status: { code: 'ERROR' },
      attributes: { 'raft.peer.id': 'n4', 'rpc.method': 'Custom', 'raft.term': 3 },
      events: [{ name: 'chaos.drop', timeMs: at + 1.25, attributes: { 'raft.chaos.kind': 'drop' } }],
      links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }],
    });
    expect(got[1].attributes).not.toHaveProperty('http.request.body.size');
    // The answer is kept serialized, but a span added to the window shows in the next one.
    const [late] = syntheticTrace(8, at + 500, 1, 'n5');
    expect((await post(`${v.url}/v1/traces`, JSON.stringify(toOtlp([late])))).status).toBe(200);
    expect((await timeline()).map((s) => s.traceId)).toEqual([root.traceId, root.traceId, late.traceId]);
    expect((await getJson(`${v.url}/api/viewer/timeline?start=10&end=5`)).status).toBe(400);
  });

  it('search by kind, node, term, error, duration and time range', async () => {
    const s = async (q: string) =>
      (await getJson<{ traceId: string }[]>(`${v.url}/api/viewer/search?start=${base - 1}&end=${base + 20_000}&${q}`))
        .body;
    const all = await s('kind=election');
    expect(all.map((t) => t.traceId)).toEqual([syntheticTrace(2, 0)[0].traceId, syntheticTrace(1, 0)[0].traceId]);
    expect(all[0]).toMatchObject({
      kind: 'election',
      rootName: 'raft.election',
      service: 'raft-n2',
      startMs: base + 10_000,
      durationMs: 5,
      spanCount: 4,
      nodes: ['n2'],
      error: true,
      term: 3,
    });
    expect((await s('node=n1')).length).toBe(1);
    expect((await s('term=2')).length).toBe(1);
    expect((await s('error=true')).map((t) => t.traceId)).toEqual([syntheticTrace(2, 0)[0].traceId]);
    expect(await s('minDurationMs=6')).toEqual([]);
    expect((await getJson(`${v.url}/api/viewer/search?kind=nonsense`)).status).toBe(400);
  });

  it('a trace by id; 404 when unknown', async () => {
    const id = syntheticTrace(1, 0)[0].traceId;
    const t = await getJson<FlatSpan[]>(`${v.url}/api/viewer/traces/${id}`);
    expect(t.body).toEqual(syntheticTrace(1, base, 4, 'n1'));
    expect((await getJson(`${v.url}/api/viewer/traces/${'ef'.repeat(16)}`)).status).toBe(404);
  });

  it('export a trace (OTLP JSON download) and import it into a fresh viewer: the same spans', async () => {
    const id = syntheticTrace(2, 0)[0].traceId;
    const r = await fetch(`${v.url}/api/viewer/export?traceId=${id}`);
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="trace-${id}.json"`);
    const text = await r.text();
    const other = await startViewer({ port: 0, dataDir: null });
    try {
      const imp = await post(`${other.url}/api/viewer/import`, text);
      expect(JSON.parse(imp.text)).toEqual({ spans: 4, traces: 1, added: 4 });
      expect(other.store.trace(id)).toEqual(v.store.trace(id));
      // the window export holds whole traces
      const w = await getJson<ExportTraceServiceRequest>(`${v.url}/api/viewer/export?start=${base}&end=${base + 1}`);
      expect(parseTraceText(JSON.stringify(w.body)).map((s) => s.traceId)).toEqual(
        Array(4).fill(syntheticTrace(1, 0)[0].traceId),
      );
    } finally {
      await other.close();
    }
  });

  it('imports a spans.jsonl; a second import adds nothing; a bad file is 400 and adds nothing', async () => {
    const jsonl = [otlpJsonBody(electionSpans('n4')), '', otlpJsonBody(electionSpans('n5'))].join('\n');
    const first = await post(`${v.url}/api/viewer/import`, jsonl, { 'content-type': 'application/x-ndjson' });
    expect(JSON.parse(first.text)).toEqual({ spans: 6, traces: 2, added: 6 });
    const again = await post(`${v.url}/api/viewer/import`, jsonl);
    expect(JSON.parse(again.text)).toEqual({ spans: 6, traces: 2, added: 0 });
    const before = await stats();
    const bad = await post(`${v.url}/api/viewer/import`, `${otlpJsonBody(electionSpans('n6'))}\nnot json\n`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: 'bad_trace_file', message: /line 2/ } });
    expect(await stats()).toMatchObject({ spans: before.spans });
  });

  it('the stream pushes stats at once and the spans just ingested', async () => {
    const ac = new AbortController();
    const r = await fetch(`${v.url}/api/viewer/stream`, { signal: ac.signal });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = r.body!.getReader();
    let text = '';
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
      }
    })().catch(() => {});
    try {
      await waitUntil('event: stats on the stream', () => text.includes('event: stats\ndata: {'), { timeoutMs: 5000 });
      await waitUntil(
        'event: cluster (not attached) on the stream',
        () => text.includes('event: cluster\ndata: {"attached":false'),
        {
          timeoutMs: 5000,
        },
      );
      const body = otlpJsonBody(electionSpans('n7'));
      await post(`${v.url}/v1/traces`, body);
      const id = parseTraceText(body)[0].traceId;
      const m = await waitUntil(
        'event: spans with the new trace',
        () => /event: spans\ndata: (.*)\n\n/.exec(text.slice(text.indexOf('event: spans'))),
        { timeoutMs: 5000, context: () => text.slice(-500) },
      );
      const spans = JSON.parse(m[1]) as FlatSpan[];
      expect(spans.map((s) => s.traceId)).toEqual([id, id, id]);
    } finally {
      ac.abort();
      await read;
    }
  });
});

describe('control', () => {
  const ok = { 'x-raft-viewer': '1', 'content-type': 'application/json' };
  const body = JSON.stringify({ action: 'kill', node: 'n1' });
  // node:http rather than fetch: fetch sets Host from the URL and would not send a forged one.
  const control = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: { error: { code: string; message: string } } }>((ok, fail) => {
      const req = request(`${v.url}/api/viewer/control`, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          ok({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: { code: string; message: string } } }),
        );
      });
      req.on('error', fail);
      req.end(body);
    });

  it('refuses a request without the header, with a simple content type, a foreign Host or Origin', async () => {
    const refused: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { 'x-raft-viewer': '1', 'content-type': 'text/plain' },
      { ...ok, host: 'evil.example:8000' },
      { ...ok, origin: 'http://evil.example' },
    ];
    for (const headers of refused) {
      const r = await control(headers);
      expect([headers, r.status, r.body.error.code]).toEqual([headers, 403, 'forbidden']);
    }
  });

  it('with the guard satisfied, 409 not_attached when no cluster is attached', async () => {
    const r = await control({ ...ok, origin: v.url });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('not_attached');
    const cluster = await getJson(`${v.url}/api/viewer/cluster`);
    expect(cluster.body).toEqual({ attached: false, nodes: [] });
  });
});

describe('the page', () => {
  it('without a build, / says how to make one', async () => {
    const r = await fetch(`${v.url}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/npm run build/);
    expect((await fetch(`${v.url}/assets/nothing.js`)).status).toBe(404);
  });
});
