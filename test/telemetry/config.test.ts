// The telemetry settings a node reads from its environment: the OTLP protocols the spec names, empty
// variables meaning "unset" (as the OpenTelemetry spec says), and a clear error for a bad value
// instead of a NaN that breaks later.
import { describe, expect, it } from 'vitest';
import { telemetryConfig } from '../../src/telemetry/config.js';

const cfg = (env: NodeJS.ProcessEnv) => telemetryConfig('n1', env);

describe('telemetry settings', () => {
  it('accepts the OTLP protocols of the spec, http/protobuf (its default) included', () => {
    expect(cfg({}).protocol).toBe('grpc');
    for (const p of ['grpc', 'http/protobuf', 'http/json'] as const) {
      const c = cfg({ OTEL_EXPORTER_OTLP_PROTOCOL: p });
      expect([c.protocol, c.metricsProtocol]).toEqual([p, p]);
    }
    const perSignal = cfg({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
    });
    expect([perSignal.protocol, perSignal.metricsProtocol]).toEqual(['http/json', 'http/protobuf']);
    expect(() => cfg({ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL=thrift: raft-otel speaks grpc, http\/protobuf, http\/json/,
    );
  });

  it('reads an empty variable as unset', () => {
    const c = cfg({
      OTEL_METRIC_EXPORT_INTERVAL: '',
      OTEL_EXPORTER_OTLP_PROTOCOL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      RAFT_TRACES_PER_MINUTE: '',
      RAFT_TRACE_RATE: '',
      RAFT_SAMPLE_WRITES: '',
    });
    expect(c.metricIntervalMs).toBe(10_000);
    expect(c.protocol).toBe('grpc');
    expect(c.endpoint).toBeNull();
    expect(c.tracesPerMinute).toBe(0);
    expect(c.traceRatePerSecond).toBe(5);
    expect(c.ratios.write).toBe(1);
  });

  it('names the variable and what it expects when a value is not a number', () => {
    expect(() => cfg({ OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow(
      'OTEL_METRIC_EXPORT_INTERVAL=soon: expected milliseconds, a whole number >= 1',
    );
    expect(() => cfg({ OTEL_METRIC_EXPORT_INTERVAL: '0' })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL=0/);
    expect(() => cfg({ OTEL_METRIC_EXPORT_INTERVAL: '2.5' })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL=2.5/);
    expect(() => cfg({ RAFT_TRACES_PER_MINUTE: 'many' })).toThrow(
      /RAFT_TRACES_PER_MINUTE=many: expected a number >= 0/,
    );
    expect(() => cfg({ RAFT_TRACE_RATE: '-1' })).toThrow(/RAFT_TRACE_RATE=-1: expected a number >= 0/);
    expect(() => cfg({ RAFT_TRACE_BURST: '0' })).toThrow(/RAFT_TRACE_BURST=0: expected a whole number >= 1/);
    expect(() => cfg({ RAFT_SAMPLE_WRITES: '2' })).toThrow(/RAFT_SAMPLE_WRITES=2: expected a ratio between 0 and 1/);
    expect(() => cfg({ RAFT_TRACE_FILE_MAX_MB: 'big' })).toThrow(/RAFT_TRACE_FILE_MAX_MB=big/);
    expect(() => cfg({ RAFT_TRACE_FILE_KEEP: '1.5' })).toThrow(/RAFT_TRACE_FILE_KEEP=1.5/);
  });

  it('takes numbers with surrounding spaces, as a compose file may write them', () => {
    const c = cfg({ OTEL_METRIC_EXPORT_INTERVAL: ' 5000 ', RAFT_TRACE_RATE: '0', RAFT_TRACE_BURST: '200' });
    expect([c.metricIntervalMs, c.traceRatePerSecond, c.traceBurst]).toEqual([5000, 0, 200]);
  });

  it('bounds the trace files by default: 16 MB, two older files kept', () => {
    const c = cfg({});
    expect([c.traceFileMaxBytes, c.traceFileKeep]).toEqual([16 * 1024 * 1024, 2]);
    expect(cfg({ RAFT_TRACE_FILE_MAX_MB: '0.5', RAFT_TRACE_FILE_KEEP: '0' })).toMatchObject({
      traceFileMaxBytes: 512 * 1024,
      traceFileKeep: 0,
    });
  });
});
