// The SDK a node starts (src/telemetry/sdk.ts), in one process: it exports over OTLP/HTTP with
// protobuf (the spec's default protocol), traces and metrics, and its resource is the SDK's
// default plus OTEL_RESOURCE_ATTRIBUTES plus the node's names and version, under the pinned
// semantic conventions' schema URL.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryConfig } from '../../src/telemetry/config.js';
import { NodeMetrics } from '../../src/telemetry/metrics.js';
import { nodeResource, startTelemetry } from '../../src/telemetry/sdk.js';
import { SCHEMA_URL, tracer } from '../../src/telemetry/semconv.js';
import { messages, str, stringAttributes } from './protobuf.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface Received {
  path: string;
  type: string;
  body: Buffer;
}
const received: Received[] = [];
let server: Server;
let endpoint = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse / ExportMetricsServiceResponse.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('the node resource', () => {
  it('merges the SDK default, OTEL_RESOURCE_ATTRIBUTES and the node’s names, the names winning', async () => {
    const before = process.env.OTEL_RESOURCE_ATTRIBUTES;
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=classroom,service.instance.id=impostor';
    try {
      const r = await nodeResource(telemetryConfig('n3', {}));
      expect(r.attributes).toMatchObject({
        'service.name': 'raft-n3',
        'service.namespace': 'raft-otel',
        'service.instance.id': 'n3',
        'service.version': VERSION,
        'deployment.environment.name': 'classroom',
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
      });
      expect(r.schemaUrl).toBe(SCHEMA_URL);
    } finally {
      if (before === undefined) delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      else process.env.OTEL_RESOURCE_ATTRIBUTES = before;
    }
  });
});

describe('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf', () => {
  it('exports traces and metrics as OTLP protobuf to /v1/traces and /v1/metrics', async () => {
    const telemetry = await startTelemetry(
      telemetryConfig('n7', {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_METRIC_EXPORT_INTERVAL: '100',
      }),
    );
    expect(telemetry.destination).toBe(`${endpoint} (OTLP http/protobuf)`);
    tracer()
      .startSpan('raft.election', { attributes: { 'raft.trace.kind': 'election' }, root: true })
      .end();
    const m = new NodeMetrics(
      { term: () => 4, role: () => 'leader', commitIndex: () => 9, appliedIndex: () => 9 },
      { 'raft.node.id': 'n7' },
    );
    m.rpcDuration.call(12, { method: 'AppendEntries', status: 'OK', peer: 'n2' });
    expect(await telemetry.shutdown()).toBeNull(); // flushes both

    const traces = received.filter((r) => r.path === '/v1/traces');
    const metrics = received.filter((r) => r.path === '/v1/metrics');
    expect(traces.length, 'trace exports').toBeGreaterThan(0);
    expect(metrics.length, 'metric exports').toBeGreaterThan(0);
    for (const r of [...traces, ...metrics]) expect(r.type).toBe('application/x-protobuf');

    // ExportTraceServiceRequest: resource_spans(1) > scope_spans(2) > spans(2) > name(5).
    const spans = traces.flatMap((t) => messages(t.body, [1, 2, 2]));
    expect(spans.map((s) => str(s, 5))).toContain('raft.election');
    const resource = messages(traces[0].body, [1, 1])[0];
    expect(stringAttributes(resource, 1)).toMatchObject({ 'service.name': 'raft-n7', 'service.version': VERSION });
    expect(str(messages(traces[0].body, [1])[0], 3)).toBe(SCHEMA_URL); // ResourceSpans.schema_url
    expect(str(messages(traces[0].body, [1, 2])[0], 3)).toBe(SCHEMA_URL); // ScopeSpans.schema_url

    // ExportMetricsServiceRequest: resource_metrics(1) > scope_metrics(2) > metrics(2) > name(1), unit(3).
    const named = metrics.flatMap((r) => messages(r.body, [1, 2, 2])).map((x) => [str(x, 1), str(x, 3) ?? '']);
    expect(named).toContainEqual(['rpc.client.call.duration', 's']);
    expect(named.map(([n]) => n)).toContain('raft.term');
  });
});
