// The shapes the viewer server sends the page (the contract of /api/viewer/*). FlatSpan is the one
// span shape of src/traces/otlp.ts, shared with the server.
export type { AttrValue, FlatSpan, SpanKindName as SpanKind } from '../../traces/otlp';
export type { TraceKindName as TraceKind } from '../../traces/kinds';
export type { TimelineSpan } from '../../traces/timeline-span';
import type { TraceKindName as TraceKind } from '../../traces/kinds';

export interface TraceSummary {
  traceId: string;
  kind: TraceKind;
  rootName: string;
  service: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  nodes: string[];
  error: boolean;
  term?: number;
  key?: string;
}

/** A node's GET /status body (src/api/status.ts), the fields the panel shows. */
export interface NodeStatus {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  lastApplied: number;
  lastLogIndex: number;
  snapshotIndex?: number;
  members?: { voters: string[]; learners?: string[] };
  progress?: Record<string, { match: number; next: number; state?: string }>;
}

export interface ClusterNode {
  id: string;
  http: string;
  status: NodeStatus | null;
  down: boolean;
  paused: boolean;
  cutOff: string[];
}

export interface ClusterView {
  attached: boolean;
  nodes: ClusterNode[];
}

export interface Stats {
  spans: number;
  traces: number;
  bytes: number;
  evictedTraces: number;
  evictedSpans: number;
  caps?: Record<string, number>;
}

export interface ControlRequest {
  action: 'kill' | 'restart' | 'pause' | 'resume' | 'partition' | 'heal' | 'chaos' | 'transfer' | 'put';
  node?: string;
  groups?: string[][];
  settings?: Record<string, unknown>;
  to?: string;
  key?: string;
  value?: string;
}

export interface ControlResult {
  ok?: boolean;
  traceId?: string;
  error?: { code: string; message: string };
}
