// The HTTP spans (src/telemetry/http.ts) in one process, against a real HTTP server: a request the
// client abandons is still exported, as an error (the "outcome unknown" writes are the interesting
// ones), and the forward's CLIENT span is an error on 5xx, as the HTTP conventions say.
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpServerSpans } from '../../src/telemetry/http.js';
import { SCHEMA_URL } from '../../src/telemetry/semconv.js';
import { waitUntil } from '../support/wait.js';
import { SyncContextManager } from '../../src/telemetry/context-manager.js';

const exporter = new InMemorySpanExporter();
const log: Record<string, unknown>[] = [];
let server: Server;
let port = 0;
/** Requests the handler holds without answering, by key, so the test decides when (or whether). */
const held = new Map<string, express.Response>();

beforeAll(async () => {
  context.setGlobalContextManager(new SyncContextManager());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  const app = express();
  const spans = httpServerSpans('n1', true, (fields) => log.push(fields));
  app.use((req, res, next) => spans(req, res, () => next()));
  app.put('/kv/:key', (req, res) => {
    const key = String(req.params.key);
    if (key.startsWith('status-')) res.status(Number(key.slice(7))).json({});
    else held.set(key, res); // answered later, or never
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const res of held.values()) res.destroy();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  exporter.reset();
  log.length = 0;
});

function put(key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/kv/${key}` }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const spanOf = (key: string) => () =>
  exporter.getFinishedSpans().find((s) => s.attributes['url.path'] === `/kv/${key}`);

describe('HTTP server spans', () => {
  it('export a request the client abandoned, as an error', async () => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/kv/abandoned' });
    req.on('error', () => {}); // the test destroys it: a reset is expected
    req.end();
    await waitUntil('the server to hold the request', () => held.has('abandoned'), { timeoutMs: 5000 });
    req.destroy(); // the client gives up (a timeout, Ctrl-C) before any answer
    const span: ReadableSpan = await waitUntil('the abandoned request’s span to be exported', spanOf('abandoned'), {
      timeoutMs: 5000,
    });
    expect(span.name).toBe('PUT /kv/{key}');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toMatch(/closed before the response/);
    expect(span.attributes['error.type']).toBe('aborted');
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    expect(log).toContainEqual(expect.objectContaining({ route: '/kv/{key}', status: 'aborted' }));
  });

  it('end once, with the status, when the response is sent', async () => {
    expect(await put('status-200')).toBe(200);
    expect(await put('status-404')).toBe(404);
    expect(await put('status-503')).toBe(503);
    await waitUntil('three spans', () => exporter.getFinishedSpans().length >= 3, { timeoutMs: 5000 });
    const [ok, missing, down] = ['status-200', 'status-404', 'status-503'].map((k) => spanOf(k)()!);
    expect(exporter.getFinishedSpans()).toHaveLength(3); // 'close' after 'finish' ends nothing twice
    expect([ok.status.code, missing.status.code, down.status.code]).toEqual([
      SpanStatusCode.UNSET,
      SpanStatusCode.UNSET, // a 4xx is the client's mistake, not the server's
      SpanStatusCode.ERROR,
    ]);
    expect(down.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(ok.instrumentationScope).toMatchObject({ name: 'raft-otel', schemaUrl: SCHEMA_URL });
  });
});
