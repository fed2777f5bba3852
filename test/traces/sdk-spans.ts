// Real spans made by the OpenTelemetry SDK the nodes use, serialized by the same serializer their
// exporters use: the reader is tested against what the nodes actually send, not a hand-made copy.
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** An election trace of node `id`: raft.election with two RequestVote CLIENT children, one failed. */
export function electionSpans(id = 'n1'): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': `raft-${id}`,
      'service.namespace': 'raft-otel',
      'service.instance.id': id,
      'process.command_args': ['node', 'raft-otel'],
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('raft-otel');
  const root = tracer.startSpan('raft.election', {
    root: true,
    attributes: { 'raft.trace.kind': 'election', 'raft.node.id': id, 'raft.term': 3 },
  });
  const ctx = trace.setSpan(context.active(), root);
  for (const peer of ['n2', 'n3']) {
    const s = tracer.startSpan(
      'raft.Raft/RequestVote',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'raft.node.id': id, 'raft.peer.id': peer, 'server.port': 7002, 'raft.vote.granted': true },
      },
      ctx,
    );
    if (peer === 'n3') s.setStatus({ code: SpanStatusCode.ERROR, message: 'UNAVAILABLE' });
    s.addEvent('vote granted', { 'raft.term': 3 });
    s.end();
  }
  root.addEvent('became leader');
  root.end();
  return exporter.getFinishedSpans();
}

/** The OTLP/HTTP JSON body the nodes' exporter sends for these spans. */
export function otlpJsonBody(spans: ReadableSpan[]): string {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('the serializer produced nothing');
  return Buffer.from(bytes).toString('utf8');
}
