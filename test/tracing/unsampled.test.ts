// Under a trace the sampler did not keep, tracing must cost next to nothing (issue 14): most writes
// under load are not kept, and every node sees each of them several times (propose, persist, the
// AppendEntries calls, apply). Nothing is made for them: no sampler call, no span, no parsing of
// the traceparent stored in the entry, and what they pass on still says "not kept".
import { defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it, vi } from 'vitest';
import type { Entry } from '../../src/raft/types.js';
import { startSpan, type SpanEnv } from '../../src/telemetry/span-env.js';
import { traceFlagsOf, traceparentOf, traceparentOfSpan } from '../../src/telemetry/trace-context.js';
import { WriteSpans } from '../../src/telemetry/write-spans.js';
import { recordSpans } from './provider.js';

const spans = recordSpans();

function env(): { env: SpanEnv; started: () => number } {
  const tracer = trace.getTracer('test');
  const spy = vi.fn(tracer.startSpan.bind(tracer));
  return {
    env: {
      tracer: { ...tracer, startSpan: spy },
      nodeId: 'n1',
      now: () => undefined,
      metrics: null,
    },
    started: () => spy.mock.calls.length,
  };
}

const parentWith = (flags: TraceFlags) =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: flags });

const entry = (index: number, context: string): Entry => ({ index, term: 1, type: 'normal', data: '{}', context });

describe('a trace that is not kept', () => {
  it('gets no span of its own: the parent stands in, the tracer is never asked', () => {
    const { env: e, started } = env();
    const parent = parentWith(TraceFlags.NONE);
    const span = startSpan(e, 'raft.propose', parent, { 'raft.log.index': 7 });
    expect(started()).toBe(0);
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext()).toEqual(trace.getSpanContext(parent));
    // What it passes on (into the log entry, into gRPC metadata) still says "not sampled".
    expect(traceparentOf(trace.setSpan(ROOT_CONTEXT, span))).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`);
    // A kept trace still gets its span.
    const kept = startSpan(e, 'raft.propose', parentWith(TraceFlags.SAMPLED), {});
    expect(started()).toBe(1);
    expect(kept.isRecording()).toBe(true);
    kept.end();
  });

  it("is applied on every node without a span, a kept write's apply is a span", () => {
    const { env: e, started } = env();
    const w = new WriteSpans(e);
    const notKept = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-00`;
    const kept = `00-${'e'.repeat(32)}-${'f'.repeat(16)}-01`;
    spans.exporter.reset();
    expect(
      w.apply(
        entry(1, notKept),
        () => 'ok',
        () => ({}),
      ),
    ).toBe('ok');
    expect(started()).toBe(0);
    expect(
      w.apply(
        entry(2, kept),
        () => 'ok',
        () => ({}),
      ),
    ).toBe('ok');
    expect(started()).toBe(1);
    expect(spans.named('raft.apply').map((s) => s.attributes['raft.log.index'])).toEqual([2]);
  });

  it('makes a batch of unkept writes stay unkept, and a batch with one kept write belong to it', () => {
    const { env: e } = env();
    const w = new WriteSpans(e);
    const notKept = (i: number) => `00-${String(i).padStart(32, '0')}-${'1'.repeat(16)}-00`;
    const kept = `00-${'9'.repeat(32)}-${'2'.repeat(16)}-01`;
    const unkept = w.batchParent([entry(1, ''), entry(2, notKept(2)), entry(3, notKept(3))])!;
    expect(unkept.index).toBe(2);
    expect(trace.getSpanContext(unkept.ctx)!.traceFlags & 1).toBe(0);
    expect(unkept.links).toEqual([]);
    const mixed = w.batchParent([entry(1, notKept(1)), entry(2, kept), entry(3, notKept(3))])!;
    expect(mixed.index).toBe(2);
    expect(trace.getSpanContext(mixed.ctx)!.traceId).toBe('9'.repeat(32));
  });

  it('has its flags read from a stored traceparent; anything else is no trace context', () => {
    expect(traceFlagsOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)).toBe(1);
    expect(traceFlagsOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`)).toBe(0);
    expect(traceFlagsOf('')).toBeNull();
    expect(traceFlagsOf('garbage')).toBeNull();
    expect(traceFlagsOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-zz`)).toBeNull();
  });

  it('writes the traceparent an entry stores exactly as the W3C propagator does', () => {
    const w3c = new W3CTraceContextPropagator();
    for (const traceFlags of [0, 1, 0x10]) {
      const sc = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags, isRemote: false };
      const carrier: Record<string, string> = {};
      w3c.inject(trace.setSpanContext(ROOT_CONTEXT, sc), carrier, defaultTextMapSetter);
      expect(traceparentOfSpan(sc)).toBe(
        `00-${'c'.repeat(32)}-${'d'.repeat(16)}-${traceFlags.toString(16).padStart(2, '0')}`,
      );
      if (traceFlags < 0x10) expect(traceparentOfSpan(sc)).toBe(carrier.traceparent);
    }
    expect(traceparentOfSpan({ traceId: '0'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 })).toBe('');
  });
});
