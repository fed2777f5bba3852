// The CPU one traced write costs inside a node's process, measured in one process without a
// cluster (so the machine's other load moves it less than bench/trace-cost.ts's figures): the
// spans of one write, shaped as bench/trace-cost.ts measures them across the three nodes (names,
// attributes, links), made with the SDK as a node sets it up (RaftSampler, BatchSpanProcessor),
// then encoded as the exporters do: OTLP protobuf (gRPC and http/protobuf) or OTLP JSON (http/json
// and the trace files). CPU time is process.cpuUsage(), per write, median of --rounds.
//
//   npm run bench:trace-encode [-- --writes 5000 --rounds 5]     (runs node with --expose-gc)
import { ROOT_CONTEXT, SpanKind, trace, type Attributes, type Link } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { parseArgs } from 'node:util';
import { telemetryConfig } from '../src/telemetry/config.js';
import { RaftSampler } from '../src/telemetry/sampler.js';

const { values } = parseArgs({
  options: { writes: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '5' } },
});
const WRITES = Number(values.writes);

/** An exporter that only encodes (or does nothing), counting bytes. */
class Encoding implements SpanExporter {
  bytes = 0;
  constructor(private readonly encode: ((spans: ReadableSpan[]) => Uint8Array | undefined) | null) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    if (this.encode) this.bytes += this.encode(spans)?.length ?? 0;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** Whether each span repeats the node's id (the resource's service.instance.id says it already). */
let nodeIdOnSpans = true;

const attrs = (n: number, base: Attributes = {}): Attributes => {
  const a: Attributes = { ...(nodeIdOnSpans ? { 'raft.node.id': 'n1' } : {}), ...base };
  const total = nodeIdOnSpans ? n : n - 1;
  for (let i = Object.keys(a).length; i < total; i++) a[`raft.attr_${i}`] = i % 2 ? i : `value-${i}`;
  return a;
};

/** One write's spans across three nodes, as bench/trace-cost.ts counted them (every write traced):
 *  the HTTP span, propose, commit, three applies, an AppendEntries pair to each follower for about
 *  every other write (batches), and about one persist in two writes per node, with the links a
 *  batch carries. */
function write(i: number, tracerName: string): void {
  const tracer = trace.getTracer(tracerName);
  const http = tracer.startSpan('PUT /kv/{key}', {
    kind: SpanKind.SERVER,
    attributes: attrs(7, { 'raft.trace.kind': 'write', 'http.route': '/kv/{key}' }),
  });
  const ctx = trace.setSpan(ROOT_CONTEXT, http);
  const propose = tracer.startSpan('raft.propose', { attributes: attrs(6) }, ctx);
  const pctx = trace.setSpan(ctx, propose);
  const links: Link[] = [{ context: propose.spanContext() }, { context: http.spanContext() }];
  if (i % 2 === 0) {
    for (const follower of ['n2', 'n3']) {
      const client = tracer.startSpan(
        'raft.Raft/AppendEntries',
        { kind: SpanKind.CLIENT, attributes: attrs(17, { 'raft.peer.id': follower }), links },
        pctx,
      );
      const server = tracer.startSpan(
        'raft.Raft/AppendEntries',
        { kind: SpanKind.SERVER, attributes: attrs(16), links },
        trace.setSpan(pctx, client),
      );
      server.end();
      client.end();
    }
  }
  if (i % 4 < 3) tracer.startSpan('raft.persist', { attributes: attrs(5), links }, pctx).end();
  tracer.startSpan('raft.commit', { attributes: attrs(3) }, pctx).end();
  for (let n = 0; n < 3; n++) {
    const apply = tracer.startSpan('raft.apply', { attributes: attrs(4) }, pctx);
    apply.addEvent('ok');
    apply.end();
  }
  propose.end();
  http.setAttribute('http.response.status_code', 200);
  http.end();
}

async function run(
  encode: ((spans: ReadableSpan[]) => Uint8Array | undefined) | null,
): Promise<{ us: number; bytes: number }> {
  const exporter = new Encoding(encode);
  const cfg = telemetryConfig('n1', { RAFT_TRACE_RATE: '0' });
  const provider = new BasicTracerProvider({
    sampler: new RaftSampler({ ratios: cfg.ratios, ratePerSecond: 0, burst: 1, perMinute: 0 }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 1_000_000, scheduledDelayMillis: 1 << 30 })],
  });
  trace.disable();
  trace.setGlobalTracerProvider(provider);
  // Start from a clean heap, so one mode's garbage is not collected on the next one's time.
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.cpuUsage();
  for (let i = 0; i < WRITES; i++) write(i, 'bench');
  await provider.forceFlush();
  const cpu = process.cpuUsage(before);
  await provider.shutdown();
  return { us: (cpu.user + cpu.system) / WRITES, bytes: exporter.bytes / WRITES };
}

const protobuf = (s: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(s);
const MODES: [string, ((spans: ReadableSpan[]) => Uint8Array | undefined) | null, boolean][] = [
  ['spans made, not encoded', null, true],
  ['+ OTLP protobuf encoding', protobuf, true],
  ['+ OTLP JSON encoding', (s) => JsonTraceSerializer.serializeRequest(s), true],
  ['protobuf, no raft.node.id', protobuf, false],
];
const results = new Map<string, { us: number[]; bytes: number }>(MODES.map(([m]) => [m, { us: [], bytes: 0 }]));
await run(protobuf); // warm-up: JIT
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, encode, withNodeId] of MODES) {
    nodeIdOnSpans = withNodeId;
    const r = await run(encode);
    results.get(name)!.us.push(r.us);
    results.get(name)!.bytes = r.bytes;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `one traced write's spans (8.25 spans, ~57 attributes, ~4 links), ${WRITES} writes, median of ${values.rounds}:`,
);
for (const [name] of MODES) {
  const r = results.get(name)!;
  console.log(
    `  ${name.padEnd(26)} ${median(r.us).toFixed(1).padStart(7)} us CPU per write${r.bytes ? `, ${r.bytes.toFixed(0)} bytes` : ''}`,
  );
}
