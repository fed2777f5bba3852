// An in-process OTLP/HTTP JSON receiver for tests: the nodes export to it with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json, and the test reads back every span and metric point.
import { createServer, type Server } from 'node:http';
import { waitUntil } from '../support/wait.js';

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

// OTLP/HTTP JSON as the OpenTelemetry JS exporters send it: only the fields read here. A body that
// does not fit is dropped by the request handler (the nodes are the only senders).
interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpResource {
  attributes?: OtlpKeyValue[];
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number };
  links?: unknown[];
  events?: { name: string }[];
}
interface OtlpTraces {
  resourceSpans?: { resource?: OtlpResource; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}
interface OtlpDataPoint {
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  attributes?: OtlpKeyValue[];
}
interface OtlpMetric {
  name: string;
  gauge?: { dataPoints?: OtlpDataPoint[] };
  sum?: { dataPoints?: OtlpDataPoint[] };
  histogram?: { dataPoints?: OtlpDataPoint[] };
}
interface OtlpMetrics {
  resourceMetrics?: { resource?: OtlpResource; scopeMetrics?: { metrics?: OtlpMetric[] }[] }[];
}

function attrValue(v: OtlpAnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(attrValue);
  return undefined;
}

function attrs(list: OtlpKeyValue[] = []): Record<string, unknown> {
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
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          if (req.url === '/v1/traces') this.addTraces(JSON.parse(text) as OtlpTraces);
          if (req.url === '/v1/metrics') this.addMetrics(JSON.parse(text) as OtlpMetrics);
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

  private addTraces(body: OtlpTraces): void {
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
            events: (s.events ?? []).map((e) => e.name),
          });
        }
      }
    }
  }

  private addMetrics(body: OtlpMetrics): void {
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

  /** Waits until `fn` finds what it looks for among what has arrived (see waitFor). */
  waitFor<T>(what: string, fn: () => T | undefined | null | false, ms = 20_000): Promise<T> {
    return waitFor(what, fn, ms, this);
  }

  /** What has arrived, per service, for timeout messages. */
  summary(): string {
    const counts = new Map<string, number>();
    for (const s of this.spans) counts.set(s.service, (counts.get(s.service) ?? 0) + 1);
    const per = [...counts].map(([svc, n]) => `${svc}: ${n}`).join(', ');
    return `received ${this.spans.length} spans (${per || 'none'}) and ${this.metrics.length} metric points`;
  }
}

/** OTLP span kinds as they appear in JSON. */
export const SERVER = 2;
export const CLIENT = 3;
/** OTLP status code of an errored span. */
export const ERROR = 2;

/** Polls `fn` until it returns something truthy (spans arrive in batches, from several processes,
 *  in any order); the timeout error names what never came and what did arrive at `rx`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | null | false,
  ms = 20_000,
  rx?: OtlpReceiver,
): Promise<T> {
  return waitUntil(what, fn, { timeoutMs: ms, everyMs: 100, context: rx ? () => rx.summary() : undefined });
}
