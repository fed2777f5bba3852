// A stand-in for Jaeger v2's /api/v3 HTTP gateway that answers exactly as Jaeger's does
// (cmd/jaeger/internal/extension/jaegerquery/internal/apiv3/http_gateway.go, query_parser.go):
// - services: 200 {"services": [...]}; operations: 200 {"operations": [{"name", "spanKind"}]}
// - traces: OTLP JSON (ptrace's JSON marshaler) under "result"; every trace's resourceSpans combined
// - nothing found: http.Error(w, `{"error":{"httpCode":404,"message":"No traces found"}}`, 404),
//   which sends text/plain and a trailing newline
// - a bad query: 400 with the same error shape ("query.startTimeMin and query.startTimeMax are required")
// It records every request so a test can check the parameter names the client sends.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toOtlp, type FlatSpan } from '../../src/traces/otlp.js';

export class JaegerStub {
  readonly requests: URL[] = [];
  private server: Server | null = null;
  url = '';

  constructor(private readonly spans: FlatSpan[]) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      this.requests.push(u);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, message: string) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
        res.end(JSON.stringify({ error: { httpCode: status, message } }) + '\n');
      };
      const p = (canon: string, old: string) => u.searchParams.get(canon) || u.searchParams.get(old) || '';
      if (u.pathname === '/api/v3/services')
        return json(200, { services: [...new Set(this.spans.map((s) => s.service))] });
      if (u.pathname === '/api/v3/operations') {
        const svc = u.searchParams.get('service');
        const ops = this.spans
          .filter((s) => s.service === svc)
          .map((s) => ({ name: s.name, spanKind: s.kind.toLowerCase() }));
        return json(200, { operations: [...new Map(ops.map((o) => [o.name + o.spanKind, o])).values()] });
      }
      const m = /^\/api\/v3\/traces\/([^/]+)$/.exec(u.pathname);
      if (m) {
        const found = this.spans.filter((s) => s.traceId === m[1].toLowerCase());
        return found.length ? json(200, { result: toOtlp(found) }) : error(404, 'No traces found');
      }
      if (u.pathname === '/api/v3/traces') {
        const min = p('query.startTimeMin', 'query.start_time_min');
        const max = p('query.startTimeMax', 'query.start_time_max');
        if (!min || !max) return error(400, 'query.startTimeMin and query.startTimeMax are required');
        const service = p('query.serviceName', 'query.service_name');
        const ids = new Set(
          this.spans
            .filter((s) => s.service === service && s.startMs >= Date.parse(min) && s.startMs <= Date.parse(max))
            .map((s) => s.traceId),
        );
        const found = this.spans.filter((s) => ids.has(s.traceId));
        return found.length ? json(200, { result: toOtlp(found) }) : error(404, 'No traces found');
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found\n');
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}
