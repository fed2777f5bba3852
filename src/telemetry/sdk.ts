// Starts the OpenTelemetry SDK for one node: the resource that names the node in every trace
// viewer, the Raft sampler, a batch span processor exporting over OTLP (or to JSON files), and
// periodic OTLP metrics. It also registers the context manager (context-manager.ts: synchronous
// only, contexts cross awaits by hand) and the W3C propagators.
//
// This is what @opentelemetry/sdk-node's NodeSDK would set up for these options, built from the
// SDK's own packages instead: NodeSDK loads every exporter, the logs SDK and the instrumentation
// machinery at import (about 0.4 s on a 2-core machine), and a node's start-up is on the path of
// every `up` and `restart`. Only the exporter a node uses is loaded.
//
// Only this folder imports the SDK; the rest of the code uses @opentelemetry/api.
import { context, diag, DiagConsoleLogger, metrics, propagation, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { OtlpProtocol, TelemetryConfig } from './config.js';
import { SyncContextManager } from './context-manager.js';
import { RaftSampler } from './sampler.js';
import { SCHEMA_URL, SEMCONV, serviceVersion } from './semconv.js';

export interface Telemetry {
  enabled: boolean;
  sampler: RaftSampler | null;
  /** Where spans go, for the startup log. */
  destination: string;
  /** Flushes pending spans and metrics. Never rejects (an unreachable endpoint is logged). */
  shutdown(): Promise<string | null>;
}

interface Exporters {
  traces: SpanExporter;
  metrics: PushMetricExporter | null;
  destination: string;
}

/** The OTLP exporter classes of each protocol, each package imported only when used. */
const TRACE_EXPORTERS: Record<OtlpProtocol, () => Promise<new (c: { url: string }) => SpanExporter>> = {
  grpc: async () => (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter,
  'http/protobuf': async () => (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter,
  'http/json': async () => (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter,
};
const METRIC_EXPORTERS: Record<OtlpProtocol, () => Promise<new (c: { url: string }) => PushMetricExporter>> = {
  grpc: async () => (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter,
  'http/protobuf': async () => (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter,
  'http/json': async () => (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter,
};

/** The URL an exporter posts to: gRPC takes the endpoint itself, OTLP/HTTP a path per signal. */
function url(base: string, protocol: OtlpProtocol, signal: 'traces' | 'metrics'): string {
  return protocol === 'grpc' ? base : `${base}/v1/${signal}`;
}

/** The exporters for this configuration. */
async function exporters(cfg: TelemetryConfig): Promise<Exporters> {
  if (!cfg.endpoint) {
    const { OtlpJsonFileExporter } = await import('./file-exporter.js');
    const file = new OtlpJsonFileExporter(cfg.traceDir!, { maxBytes: cfg.traceFileMaxBytes, keep: cfg.traceFileKeep });
    return { traces: file, metrics: null, destination: file.file };
  }
  const base = cfg.endpoint.replace(/\/$/, '');
  const [T, M] = await Promise.all([TRACE_EXPORTERS[cfg.protocol](), METRIC_EXPORTERS[cfg.metricsProtocol]()]);
  return {
    traces: new T({ url: url(base, cfg.protocol, 'traces') }),
    metrics: new M({ url: url(base, cfg.metricsProtocol, 'metrics') }),
    destination:
      cfg.protocol === cfg.metricsProtocol
        ? `${cfg.endpoint} (OTLP ${cfg.protocol})`
        : `${cfg.endpoint} (OTLP ${cfg.protocol}; metrics ${cfg.metricsProtocol})`,
  };
}

/**
 * The node's resource: the SDK's default (telemetry.sdk.*), then OTEL_RESOURCE_ATTRIBUTES, then
 * what names the node, which wins: service.name (raft-<id>, or OTEL_SERVICE_NAME),
 * service.namespace, service.instance.id and service.version. A trace viewer's rows are these
 * names, so a stray OTEL_RESOURCE_ATTRIBUTES cannot make two nodes look like one.
 */
export async function nodeResource(cfg: TelemetryConfig): Promise<Resource> {
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } =
    await import('@opentelemetry/resources');
  return defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      resourceFromAttributes(
        {
          [SEMCONV.serviceName]: cfg.serviceName,
          [SEMCONV.serviceNamespace]: 'raft-otel',
          [SEMCONV.serviceInstanceId]: cfg.nodeId,
          [SEMCONV.serviceVersion]: serviceVersion(),
        },
        { schemaUrl: SCHEMA_URL },
      ),
    );
}

export async function startTelemetry(cfg: TelemetryConfig): Promise<Telemetry> {
  if (!cfg.enabled || (!cfg.endpoint && !cfg.traceDir)) {
    return {
      enabled: false,
      sampler: null,
      destination: cfg.enabled ? 'nowhere (no endpoint, no trace dir)' : 'off',
      shutdown: () => Promise.resolve(null),
    };
  }
  const [out, { BasicTracerProvider, BatchSpanProcessor }, resource, core] = await Promise.all([
    exporters(cfg),
    import('@opentelemetry/sdk-trace-base'),
    nodeResource(cfg),
    import('@opentelemetry/core'),
  ]);
  // OTEL_LOG_LEVEL turns on the SDK's own diagnostics, as NodeSDK does.
  const logLevel = process.env.OTEL_LOG_LEVEL;
  if (logLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: core.diagLogLevelFromString(logLevel) });

  context.setGlobalContextManager(new SyncContextManager());
  propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  const sampler = new RaftSampler({
    ratios: cfg.ratios,
    ratePerSecond: cfg.traceRatePerSecond,
    burst: cfg.traceBurst,
    perMinute: cfg.tracesPerMinute,
  });
  // Span limits and OTEL_BSP_* come from the environment, read by these classes themselves.
  const tracerProvider = new BasicTracerProvider({
    resource,
    sampler,
    spanProcessors: [new BatchSpanProcessor(out.traces)],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const providers: { shutdown(): Promise<void> }[] = [tracerProvider];
  if (out.metrics) {
    const { MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
    const meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({ exporter: out.metrics, exportIntervalMillis: cfg.metricIntervalMs }),
      ],
    });
    metrics.setGlobalMeterProvider(meterProvider);
    providers.push(meterProvider);
  }
  return {
    enabled: true,
    sampler,
    destination: out.destination,
    shutdown: async () => {
      try {
        await Promise.all(providers.map((p) => p.shutdown()));
        return null;
      } catch (e) {
        // An unreachable endpoint with spans pending: report it, never fail the shutdown.
        return (e as Error).message;
      }
    },
  };
}
