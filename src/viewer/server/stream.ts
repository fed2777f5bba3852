// GET /api/viewer/stream: Server-Sent Events to the page.
//   event: spans    data: FlatSpan[] ingested since the last one (batched, at most every 200 ms;
//                   past 5,000 in one push, the newest 5,000)
//   event: cluster  data: the /api/viewer/cluster body, when it changes (polled every 250 ms)
//   event: stats    data: the /api/viewer/stats body, when it changes (at most every second)
// A client that cannot keep up (its socket buffer past a cap) is dropped rather than buffered
// without bound; EventSource reconnects by itself and the page refetches its window.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlatSpan } from '../../traces/otlp.js';
import type { ClusterWatch } from './cluster-watch.js';
import type { Ingest } from './ingest.js';

export const SPANS_EVERY_MS = 200;
const STATS_EVERY_MS = 1000;
const MAX_BUFFERED = 32 * 1024 * 1024;
export const MAX_SPANS_PER_PUSH = 5000;

export class StreamHub {
  private clients = new Set<ServerResponse>();
  private pending: FlatSpan[] = [];
  private spanTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private lastStats = '';
  private unsubscribeCluster: (() => void) | null = null;

  constructor(
    private readonly ingest: Ingest,
    private readonly cluster: ClusterWatch,
    private readonly stats: () => unknown,
  ) {
    ingest.onSpans((spans) => {
      if (this.clients.size === 0) return;
      for (const s of spans) this.pending.push(s);
      this.spanTimer ??= setTimeout(() => this.flushSpans(), SPANS_EVERY_MS);
    });
  }

  get size(): number {
    return this.clients.size;
  }

  private send(res: ServerResponse, event: string, data: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    res.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  private broadcast(event: string, data: string): void {
    for (const c of this.clients) this.send(c, event, data);
  }

  private flushSpans(): void {
    this.spanTimer = null;
    if (this.pending.length === 0) return;
    // A flood is not forwarded whole (no page draws 50,000 spans a second): the newest are; the
    // page reads any window in full from /api/viewer/timeline, and stats count everything.
    const batch = this.pending.length > MAX_SPANS_PER_PUSH ? this.pending.slice(-MAX_SPANS_PER_PUSH) : this.pending;
    this.pending = [];
    this.broadcast('spans', JSON.stringify(batch));
  }

  private pushStats(force = false): void {
    const json = JSON.stringify(this.stats());
    if (!force && json === this.lastStats) return;
    this.lastStats = json;
    this.broadcast('stats', json);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    this.send(res, 'stats', JSON.stringify(this.stats()));
    if (this.cluster.dataDir !== null && !this.unsubscribeCluster)
      this.unsubscribeCluster = this.cluster.subscribe((_view, json) => this.broadcast('cluster', json));
    else if (this.cluster.dataDir !== null)
      void this.cluster.view().then((v) => this.send(res, 'cluster', JSON.stringify(v)));
    else this.send(res, 'cluster', JSON.stringify({ attached: false, nodes: [] }));
    this.statsTimer ??= setInterval(() => this.pushStats(), STATS_EVERY_MS);
    // A comment line now and then keeps proxies and idle timeouts from closing a quiet stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const done = () => {
      clearInterval(keepAlive);
      this.clients.delete(res);
      if (this.clients.size === 0) this.idle();
    };
    req.on('close', done);
    res.on('error', done);
  }

  private idle(): void {
    this.unsubscribeCluster?.();
    this.unsubscribeCluster = null;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.pending = [];
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.idle();
    if (this.spanTimer) clearTimeout(this.spanTimer);
    this.spanTimer = null;
  }
}
