// Traces of a simulated run: every node of the simulator gets the same span makers a real node
// has (cluster-spans, write-spans, rpc-spans), stamped with virtual time mapped onto a fixed date,
// with span ids drawn from the run's seed and an in-memory exporter. The same seed gives the same
// file, so a failover can be opened in the built-in viewer or Jaeger identically by everyone.
// Heartbeats are not traced unless asked for (as in a node): they would drown the run.
import { ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Entry, Message, NodeId, Observation, Ready } from '../raft/types.js';
import type { SimCarrier, SimTracingHooks } from '../sim/tracing-hooks.js';
import type { RequestMessage } from '../transport/codec.js';
import { ATTR, RESOURCE } from './names.js';
import { NodeSpans } from './raft-tracing.js';
import type { OpenCall } from './rpc-spans.js';
import { RaftSampler } from './sampler.js';

/** Virtual time 0 of every exported run: a fixed instant, so exports are byte for byte equal. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

const REQUESTS = new Set(['RequestVote', 'AppendEntries', 'InstallSnapshot', 'TimeoutNow', 'ReadIndex']);
const isRequest = (m: Message): m is RequestMessage => REQUESTS.has(m.type);

/** Span and trace ids from a seeded generator (xorshift32), one stream per node. */
class SeededIds implements IdGenerator {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  private hex(chars: number): string {
    let out = '';
    while (out.length < chars) {
      let x = this.state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.state = x >>> 0;
      out += this.state.toString(16).padStart(8, '0');
    }
    return out.slice(0, chars);
  }
  generateTraceId(): string {
    return this.hex(32);
  }
  generateSpanId(): string {
    return this.hex(16);
  }
}

function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

interface TracedNode {
  spans: NodeSpans;
  /** Calls this node serves, by the id matching their reply. */
  serving: Map<string, OpenCall>;
}

export class SimTracing implements SimTracingHooks {
  readonly exporter = new InMemorySpanExporter();
  private providers = new Map<NodeId, BasicTracerProvider>();
  private nodes = new Map<NodeId, TracedNode>();
  /** Calls in flight, by the id matching their reply. */
  private calling = new Map<string, OpenCall>();

  /** The simulator's virtual clock in milliseconds (bound by the simulator). */
  private now: () => number = () => 0;

  /** `heartbeats`: trace empty AppendEntries too (a backtrack often shows only on them). */
  constructor(
    private readonly seed: number,
    private readonly options: { heartbeats: boolean } = { heartbeats: false },
  ) {}

  bind(now: () => number): void {
    this.now = now;
  }

  private provider(node: NodeId): BasicTracerProvider {
    let p = this.providers.get(node);
    if (!p) {
      p = new BasicTracerProvider({
        resource: resourceFromAttributes({
          [RESOURCE.serviceName]: `raft-${node}`,
          [RESOURCE.serviceNamespace]: 'raft-otel',
          [RESOURCE.serviceInstanceId]: node,
        }),
        idGenerator: new SeededIds(this.seed ^ hashId(node)),
        sampler: new RaftSampler(
          {
            ratios: { election: 1, write: 1, read: 1, heartbeat: 0, snapshot: 1, admin: 1 },
            // Every write and read traced: no per-node cap in a simulation.
            ratePerSecond: 0,
            burst: 0,
            perMinute: 0,
          },
          () => 0,
        ),
        spanProcessors: [new SimpleSpanProcessor(this.exporter)],
      });
      this.providers.set(node, p);
    }
    return p;
  }

  started(node: NodeId, replayUpTo: number): void {
    this.crashed(node);
    const spans = new NodeSpans({
      tracer: this.provider(node).getTracer('raft-otel'),
      nodeId: node,
      now: () => SIM_EPOCH_MS + this.now(),
      metrics: null,
    });
    spans.writes.setReplayUpTo(replayUpTo);
    this.nodes.set(node, { spans, serving: new Map() });
  }

  crashed(node: NodeId): void {
    const n = this.nodes.get(node);
    if (!n) return;
    for (const call of n.serving.values()) n.spans.rpc.serverEnd(call, null, { code: 14, message: `${node} crashed` });
    n.spans.close();
    this.nodes.delete(node);
  }

  observe(node: NodeId, o: Observation): void {
    this.nodes.get(node)?.spans.observe(o);
  }

  proposed(node: NodeId, index: number, term: number, key: string): string {
    return (
      this.nodes.get(node)?.spans.writes.proposed(index, term, { [ATTR.op]: 'put', [ATTR.key]: key }, ROOT_CONTEXT) ??
      ''
    );
  }

  persisting(node: NodeId, rd: Ready): () => void {
    const n = this.nodes.get(node);
    if (!n) return () => {};
    const span: Span | null = n.spans.writes.beginPersist(rd, n.spans.persistFallback());
    return () => n.spans.writes.endPersist(span, null);
  }

  applied(node: NodeId, e: Entry): void {
    this.nodes.get(node)?.spans.writes.apply(
      e,
      () => null,
      () => ({}),
    );
  }

  sent(m: Message, callId: number | null): SimCarrier | null {
    const n = this.nodes.get(m.from);
    if (!n) return null;
    const key = callKey(m, callId);
    if (isRequest(m)) {
      const call = n.spans.rpc.clientStart(m, m.to, null);
      this.calling.set(key, call);
      return call.carrier;
    }
    const call = n.serving.get(key);
    if (call) {
      n.serving.delete(key);
      n.spans.rpc.serverEnd(call, m);
    }
    return null;
  }

  lost(m: Message, why: string, callId: number | null): void {
    const key = callKey(m, callId);
    const call = this.calling.get(key);
    if (!call) return;
    this.calling.delete(key);
    const n = this.nodes.get(isRequest(m) ? m.from : m.to);
    n?.spans.rpc.clientEnd(call, null, { code: 14, message: why });
  }

  delivering(m: Message, carrier: SimCarrier | null, callId: number | null): void {
    const n = this.nodes.get(m.to);
    if (!n) return;
    const key = callKey(m, callId);
    if (isRequest(m)) {
      const call = n.spans.rpc.serverStart(m, m.from, carrier ?? {}, () => n.spans.serverLinks(m));
      const previous = n.serving.get(key);
      if (previous) n.spans.rpc.serverEnd(previous, null, { code: 1, message: 'a duplicate of the request arrived' });
      n.serving.set(key, call);
      // What this request makes the node write is done on its behalf.
      n.spans.writes.noteCause(call.ctx);
      return;
    }
    const call = this.calling.get(key);
    if (call) {
      this.calling.delete(key);
      n.spans.rpc.clientEnd(call, m);
    }
  }

  delivered(m: Message): void {
    if (m.type !== 'TimeoutNow') return;
    // TimeoutNow has no reply: the call is over once the target took it.
    const n = this.nodes.get(m.to);
    const key = callKey(m, null);
    const serving = n?.serving.get(key);
    if (n && serving) {
      n.serving.delete(key);
      n.spans.rpc.serverEnd(serving, null);
    }
    const calling = this.calling.get(key);
    if (calling) {
      this.calling.delete(key);
      this.nodes.get(m.from)?.spans.rpc.clientEnd(calling, null);
    }
  }

  /** Ends everything still open and returns every span of the run. */
  finish(): ReadableSpan[] {
    for (const [key, call] of this.calling) {
      this.calling.delete(key);
      call.span.setAttribute(ATTR.rpcStatus, 'UNAVAILABLE');
      call.span.end(SIM_EPOCH_MS + this.now());
    }
    for (const id of [...this.nodes.keys()]) this.crashed(id);
    return this.exporter.getFinishedSpans();
  }

  /** The run's spans as an OTLP/JSON ExportTraceServiceRequest (what Jaeger's upload takes). */
  otlpJson(): string {
    const bytes = JsonTraceSerializer.serializeRequest(this.finish());
    return new TextDecoder().decode(bytes);
  }
}

/** The id that pairs a request with its reply: the network's call id, or for ReadIndex and
 *  TimeoutNow (which the network does not number) their own fields. */
function callKey(m: Message, callId: number | null): string {
  if (m.type === 'ReadIndex' || m.type === 'ReadIndexResponse') return `ri:${m.requestId}`;
  if (m.type === 'TimeoutNow') return `tn:${m.from}>${m.to}@${m.term}`;
  return `call:${callId ?? ''}`;
}
