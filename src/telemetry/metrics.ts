// The node's metrics (OTLP): its view of the cluster as gauges, what happened as counters, and
// latencies as histograms. Instruments come from the global meter (the API): without an SDK they
// are no-ops. Outgoing RPCs are measured as the RPC semantic conventions say (semconv.ts):
// `rpc.client.call.duration`, in seconds, with `rpc.system.name`, `rpc.method` (fully qualified),
// `rpc.status_code`, `error.type` on failures and `server.address`/`server.port` where known.
import type { Attributes, Histogram } from '@opentelemetry/api';
import { meter, RPC_DURATION_BUCKETS, SEMCONV } from './semconv.js';

/** What the gauges read, as plain functions (called from the exporter's collection cycle). */
export interface NodeGauges {
  term: () => number;
  role: () => string;
  commitIndex: () => number;
  appliedIndex: () => number;
}

const ROLES = ['follower', 'pre_candidate', 'candidate', 'leader'];

/** The gRPC service every Raft method belongs to, for fully qualified `rpc.method` values. */
const SERVICE = 'raft.Raft';

/** One outgoing RPC, as the duration histogram records it. */
export interface RpcCall {
  /** The method's short name (`AppendEntries`) or its full one (`raft.Raft/AppendEntries`). */
  method: string;
  /** The gRPC status name: OK, UNAVAILABLE, ... */
  status: string;
  peer?: string;
  address?: string;
  port?: number;
}

/**
 * `rpc.client.call.duration`. `record(ms, attributes)` takes what the call sites have (a
 * performance.now() difference and `rpc.method`, `rpc.status_code`, `raft.peer.id`) and records
 * seconds with the conventions' attributes; `call()` is the typed form.
 */
export class RpcDuration {
  constructor(private readonly histogram: Histogram) {}

  call(ms: number, c: RpcCall): void {
    const method = c.method.includes('/') ? c.method : `${SERVICE}/${c.method}`;
    const attrs: Attributes = {
      [SEMCONV.rpcSystemName]: 'grpc',
      [SEMCONV.rpcMethod]: method,
      [SEMCONV.rpcStatusCode]: c.status,
    };
    if (c.status !== 'OK') attrs[SEMCONV.errorType] = c.status;
    if (c.address !== undefined) attrs[SEMCONV.serverAddress] = c.address;
    if (c.port !== undefined) attrs[SEMCONV.serverPort] = c.port;
    if (c.peer !== undefined) attrs['raft.peer.id'] = c.peer;
    this.histogram.record(ms / 1000, attrs);
  }

  record(ms: number, attributes: Attributes): void {
    const str = (k: string) => (typeof attributes[k] === 'string' ? attributes[k] : undefined);
    const port = attributes[SEMCONV.serverPort];
    this.call(ms, {
      method: str(SEMCONV.rpcMethod) ?? 'unknown',
      status: str(SEMCONV.rpcStatusCode) ?? 'UNKNOWN',
      peer: str('raft.peer.id'),
      address: str(SEMCONV.serverAddress),
      port: typeof port === 'number' ? port : undefined,
    });
  }
}

export class NodeMetrics {
  private meter = meter();
  readonly leaderChanges = this.meter.createCounter('raft.leader.changes', {
    description: 'times this node saw a new leader',
  });
  readonly electionsStarted = this.meter.createCounter('raft.elections.started', {
    description: 'elections this node started as candidate',
  });
  readonly electionsWon = this.meter.createCounter('raft.elections.won', { description: 'elections this node won' });
  readonly proposals = this.meter.createCounter('raft.proposals', {
    description: 'commands proposed on this node as leader',
  });
  readonly chaos = this.meter.createCounter('raft.chaos.events', {
    description: 'injected faults (dropped requests and replies, delays)',
  });
  readonly rpcDuration = new RpcDuration(
    this.meter.createHistogram(SEMCONV.rpcClientCallDuration, {
      unit: 's',
      description: 'Measures the duration of an outgoing Remote Procedure Call (RPC).',
      advice: { explicitBucketBoundaries: RPC_DURATION_BUCKETS },
    }),
  );
  readonly commitLatency = this.meter.createHistogram('raft.proposal.commit_latency', {
    unit: 'ms',
    description: 'from proposal to apply on the leader',
  });
  readonly fsyncDuration = this.meter.createHistogram('raft.fsync.duration', {
    unit: 'ms',
    description: 'duration of each fsync of the log',
  });

  constructor(gauges: NodeGauges, base: Attributes) {
    const g = (name: string, description: string, read: () => number, attrs: () => Attributes = () => ({})) =>
      this.meter
        .createObservableGauge(name, { description })
        .addCallback((r) => r.observe(read(), { ...base, ...attrs() }));
    g('raft.term', 'current term', gauges.term);
    g('raft.commit_index', 'commit index', gauges.commitIndex);
    g('raft.applied_index', 'last applied index', gauges.appliedIndex);
    g(
      'raft.role',
      'role: 0 follower, 1 pre-candidate, 2 candidate, 3 leader',
      () => ROLES.indexOf(gauges.role()),
      () => ({ 'raft.role': gauges.role() }),
    );
  }
}
