// Head sampling for Raft's traces (docs/trace-model.md, "Sampling").
//
// A span that continues a trace follows its parent's decision, so followers honour the caller's
// choice and every span of a kept write is kept. A span that starts a trace is decided by the kind
// of trace it starts (its `raft.trace.kind` attribute):
//   1. the kind's ratio (RAFT_SAMPLE_*): a learner's explicit choice, e.g. heartbeats 0;
//   2. for writes and reads only, a token bucket per kind on this node: `burst` traces at once,
//      then `ratePerSecond`. A person typing commands never empties it, so everything a learner
//      does by hand is traced; a load generator empties it at once and is then traced at the rate;
//   3. RAFT_TRACES_PER_MINUTE, an optional extra bucket shared by writes, reads and heartbeats.
// Elections, leadership transfers, membership changes, snapshots and admin requests (every other
// kind) never meet a cap and take no token: no amount of load can crowd them out.
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { TraceKind } from './config.js';
import { ATTR } from './names.js';

/** A token bucket: `capacity` tokens at first, refilled at `perMs` tokens a millisecond. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly capacity: number,
    private readonly perMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.refilledAt = now();
  }

  /** Whether a token was there to take (one is taken if so). */
  take(): boolean {
    const t = this.now();
    // A clock that steps back (wall-clock adjustment) refills nothing rather than draining.
    if (t > this.refilledAt) this.tokens = Math.min(this.capacity, this.tokens + (t - this.refilledAt) * this.perMs);
    this.refilledAt = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface SamplerSettings {
  ratios: Record<TraceKind, number>;
  /** New write traces, and new read traces, each node starts per second once the burst is spent; 0: no cap. */
  ratePerSecond: number;
  /** How many write (or read) traces may start at once before the rate applies. */
  burst: number;
  /** An extra cap on new write, read and heartbeat traces per minute, all together; 0: none. */
  perMinute: number;
}

/** Kinds of trace that load produces, and that the caps bound. Every other kind is never capped. */
const RATE_CAPPED: ReadonlySet<string> = new Set<TraceKind>(['write', 'read']);
const MINUTE_CAPPED: ReadonlySet<string> = new Set<TraceKind>(['write', 'read', 'heartbeat']);

const SAMPLED: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const DROPPED: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

export class RaftSampler implements Sampler {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly minute: TokenBucket | null;
  /** New traces each cap dropped, by kind, for the status line and tests. */
  readonly capped: Record<string, number> = {};

  constructor(
    private readonly settings: SamplerSettings,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    if (settings.ratePerSecond > 0) {
      for (const kind of RATE_CAPPED)
        this.buckets.set(kind, new TokenBucket(Math.max(1, settings.burst), settings.ratePerSecond / 1000, now));
    }
    this.minute = settings.perMinute > 0 ? new TokenBucket(settings.perMinute, settings.perMinute / 60_000, now) : null;
  }

  shouldSample(
    ctx: Context,
    _traceId: string,
    _name: string,
    _kind: SpanKind,
    attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent && trace.isSpanContextValid(parent)) {
      // Parent-based: follow the decision made where the trace began (on this node or the caller's).
      return parent.traceFlags & 1 ? SAMPLED : DROPPED;
    }
    const k = attributes[ATTR.traceKind];
    const kind = typeof k === 'string' ? k : 'admin';
    const r = this.settings.ratios[kind as TraceKind] ?? 1;
    if (r <= 0 || (r < 1 && this.random() >= r)) return DROPPED;
    const bucket = this.buckets.get(kind);
    if (bucket && !bucket.take()) return this.cap(kind);
    if (this.minute && MINUTE_CAPPED.has(kind) && !this.minute.take()) return this.cap(kind);
    return SAMPLED;
  }

  private cap(kind: string): SamplingResult {
    this.capped[kind] = (this.capped[kind] ?? 0) + 1;
    return DROPPED;
  }

  toString(): string {
    const { ratios, ratePerSecond, burst, perMinute } = this.settings;
    const parts = Object.entries(ratios).map(([k, v]) => `${k}=${v}`);
    parts.push(ratePerSecond > 0 ? `writes and reads: burst ${burst}, then ${ratePerSecond}/s each` : 'no rate cap');
    if (perMinute > 0) parts.push(`max ${perMinute}/min`);
    return `RaftSampler{${parts.join(',')}}`;
  }
}
