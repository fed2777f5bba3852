// An OTLP/gRPC sink for benchmarks, so nodes export as they do by default (protobuf over gRPC) to
// something that costs them nothing extra. It needs no .proto files: requests are taken as raw
// bytes and answered with an empty message, which is a valid (empty) Export response. It counts the
// bytes of spans received.
import { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';

export interface OtlpSink {
  /** The endpoint to give the nodes (OTEL_EXPORTER_OTLP_ENDPOINT). */
  endpoint: string;
  /** Bytes of trace exports received so far. */
  spanBytes(): number;
  reset(): void;
  close(): void;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let bytes = 0;
  const sink = new GrpcServer();
  const raw = (path: string) => ({
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: (b: Buffer) => b,
  });
  sink.addService(
    { Export: raw('/opentelemetry.proto.collector.trace.v1.TraceService/Export') },
    {
      Export: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => (
        (bytes += call.request.length),
        cb(null, Buffer.alloc(0))
      ),
    },
  );
  sink.addService(
    { Export: raw('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export') },
    { Export: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.alloc(0)) },
  );
  const port = await new Promise<number>((ok, ko) =>
    sink.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? ko(e) : ok(p))),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spanBytes: () => bytes,
    reset: () => (bytes = 0),
    close: () => sink.forceShutdown(),
  };
}
