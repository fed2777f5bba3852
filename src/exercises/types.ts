// What an exercise is to the `raft-otel exercise` command, and what its check hands back.
//
// A check is a function of a CheckContext (exercises/README.md says how to write one). It reads
// spans only through the trace-query API (ctx.traces: the built-in viewer's /api/v3, or Jaeger's
// with --traces) and node state only through the nodes' HTTP API (ctx.statuses()); never anything
// the learner typed. It returns findings: each thing it verified, with the trace that proves it,
// and on failure what to do next.
import type { NodeStatus } from '../api/status.js';
import type { TraceKind } from '../telemetry/config.js';
import type { FlatSpan } from '../traces/otlp.js';

export interface Finding {
  /** What holds (or should hold), in a sentence a learner reads. */
  what: string;
  ok: boolean;
  /** The trace that proves it (or the closest one to what was expected). */
  traceId?: string;
  /** On failure: what to do next. */
  next?: string;
}

/** Something the learner should know but that does not fail the check (sampling, lost spans). */
export interface Warning {
  text: string;
}

export interface NodeRef {
  id: string;
  /** host:port of the node's HTTP API. */
  http: string;
}

/** Where an exercise began: written by `raft-otel exercise start N`. */
export interface StartRecord {
  exercise: string;
  /** ms since the epoch. */
  startedAt: number;
  nodes: { id: string; http: string; status: NodeStatus | null }[];
}

/** One trace: every span the query API returned for it. */
export interface Trace {
  traceId: string;
  spans: FlatSpan[];
}

/** A query for traces in the exercise's window. `node` limits it to that node's service
 *  (raft-<id>); without it every node's service is asked and the answers merged. */
export interface TraceQuery {
  operation: string;
  node?: string;
  /** Span attributes the matching span must carry (as the query API's tag filter). */
  attributes?: Record<string, string>;
  /** Most traces per service (default 500). */
  limit?: number;
}

export interface CheckContext {
  /** The exercise window: [since, until] in ms since the epoch. */
  since: number;
  until: number;
  /** The record `exercise start` left, or null when the exercise does not need one. */
  start: StartRecord | null;
  /** Every member of the cluster (the records of the local cluster, or compose's ports). */
  nodes: NodeRef[];
  /** Each node's /status now, null when it does not answer. */
  statuses(): Promise<Map<string, NodeStatus | null>>;
  /** Traces whose spans match the query, started in the window. */
  traces(q: TraceQuery): Promise<Trace[]>;
  /** The whole of one trace (every node's spans). */
  trace(traceId: string): Promise<Trace | null>;
  /** Settings the cluster's nodes were started with, where they can be known (the local
   *  cluster's records: RAFT_* variables); empty for a compose cluster. */
  settings: Record<string, string>;
  /** Where spans are read from, for messages. */
  tracesUrl: string;
  warn(text: string): void;
}

export interface Exercise {
  /** Two digits: "00". */
  id: string;
  /** The folder under exercises/: "00-first-election". */
  slug: string;
  title: string;
  /** The question it answers, in a sentence. */
  question: string;
  /** True when the check needs `exercise start` first (its window begins there); false when it
   *  looks at the cluster's whole life (the first election happened before anyone ran start). */
  needsStart: boolean;
  /** The kinds of trace the check reads: the command warns when the cluster's sampling settings
   *  would hide some of them (src/exercises/sampling.ts). */
  needs: TraceKind[];
  /** True when its steps put load on the cluster (a bench) and the check needs every write of it
   *  traced: the default sampler keeps each node's first writes, then a few a second. */
  needsEveryWrite?: boolean;
  check(ctx: CheckContext): Promise<Finding[]>;
}
