// A node's context manager carries the active context through synchronous code only (no async
// hooks: they cost every promise on Node 20, issue 14). So what crosses an await must be passed by
// hand, and these tests hold the places that do it: the manager itself, the SDK registering it, a
// proposal made after the handler awaited, a forwarded write's hop, and a fault found after the
// handler ran.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Context } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SyncContextManager } from '../../src/telemetry/context-manager.js';
import { forwardClientSpan, forwardServerSpan } from '../../src/telemetry/forward-spans.js';
import { RaftTracing } from '../../src/telemetry/raft-tracing.js';
import { telemetryConfig } from '../../src/telemetry/config.js';
import { startTelemetry } from '../../src/telemetry/sdk.js';
import type { AppendEntries } from '../../src/raft/types.js';
import { parentId, recordSpans, type Spans } from './provider.js';

const sampledParent = (id: string): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: id.repeat(32), spanId: id.repeat(16), traceFlags: 1, isRemote: true });

describe('SyncContextManager', () => {
  const m = new SyncContextManager();
  const key = Symbol('k');
  const ctx = ROOT_CONTEXT.setValue(key, 'v');

  it('makes a context active for the synchronous run of with(), and restores the previous one, even on a throw', () => {
    expect(m.with(ctx, () => m.active().getValue(key))).toBe('v');
    expect(m.active()).toBe(ROOT_CONTEXT);
    const inner = ROOT_CONTEXT.setValue(key, 'inner');
    expect(m.with(ctx, () => [m.with(inner, () => m.active().getValue(key)), m.active().getValue(key)])).toEqual([
      'inner',
      'v',
    ]);
    expect(() =>
      m.with(ctx, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(m.active()).toBe(ROOT_CONTEXT);
  });

  it('carries nothing across an await, and binds a function to a context', async () => {
    const after = await m.with(ctx, async () => {
      const before = m.active().getValue(key);
      await Promise.resolve();
      return [before, m.active().getValue(key)];
    });
    expect(after).toEqual(['v', undefined]);
    const bound = m.bind(ctx, (x: number) => [x, m.active().getValue(key)]);
    expect(bound(7)).toEqual([7, 'v']);
    expect(m.bind(ctx, 'not a function')).toBe('not a function');
  });
});

describe("a node's SDK", () => {
  it('is started with the synchronous context manager', async () => {
    // Nothing registered before: the SDK's registration is the one tested.
    trace.disable();
    context.disable();
    propagation.disable();
    const dir = mkdtempSync(join(tmpdir(), 'raft-ctx-'));
    const telemetry = await startTelemetry(telemetryConfig('n1', { RAFT_TRACE_DIR: dir }));
    try {
      expect(telemetry.enabled).toBe(true);
      const parent = sampledParent('c');
      const seen = await context.with(parent, async () => {
        const before = trace.getSpanContext(context.active())?.traceId;
        await Promise.resolve();
        return [before, trace.getSpanContext(context.active())?.traceId];
      });
      expect(seen).toEqual(['c'.repeat(32), undefined]);
    } finally {
      await telemetry.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a node's tracing", () => {
  let spans: Spans;
  beforeEach(() => {
    spans = recordSpans();
  });

  it("puts a proposal made after the handler's awaits under the request it is given", async () => {
    const tracing = new RaftTracing('n1', {
      term: () => 2,
      role: () => 'leader',
      commitIndex: () => 0,
      appliedIndex: () => 0,
    });
    const request = sampledParent('d');
    // As a handler does: the body is read (an await), then the node proposes with the request's context.
    await Promise.resolve();
    const traceparent = tracing.proposed(1, 2, {}, request);
    // The entry carries the proposal span's own context (open until applied), in the request's trace.
    const [, traceId, spanId, flags] = traceparent.split('-');
    expect([traceId, flags]).toEqual(['d'.repeat(32), '01']);
    expect(spanId).not.toBe('d'.repeat(16));
    tracing.proposalEnded(1, 'test over');
    expect(parentId(spans.one('raft.propose'))).toBe('d'.repeat(16));
  });

  it("keeps a forwarded write's hop in the client's trace, and hands the leader's handler its context", async () => {
    const request = sampledParent('e');
    let served: Context | null = null;
    await forwardClientSpan({ nodeId: 'n2', leader: 'n1', address: '127.0.0.1:7001' }, request, async (md) => {
      await Promise.resolve(); // the call is in flight: nothing active here
      return forwardServerSpan({ nodeId: 'n1', from: 'n2' }, md, async (ctx) => {
        await Promise.resolve();
        served = ctx;
        return { errorStatus: 0, errorCode: '' };
      });
    });
    const client = spans.all().find((s) => s.kind === SpanKind.CLIENT)!;
    const server = spans.all().find((s) => s.kind === SpanKind.SERVER)!;
    expect(client.spanContext().traceId).toBe('e'.repeat(32));
    expect(parentId(client)).toBe('e'.repeat(16));
    expect(parentId(server)).toBe(client.spanContext().spanId);
    expect(trace.getSpanContext(served!)?.spanId).toBe(server.spanContext().spanId);
  });

  it('marks the SERVER span of a call whose reply chaos dropped after the handler ran', async () => {
    const tracing = new RaftTracing('n2', {
      term: () => 2,
      role: () => 'follower',
      commitIndex: () => 0,
      appliedIndex: () => 0,
    });
    const m: AppendEntries = {
      type: 'AppendEntries',
      clusterId: 'c',
      from: 'n1',
      to: 'n2',
      term: 2,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 0,
      seq: 1,
      heartbeat: false,
    };
    const md = new Metadata();
    md.set('traceparent', `00-${'f'.repeat(32)}-${'f'.repeat(16)}-01`);
    await tracing.hooks
      .serverCall({ method: 'AppendEntries', peer: 'n1', message: m }, md, async () => {
        await Promise.resolve(); // the node handled it
        tracing.hooks.chaos(
          { method: 'AppendEntries', peer: 'n1', direction: 'in', message: m },
          { kind: 'dropped_reply', peer: 'n1' },
        );
        throw new Error('chaos: reply dropped after the request was handled');
      })
      .catch(() => {});
    const server = spans.one('raft.Raft/AppendEntries');
    expect(server.spanContext().traceId).toBe('f'.repeat(32));
    expect(server.events.map((e) => e.name)).toContain('chaos: reply dropped after the handler ran');
    // No span of its own: the fault is on its call.
    expect(spans.all()).toHaveLength(1);
  });
});

afterAll(() => {
  context.disable();
});
