// Telemetry settings. Standard OpenTelemetry variables where one exists, RAFT_* for the rest:
//   OTEL_EXPORTER_OTLP_ENDPOINT   where spans and metrics go (a collector or Jaeger); gRPC on 4317
//   OTEL_EXPORTER_OTLP_PROTOCOL   grpc (default) or http/json
//   OTEL_SERVICE_NAME             overrides the service name (default raft-<id>)
//   OTEL_METRIC_EXPORT_INTERVAL   milliseconds between metric exports (default 10000)
//   OTEL_BSP_*                    the batch span processor's standard settings
//   RAFT_TRACING                  on (default) or off: off costs next to nothing
//   RAFT_TRACE_DIR                without an endpoint: write spans as OTLP JSON lines here
//   RAFT_SAMPLE_ELECTIONS, _WRITES, _READS, _HEARTBEATS, _SNAPSHOTS, _ADMIN
//                                 ratio of new traces of each kind (default 1; heartbeats 0)
//   RAFT_TRACES_PER_MINUTE        cap on new traces per node per minute (default 0: no cap)
export const TRACE_KINDS = ['election', 'write', 'read', 'heartbeat', 'snapshot', 'admin'] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];

export interface TelemetryConfig {
  enabled: boolean;
  serviceName: string;
  nodeId: string;
  endpoint: string | null;
  protocol: 'grpc' | 'http/json';
  traceDir: string | null;
  ratios: Record<TraceKind, number>;
  tracesPerMinute: number;
  metricIntervalMs: number;
}

function ratio(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new Error(`${name}=${v}: expected a ratio between 0 and 1`);
  return n;
}

export function telemetryConfig(nodeId: string, env: NodeJS.ProcessEnv): TelemetryConfig {
  const tracing = (env.RAFT_TRACING ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(tracing))
    throw new Error(`RAFT_TRACING=${env.RAFT_TRACING}: expected on or off`);
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'grpc').trim();
  if (protocol !== 'grpc' && protocol !== 'http/json')
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: raft-otel speaks grpc or http/json`);
  const perMinute = Number(env.RAFT_TRACES_PER_MINUTE ?? 0);
  if (!(perMinute >= 0))
    throw new Error(`RAFT_TRACES_PER_MINUTE=${env.RAFT_TRACES_PER_MINUTE}: expected a number >= 0`);
  return {
    enabled: ['on', 'true', '1'].includes(tracing),
    serviceName: env.OTEL_SERVICE_NAME || `raft-${nodeId}`,
    nodeId,
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || null,
    protocol,
    traceDir: env.RAFT_TRACE_DIR || null,
    ratios: {
      election: ratio(env, 'RAFT_SAMPLE_ELECTIONS', 1),
      write: ratio(env, 'RAFT_SAMPLE_WRITES', 1),
      read: ratio(env, 'RAFT_SAMPLE_READS', 1),
      heartbeat: ratio(env, 'RAFT_SAMPLE_HEARTBEATS', 0),
      snapshot: ratio(env, 'RAFT_SAMPLE_SNAPSHOTS', 1),
      admin: ratio(env, 'RAFT_SAMPLE_ADMIN', 1),
    },
    tracesPerMinute: perMinute,
    metricIntervalMs: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 10_000),
  };
}
