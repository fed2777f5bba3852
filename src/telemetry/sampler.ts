// Head sampling for Raft's traces. A span that continues a trace follows its parent's decision
// (so followers honour the caller's choice, and every span of a sampled write is kept). A span
// that starts a trace is sampled by the kind of trace it starts (elections, writes, reads,
// heartbeats, snapshots, admin), each with its own ratio, and then by an optional per-node cap on
// new traces per minute (a token bucket): "at most 20 traces a minute" is one setting.
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { TraceKind } from './config.js';
import { ATTR } from './names.js';

export class RaftSampler implements Sampler {
  private tokens: number;
  private refilledAt = Date.now();
  /** New traces dropped by the per-minute cap, for status and tests. */
  capped = 0;

  constructor(
    private readonly ratios: Record<TraceKind, number>,
    private readonly perMinute: number,
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = perMinute;
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
      // Parent-based: follow the decision made where the trace began.
      return { decision: parent.traceFlags & 1 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    const kind = (attributes[ATTR.traceKind] as TraceKind | undefined) ?? 'admin';
    const r = this.ratios[kind] ?? 1;
    if (r <= 0 || (r < 1 && this.random() >= r)) return { decision: SamplingDecision.NOT_RECORD };
    if (this.perMinute > 0 && !this.takeToken()) {
      this.capped++;
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  private takeToken(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.refilledAt) / 60_000) * this.perMinute);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  toString(): string {
    return `RaftSampler{${Object.entries(this.ratios)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}${this.perMinute ? `,max ${this.perMinute}/min` : ''}}`;
  }
}
