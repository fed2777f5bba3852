// Builds the CheckContext a check runs with: the exercise's window, the cluster's nodes and their
// state, and trace queries through the shared /api/v3 client (src/traces/query-client.ts), which
// speaks to the built-in viewer and to Jaeger alike.
import type { FlatSpan } from '../traces/otlp.js';
import { TraceQueryClient } from '../traces/query-client.js';
import { statuses, type Cluster } from './nodes.js';
import type { CheckContext, StartRecord, Trace, TraceQuery } from './types.js';

/** Traces per service asked for when a query does not say. */
const DEFAULT_LIMIT = 500;

export interface ContextOptions {
  cluster: Cluster;
  tracesUrl: string;
  since: number;
  start: StartRecord | null;
  warnings: string[];
}

function grouped(spans: FlatSpan[], into: Map<string, Map<string, FlatSpan>>): void {
  for (const s of spans) {
    const t = into.get(s.traceId) ?? new Map<string, FlatSpan>();
    t.set(s.spanId, s);
    into.set(s.traceId, t);
  }
}

export function makeContext(o: ContextOptions): CheckContext {
  const client = new TraceQueryClient(o.tracesUrl);
  const until = Date.now() + 1000;
  let services: Promise<string[]> | null = null;
  const nodeService = (id: string) => `raft-${id}`;
  /** The services to ask: every node's (raft-<id>), and any other the API knows that starts with
   *  raft- (a node renamed with OTEL_SERVICE_NAME is not found: its spans carry another name). */
  const allServices = () =>
    (services ??= client.services().then((known) => {
      const ours = o.cluster.nodes.map((n) => nodeService(n.id));
      return [...new Set([...ours.filter((s) => known.includes(s)), ...known.filter((s) => s.startsWith('raft-'))])];
    }));
  return {
    since: o.since,
    until,
    start: o.start,
    nodes: o.cluster.nodes,
    settings: o.cluster.settings,
    tracesUrl: o.tracesUrl,
    statuses: () => statuses(o.cluster.nodes),
    warn: (text) => {
      if (!o.warnings.includes(text)) o.warnings.push(text);
    },
    async traces(q: TraceQuery): Promise<Trace[]> {
      const svcs = q.node ? [nodeService(q.node)] : await allServices();
      const byTrace = new Map<string, Map<string, FlatSpan>>();
      const answers = await Promise.all(
        svcs.map((service) =>
          client.findTraces({
            service,
            operation: q.operation,
            startMin: o.since,
            startMax: until,
            numTraces: q.limit ?? DEFAULT_LIMIT,
            ...(q.attributes ? { attributes: q.attributes } : {}),
          }),
        ),
      );
      for (const traces of answers) for (const spans of traces) grouped(spans, byTrace);
      return [...byTrace.entries()].map(([traceId, spans]) => ({ traceId, spans: [...spans.values()] }));
    },
    async trace(traceId: string): Promise<Trace | null> {
      const spans = await client.getTrace(traceId);
      return spans.length ? { traceId, spans } : null;
    },
  };
}
