// How fast the viewer's page renders a busy 5-minute window of a 5-node cluster, in Debian's
// Chromium (headless, playwright-core). Prints each figure beside its goal.
//   npm run bench:viewer-render                         3 runs, 5 writes/s
//   npm run bench:viewer-render -- --runs 5 --writes 8 --seed 7
// The window is generated from the trace model (docs/trace-model.md): every write is an HTTP span,
// its proposal, the leader's AppendEntries to each follower and theirs back, fsyncs, the commit and
// an apply on every node (21 spans); reads, an election a minute and 5% of heartbeats besides.
// The window goes into a real `raft-otel viewer --open FILE` (no cluster), and the page is loaded
// from it at #/window/<from>-<to>: the figure covers asking the server for the window (the
// timeline's compact form, GET /api/viewer/timeline; the server keeps its last answer serialized,
// so run 1 pays for building it and later runs mostly do not), parsing it, building the timeline
// and drawing it. The server answers at most 50,000 spans a window
// (MAX_WINDOW_SPANS): above about 7 writes/s the window is cut, and the bench says so.
//
// "Render" is from navigation start to the end of the first draw holding every span of the window.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { consecutiveFreePorts } from '../src/cli/ports.js';
import { Rng } from '../src/sim/rng.js';
import { toOtlp, type FlatSpan } from '../src/traces/otlp.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    writes: { type: 'string', default: '5' },
    seed: { type: 'string' },
  },
});
const RUNS = Math.max(1, Number(values.runs) || 3);
const WRITES_PER_S = Math.max(1, Number(values.writes) || 5);
const SEED = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1e6);
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const WINDOW_MS = 5 * 60_000;
const GOAL_MS = 1000;
const DIST = resolve('dist', 'viewer');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BIN = resolve('bin/raft-otel.mjs');

// ---- the window's spans ----------------------------------------------------------------------

function generate(rng: Rng, end: number): FlatSpan[] {
  const spans: FlatSpan[] = [];
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  const span = (
    traceId: string,
    node: string,
    name: string,
    kind: FlatSpan['kind'],
    startMs: number,
    endMs: number,
    attributes: FlatSpan['attributes'],
    parent?: FlatSpan,
  ): FlatSpan => {
    const s: FlatSpan = {
      traceId,
      spanId: hex(16),
      parentSpanId: parent?.spanId,
      name,
      kind,
      service: `raft-${node}`,
      nodeId: node,
      startMs,
      endMs,
      attributes: { 'raft.node.id': node, ...attributes },
      events: [],
      links: [],
      status: { code: 'UNSET' },
      resource: { 'service.name': `raft-${node}`, 'service.namespace': 'raft-otel', 'service.instance.id': node },
    };
    spans.push(s);
    return s;
  };
  const start = end - WINDOW_MS;
  let leader = 'n1';
  let term = 1;
  let index = 0;
  const rpc = (
    traceId: string,
    from: string,
    to: string,
    method: string,
    t: number,
    attrs: FlatSpan['attributes'],
    parent?: FlatSpan,
  ) => {
    const net = 0.3 + rng.next() * 0.5;
    const work = 0.2 + rng.next() * 2;
    const c = span(
      traceId,
      from,
      `raft.Raft/${method}`,
      'CLIENT',
      t,
      t + 2 * net + work,
      { 'rpc.method': `raft.Raft/${method}`, 'raft.peer.id': to, 'raft.term': term, ...attrs },
      parent,
    );
    const s = span(
      traceId,
      to,
      `raft.Raft/${method}`,
      'SERVER',
      t + net,
      t + net + work,
      { 'rpc.method': `raft.Raft/${method}`, 'raft.peer.id': from, 'raft.term': term, ...attrs },
      c,
    );
    return { c, s };
  };
  const events: { at: number; what: 'write' | 'read' | 'election' | 'heartbeat' }[] = [];
  for (let t = start; t < end; t += 1000 / WRITES_PER_S) events.push({ at: t + rng.next() * 50, what: 'write' });
  for (let t = start; t < end; t += 1000) events.push({ at: t + rng.next() * 500, what: 'read' });
  for (let t = start + 30_000; t < end; t += 60_000) events.push({ at: t, what: 'election' });
  for (let t = start; t < end; t += 500) events.push({ at: t + rng.next() * 100, what: 'heartbeat' });
  events.sort((a, b) => a.at - b.at);
  for (const { at, what } of events) {
    const traceId = hex(32);
    const followers = NODES.filter((n) => n !== leader);
    if (what === 'election') {
      const cand = followers[rng.int(0, followers.length - 1)];
      term++;
      const e = span(traceId, cand, 'raft.election', 'INTERNAL', at, at + 12, {
        'raft.trace.kind': 'election',
        'raft.term': term,
        'raft.election.outcome': 'won',
      });
      for (const v of NODES.filter((n) => n !== cand))
        rpc(traceId, cand, v, 'RequestVote', at + 1, { 'raft.vote.granted': v !== leader }, e);
      leader = cand;
    } else if (what === 'heartbeat') {
      const to = followers[rng.int(0, followers.length - 1)];
      const { c } = rpc(traceId, leader, to, 'AppendEntries', at, { 'raft.heartbeat': true, 'raft.entries.count': 0 });
      c.attributes['raft.trace.kind'] = 'heartbeat';
    } else if (what === 'read') {
      const h = span(traceId, leader, 'GET /kv/{key}', 'SERVER', at, at + 3, {
        'raft.trace.kind': 'read',
        'http.route': '/kv/{key}',
        'url.path': `/kv/k${rng.int(0, 99)}`,
      });
      for (const f of followers.slice(0, 2)) rpc(traceId, leader, f, 'ReadIndex', at + 0.5, {}, h);
    } else {
      index++;
      const key = `k${rng.int(0, 99)}`;
      const h = span(traceId, leader, 'PUT /kv/{key}', 'SERVER', at, at + 8, {
        'raft.trace.kind': 'write',
        'http.route': '/kv/{key}',
        'url.path': `/kv/${key}`,
      });
      const p = span(
        traceId,
        leader,
        'raft.propose',
        'INTERNAL',
        at + 0.2,
        at + 7,
        { 'raft.log.index': index, 'raft.key': key, 'raft.op': 'put' },
        h,
      );
      span(traceId, leader, 'raft.persist', 'INTERNAL', at + 0.3, at + 1, { 'raft.entries.count': 1 }, p);
      for (const f of followers) {
        const { s } = rpc(
          traceId,
          leader,
          f,
          'AppendEntries',
          at + 0.4,
          { 'raft.entries.count': 1, 'raft.log.index': index },
          p,
        );
        span(traceId, f, 'raft.persist', 'INTERNAL', s.startMs + 0.1, s.endMs - 0.1, { 'raft.entries.count': 1 }, s);
        span(traceId, f, 'raft.apply', 'INTERNAL', at + 9, at + 9.3, { 'raft.log.index': index }, p);
      }
      span(traceId, leader, 'raft.commit', 'INTERNAL', at + 6, at + 6.1, { 'raft.log.index': index }, p);
      span(traceId, leader, 'raft.apply', 'INTERNAL', at + 6.2, at + 6.5, { 'raft.log.index': index }, p);
    }
  }
  return spans;
}

// ---- the viewer, a real one ------------------------------------------------------------------

/** Starts `raft-otel viewer` on a free port with the window's file; resolves once it holds it all. */
async function startViewer(file: string, spans: number): Promise<{ url: string; proc: ChildProcess }> {
  const port = await consecutiveFreePorts(1);
  const proc = spawn(process.execPath, [BIN, 'viewer', '--no-data-dir', '--port', String(port), '--open', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`raft-otel viewer exited (${proc.exitCode}):\n${out}`);
    try {
      const st = (await (await fetch(`${url}/api/viewer/stats`)).json()) as { spans: number };
      if (st.spans >= spans) return { url, proc };
    } catch {
      /* still starting */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`raft-otel viewer did not hold the ${spans} spans within 120 s:\n${out}`);
    }
    await sleep(200);
  }
}

/** What the page exposes for measuring (src/viewer/web/timeline.tsx). */
interface Measured {
  raftViewer?: {
    renders: number;
    draws: { at: number; spans: number; bars: number }[];
    timeline?: { modelMs: number; drawMs: number };
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('dist/viewer/ is missing: run `npm run build` first');
  console.log(`[seed] viewer-render: ${SEED} (replay: npm run bench:viewer-render -- --seed ${SEED})`);
  const end = Date.now();
  const spans = generate(new Rng(SEED), end);
  const dir = mkdtempSync(join(tmpdir(), 'raft-viewer-render-'));
  const file = join(dir, 'window.json');
  writeFileSync(file, JSON.stringify(toOtlp(spans)));
  console.log(
    `window: 5 minutes, ${NODES.length} nodes, ${WRITES_PER_S} writes/s: ${spans.length.toLocaleString()} spans ` +
      `(${(statSync(file).size / 1048576).toFixed(1)} MB of OTLP JSON)`,
  );
  const { url, proc } = await startViewer(file, spans.length);
  const answer = (await (await fetch(`${url}/api/viewer/spans?start=${end - WINDOW_MS}&end=${end}`)).json()) as {
    spans: unknown[];
    truncated?: boolean;
  };
  const shown = answer.spans.length;
  if (answer.truncated) console.log(`the viewer answers ${shown} of them (its cap per window): the page draws those`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const renders: number[] = [];
  const models: number[] = [];
  const redraws: number[] = [];
  const fetches: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${url}/#/window/${end - WINDOW_MS}-${end}`);
      const full = await page.waitForFunction(
        (n) => {
          const d = (window as unknown as Measured).raftViewer?.draws.find((x) => x.spans >= n && x.bars > 0);
          return d ? { at: d.at, modelMs: (window as unknown as Measured).raftViewer?.timeline?.modelMs ?? 0 } : null;
        },
        shown,
        { timeout: 60_000, polling: 50 },
      );
      const got = await full.jsonValue();
      if (!got) throw new Error('the page never drew the whole window');
      const { at, modelMs } = got;
      renders.push(at);
      models.push(modelMs);
      // How much of it was the server's answer: request sent to the last byte received.
      const answer = await page.evaluate(() => {
        const e = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/viewer/timeline')) as
          PerformanceResourceTiming | undefined;
        return e ? { asked: e.requestStart, took: e.responseEnd - e.requestStart } : { asked: NaN, took: NaN };
      });
      fetches.push(answer.took);
      // One zoom step by the wheel: the redraw a learner waits for while exploring.
      const box = await page.locator('canvas').boundingBox();
      if (box) {
        await page.mouse.move(box.x + box.width / 2, box.y + 40);
        const before = await page.evaluate(() => (window as unknown as Measured).raftViewer?.renders ?? 0);
        await page.mouse.wheel(0, -200);
        await page.waitForFunction((b) => ((window as unknown as Measured).raftViewer?.renders ?? 0) > b, before, {
          timeout: 10_000,
        });
        redraws.push(await page.evaluate(() => (window as unknown as Measured).raftViewer?.timeline?.drawMs ?? NaN));
      }
      await page.close();
      console.log(
        `run ${run + 1}: rendered in ${at.toFixed(0)} ms (window asked at ${answer.asked.toFixed(0)} ms, server's answer ${answer.took.toFixed(0)} ms, timeline model ${modelMs.toFixed(0)} ms)`,
      );
    }
  } finally {
    await browser.close();
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const r = median(renders);
  console.log(
    `render 5-minute 5-node window: ${r.toFixed(0)} ms median of ${RUNS} (goal < ${GOAL_MS} ms) ${r < GOAL_MS ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `  of which the server's answer (request to last byte): ${median(fetches).toFixed(0)} ms; building the timeline: ${median(models).toFixed(0)} ms; one zoom step redraws in ${median(redraws).toFixed(1)} ms`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
