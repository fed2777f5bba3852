// The semantic conventions raft-otel follows, pinned to one released version, and the tracer and
// meter that say so. Every span and metric carries this version's schema URL (on its
// instrumentation scope, and the resource has it too), so a backend that knows the schema can
// translate our names when the conventions move on. test/telemetry/semconv.test.ts checks each name
// below against @opentelemetry/semantic-conventions of the same version (a dev dependency, pinned
// exactly): the names are copied here so that a node does not load that package at start-up.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';

/** The released semantic-conventions version whose names we use (RPC conventions stable there). */
export const SEMCONV_VERSION = '1.45.0';
export const SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`;

/** The conventions' names this folder uses (attributes, metrics). */
export const SEMCONV = {
  serviceName: 'service.name',
  serviceVersion: 'service.version',
  serviceNamespace: 'service.namespace',
  serviceInstanceId: 'service.instance.id',
  rpcSystemName: 'rpc.system.name',
  rpcMethod: 'rpc.method',
  rpcStatusCode: 'rpc.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  httpRequestMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpResponseStatusCode: 'http.response.status_code',
  urlPath: 'url.path',
  /** Histogram, unit s: the duration of an outgoing RPC. */
  rpcClientCallDuration: 'rpc.client.call.duration',
} as const;

/** The bucket boundaries the RPC conventions give for call durations, in seconds. */
export const RPC_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The instrumentation scope's name: this project, which instruments itself. */
export const SCOPE = 'raft-otel';

let version: string | undefined;

/** raft-otel's version, from the package.json above this file (the sources and dist/ alike). */
export function serviceVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'raft-otel' && pkg.version) return (version = pkg.version);
    } catch {
      // no package.json here (or not ours): look further up
    }
    const up = dirname(dir);
    if (up === dir) return (version = 'unknown');
    dir = up;
  }
}

/** The tracer every raft-otel span comes from: named, versioned, with the conventions' schema URL. */
export function tracer(): Tracer {
  // The API's trace.getTracer takes no options; its provider (the global one, or a proxy) does.
  return trace.getTracerProvider().getTracer(SCOPE, serviceVersion(), { schemaUrl: SCHEMA_URL });
}

/** The meter every raft-otel metric comes from. */
export function meter(): Meter {
  return metrics.getMeter(SCOPE, serviceVersion(), { schemaUrl: SCHEMA_URL });
}
