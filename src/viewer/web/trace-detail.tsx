// One trace in detail: a Jaeger-like waterfall (the span tree, a service per row, durations,
// attributes, events, links) and the same trace as a sequence diagram across the nodes.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { scaleLinear } from 'd3-scale';
import { exportUrl, fetchTrace } from './api';
import { KIND_COLOURS, ERROR_COLOUR, isError, nodeOf, rootSpan, rpcPeer, sortLanes, spanKindOfTrace } from './model';
import { openTrace, openTraceId, spansVersion } from './state';
import type { AttrValue, FlatSpan } from './types';

export function TraceDetail() {
  const id = openTraceId.value;
  const [spans, setSpans] = useState<FlatSpan[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<'waterfall' | 'sequence'>('waterfall');
  const version = spansVersion.value;

  useEffect(() => {
    if (!id) return;
    let cancelled = false;
    setError(null);
    fetchTrace(id).then(
      (s) => {
        if (!cancelled) setSpans(s);
      },
      (e: unknown) => {
        if (cancelled) return;
        // Not (yet) on the server: said so, and asked again as spans arrive. (The page holds
        // only the timeline's compact form of spans, not what this pane shows.)
        setSpans(null);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      cancelled = true;
    };
    // Refetched as spans arrive: a write's apply spans come after its response.
  }, [id, Math.floor(version / 10)]);

  if (!id) return null;
  return (
    <section class="detail" aria-label="Trace detail">
      <div class="toolbar">
        <strong>
          Trace <code data-testid="trace-id">{id}</code>
        </strong>
        <button type="button" class={tab === 'waterfall' ? 'on' : ''} onClick={() => setTab('waterfall')}>
          Waterfall
        </button>
        <button type="button" class={tab === 'sequence' ? 'on' : ''} onClick={() => setTab('sequence')}>
          Sequence diagram
        </button>
        <a class="button" href={exportUrl({ traceId: id })} download={`trace-${id}.json`}>
          Export OTLP JSON
        </a>
        <button type="button" onClick={() => openTrace(null)} aria-label="Close the trace">
          ✕
        </button>
      </div>
      {error && <p class="status err">{error}</p>}
      {spans && spans.length > 0 && (tab === 'waterfall' ? <Waterfall spans={spans} /> : <Sequence spans={spans} />)}
      {spans && spans.length === 0 && <p class="status">No spans of this trace (yet).</p>}
    </section>
  );
}

interface Row {
  span: FlatSpan;
  depth: number;
}

/** The spans in tree order: each span after its parent, siblings by start time. */
export function treeRows(spans: FlatSpan[]): Row[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, FlatSpan[]>();
  const roots: FlatSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const rows: Row[] = [];
  const byStart = (a: FlatSpan, b: FlatSpan) => a.startMs - b.startMs;
  const walk = (s: FlatSpan, depth: number) => {
    rows.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  return rows;
}

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 1 ? `${v.toFixed(1)} ms` : `${(v * 1000).toFixed(0)} µs`;
}

function Waterfall({ spans }: { spans: FlatSpan[] }) {
  const rows = useMemo(() => treeRows(spans), [spans]);
  const [open, setOpen] = useState<string | null>(null);
  const t0 = Math.min(...spans.map((s) => s.startMs));
  const t1 = Math.max(...spans.map((s) => s.endMs));
  const x = scaleLinear()
    .domain([t0, Math.max(t1, t0 + 0.001)])
    .range([0, 100]);
  const root = rootSpan(spans) ?? spans[0];
  const kind = spanKindOfTrace(root);
  return (
    <div class="waterfall">
      <p class="summary">
        <span class="kind" style={{ background: KIND_COLOURS[kind] }}>
          {kind}
        </span>{' '}
        {root.name} · {ms(t1 - t0)} · {spans.length} spans · nodes {sortLanes(spans.map(nodeOf)).join(', ')} ·{' '}
        {new Date(t0).toLocaleTimeString()}
      </p>
      <table>
        <thead>
          <tr>
            <th>service · operation</th>
            <th class="bars">
              0 <span style={{ float: 'right' }}>{ms(t1 - t0)}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ span: s, depth }) => (
            <>
              <tr
                key={s.spanId}
                class={`span-row${open === s.spanId ? ' open' : ''}`}
                data-span={s.spanId}
                onClick={() => setOpen(open === s.spanId ? null : s.spanId)}
              >
                <td class="name" style={{ paddingLeft: `${6 + depth * 14}px` }}>
                  <span class="svc">{s.service}</span> {s.name}
                  {isError(s) && <span class="err-tag">error</span>}
                </td>
                <td class="bars">
                  <div
                    class="bar"
                    style={{
                      left: `${x(s.startMs)}%`,
                      width: `${Math.max(0.3, x(s.endMs) - x(s.startMs))}%`,
                      background: isError(s) ? ERROR_COLOUR : KIND_COLOURS[kind],
                    }}
                  />
                  <span class="dur" style={{ left: `${Math.min(x(s.endMs), 88)}%` }}>
                    {ms(s.endMs - s.startMs)}
                  </span>
                </td>
              </tr>
              {open === s.spanId && (
                <tr key={`${s.spanId}-d`} class="span-detail">
                  <td colSpan={2}>
                    <SpanInfo s={s} t0={t0} />
                  </td>
                </tr>
              )}
            </>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function show(v: AttrValue): string {
  return Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
}

function SpanInfo({ s, t0 }: { s: FlatSpan; t0: number }) {
  return (
    <div class="span-info">
      <p>
        {s.kind} · node {nodeOf(s)} · start +{ms(s.startMs - t0)} · duration {ms(s.endMs - s.startMs)} · status{' '}
        {s.status.code}
        {s.status.message ? `: ${s.status.message}` : ''} · span <code>{s.spanId}</code>
      </p>
      <table class="attrs">
        <tbody>
          {Object.entries(s.attributes).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{show(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.events.length > 0 && (
        <>
          <h4>Events</h4>
          <ul class="events">
            {s.events.map((e, i) => (
              <li key={i}>
                +{ms(e.timeMs - t0)} <b>{e.name}</b>{' '}
                {Object.entries(e.attributes)
                  .map(([k, v]) => `${k}=${show(v)}`)
                  .join(' ')}
              </li>
            ))}
          </ul>
        </>
      )}
      {s.links.length > 0 && (
        <>
          <h4>Links</h4>
          <ul class="links">
            {s.links.map((l) => (
              <li key={`${l.traceId}/${l.spanId}`}>
                <a href={`#/trace/${l.traceId}`} onClick={() => openTrace(l.traceId)}>
                  trace {l.traceId.slice(0, 12)}… span {l.spanId}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The trace as a sequence diagram: a lifeline per node, time downwards, each RPC an arrow from
 *  the caller's lifeline to the callee's (the reply dashed), each node's own work a box on its line. */
function Sequence({ spans }: { spans: FlatSpan[] }) {
  const nodes = sortLanes(spans.map(nodeOf));
  const t0 = Math.min(...spans.map((s) => s.startMs));
  const t1 = Math.max(...spans.map((s) => s.endMs));
  const colW = 150;
  const width = Math.max(420, nodes.length * colW + 40);
  const height = Math.min(1400, Math.max(260, spans.length * 18 + 60));
  const y = scaleLinear()
    .domain([t0, Math.max(t1, t0 + 0.001)])
    .range([40, height - 10]);
  const cx = (n: string) => 20 + colW / 2 + nodes.indexOf(n) * colW;
  const server = new Map<string, FlatSpan>();
  for (const s of spans) if (s.kind === 'SERVER' && s.parentSpanId) server.set(s.parentSpanId, s);
  const calls = spans
    .filter((s) => s.kind === 'CLIENT')
    .map((c) => {
      const srv = server.get(c.spanId);
      return { c, srv, to: srv ? nodeOf(srv) : rpcPeer(c) };
    })
    .filter(
      (a): a is { c: FlatSpan; srv: FlatSpan | undefined; to: string } =>
        typeof a.to === 'string' && a.to !== nodeOf(a.c),
    );
  const boxes = spans.filter((s) => s.kind === 'INTERNAL' || s.kind === 'SERVER');
  return (
    <div class="sequence">
      <svg width={width} height={height} role="img" aria-label="Sequence diagram of the trace across nodes">
        <defs>
          <marker
            id="arr"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="context-stroke" />
          </marker>
        </defs>
        {nodes.map((n) => (
          <g key={n}>
            <text x={cx(n)} y={18} text-anchor="middle" class="lifeline-name">
              {n}
            </text>
            <line x1={cx(n)} x2={cx(n)} y1={26} y2={height} class="lifeline" />
          </g>
        ))}
        {boxes.map((s) => (
          <rect
            key={s.spanId}
            x={cx(nodeOf(s)) - 5}
            y={y(s.startMs)}
            width={10}
            height={Math.max(2, y(s.endMs) - y(s.startMs))}
            fill={isError(s) ? ERROR_COLOUR : '#dfe6e9'}
            stroke="#636e72"
          >
            <title>{`${s.name} on ${nodeOf(s)}: ${ms(s.endMs - s.startMs)}`}</title>
          </rect>
        ))}
        {calls.map(({ c, srv, to }) => {
          const from = nodeOf(c);
          const colour = isError(c) || !srv ? ERROR_COLOUR : '#2d3436';
          const y0 = y(c.startMs);
          const y1 = y(srv ? srv.startMs : c.endMs);
          const mid = (cx(from) + cx(to)) / 2;
          return (
            <g key={c.spanId} class="call" data-from={from} data-to={to}>
              <line
                x1={cx(from)}
                y1={y0}
                x2={cx(to)}
                y2={y1}
                stroke={colour}
                marker-end="url(#arr)"
                stroke-dasharray={srv ? undefined : '4 3'}
              />
              <text x={mid} y={(y0 + y1) / 2 - 3} text-anchor="middle" class="call-label">
                {String(c.attributes['rpc.method'] ?? c.name).replace(/^raft\.Raft\//, '')}
                {c.attributes['raft.vote.granted'] === true
                  ? ' ✓'
                  : c.attributes['raft.vote.granted'] === false
                    ? ' ✗'
                    : ''}
              </text>
              {srv && (
                <line
                  x1={cx(to)}
                  y1={y(srv.endMs)}
                  x2={cx(from)}
                  y2={y(c.endMs)}
                  stroke={colour}
                  stroke-dasharray="3 3"
                  marker-end="url(#arr)"
                  opacity={0.6}
                />
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
