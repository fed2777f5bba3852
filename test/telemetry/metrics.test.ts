// The RPC duration metric as the RPC conventions (semconv 1.45.0) name it: rpc.client.call.duration,
// a histogram in seconds with their bucket boundaries, and their attributes. The call sites measure
// milliseconds (performance.now()); the metric must not carry them as seconds.
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeMetrics } from '../../src/telemetry/metrics.js';
import { RPC_DURATION_BUCKETS, SCHEMA_URL } from '../../src/telemetry/semconv.js';

class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const reader = new Reader();
let m: NodeMetrics;

beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  m = new NodeMetrics({ term: () => 1, role: () => 'leader', commitIndex: () => 0, appliedIndex: () => 0 }, {});
});

async function histogram(): Promise<{ data: HistogramMetricData; schemaUrl?: string }> {
  const { resourceMetrics } = await reader.collect();
  for (const scope of resourceMetrics.scopeMetrics) {
    const data = scope.metrics.find((x) => x.descriptor.name === 'rpc.client.call.duration');
    if (data) return { data: data as HistogramMetricData, schemaUrl: scope.scope.schemaUrl };
  }
  throw new Error('no rpc.client.call.duration metric was collected');
}

describe('rpc.client.call.duration', () => {
  it('records seconds, with the conventions’ attributes, from the milliseconds a call site measures', async () => {
    // As raft-tracing.ts calls it: milliseconds, the short method name, the status name.
    m.rpcDuration.record(12, { 'rpc.method': 'AppendEntries', 'raft.peer.id': 'n2', 'rpc.status_code': 'OK' });
    m.rpcDuration.call(250, {
      method: 'raft.Raft/RequestVote',
      status: 'UNAVAILABLE',
      peer: 'n3',
      address: '127.0.0.1',
      port: 7003,
    });
    const { data, schemaUrl } = await histogram();
    expect(data.descriptor.unit).toBe('s');
    expect(schemaUrl).toBe(SCHEMA_URL);
    const points = new Map(data.dataPoints.map((p) => [p.attributes['rpc.method'], p]));
    const append = points.get('raft.Raft/AppendEntries')!;
    expect(append.attributes).toEqual({
      'rpc.system.name': 'grpc',
      'rpc.method': 'raft.Raft/AppendEntries',
      'rpc.status_code': 'OK',
      'raft.peer.id': 'n2',
    });
    expect(append.value.sum).toBeCloseTo(0.012, 6);
    expect(append.value.buckets.boundaries).toEqual(RPC_DURATION_BUCKETS);
    const vote = points.get('raft.Raft/RequestVote')!;
    expect(vote.attributes).toMatchObject({
      'rpc.status_code': 'UNAVAILABLE',
      'error.type': 'UNAVAILABLE',
      'server.address': '127.0.0.1',
      'server.port': 7003,
    });
    expect(vote.value.sum).toBeCloseTo(0.25, 6);
  });
});
