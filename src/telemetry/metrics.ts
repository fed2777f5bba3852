// The node's metrics (OTLP): its view of the cluster as gauges, what happened as counters, and
// latencies as histograms. Instruments come from the global meter (the API): without an SDK they
// are no-ops.
import { metrics, type Attributes } from '@opentelemetry/api';

/** What the gauges read, as plain functions (called from the exporter's collection cycle). */
export interface NodeGauges {
  term: () => number;
  role: () => string;
  commitIndex: () => number;
  appliedIndex: () => number;
}

const ROLES = ['follower', 'pre_candidate', 'candidate', 'leader'];

export class NodeMetrics {
  private meter = metrics.getMeter('raft-otel');
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
  readonly rpcDuration = this.meter.createHistogram('rpc.client.duration', {
    unit: 'ms',
    description: 'duration of outgoing Raft RPCs',
  });
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
