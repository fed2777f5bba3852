// Search: traces by kind, node, term, key, error, minimum duration and time range, through
// GET /api/viewer/search; a result opens in the trace detail.
import { useState } from 'preact/hooks';
import { search } from './api';
import { KIND_COLOURS } from './model';
import { cluster, openTrace } from './state';
import type { TraceKind, TraceSummary } from './types';

const KINDS: TraceKind[] = [
  'election',
  'write',
  'read',
  'heartbeat',
  'snapshot',
  'membership',
  'transfer',
  'lock',
  'admin',
];
const RANGES: [string, number][] = [
  ['last 5 minutes', 5 * 60_000],
  ['last 15 minutes', 15 * 60_000],
  ['last hour', 3_600_000],
  ['everything', 0],
];

export function Search() {
  const [q, setQ] = useState({ kind: '', node: '', term: '', key: '', error: false, minDurationMs: '', range: '0' });
  const [results, setResults] = useState<TraceSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const nodes = cluster.value?.nodes.map((n) => n.id) ?? [];
  const set = (k: keyof typeof q) => (e: Event) => {
    const t = e.currentTarget as HTMLInputElement;
    setQ({ ...q, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };

  async function run(e: Event) {
    e.preventDefault();
    setError(null);
    setResults(null);
    const range = RANGES[Number(q.range)][1];
    try {
      const r = await search({
        kind: q.kind,
        node: q.node,
        term: q.term.trim(),
        key: q.key.trim(),
        error: q.error,
        minDurationMs: q.minDurationMs.trim(),
        ...(range ? { start: Date.now() - range, end: Date.now() } : {}),
        limit: 100,
      });
      setResults(Array.isArray(r) ? r : r.traces);
    } catch (err) {
      setResults(null);
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section class="search" aria-label="Search">
      <form onSubmit={(e) => void run(e)}>
        <strong>Search</strong>
        <label>
          kind{' '}
          <select name="kind" value={q.kind} onChange={set('kind')}>
            <option value="">any</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          node{' '}
          <select name="node" value={q.node} onChange={set('node')}>
            <option value="">any</option>
            {nodes.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          term <input name="term" value={q.term} onInput={set('term')} size={3} inputMode="numeric" />
        </label>
        <label>
          key <input name="key" value={q.key} onInput={set('key')} size={8} />
        </label>
        <label>
          <input name="error" type="checkbox" checked={q.error} onChange={set('error')} /> errors only
        </label>
        <label>
          min ms{' '}
          <input
            name="minDurationMs"
            value={q.minDurationMs}
            onInput={set('minDurationMs')}
            size={4}
            inputMode="decimal"
          />
        </label>
        <label>
          <select name="range" value={q.range} onChange={set('range')}>
            {RANGES.map(([label], i) => (
              <option key={label} value={String(i)}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Find traces</button>
      </form>
      {error && <p class="status err">{error}</p>}
      {results && (
        <table class="results">
          <caption>{results.length} traces</caption>
          <thead>
            <tr>
              <th>when</th>
              <th>kind</th>
              <th>root</th>
              <th>nodes</th>
              <th>term</th>
              <th>key</th>
              <th>duration</th>
              <th>spans</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr
                key={r.traceId}
                class={r.error ? 'err' : ''}
                data-trace={r.traceId}
                onClick={() => openTrace(r.traceId)}
              >
                <td>{new Date(r.startMs).toLocaleTimeString()}</td>
                <td>
                  <span class="kind" style={{ background: KIND_COLOURS[r.kind] ?? '#999' }}>
                    {r.kind}
                  </span>
                </td>
                <td>
                  <a href={`#/trace/${r.traceId}`}>{r.rootName}</a>
                  {r.error && <span class="err-tag">error</span>}
                </td>
                <td>{r.nodes.join(' ')}</td>
                <td>{r.term ?? ''}</td>
                <td>{r.key ?? ''}</td>
                <td>{r.durationMs.toFixed(1)} ms</td>
                <td>{r.spanCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
