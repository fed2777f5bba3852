// The /api/v3 client against answers shaped exactly as Jaeger v2's (see jaeger-stub.ts). The same
// client is run against the built-in viewer in test/viewer/api.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TraceQueryClient, TraceQueryError } from '../../src/traces/query-client.js';
import { parseTraceText } from '../../src/traces/documents.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { JaegerStub } from './jaeger-stub.js';
import { electionSpans, otlpJsonBody } from './sdk-spans.js';

const spans = [
  ...parseTraceText(otlpJsonBody(electionSpans('n1'))),
  ...parseTraceText(otlpJsonBody(electionSpans('n2'))),
];
let jaeger: JaegerStub;
let client: TraceQueryClient;

beforeAll(async () => {
  jaeger = new JaegerStub(spans);
  client = new TraceQueryClient(await jaeger.start());
});
afterAll(() => jaeger.stop());

describe('TraceQueryClient against Jaeger-shaped answers', () => {
  it('services and operations', async () => {
    expect((await client.services()).sort()).toEqual(['raft-n1', 'raft-n2']);
    const ops = await client.operations('raft-n1');
    expect(ops).toContainEqual({ name: 'raft.Raft/RequestVote', spanKind: 'client' });
    expect(ops).toContainEqual({ name: 'raft.election', spanKind: 'internal' });
  });

  it("findTraces sends Jaeger's canonical parameters and groups the answer per trace", async () => {
    const now = Date.now();
    const traces = await client.findTraces({
      service: 'raft-n1',
      operation: 'raft.election',
      startMin: now - 60_000,
      startMax: now + 60_000,
      numTraces: 20,
      durationMin: 0.5,
      attributes: { 'raft.term': '3' },
    });
    expect(traces).toHaveLength(1);
    expect(traces[0]).toHaveLength(3);
    expect(traces[0].every((s) => s.service === 'raft-n1')).toBe(true);
    const q = jaeger.requests.at(-1)!.searchParams;
    expect(q.get('query.serviceName')).toBe('raft-n1');
    expect(q.get('query.operationName')).toBe('raft.election');
    expect(new Date(q.get('query.startTimeMin')!).getTime()).toBe(now - 60_000);
    expect(q.get('query.startTimeMax')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(q.get('query.searchDepth')).toBe('20');
    expect(q.get('query.durationMin')).toBe('0.5ms');
    expect(JSON.parse(q.get('query.attributes')!)).toEqual({ 'raft.term': '3' });
  });

  it('filters on attributes itself too (a Jaeger before the attribute filter ignores it)', async () => {
    const traces = await client.findTraces({
      service: 'raft-n1',
      startMin: Date.now() - 60_000,
      startMax: Date.now() + 60_000,
      attributes: { 'raft.term': '99' },
    });
    expect(traces).toEqual([]);
  });

  it("Jaeger's 404 'No traces found' is an empty answer; getTrace returns one trace's spans", async () => {
    expect(await client.findTraces({ service: 'nobody', startMin: Date.now() - 1000, startMax: Date.now() })).toEqual(
      [],
    );
    expect(await client.getTrace('0'.repeat(31) + '1')).toEqual([]);
    const id = spans[0].traceId;
    const got = await client.getTrace(id);
    expect(got.map((s) => s.spanId).sort()).toEqual(
      spans
        .filter((s) => s.traceId === id)
        .map((s) => s.spanId)
        .sort(),
    );
  });

  it('errors name the URL and say what to do', async () => {
    const wrong = new TraceQueryClient(`${jaeger.url}/not-jaeger`);
    await expect(wrong.services()).rejects.toThrow(
      /not-jaeger\/api\/v3\/services answered 404 .*Is the viewer running/,
    );
    const [port] = await reservePorts(1); // reserved and free: nothing listens there
    const closed = new TraceQueryClient(`http://127.0.0.1:${port}`);
    await expect(closed.services()).rejects.toThrow(
      new RegExp(`cannot reach http://127.0.0.1:${port}/api/v3/services: ECONNREFUSED`),
    );
    await expect(closed.services()).rejects.toBeInstanceOf(TraceQueryError);
    releasePorts([port]);
    expect(() => new TraceQueryClient('localhost:8000')).not.toThrow(); // "localhost:" parses as a scheme
    expect(() => new TraceQueryClient('not a url')).toThrow(/is not a URL/);
  });
});
