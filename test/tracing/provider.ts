// An in-process tracer provider for tracing unit tests: every span ends up in memory, with the
// project's parent-based sampler (heartbeats off, as by default) and the context manager the
// node's SDK registers (synchronous only), so context.with() and context.active() behave as in a node.
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { RaftSampler } from '../../src/telemetry/sampler.js';
import { SyncContextManager } from '../../src/telemetry/context-manager.js';

export interface Spans {
  exporter: InMemorySpanExporter;
  all(): ReadableSpan[];
  named(name: string): ReadableSpan[];
  one(name: string): ReadableSpan;
}

/** Registers a fresh global provider (vitest runs each test file in its own context). */
export function recordSpans(): Spans {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new RaftSampler(
      {
        ratios: { election: 1, write: 1, read: 1, heartbeat: 0, snapshot: 1, admin: 1 },
        // Every write and read traced: no per-node cap in a simulation.
        ratePerSecond: 0,
        burst: 0,
        perMinute: 0,
      },
      () => 0.5,
    ),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  trace.disable();
  context.disable();
  propagation.disable();
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new SyncContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const all = () => exporter.getFinishedSpans();
  const named = (name: string) => all().filter((s) => s.name === name);
  return {
    exporter,
    all,
    named,
    one: (name) => {
      const found = named(name);
      if (found.length !== 1)
        throw new Error(
          `expected one ${name} span, found ${found.length}: ${all()
            .map((s) => s.name)
            .join(', ')}`,
        );
      return found[0];
    },
  };
}

export const parentId = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
