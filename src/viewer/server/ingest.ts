// Where every span enters the viewer, whatever brought it (an OTLP request, an import, the history
// on disk): into the store, onto the disk (unless it came from there), and to the live listeners.
// Until the history on disk has loaded, new batches wait, so the store keeps arrival order (its
// eviction order) across a restart.
import type { FlatSpan } from '../../traces/otlp.js';
import type { SpanLog } from './persist.js';
import type { SpanStore } from './store.js';

export interface IngestCounters {
  requests: number;
  spans: number;
  rejected: number;
}

export class Ingest {
  readonly counters: IngestCounters = { requests: 0, spans: 0, rejected: 0 };
  private listeners = new Set<(spans: FlatSpan[]) => void>();
  private ready: Promise<void> = Promise.resolve();

  constructor(
    readonly store: SpanStore,
    readonly log: SpanLog | null,
  ) {}

  /** Loads the history on disk; batches given meanwhile are added after it. */
  loadHistory(): Promise<{ batches: number; skipped: number }> {
    const log = this.log;
    if (!log) return Promise.resolve({ batches: 0, skipped: 0 });
    const done = log.load((spans) => this.store.add(spans));
    this.ready = done.then(
      () => {},
      () => {},
    );
    return done;
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  onSpans(fn: (spans: FlatSpan[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Adds spans (after the history has loaded); returns the ones that were new. `otlpJson`, the
   * request's own OTLP JSON text when there is one, is what goes to disk: writing it as it came
   * costs nothing, where serializing the flat spans again would cost as much as reading them.
   */
  async add(spans: FlatSpan[], otlpJson?: string): Promise<FlatSpan[]> {
    await this.ready;
    const added = this.store.add(spans);
    this.counters.requests++;
    this.counters.spans += added.length;
    if (added.length) {
      if (otlpJson !== undefined && added.length === spans.length) this.log?.appendOtlpJson(otlpJson);
      else this.log?.append(added);
      for (const fn of this.listeners) fn(added);
    }
    return added;
  }
}
