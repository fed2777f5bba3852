// The OTLP/gRPC receiver (opentelemetry.proto.collector.trace.v1.TraceService/Export, and the
// metrics service, accepted and ignored), from the vendored OTLP protos (proto/opentelemetry/).
// Off unless asked for (`raft-otel viewer --grpc-port 4317`): the nodes `up` starts export to the
// viewer over OTLP/HTTP, and loading gRPC would cost every `up` start-up time.
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  status,
  type GrpcObject,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { flattenOtlp, OtlpError, type ExportTraceServiceRequest } from '../../traces/otlp.js';
import type { Ingest } from './ingest.js';
import { METRICS_SERVICE_PROTO, otlpProtoRoot, TRACE_SERVICE_PROTO } from './otlp-proto.js';

export interface GrpcReceiver {
  address: string;
  close(): Promise<void>;
}

function service(pkg: GrpcObject, path: string): ServiceClientConstructor {
  let o: unknown = pkg;
  for (const part of path.split('.')) o = (o as Record<string, unknown>)[part];
  return o as ServiceClientConstructor;
}

export async function startGrpcReceiver(ingest: Ingest, host: string, port: number): Promise<GrpcReceiver> {
  const def = loadSync([TRACE_SERVICE_PROTO, METRICS_SERVICE_PROTO], {
    includeDirs: [otlpProtoRoot()],
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
    arrays: true,
    keepCase: false,
  });
  const pkg = loadPackageDefinition(def);
  const server = new Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
  server.addService(service(pkg, 'opentelemetry.proto.collector.trace.v1.TraceService').service, {
    Export: (call: ServerUnaryCall<ExportTraceServiceRequest, object>, done: sendUnaryData<object>) => {
      let spans;
      try {
        spans = flattenOtlp(call.request);
      } catch (e) {
        ingest.counters.rejected++;
        if (e instanceof OtlpError) return done({ code: status.INVALID_ARGUMENT, details: e.message });
        return done({ code: status.INTERNAL, details: (e as Error).message });
      }
      ingest.add(spans).then(
        () => done(null, {}),
        (e: unknown) => done({ code: status.INTERNAL, details: (e as Error).message }),
      );
    },
  });
  server.addService(service(pkg, 'opentelemetry.proto.collector.metrics.v1.MetricsService').service, {
    Export: (_call: ServerUnaryCall<unknown, object>, done: sendUnaryData<object>) => done(null, {}),
  });
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  await new Promise<void>((ok, fail) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (err) => (err ? fail(err) : ok())),
  );
  return {
    address,
    close: () => new Promise<void>((ok) => server.tryShutdown(() => ok())),
  };
}
