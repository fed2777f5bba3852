// The viewer's memory and disk: a flood stays within the caps, evicting the oldest traces whole and
// counting them; the history on disk comes back after a restart, in its order, and a torn last
// line (a crash mid-write) does not stop it loading; OTLP/gRPC lands in the same store.
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toOtlp } from '../../src/traces/otlp.js';
import { parseTraceText } from '../../src/traces/documents.js';
import { startViewer } from '../../src/viewer/server/server.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { electionSpans, otlpJsonBody } from '../traces/sdk-spans.js';
import { getJson, post, syntheticTrace } from './fixtures.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raft-viewer-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Stats {
  spans: number;
  traces: number;
  bytes: number;
  evictedTraces: number;
  evictedSpans: number;
  caps: { maxSpans: number; maxBytes: number };
}

describe('a flood', () => {
  it('keeps spans and bytes under the caps, evicting the oldest traces whole, and counts them', async () => {
    const maxSpans = 2000;
    const maxBytes = 1024 * 1024;
    const v = await startViewer({ port: 0, dataDir: null, caps: { maxSpans, maxBytes } });
    try {
      const TRACES = 4000; // 20,000 spans of 5 per trace: ten times the span cap
      const heap0 = process.memoryUsage().heapUsed;
      for (let batch = 0; batch < TRACES / 100; batch++) {
        const spans = Array.from({ length: 100 }, (_, i) =>
          syntheticTrace(batch * 100 + i, 1000 + batch * 100 + i),
        ).flat();
        const r = await post(`${v.url}/v1/traces`, JSON.stringify(toOtlp(spans)));
        expect(r.status).toBe(200);
        const s = v.store.stats();
        expect(s.spans).toBeLessThanOrEqual(maxSpans);
        expect(s.bytes).toBeLessThanOrEqual(maxBytes);
      }
      const { body: st } = await getJson<Stats>(`${v.url}/api/viewer/stats`);
      expect(st.caps).toEqual({ maxSpans, maxBytes });
      expect(st.spans + st.evictedSpans).toBe(TRACES * 5);
      expect(st.traces + st.evictedTraces).toBe(TRACES);
      expect(st.evictedTraces).toBeGreaterThan(TRACES / 2);
      expect(st.spans % 5).toBe(0); // whole traces only
      // the newest traces are there, whole; the oldest are gone
      const newest = syntheticTrace(TRACES - 1, 0)[0].traceId;
      expect(v.store.trace(newest)).toHaveLength(5);
      expect(v.store.hasTrace(syntheticTrace(0, 0)[0].traceId)).toBe(false);
      for (const id of v.store.traceIdsNewestFirst()) expect(v.store.trace(id)).toHaveLength(5);
      // the window index forgets evicted spans too
      const w = v.store.spansIn(0, 10_000_000, 1_000_000);
      expect(w.spans.length).toBe(st.spans);
      // memory stays bounded: far below what 20,000 spans kept would take
      global.gc?.();
      expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(200 * 1024 * 1024);
    } finally {
      await v.close();
    }
  }, 120_000);
});

describe('history on disk', () => {
  it('a restarted viewer shows what the previous one received, oldest still evicted first', async () => {
    const dir = tempDir();
    const first = await startViewer({ port: 0, dataDir: dir, caps: { maxSpans: 50, maxBytes: 64 * 1024 * 1024 } });
    for (let i = 0; i < 8; i++)
      await post(`${first.url}/v1/traces`, JSON.stringify(toOtlp(syntheticTrace(i, 5000 + i * 10))));
    const before = first.store.stats();
    expect(before.spans).toBe(40);
    await first.close(); // flushes the queue to disk
    expect(readdirSync(join(dir, 'viewer')).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(0);

    const second = await startViewer({ port: 0, dataDir: dir, caps: { maxSpans: 50, maxBytes: 64 * 1024 * 1024 } });
    try {
      await second.historyLoaded;
      expect(second.store.stats()).toMatchObject({ spans: 40, traces: 8 });
      expect(second.store.trace(syntheticTrace(3, 0)[0].traceId)).toEqual(syntheticTrace(3, 5030));
      // arrival order survived: three more traces (55 spans > 50) evict the oldest of the first run
      for (let i = 8; i < 11; i++)
        await post(`${second.url}/v1/traces`, JSON.stringify(toOtlp(syntheticTrace(i, 5000 + i * 10))));
      expect(second.store.hasTrace(syntheticTrace(0, 0)[0].traceId)).toBe(false);
      expect(second.store.hasTrace(syntheticTrace(1, 0)[0].traceId)).toBe(true);
      const { body } = await getJson<{ spans: number; evictedTraces: number }>(`${second.url}/api/viewer/stats`);
      expect(body).toMatchObject({ spans: 50, evictedTraces: 1 });
    } finally {
      await second.close();
    }
  });

  it('a torn last line is skipped; what precedes it loads', async () => {
    const dir = tempDir();
    const first = await startViewer({ port: 0, dataDir: dir });
    await post(`${first.url}/v1/traces`, JSON.stringify(toOtlp(syntheticTrace(1, 100))));
    await first.close();
    const seg = readdirSync(join(dir, 'viewer')).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(join(dir, 'viewer', seg), '[{"traceId":"00000000000'); // a crash mid-write
    const second = await startViewer({ port: 0, dataDir: dir });
    try {
      expect(await second.historyLoaded).toEqual({ batches: 1, skipped: 1 });
      expect(second.store.trace(syntheticTrace(1, 0)[0].traceId)).toHaveLength(5);
      // and new batches still append after the torn line and load next time
      await post(`${second.url}/v1/traces`, JSON.stringify(toOtlp(syntheticTrace(2, 200))));
    } finally {
      await second.close();
    }
    const third = await startViewer({ port: 0, dataDir: dir });
    try {
      await third.historyLoaded;
      expect(third.store.stats().traces).toBe(2);
    } finally {
      await third.close();
    }
  });

  it('the disk is bounded: segments roll over and the oldest are deleted; a restart loads what is left', async () => {
    const dir = tempDir();
    const opts = { port: 0, dataDir: dir, maxDiskBytes: 32 * 1024, segmentBytes: 8 * 1024 };
    const v = await startViewer(opts);
    try {
      for (let i = 0; i < 60; i++)
        await post(`${v.url}/v1/traces`, JSON.stringify(toOtlp(syntheticTrace(i, 1000 + i, 10))));
    } finally {
      await v.close();
    }
    const files = readdirSync(join(dir, 'viewer'))
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    const sizes = files.map((f) => statSync(join(dir, 'viewer', f)).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).not.toBe('segment-000001.jsonl'); // the first ones were deleted
    expect(total).toBeLessThanOrEqual(32 * 1024 + Math.max(...sizes));
    const again = await startViewer(opts);
    try {
      await again.historyLoaded;
      expect(again.store.hasTrace(syntheticTrace(59, 0)[0].traceId)).toBe(true);
      expect(again.store.hasTrace(syntheticTrace(0, 0)[0].traceId)).toBe(false);
    } finally {
      await again.close();
    }
  });
});

describe('OTLP/gRPC', () => {
  it("receives what the SDK's own gRPC exporter sends, into the same store", async () => {
    const v = await startViewer({ port: 0, dataDir: null });
    const { startGrpcReceiver } = await import('../../src/viewer/server/grpc.js');
    const [port] = await reservePorts(1);
    const grpc = await startGrpcReceiver(v.ingest, '127.0.0.1', port);
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` });
    try {
      const spans = electionSpans('n8');
      const result = await new Promise<{ code: number; error?: Error }>((done) => exporter.export(spans, done));
      expect(result.error?.message).toBeUndefined();
      expect(result.code).toBe(0);
      const expected = parseTraceText(otlpJsonBody(spans));
      const stored = v.store.trace(expected[0].traceId)!;
      const byId = new Map(stored.map((s) => [s.spanId, s]));
      for (const s of expected) expect(byId.get(s.spanId)).toEqual(s);
    } finally {
      await exporter.shutdown();
      await grpc.close();
      await v.close();
      releasePorts([port]);
    }
  });
});
