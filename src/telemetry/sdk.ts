// Starts the OpenTelemetry SDK for one node: the resource that names the node in every trace
// viewer, the Raft sampler, a batch span processor exporting over OTLP (or to JSON files), and
// periodic OTLP metrics. NodeSDK also registers the AsyncLocalStorage context manager and the W3C
// propagator: without them context.active() would be ROOT and parents would go missing.
//
// Only this folder imports the SDK; the rest of the code uses @opentelemetry/api.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { TelemetryConfig } from './config.js';
import { OtlpJsonFileExporter } from './file-exporter.js';
import { RaftSampler } from './sampler.js';

export interface Telemetry {
  enabled: boolean;
  sampler: RaftSampler | null;
  /** Where spans go, for the startup log. */
  destination: string;
  /** Flushes pending spans and metrics. Never rejects (an unreachable endpoint is logged). */
  shutdown(): Promise<string | null>;
}

export function startTelemetry(cfg: TelemetryConfig): Telemetry {
  if (!cfg.enabled || (!cfg.endpoint && !cfg.traceDir)) {
    return {
      enabled: false,
      sampler: null,
      destination: cfg.enabled ? 'nowhere (no endpoint, no trace dir)' : 'off',
      shutdown: () => Promise.resolve(null),
    };
  }
  // Logs stay JSON lines on stdout: don't let NodeSDK start an OTLP logs exporter of its own.
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  let traceExporter: SpanExporter;
  let metricExporter: PushMetricExporter | null = null;
  let destination: string;
  if (cfg.endpoint) {
    const base = cfg.endpoint.replace(/\/$/, '');
    if (cfg.protocol === 'grpc') {
      traceExporter = new GrpcTraceExporter({ url: base });
      metricExporter = new GrpcMetricExporter({ url: base });
    } else {
      traceExporter = new HttpTraceExporter({ url: `${base}/v1/traces` });
      metricExporter = new HttpMetricExporter({ url: `${base}/v1/metrics` });
    }
    destination = `${cfg.endpoint} (OTLP ${cfg.protocol})`;
  } else {
    const file = new OtlpJsonFileExporter(cfg.traceDir!);
    traceExporter = file;
    destination = file.file;
  }
  const sampler = new RaftSampler(cfg.ratios, cfg.tracesPerMinute);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': cfg.serviceName,
      'service.namespace': 'raft-otel',
      'service.instance.id': cfg.nodeId,
    }),
    autoDetectResources: false,
    sampler,
    spanProcessors: [new BatchSpanProcessor(traceExporter)],
    metricReaders: metricExporter
      ? [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: cfg.metricIntervalMs })]
      : [],
    instrumentations: [],
  });
  sdk.start();
  return {
    enabled: true,
    sampler,
    destination,
    shutdown: async () => {
      try {
        await sdk.shutdown();
        return null;
      } catch (e) {
        // An unreachable endpoint with spans pending: report it, never fail the shutdown.
        return (e as Error).message;
      }
    },
  };
}
