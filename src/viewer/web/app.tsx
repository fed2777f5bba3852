// The page: header (connection, stats, export/import), the cluster panel, the timeline, the trace
// detail of the trace in the URL (#/trace/<id>), and search.
import { useEffect } from 'preact/hooks';
import { toTimelineSpan } from '../../traces/timeline-span';
import { fetchCluster, fetchTimeline, openStream } from './api';
import { ClusterPanel } from './cluster-panel';
import { Search } from './search';
import { addSpans, cluster, problem, readRoute, routeWindow, stats, store, streamUp } from './state';
import { Timeline } from './timeline';
import { TraceDetail } from './trace-detail';
import { ExportImport } from './transfer';

/** How much history the page loads when it opens. */
const INITIAL_MS = 5 * 60_000;

export function App() {
  useEffect(() => {
    readRoute();
    window.addEventListener('hashchange', readRoute);
    const now = Date.now();
    const { from, to } = routeWindow.peek() ?? { from: now - INITIAL_MS, to: now + 60_000 };
    fetchTimeline(from, to).then(
      (r) => {
        store.loaded = { from, to };
        addSpans(r.spans, true);
        if (r.truncated) problem.value = 'The viewer sent only part of this window (too many spans): zoom in for all.';
      },
      (e: unknown) => (problem.value = e instanceof Error ? e.message : String(e)),
    );
    fetchCluster().then(
      (c) => (cluster.value = c),
      (e: unknown) => (problem.value = e instanceof Error ? e.message : String(e)),
    );
    const close = openStream({
      spans: (spans) => addSpans(spans.map(toTimelineSpan)),
      cluster: (c) => (cluster.value = c),
      stats: (s) => (stats.value = s),
      connected: (up) => (streamUp.value = up),
    });
    return () => {
      close();
      window.removeEventListener('hashchange', readRoute);
    };
  }, []);

  const s = stats.value;
  return (
    <>
      <header>
        <h1>raft-otel</h1>
        <span class={streamUp.value ? 'live on' : 'live'} title="Pushed updates from the viewer server (SSE)">
          {streamUp.value ? '● live' : '○ reconnecting'}
        </span>
        {s && (
          <span class="stats" title="What the viewer server holds">
            {s.spans.toLocaleString()} spans · {s.traces.toLocaleString()} traces · {(s.bytes / 1048576).toFixed(1)} MB
            {s.evictedTraces > 0 && ` · ${s.evictedTraces.toLocaleString()} oldest traces evicted`}
          </span>
        )}
        <ExportImport />
        {problem.value && (
          <span class="status err" role="alert" onClick={() => (problem.value = null)}>
            {problem.value}
          </span>
        )}
      </header>
      <main>
        <ClusterPanel />
        <Timeline />
        <TraceDetail />
        <Search />
      </main>
    </>
  );
}
