// Telemetry settings. Standard OpenTelemetry variables where one exists, RAFT_* for the rest
// (README "Tracing settings" lists them all):
//   OTEL_EXPORTER_OTLP_ENDPOINT   where spans and metrics go (a collector or Jaeger); gRPC on 4317
//   OTEL_EXPORTER_OTLP_PROTOCOL   grpc (default), http/protobuf or http/json; the per-signal
//                                 OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / _METRICS_PROTOCOL override it
//   OTEL_SERVICE_NAME             overrides the service name (default raft-<id>)
//   OTEL_RESOURCE_ATTRIBUTES      more resource attributes (read in sdk.ts, as the SDK does)
//   OTEL_METRIC_EXPORT_INTERVAL   milliseconds between metric exports (default 10000)
//   OTEL_BSP_*                    the batch span processor's standard settings
//   RAFT_TRACING                  on (default) or off: off costs next to nothing
//   RAFT_TRACE_DIR                without an endpoint: write spans as OTLP JSON lines here
//   RAFT_TRACE_FILE_MAX_MB, RAFT_TRACE_FILE_KEEP
//                                 rotation of those files (default 16 MB, 2 older files kept)
//   RAFT_SAMPLE_ELECTIONS, _WRITES, _READS, _HEARTBEATS, _SNAPSHOTS, _ADMIN
//                                 ratio of new traces of each kind (default 1; heartbeats 0)
//   RAFT_TRACE_BURST, RAFT_TRACE_RATE
//                                 the cap on new write (and read) traces per node: a burst of 50,
//                                 then 5 a second; RAFT_TRACE_RATE=0 traces every write
//   RAFT_TRACES_PER_MINUTE        an extra cap on new write, read and heartbeat traces per node per
//                                 minute (default 0: none); elections and the rest are never capped
export const TRACE_KINDS = ['election', 'write', 'read', 'heartbeat', 'snapshot', 'admin'] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];

export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface TelemetryConfig {
  enabled: boolean;
  serviceName: string;
  nodeId: string;
  endpoint: string | null;
  /** The protocol of the traces' exporter (kept under this name for callers that print it). */
  protocol: OtlpProtocol;
  metricsProtocol: OtlpProtocol;
  traceDir: string | null;
  /** Rotation of the JSON files in traceDir. */
  traceFileMaxBytes: number;
  traceFileKeep: number;
  ratios: Record<TraceKind, number>;
  traceRatePerSecond: number;
  traceBurst: number;
  tracesPerMinute: number;
  metricIntervalMs: number;
}

/** The variable's value, or undefined when unset or empty (the OpenTelemetry spec: empty = unset). */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** A number in [min, max] (an integer if asked), or a clear error naming the variable. */
function num(
  env: NodeJS.ProcessEnv,
  name: string,
  dflt: number,
  { min = 0, max = Infinity, integer = false, what = 'a number' } = {},
): number {
  const v = value(env, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new Error(`${name}=${env[name]}: expected ${what} ${range}`);
  }
  return n;
}

const ratio = (env: NodeJS.ProcessEnv, name: string, dflt: number) => num(env, name, dflt, { max: 1, what: 'a ratio' });

function protocol(env: NodeJS.ProcessEnv, name: string, fallback: OtlpProtocol): OtlpProtocol {
  const v = value(env, name);
  if (v === undefined) return fallback;
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(v))
    throw new Error(`${name}=${v}: raft-otel speaks ${OTLP_PROTOCOLS.join(', ')}`);
  return v as OtlpProtocol;
}

export function telemetryConfig(nodeId: string, env: NodeJS.ProcessEnv): TelemetryConfig {
  const tracing = (env.RAFT_TRACING ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(tracing))
    throw new Error(`RAFT_TRACING=${env.RAFT_TRACING}: expected on or off`);
  // grpc stays the default (the spec's is http/protobuf): the README, compose and the exercises
  // all point at port 4317, which speaks gRPC.
  const general = protocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc');
  return {
    enabled: ['on', 'true', '1'].includes(tracing),
    serviceName: env.OTEL_SERVICE_NAME || `raft-${nodeId}`,
    nodeId,
    endpoint: value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? null,
    protocol: protocol(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', general),
    metricsProtocol: protocol(env, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', general),
    traceDir: value(env, 'RAFT_TRACE_DIR') ?? null,
    traceFileMaxBytes: Math.round(num(env, 'RAFT_TRACE_FILE_MAX_MB', 16, { min: 0.001 }) * 1024 * 1024),
    traceFileKeep: num(env, 'RAFT_TRACE_FILE_KEEP', 2, { integer: true, what: 'a whole number' }),
    ratios: {
      election: ratio(env, 'RAFT_SAMPLE_ELECTIONS', 1),
      write: ratio(env, 'RAFT_SAMPLE_WRITES', 1),
      read: ratio(env, 'RAFT_SAMPLE_READS', 1),
      heartbeat: ratio(env, 'RAFT_SAMPLE_HEARTBEATS', 0),
      snapshot: ratio(env, 'RAFT_SAMPLE_SNAPSHOTS', 1),
      admin: ratio(env, 'RAFT_SAMPLE_ADMIN', 1),
    },
    traceRatePerSecond: num(env, 'RAFT_TRACE_RATE', 5),
    traceBurst: num(env, 'RAFT_TRACE_BURST', 50, { min: 1, integer: true, what: 'a whole number' }),
    tracesPerMinute: num(env, 'RAFT_TRACES_PER_MINUTE', 0),
    metricIntervalMs: num(env, 'OTEL_METRIC_EXPORT_INTERVAL', 10_000, {
      min: 1,
      integer: true,
      what: 'milliseconds, a whole number',
    }),
  };
}
