// The cluster timeline: one lane per node, time across, drawn on a canvas (thousands of bars and
// arrows redraw in a frame). d3-scale maps time to pixels, d3-zoom turns wheel and drag into
// zoom and pan, d3-axis draws the time axis; what is drawn comes from model.ts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useSignalEffect } from '@preact/signals';
import { scaleTime, type ScaleTime } from 'd3-scale';
import { select } from 'd3-selection';
import { axisBottom } from 'd3-axis';
import { zoom as d3zoom, zoomIdentity, type ZoomBehavior, type D3ZoomEvent } from 'd3-zoom';
import { fetchTimeline } from './api';
import {
  ERROR_COLOUR,
  KIND_COLOURS,
  buildTimeline,
  sortLanes,
  type Arrow,
  type Bar,
  type TimelineModel,
} from './model';
import { cluster, openTrace, openTraceId, problem, routeWindow, spansVersion, store } from './state';
import type { TraceKind } from './types';

const LANE_H = 46;
const TOP = 20;
const GUTTER = 56;
const AXIS_H = 26;
const DEFAULT_WINDOW_MS = 60_000;

/** What the timeline drew last, for the browser tests and the benchmark (window.raftViewer). */
export interface DrawnTimeline {
  domain: [number, number];
  lanes: string[];
  bars: (Bar & { x0: number; x1: number; y: number })[];
  arrows: (Arrow & { x0: number; y0: number; x1: number; y1: number })[];
  marks: TimelineModel['marks'];
  heartbeats: number;
  /** Milliseconds the last draw took, and the last model build (when the spans changed). */
  drawMs: number;
  modelMs: number;
  /** How many spans the model was built from. */
  spans: number;
  follow: boolean;
}

declare global {
  interface Window {
    /** timeline: the last draw; draws: when each of the last 50 draws ended (performance.now())
     *  and from how many spans, for the render benchmark. */
    raftViewer?: { timeline?: DrawnTimeline; renders: number; draws: { at: number; spans: number; bars: number }[] };
  }
}

function initialDomain(): [number, number] {
  const w = routeWindow.peek();
  return w ? [w.from, w.to] : [Date.now() - DEFAULT_WINDOW_MS, Date.now()];
}

export function Timeline() {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const axis = useRef<SVGGElement>(null);
  const [width, setWidth] = useState(800);
  // A window in the URL (#/window/<from>-<to>) is shown still; otherwise the timeline follows.
  const [follow, setFollow] = useState(routeWindow.peek() === null);
  const [heartbeats, setHeartbeats] = useState(true);
  const [hbHelp, setHbHelp] = useState(false);
  // Redraws when spans arrive or a node comes, goes down or comes back (lane names show it).
  const [version, setVersion] = useState('');
  const [hover, setHover] = useState<string | null>(null);
  // Mutable drawing state, kept out of renders: the base scale, the zoom, the last model.
  const st = useRef({
    x0: scaleTime().domain(initialDomain()),
    x: null as ScaleTime<number, number> | null,
    zoom: null as ZoomBehavior<HTMLCanvasElement, unknown> | null,
    model: null as TimelineModel | null,
    modelVersion: -1,
    modelHb: true,
    follow: true,
    drawn: null as DrawnTimeline | null,
    modelMs: 0,
    fetchTimer: 0,
  });
  st.current.follow = follow;
  // d3's handlers are bound once; they call the newest draw (which sees the newest width and toggles).
  const drawRef = useRef(() => {});

  useSignalEffect(() => {
    const nodes = cluster.value?.nodes.map((n) => `${n.id}:${n.down}`).join() ?? '';
    setVersion(`${spansVersion.value} ${nodes}`);
  });

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(300, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const lanes = st.current.model?.lanes ?? [];
  const height = TOP + Math.max(3, lanes.length) * LANE_H + 6;

  // d3-zoom on the canvas: a gesture pauses live follow; the button resumes it.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const z = d3zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1 / 200, 20_000])
      .on('zoom', (ev: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        const s = st.current;
        s.x = ev.transform.rescaleX(s.x0);
        if (ev.sourceEvent) {
          if (s.follow) setFollow(false);
          scheduleFetch();
        }
        drawRef.current();
      });
    st.current.zoom = z;
    select(c).call(z).on('dblclick.zoom', null);
    return () => void select(c).on('.zoom', null);
  }, []);

  // Live follow: the window slides with the clock.
  useEffect(() => {
    if (!follow) return;
    const tick = () => {
      const s = st.current;
      const span = s.x ? +s.x.domain()[1] - +s.x.domain()[0] : DEFAULT_WINDOW_MS;
      const end = Date.now();
      s.x0 = scaleTime()
        .domain([end - span, end])
        .range([GUTTER, width - 8]);
      if (s.zoom && canvas.current) s.zoom.transform(select(canvas.current), zoomIdentity);
      else {
        s.x = s.x0;
        draw();
      }
    };
    tick();
    const id = window.setInterval(tick, 250);
    return () => window.clearInterval(id);
  }, [follow, width]);

  useEffect(() => draw(), [version, width, heartbeats, hover, lanes.length]);

  /** Fetches the spans of the window being looked at when it leaves what the page has. */
  function scheduleFetch() {
    const s = st.current;
    window.clearTimeout(s.fetchTimer);
    s.fetchTimer = window.setTimeout(() => {
      if (!s.x) return;
      const [a, b] = s.x.domain().map(Number);
      const have = store.loaded;
      if (have && a >= have.from && b <= have.to) return;
      fetchTimeline(a, b).then(
        (r) => {
          store.add(r.spans);
          store.loaded = have ? { from: Math.min(have.from, a), to: Math.max(have.to, b) } : { from: a, to: b };
          spansVersion.value++;
        },
        (e: unknown) => (problem.value = String(e instanceof Error ? e.message : e)),
      );
    }, 150);
  }

  function model(): TimelineModel {
    const s = st.current;
    // Rebuilt only when the spans or the heartbeat toggle change; the cluster's nodes only add lanes.
    if (!s.model || s.modelVersion !== spansVersion.peek() || s.modelHb !== heartbeats) {
      const m0 = performance.now();
      s.model = buildTimeline(store.all(), { heartbeats });
      s.modelVersion = spansVersion.peek();
      s.modelHb = heartbeats;
      s.modelMs = performance.now() - m0;
    }
    const nodes = cluster.peek()?.nodes.map((n) => n.id) ?? [];
    return { ...s.model, lanes: sortLanes([...nodes, ...s.model.lanes]) };
  }

  drawRef.current = draw;
  function draw() {
    const t0 = performance.now();
    const c = canvas.current;
    const s = st.current;
    if (!c) return;
    const m = model();
    if (!s.x) s.x = s.x0;
    s.x0.range([GUTTER, width - 8]);
    s.x.range([GUTTER, width - 8]);
    const x = s.x;
    const h = TOP + Math.max(3, m.lanes.length) * LANE_H + 6;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(width * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(width * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${width}px`;
      c.style.height = `${h}px`;
    }
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, h);
    const [d0, d1] = x.domain().map(Number);
    const laneY = new Map(m.lanes.map((id, i) => [id, TOP + i * LANE_H + LANE_H / 2]));
    const down = new Set(
      cluster
        .peek()
        ?.nodes.filter((n) => n.down)
        .map((n) => n.id) ?? [],
    );

    // Lanes.
    g.font = '12px system-ui, sans-serif';
    g.textBaseline = 'middle';
    m.lanes.forEach((id, i) => {
      const y = TOP + i * LANE_H;
      g.fillStyle = i % 2 ? '#f7f9fb' : '#ffffff';
      g.fillRect(GUTTER, y, width - GUTTER, LANE_H);
      g.fillStyle = down.has(id) ? '#b2bec3' : '#2d3436';
      g.fillText(id + (down.has(id) ? ' ✕' : ''), 8, y + LANE_H / 2);
      g.strokeStyle = '#dfe6e9';
      g.beginPath();
      g.moveTo(GUTTER, y + LANE_H / 2);
      g.lineTo(width - 8, y + LANE_H / 2);
      g.stroke();
    });

    // Nothing is drawn over the lane names.
    g.save();
    g.beginPath();
    g.rect(GUTTER, 0, width - GUTTER, h);
    g.clip();

    // Term and leader changes: vertical markers across every lane.
    const marks = m.marks.filter((k) => k.atMs >= d0 && k.atMs <= d1);
    for (const k of marks) {
      const px = x(k.atMs);
      if (k.kind === 'chaos') {
        const y = (laneY.get(k.node) ?? TOP) - LANE_H / 2 + 4;
        g.fillStyle = '#f39c12';
        g.beginPath();
        g.moveTo(px, y + 8);
        g.lineTo(px - 5, y);
        g.lineTo(px + 5, y);
        g.closePath();
        g.fill();
        continue;
      }
      g.strokeStyle = k.kind === 'leader' ? '#8e44ad' : '#636e72';
      g.setLineDash(k.kind === 'term' ? [4, 3] : []);
      g.beginPath();
      g.moveTo(px, TOP - 4);
      g.lineTo(px, h - 4);
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = g.strokeStyle;
      g.fillText(k.label, px + 3, k.kind === 'leader' ? 12 : 4);
    }

    // Bars: a trace's work on one node.
    const barH = 14;
    const bars: DrawnTimeline['bars'] = [];
    for (const b of m.bars) {
      if (b.endMs < d0 || b.startMs > d1) continue;
      const y = laneY.get(b.node);
      if (y === undefined) continue;
      const x0 = x(b.startMs);
      const x1 = Math.max(x0 + 2, x(b.endMs));
      const hot = hover === b.traceId || openTraceId.peek() === b.traceId;
      g.fillStyle = KIND_COLOURS[b.kind];
      g.globalAlpha = b.kind === 'heartbeat' ? 0.45 : 0.85;
      g.fillRect(x0, y - barH / 2, x1 - x0, barH);
      g.globalAlpha = 1;
      // A failed span in it: a red band under the kind's colour (an election with one vote
      // request to a dead node is still an election).
      if (b.error) {
        g.fillStyle = ERROR_COLOUR;
        g.fillRect(x0, y + barH / 2 - 4, x1 - x0, 4);
      }
      if (hot) {
        g.strokeStyle = '#000';
        g.lineWidth = 2;
        g.strokeRect(x0, y - barH / 2, x1 - x0, barH);
        g.lineWidth = 1;
      }
      bars.push({ ...b, x0, x1, y });
    }

    // Arrows: RPCs from the sender's lane to the receiver's.
    const arrows: DrawnTimeline['arrows'] = [];
    for (const a of m.arrows) {
      const end = a.reply ? a.reply.arrivedMs : a.arrivedMs;
      if (end < d0 || a.sentMs > d1) continue;
      const y0 = laneY.get(a.from);
      const y1 = laneY.get(a.to);
      if (y0 === undefined || y1 === undefined) continue;
      const x0 = x(a.sentMs);
      const x1 = x(a.arrivedMs);
      const colour = a.error || a.lost ? ERROR_COLOUR : KIND_COLOURS[a.kind];
      g.globalAlpha = a.kind === 'heartbeat' ? 0.4 : 0.9;
      arrow(g, x0, y0, x1, y1, colour, a.lost);
      if (a.reply) {
        g.globalAlpha = 0.35;
        arrow(g, x(a.reply.sentMs), y1, x(a.reply.arrivedMs), y0, colour, true);
      }
      g.globalAlpha = 1;
      arrows.push({ ...a, x0, y0, x1, y1 });
    }

    g.restore();

    // Axis.
    if (axis.current) select(axis.current).call(axisBottom(x).ticks(Math.max(2, Math.floor(width / 110))));
    const drawMs = performance.now() - t0;
    s.drawn = {
      domain: [d0, d1],
      lanes: m.lanes,
      bars,
      arrows,
      marks,
      heartbeats: m.heartbeats,
      drawMs,
      modelMs: s.modelMs,
      spans: store.size,
      follow: s.follow,
    };
    const draws = window.raftViewer?.draws ?? [];
    draws.push({ at: performance.now(), spans: store.size, bars: bars.length });
    if (draws.length > 50) draws.shift();
    window.raftViewer = { timeline: s.drawn, renders: (window.raftViewer?.renders ?? 0) + 1, draws };
  }

  function hit(ev: MouseEvent): string | null {
    const d = st.current.drawn;
    const c = canvas.current;
    if (!d || !c) return null;
    const r = c.getBoundingClientRect();
    const px = ev.clientX - r.left;
    const py = ev.clientY - r.top;
    for (const b of d.bars) if (px >= b.x0 - 2 && px <= b.x1 + 2 && Math.abs(py - b.y) <= 9) return b.traceId;
    for (const a of d.arrows) if (distToSegment(px, py, a.x0, a.y0, a.x1, a.y1) < 4) return a.traceId;
    return null;
  }

  /** Centres the view on a bar (a "jump to" button) and opens its trace. */
  function jumpTo(b: Bar | undefined) {
    if (!b) return;
    setFollow(false);
    const s = st.current;
    const span = Math.max(4000, (b.endMs - b.startMs) * 6);
    const mid = (b.startMs + b.endMs) / 2;
    s.x0 = scaleTime()
      .domain([mid - span / 2, mid + span / 2])
      .range([GUTTER, width - 8]);
    if (s.zoom && canvas.current) s.zoom.transform(select(canvas.current), zoomIdentity);
    openTrace(b.traceId);
  }

  const m = st.current.model;
  return (
    <section class="timeline" aria-label="Cluster timeline">
      <div class="toolbar">
        <strong>Cluster timeline</strong>
        <button
          type="button"
          class={follow ? 'on' : ''}
          aria-pressed={follow}
          onClick={() => setFollow(!follow)}
          title="Follow the newest spans (any zoom or drag pauses it)"
        >
          {follow ? 'Pause' : 'Live'}
        </button>
        <button type="button" onClick={() => zoomBy(2)} title="Zoom in">
          +
        </button>
        <button type="button" onClick={() => zoomBy(0.5)} title="Zoom out">
          −
        </button>
        <span class="sep" />
        <button type="button" disabled={!m?.latest.election} onClick={() => jumpTo(m?.latest.election)}>
          Latest election
        </button>
        <button type="button" disabled={!m?.latest.failover} onClick={() => jumpTo(m?.latest.failover)}>
          Latest failover
        </button>
        <button type="button" disabled={!m?.latest.error} onClick={() => jumpTo(m?.latest.error)}>
          Latest error
        </button>
        <span class="sep" />
        <label title="Heartbeats (empty AppendEntries) are drawn when the nodes sample them">
          <input type="checkbox" checked={heartbeats} onChange={(e) => setHeartbeats(e.currentTarget.checked)} />{' '}
          heartbeats ({m?.heartbeats ?? 0})
        </label>
        <button type="button" class="link" onClick={() => setHbHelp(!hbHelp)} aria-expanded={hbHelp}>
          ?
        </button>
        <Legend />
      </div>
      {hbHelp && (
        <p class="help" role="note">
          Heartbeats are empty AppendEntries the leader sends every tick. They would drown everything else, so nodes
          sample none by default. To see them, start the cluster with a ratio, e.g.{' '}
          <code>RAFT_SAMPLE_HEARTBEATS=0.05 npm start</code> (5% of them); this box hides or shows the ones sampled.
        </p>
      )}
      <div class="canvas-wrap" ref={wrap}>
        <canvas
          ref={canvas}
          style={{ height: `${height}px`, cursor: hover ? 'pointer' : 'grab' }}
          onMouseMove={(e) => setHover(hit(e))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const id = hit(e);
            if (id) openTrace(id);
          }}
          aria-label="Timeline: bars are traces on a node, arrows are RPCs; click one to open its trace"
        />
        <svg width={width} height={AXIS_H} class="axis">
          <g ref={axis} />
        </svg>
      </div>
    </section>
  );

  function zoomBy(k: number) {
    const s = st.current;
    if (s.zoom && canvas.current) {
      setFollow(false);
      s.zoom.scaleBy(select(canvas.current), k, [width - 8, 0]);
    }
  }
}

function Legend() {
  const kinds: TraceKind[] = ['election', 'write', 'read', 'snapshot', 'membership', 'transfer', 'heartbeat'];
  return (
    <span class="legend">
      {kinds.map((k) => (
        <span key={k}>
          <i style={{ background: KIND_COLOURS[k] }} />
          {k}
        </span>
      ))}
      <span>
        <i style={{ background: ERROR_COLOUR }} />
        error
      </span>
      <span>
        <i style={{ background: '#f39c12' }} />
        chaos
      </span>
    </span>
  );
}

function arrow(
  g: CanvasRenderingContext2D,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  c: string,
  dashed: boolean,
) {
  g.strokeStyle = c;
  g.fillStyle = c;
  g.setLineDash(dashed ? [3, 3] : []);
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
  g.setLineDash([]);
  const ang = Math.atan2(y1 - y0, x1 - x0);
  g.beginPath();
  g.moveTo(x1, y1);
  g.lineTo(x1 - 7 * Math.cos(ang - 0.4), y1 - 7 * Math.sin(ang - 0.4));
  g.lineTo(x1 - 7 * Math.cos(ang + 0.4), y1 - 7 * Math.sin(ang + 0.4));
  g.closePath();
  g.fill();
}

function distToSegment(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len)) : 0;
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}
