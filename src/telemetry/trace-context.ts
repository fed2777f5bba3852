// Trace context as it travels inside Raft: stored in log entries (durably, replicated, read back
// after a restart) and carried in gRPC metadata. Both use a W3C traceparent through a propagator
// of their own, not the global one: an operator's OTEL_PROPAGATORS=b3 must not make entries store
// nothing, nor make the entries an older run wrote unreadable.
import { ROOT_CONTEXT, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const W3C = new W3CTraceContextPropagator();

export type Carrier = Record<string, string>;
const setter = { set: (c: Carrier, k: string, v: string) => (c[k] = v) };
const getter = { get: (c: Carrier, k: string) => c[k], keys: (c: Carrier) => Object.keys(c) };

/** The traceparent for `ctx`'s span ('' when it has none). */
export function traceparentOf(ctx: Context): string {
  const sc = trace.getSpanContext(ctx);
  return sc ? traceparentOfSpan(sc) : '';
}

/** The traceparent naming `sc` ('' when it is not valid), as the W3C propagator writes it. Made by
 *  hand: a leader writes one into every entry it proposes. */
export function traceparentOfSpan(sc: SpanContext): string {
  if (!trace.isSpanContextValid(sc)) return '';
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The context a stored traceparent stands for, or null when there is none or it is malformed:
 *  null is "no parent", never a ROOT_CONTEXT that a caller would take for one. */
export function contextOf(traceparent: string): Context | null {
  if (!traceparent) return null;
  return spanContextIn(W3C.extract(ROOT_CONTEXT, { traceparent }, getter));
}

/** The span context a traceparent names, or null. */
export function spanContextOf(traceparent: string): SpanContext | null {
  const ctx = contextOf(traceparent);
  return ctx ? trace.getSpanContext(ctx)! : null;
}

export const isSampled = (sc: SpanContext): boolean => (sc.traceFlags & 1) === 1;

/** The trace flags of a stored traceparent (null: none, or not one), read from its last field
 *  without parsing the rest: every node reads every entry's, and most say "not sampled". Only a
 *  sampled one is then parsed (contextOf), and one that is malformed still gives no parent. */
export function traceFlagsOf(traceparent: string): number | null {
  if (!traceparent) return null;
  if (traceparent.length === 55 && traceparent[52] === '-') {
    const flags = parseInt(traceparent.slice(53), 16);
    return Number.isNaN(flags) ? null : flags;
  }
  return spanContextOf(traceparent)?.traceFlags ?? null;
}

/** The carrier (header names and values) that continues `ctx` in another process. */
export function carrierOf(ctx: Context): Carrier {
  const carrier: Carrier = {};
  W3C.inject(ctx, carrier, setter);
  return carrier;
}

/** The remote parent a carrier names, or null. */
export function contextFromCarrier(carrier: Carrier): Context | null {
  return spanContextIn(W3C.extract(ROOT_CONTEXT, carrier, getter));
}

function spanContextIn(ctx: Context): Context | null {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? ctx : null;
}
