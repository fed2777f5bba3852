// The default head sampler (docs/trace-model.md, "Sampling"), driven by an injected clock: what a
// person does by hand is all traced, a load generator is capped per node and per second, and no
// cap ever drops an election, a transfer, a membership change or a snapshot.
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Context } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { telemetryConfig, type TraceKind } from '../../src/telemetry/config.js';
import { RaftSampler, type SamplerSettings } from '../../src/telemetry/sampler.js';

const RATIOS: Record<TraceKind, number> = { election: 1, write: 1, read: 1, heartbeat: 0, snapshot: 1, admin: 1 };

/** A sampler with the defaults `up` gives a node, on a clock the test moves. */
function sampler(settings: Partial<SamplerSettings> = {}) {
  const clock = { ms: 1_000_000 };
  const defaults = telemetryConfig('n1', {});
  const s = new RaftSampler(
    {
      ratios: RATIOS,
      ratePerSecond: defaults.traceRatePerSecond,
      burst: defaults.traceBurst,
      perMinute: 0,
      ...settings,
    },
    () => 0.5,
    () => clock.ms,
  );
  /** Whether a new trace of this kind (its root span named `name`) is kept. */
  const root = (kind: string, name = 'x', ctx: Context = ROOT_CONTEXT) =>
    s.shouldSample(ctx, 'a'.repeat(32), name, SpanKind.INTERNAL, { 'raft.trace.kind': kind }, []).decision ===
    SamplingDecision.RECORD_AND_SAMPLED;
  return { s, clock, root };
}

function child(sampled: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '1'.repeat(32),
    spanId: '2'.repeat(16),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

describe('the default sampler', () => {
  it('traces every write of a person typing, for an hour', () => {
    const { root, clock } = sampler();
    // Someone fast at a shell: a write every 2 s, with now and then a burst of 10 in one second
    // (a pasted block of commands).
    let kept = 0;
    let made = 0;
    for (let minute = 0; minute < 60; minute++) {
      for (let i = 0; i < 30; i++) {
        clock.ms += 2000;
        made++;
        if (root('write', 'PUT /kv/{key}')) kept++;
      }
      if (minute % 5 === 0) {
        for (let i = 0; i < 10; i++) {
          clock.ms += 100;
          made++;
          if (root('write', 'PUT /kv/{key}')) kept++;
        }
      }
    }
    expect(kept).toBe(made);
  });

  it('traces a scripted loop of up to the burst at full speed', () => {
    const { root, clock } = sampler();
    const burst = telemetryConfig('n1', {}).traceBurst;
    for (let i = 0; i < burst; i++) {
      clock.ms += 1; // a tight loop: 1000 writes a second
      expect(root('write'), `write ${i + 1} of ${burst}`).toBe(true);
    }
  });

  it('caps a load generator at the burst, then the rate, per second', () => {
    const { root, clock, s } = sampler({ ratePerSecond: 5, burst: 50 });
    let kept = 0;
    // 2000 writes a second for 10 s.
    for (let i = 0; i < 20_000; i++) {
      clock.ms += 0.5;
      if (root('write')) kept++;
    }
    // The first 50 at once, then 5 a second for 10 s (one more may fit at a refill boundary).
    expect(kept).toBeGreaterThanOrEqual(50 + 5 * 10 - 1);
    expect(kept).toBeLessThanOrEqual(50 + 5 * 10 + 1);
    expect(s.capped.write).toBe(20_000 - kept);
  });

  it('never drops an election, transfer, membership change or snapshot, however much load', () => {
    const { root, clock } = sampler({ ratePerSecond: 1, burst: 1, perMinute: 1 });
    for (let i = 0; i < 5000; i++) {
      clock.ms += 1;
      root('write');
      root('read');
      root('heartbeat');
    }
    expect(root('write')).toBe(false); // the load's budget is spent...
    for (let i = 0; i < 100; i++) {
      clock.ms += 1;
      // ...and yet: raft.election and raft.check_quorum are `election`, transfers and membership
      // changes `admin`, raft.snapshot and InstallSnapshot `snapshot`.
      expect(root('election', 'raft.election'), `election ${i}`).toBe(true);
      expect(root('admin', 'raft.transfer_leadership'), `transfer ${i}`).toBe(true);
      expect(root('admin', 'raft.membership_change'), `membership change ${i}`).toBe(true);
      expect(root('snapshot', 'raft.snapshot'), `snapshot ${i}`).toBe(true);
    }
  });

  it('elections take nothing from the writes’ budget', () => {
    const { root, clock } = sampler({ ratePerSecond: 1, burst: 3, perMinute: 3 });
    for (let i = 0; i < 100; i++) root('election');
    clock.ms += 1;
    expect([root('write'), root('write'), root('write'), root('write')]).toEqual([true, true, true, false]);
  });

  it('gives reads a budget of their own', () => {
    const { root } = sampler({ ratePerSecond: 1, burst: 2 });
    expect([root('write'), root('write'), root('write')]).toEqual([true, true, false]);
    expect([root('read'), root('read'), root('read')]).toEqual([true, true, false]);
  });

  it('refills at the rate: one more trace every 1/rate seconds', () => {
    const { root, clock } = sampler({ ratePerSecond: 2, burst: 1 });
    expect(root('write')).toBe(true);
    expect(root('write')).toBe(false);
    clock.ms += 499;
    expect(root('write')).toBe(false);
    clock.ms += 1;
    expect(root('write')).toBe(true);
    clock.ms += 10_000; // a long pause refills no more than the burst
    expect([root('write'), root('write')]).toEqual([true, false]);
  });

  it('survives a clock that steps back', () => {
    const { root, clock } = sampler({ ratePerSecond: 1, burst: 1 });
    expect(root('write')).toBe(true);
    clock.ms -= 60_000;
    expect(root('write')).toBe(false);
    clock.ms += 1000;
    expect(root('write')).toBe(true);
  });

  it('traces every write when the rate is 0 (a learner’s setting)', () => {
    const { root, clock } = sampler({ ratePerSecond: 0 });
    for (let i = 0; i < 10_000; i++) {
      clock.ms += 0.1;
      expect(root('write')).toBe(true);
    }
  });

  it('honours the caller’s decision for every span that continues a trace', () => {
    const { root } = sampler({ ratePerSecond: 1, burst: 1 });
    root('write'); // the budget is spent
    expect(root('write', 'raft.Raft/AppendEntries', child(true))).toBe(true);
    expect(root('write', 'raft.apply', child(true))).toBe(true);
    expect(root('election', 'raft.Raft/RequestVote', child(false))).toBe(false);
    expect(root('write', 'raft.persist', child(false))).toBe(false);
  });

  it('applies the ratios first: heartbeats off by default, RAFT_SAMPLE_* as set', () => {
    expect(sampler().root('heartbeat')).toBe(false);
    const { root } = sampler({ ratios: { ...RATIOS, heartbeat: 1, election: 0 } });
    expect(root('heartbeat')).toBe(true);
    expect(root('election')).toBe(false);
  });

  it('keeps RAFT_TRACES_PER_MINUTE as an extra cap on writes, reads and heartbeats together', () => {
    const { root, clock } = sampler({ ratios: { ...RATIOS, heartbeat: 1 }, ratePerSecond: 0, perMinute: 3 });
    expect([root('heartbeat'), root('write'), root('read'), root('write')]).toEqual([true, true, true, false]);
    expect(root('election')).toBe(true);
    clock.ms += 20_000; // 3 a minute: one more every 20 s
    expect([root('write'), root('heartbeat')]).toEqual([true, false]);
  });
});
