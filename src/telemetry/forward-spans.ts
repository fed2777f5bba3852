// Spans for a client write a follower forwards to its leader over gRPC (raft.Raft/Forward): a
// CLIENT span on the follower, child of its HTTP request's span, and a SERVER span on the leader,
// child of that CLIENT span through W3C traceparent in the gRPC metadata; the leader's raft.propose
// is the SERVER span's child. So the forward hop shows in the trace as one RPC, like Raft's own.
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
} from '@opentelemetry/api';
import { Metadata, status } from '@grpc/grpc-js';
import { ATTR, SPAN } from './names.js';
import { carrierOf, contextFromCarrier } from './trace-context.js';
import { tracer } from './semconv.js';
import { unsampledParent } from './span-env.js';

const METHOD = 'Forward';

/** The trace context travels as W3C traceparent in the call's metadata, written and read by the
 *  same dedicated propagator as Raft's own RPCs (trace-context.ts), whatever OTEL_PROPAGATORS says. */
function metadataOf(ctx: Context): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(carrierOf(ctx))) md.set(k, v);
  return md;
}

function contextOfMetadata(md: Metadata): Context {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === 'string') carrier[k] = v;
  return contextFromCarrier(carrier) ?? ROOT_CONTEXT;
}

/** What the leader answered, for the spans: an error code when the write was not applied. */
export interface ForwardOutcome {
  errorStatus: number;
  errorCode: string;
}

function describe(span: ReturnType<ReturnType<typeof tracer>['startSpan']>, o: ForwardOutcome): void {
  span.setAttribute(ATTR.rpcStatus, 'OK');
  if (o.errorStatus) {
    span.setAttributes({ [ATTR.resultCode]: o.errorCode, 'http.response.status_code': o.errorStatus });
    if (o.errorStatus >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: o.errorCode });
  }
}

function failed(span: ReturnType<ReturnType<typeof tracer>['startSpan']>, e: unknown): void {
  const err = e as { code?: number; message?: string };
  const name = typeof err.code === 'number' ? (status[err.code] ?? 'UNKNOWN') : 'UNKNOWN';
  span.setAttributes({ [ATTR.rpcStatus]: name, [ATTR.errorType]: name });
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message ?? String(e) });
}

/** Runs the forward call inside a CLIENT span, child of `parent` (the client's request; none: a
 *  root); `call` gets the metadata carrying its context. */
export async function forwardClientSpan<T extends ForwardOutcome>(
  info: { nodeId: string; leader: string; address: string },
  parent: Context | undefined,
  call: (md: Metadata) => Promise<T>,
): Promise<T> {
  const i = info.address.lastIndexOf(':');
  const attributes: Attributes = {
    [ATTR.rpcSystem]: 'grpc',
    [ATTR.rpcMethod]: `raft.Raft/${METHOD}`,
    [ATTR.serverAddress]: info.address.slice(0, i),
    [ATTR.serverPort]: Number(info.address.slice(i + 1)),
    [ATTR.nodeId]: info.nodeId,
    [ATTR.leaderId]: info.leader,
    'raft.peer.id': info.leader,
  };
  const from = parent ?? ROOT_CONTEXT;
  const unsampled = unsampledParent(from);
  // In a trace that is not kept, the carrier only passes that decision on (span-env.ts).
  const span = unsampled
    ? trace.wrapSpanContext(unsampled)
    : tracer().startSpan(SPAN.rpc(METHOD), { kind: SpanKind.CLIENT, attributes }, from);
  const ctx = trace.setSpan(from, span);
  const md = metadataOf(ctx);
  try {
    const r = await context.with(ctx, () => call(md));
    describe(span, r);
    return r;
  } catch (e) {
    failed(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** Serves a forwarded write inside a SERVER span, child of the caller's CLIENT span; `serve` gets
 *  the context its proposal belongs to. */
export async function forwardServerSpan<T extends ForwardOutcome>(
  info: { nodeId: string; from: string },
  md: Metadata,
  serve: (ctx: Context) => Promise<T>,
): Promise<T> {
  const parent = contextOfMetadata(md);
  const unsampled = unsampledParent(parent);
  if (unsampled) return serve(parent);
  const span = tracer().startSpan(
    SPAN.rpc(METHOD),
    {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR.rpcSystem]: 'grpc',
        [ATTR.rpcMethod]: `raft.Raft/${METHOD}`,
        [ATTR.nodeId]: info.nodeId,
        [ATTR.traceKind]: 'write',
        'raft.peer.id': info.from,
        'raft.forwarded_by': info.from,
      },
    },
    parent,
  );
  try {
    const ctx = trace.setSpan(parent, span);
    const r = await context.with(ctx, () => serve(ctx));
    describe(span, r);
    return r;
  } catch (e) {
    failed(span, e);
    throw e;
  } finally {
    span.end();
  }
}
