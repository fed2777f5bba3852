// An in-process OTLP/HTTP JSON receiver for tests: the nodes export to it with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json, and the test reads back every span and metric point.
import { createServer, type Server } from 'node:http';

export interface SpanRecord {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: bigint;
  attrs: Record<string, unknown>;
  status: number;
  links: number;
  events: string[];
}

export interface MetricPoint {
  service: string;
  name: string;
  value: number;
  attrs: Record<string, unknown>;
}

function attrValue(v: any): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(attrValue);
  return undefined;
}

function attrs(list: any[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, attrValue(a.value)]));
}

export class OtlpReceiver {
  spans: SpanRecord[] = [];
  metrics: MetricPoint[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (req.url === '/v1/traces') this.addTraces(body);
          if (req.url === '/v1/metrics') this.addMetrics(body);
        } catch {
          /* ignore what we cannot read */
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.port = (this.server.address() as { port: number }).port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_ENDPOINT: this.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      ...extra,
    };
  }

  private addTraces(body: any): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attrs(rs.resource?.attributes)['service.name']);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            start: BigInt(s.startTimeUnixNano),
            attrs: attrs(s.attributes),
            status: s.status?.code ?? 0,
            links: (s.links ?? []).length,
            events: (s.events ?? []).map((e: any) => e.name),
          });
        }
      }
    }
  }

  private addMetrics(body: any): void {
    for (const rm of body.resourceMetrics ?? []) {
      const service = String(attrs(rm.resource?.attributes)['service.name']);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const points = m.gauge?.dataPoints ?? m.sum?.dataPoints ?? m.histogram?.dataPoints ?? [];
          for (const p of points) {
            const value = p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? Number(p.count ?? 0));
            this.metrics.push({ service, name: m.name, value, attrs: attrs(p.attributes) });
          }
        }
      }
    }
  }

  trace(traceId: string): SpanRecord[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    await new Promise((ok) => this.server.close(ok));
  }
}

/** OTLP span kinds as they appear in JSON. */
export const SERVER = 2;
export const CLIENT = 3;
/** OTLP status code of an errored span. */
export const ERROR = 2;

/** Polls `fn` until it returns something truthy (spans arrive in batches). */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
