// What every span maker of a node shares: the tracer, the node's id, the clock spans are stamped
// with (the wall clock in a node; virtual time mapped to a fixed date in the simulator, so an
// exported run is the same file for everyone) and the metrics (none in the simulator).
import {
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type SpanContext,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { TraceKind } from './config.js';
import type { NodeMetrics } from './metrics.js';
import { ATTR } from './names.js';

export interface SpanEnv {
  readonly tracer: Tracer;
  readonly nodeId: string;
  /** Milliseconds since the epoch to stamp spans and events with; undefined: the SDK's clock. */
  readonly now: () => number | undefined;
  readonly metrics: NodeMetrics | null;
}

/** The span context in `ctx` when a sampler decided not to keep its trace. Sampling is parent-based
 *  (sampler.ts): nothing started under it is kept either, so no span need be made there. */
export function unsampledParent(ctx: Context): SpanContext | null {
  const sc = trace.getSpanContext(ctx);
  return sc && (sc.traceFlags & 1) === 0 && trace.isSpanContextValid(sc) ? sc : null;
}

export function startSpan(
  env: SpanEnv,
  name: string,
  parent: Context,
  attributes: Attributes,
  kind = SpanKind.INTERNAL,
  links: Link[] = [],
): Span {
  // Under a trace that is not kept, the parent's context stands in for the child: no sampler call,
  // no new ids, no attributes, nothing to export. Most writes under load take this path, and it is
  // what keeps tracing cheap for them (issue 14).
  const unsampled = unsampledParent(parent);
  if (unsampled) return trace.wrapSpanContext(unsampled);
  return env.tracer.startSpan(
    name,
    { kind, links, startTime: env.now(), attributes: { [ATTR.nodeId]: env.nodeId, ...attributes } },
    parent,
  );
}

/** A span that starts a trace: its kind of trace is what the sampler decides on. */
export function startRoot(
  env: SpanEnv,
  name: string,
  kindOfTrace: TraceKind,
  attributes: Attributes = {},
  kind = SpanKind.INTERNAL,
  links: Link[] = [],
): Span {
  return env.tracer.startSpan(
    name,
    {
      kind,
      root: true,
      links,
      startTime: env.now(),
      attributes: { [ATTR.traceKind]: kindOfTrace, [ATTR.nodeId]: env.nodeId, ...attributes },
    },
    ROOT_CONTEXT,
  );
}

export function endSpan(env: SpanEnv, span: Span): void {
  span.end(env.now());
}

export function addEvent(env: SpanEnv, span: Span, name: string, attributes?: Attributes): void {
  span.addEvent(name, attributes, env.now());
}
