// Starts the OpenTelemetry SDK for one node: the resource that names the node in every trace
// viewer, the Raft sampler, a batch span processor exporting over OTLP (or to JSON files), and
// periodic OTLP metrics. It also registers the AsyncLocalStorage context manager and the W3C
// propagators: without them context.active() would be ROOT and parents would go missing.
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
import type { TelemetryConfig } from './config.js';
import { RaftSampler } from './sampler.js';

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

/** The exporters for this configuration; each OTLP flavour is imported only when used. */
async function exporters(cfg: TelemetryConfig): Promise<Exporters> {
  if (!cfg.endpoint) {
    const { OtlpJsonFileExporter } = await import('./file-exporter.js');
    const file = new OtlpJsonFileExporter(cfg.traceDir!);
    return { traces: file, metrics: null, destination: file.file };
  }
  const base = cfg.endpoint.replace(/\/$/, '');
  const destination = `${cfg.endpoint} (OTLP ${cfg.protocol})`;
  if (cfg.protocol === 'grpc') {
    const [t, m] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-grpc'),
      import('@opentelemetry/exporter-metrics-otlp-grpc'),
    ]);
    return {
      traces: new t.OTLPTraceExporter({ url: base }),
      metrics: new m.OTLPMetricExporter({ url: base }),
      destination,
    };
  }
  const [t, m] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
  ]);
  return {
    traces: new t.OTLPTraceExporter({ url: `${base}/v1/traces` }),
    metrics: new m.OTLPMetricExporter({ url: `${base}/v1/metrics` }),
    destination,
  };
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
  const [out, { BasicTracerProvider, BatchSpanProcessor }, { resourceFromAttributes }, core, hooks] = await Promise.all(
    [
      exporters(cfg),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
      import('@opentelemetry/context-async-hooks'),
    ],
  );
  // OTEL_LOG_LEVEL turns on the SDK's own diagnostics, as NodeSDK does.
  const logLevel = process.env.OTEL_LOG_LEVEL;
  if (logLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: core.diagLogLevelFromString(logLevel) });

  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  const resource = resourceFromAttributes({
    'service.name': cfg.serviceName,
    'service.namespace': 'raft-otel',
    'service.instance.id': cfg.nodeId,
  });
  const sampler = new RaftSampler(cfg.ratios, cfg.tracesPerMinute);
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
