// No context crosses an await by itself in a node (telemetry/context-manager.ts), so each request's
// trace context is handed on by hand. What a learner relies on: the write or read a request asks
// for belongs to that request's trace (after the body was read, through the fast path or Express),
// and an error logged while answering it names its trace.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace, type Context } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpListener } from '../../src/api/app.js';
import type { KvCommand } from '../../src/kv/commands.js';
import type { NodeSurface } from '../../src/node/surface.js';
import { recordSpans } from '../tracing/provider.js';

let asked: { op: string; ctx: Context | undefined }[] = [];
let failNext = false;
const logged: { event: string; traceId: string | undefined }[] = [];
const node = {
  cfg: { id: 'n1', admin: false, requestTimeoutMs: 1000 },
  tracingEnabled: true,
  log: {
    debug: () => {},
    info: () => {},
    warn: () => {},
    // As the node's logger does (RaftTracing.logFields): the ids of the span active as it writes.
    error: (event: string) => logged.push({ event, traceId: trace.getActiveSpan()?.spanContext().traceId }),
  },
  leaderId: () => 'n1',
  isLeader: () => true,
  address: () => undefined,
  serveForwards: () => {},
  propose: async (cmd: KvCommand, ctx?: Context) => {
    await Promise.resolve();
    asked.push({ op: cmd.op, ctx });
    if (failNext) {
      failNext = false;
      throw new Error('disk on fire');
    }
    const result =
      cmd.op === 'cas' ? { op: 'cas', swapped: true, index: 4 } : { op: 'put', key: 'k', value: 'v', index: 4 };
    return { result, index: 4 };
  },
  read: async (_key: string, _c: string, _s: number, ctx?: Context) => {
    await Promise.resolve();
    asked.push({ op: 'read', ctx });
    return { value: 'v', index: 4 };
  },
} as unknown as NodeSurface;

let server: Server;
let base = '';
beforeAll(async () => {
  recordSpans();
  server = createServer(createHttpListener(node));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const traceIdOf = (ctx: Context | undefined) => (ctx ? trace.getSpanContext(ctx)?.traceId : undefined);

describe("a request's trace context", () => {
  for (const [what, method, path, body] of [
    ['a plain PUT (the fast path)', 'PUT', '/kv/k', '{"value":"v"}'],
    ['a CAS (Express)', 'POST', '/kv/k/cas', '{"expected":null,"value":"v"}'],
    ['a linearizable GET (the fast path)', 'GET', '/kv/k', undefined],
  ] as const) {
    it(`reaches the node with ${what}, after the body was read`, async () => {
      asked = [];
      const res = await fetch(base + path, { method, body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      const traceId = res.headers.get('x-trace-id');
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(asked).toHaveLength(1);
      expect(traceIdOf(asked[0].ctx)).toBe(traceId);
    });
  }

  it('names its trace in the error logged while answering it', async () => {
    logged.length = 0;
    failNext = true;
    const res = await fetch(`${base}/kv/k`, { method: 'PUT', body: '{"value":"v"}' });
    expect(res.status).toBe(500);
    expect(logged).toEqual([{ event: 'http_error', traceId: res.headers.get('x-trace-id') }]);
    expect(logged[0].traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
