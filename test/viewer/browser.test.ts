// The viewer's page in a real headless Chromium against a real cluster: `raft-otel up` starts three
// nodes and the viewer; the tests use the page as a learner would (buttons, forms, links, the
// timeline's canvas) and check what it shows against the cluster itself (/status, X-Trace-Id) and
// against what the timeline drew (window.raftViewer.timeline). One cluster and one browser for the
// file; the tests run in order and each leaves the cluster whole (a leader every node agrees on).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Up, agreedLeader, cleanUp, clusterPorts, dataDir } from '../cli/procs.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';
import { toOtlp } from '../../src/traces/otlp.js';
import { ARTIFACTS, drawn, launch, openPage, pageUntil, screenshot } from './browser.js';
import { syntheticTrace } from './fixtures.js';

const NODES = ['n1', 'n2', 'n3'];

let up: Up;
let dir: string;
let viewer: string;
let viewerPort: number;
let httpBase: number;
let browser: Browser;
let page: Page;
let pageErrors: string[];

interface Status {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
}

async function nodeStatus(id: string): Promise<Status> {
  const res = await fetch(`http://127.0.0.1:${httpBase + NODES.indexOf(id)}/status`);
  return (await res.json()) as Status;
}

/** The text of a node's row in the cluster panel. */
function row(id: string) {
  return page.locator(`tr[data-node="${id}"]`);
}

beforeAll(async () => {
  dir = dataDir();
  const ports = await clusterPorts(NODES.length);
  httpBase = ports.http;
  [viewerPort] = await reservePorts(1);
  viewer = `http://127.0.0.1:${viewerPort}`;
  // A few heartbeats are sampled, so the timeline has some to draw and to hide.
  up = new Up(
    [
      '--data-dir',
      dir,
      '--http-port',
      String(ports.http),
      '--grpc-port',
      String(ports.grpc),
      '--viewer-port',
      String(viewerPort),
    ],
    { RAFT_SAMPLE_HEARTBEATS: '0.05' },
  );
  await waitUntil(`the viewer to answer at ${viewer}`, async () => (await fetch(`${viewer}/api/viewer/cluster`)).ok, {
    timeoutMs: 60_000,
    context: () => `up's output:\n${up.out}`,
  });
  await agreedLeader(dir, () => up.out);
  browser = await launch();
  ({ page, errors: pageErrors } = await openPage(browser, `${viewer}/`));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cleanUp();
  releasePorts([viewerPort]);
});

describe('the viewer page', () => {
  it('shows each node live in the cluster panel: role, term, leader, indexes, and the leader its followers', async () => {
    const leader = await agreedLeader(dir, () => up.out);
    const st = await nodeStatus(leader);
    await pageUntil(page, `the panel to name ${leader} the leader`, async () =>
      (await page.locator('[data-testid=leader]').textContent()) === leader ? true : null,
    );
    for (const id of NODES) {
      const text = await row(id).textContent();
      expect(text, `row of ${id}`).toContain(id === leader ? 'leader' : 'follower');
      expect(await row(id).locator('td.term').textContent(), `term of ${id}`).toBe(String(st.term));
    }
    // The leader's match/next for each follower (RaftScope's view), from its /status.
    const progress = (await row(leader).locator('td.progress').textContent()) ?? '';
    for (const f of NODES.filter((n) => n !== leader)) expect(progress).toMatch(new RegExp(`${f}: \\d+/\\d+`));
    // The indexes move when the cluster writes: the panel is pushed, not loaded once.
    const before = (await row(leader).locator('td.commit').textContent()) ?? '';
    const put = await fetch(`http://127.0.0.1:${httpBase + NODES.indexOf(leader)}/kv/panel`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'x' }),
    });
    expect(put.status).toBe(200);
    const { index } = (await put.json()) as { index: number };
    await pageUntil(page, `the leader's commit index in the panel to reach ${index} (was "${before}")`, async () => {
      const t = (await row(leader).locator('td.commit').textContent()) ?? '';
      return Number(t.split('/')[0]) >= index;
    });
    await screenshot(page, 'panel');
  });

  it('writes a key from the panel and opens the write as a trace across all three nodes (waterfall, sequence)', async () => {
    await page.fill('.controls input[name=key]', 'viewer-key');
    await page.fill('.controls input[name=value]', 'from-the-page');
    await page.click('button:has-text("Write")');
    const link = page.locator('p.status a', { hasText: 'trace' });
    await link.waitFor({ timeout: 15_000 });
    const leader = await agreedLeader(dir, () => up.out);
    const res = await fetch(`http://127.0.0.1:${httpBase + NODES.indexOf(leader)}/kv/viewer-key`);
    expect(await res.json()).toMatchObject({ value: 'from-the-page' });
    await link.click();
    const traceId = await pageUntil(page, 'the trace detail to open', async () => {
      const m = /#\/trace\/([0-9a-f]{32})/.exec(page.url());
      return m && (await page.locator('[data-testid=trace-id]').textContent()) === m[1] ? m[1] : null;
    });
    // Every node applies the entry: one raft.apply per node, each on its own service row.
    await pageUntil(page, `the waterfall of ${traceId} to show raft.apply on every node`, async () => {
      const rows = await page.locator('.waterfall tr.span-row td.name').allTextContents();
      return (
        NODES.every((n) => rows.some((r) => r.includes(`raft-${n}`) && r.includes('raft.apply'))) &&
        rows.some((r) => r.includes('raft.propose'))
      );
    });
    // A row opens its attributes: the proposal names the key.
    await page.locator('.waterfall tr.span-row', { hasText: 'raft.propose' }).first().click();
    await expect.poll(() => page.locator('.span-info .attrs').first().textContent()).toContain('viewer-key');
    await screenshot(page, 'trace-waterfall');
    // The same trace as a sequence diagram: AppendEntries from the leader to both followers.
    await page.click('button:has-text("Sequence diagram")');
    await pageUntil(page, 'AppendEntries arrows from the leader to each follower in the sequence diagram', async () => {
      const calls = await page
        .locator('.sequence g.call')
        .evaluateAll((gs) =>
          gs.map((g) => `${g.getAttribute('data-from')}>${g.getAttribute('data-to')} ${g.textContent ?? ''}`),
        );
      return NODES.filter((n) => n !== leader).every((f) =>
        calls.some((c) => c.startsWith(`${leader}>${f}`) && c.includes('AppendEntries')),
      );
    });
    await screenshot(page, 'trace-sequence');
    await page.click('button:has-text("Waterfall")');
  });

  it('opens a write from the X-Trace-Id its node answered (the link kv put prints), forwarded hop included', async () => {
    const leader = await agreedLeader(dir, () => up.out);
    const follower = NODES.find((n) => n !== leader) as string;
    const res = await fetch(`http://127.0.0.1:${httpBase + NODES.indexOf(follower)}/kv/deep-link`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'y' }),
    });
    expect(res.status).toBe(200);
    const traceId = res.headers.get('x-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await page.goto(`${viewer}/#/trace/${traceId}`);
    await pageUntil(
      page,
      `the waterfall of ${traceId} to show the follower's request and the leader's proposal`,
      async () => {
        const rows = await page.locator('.waterfall tr.span-row td.name').allTextContents();
        return (
          rows.some((r) => r.includes(`raft-${follower}`) && r.includes('PUT /kv')) &&
          rows.some((r) => r.includes(`raft-${leader}`) && r.includes('raft.propose'))
        );
      },
    );
    expect(await page.locator('[data-testid=trace-id]').textContent()).toBe(traceId);
  });

  it('searches by kind and key, and by error, and opens a result', async () => {
    const traceId = await searchFor('write', 'viewer-key');
    await page.locator(`.results tr[data-trace="${traceId}"]`).click();
    await pageUntil(
      page,
      `the search result ${traceId} to open`,
      async () => (await page.locator('[data-testid=trace-id]').textContent()) === traceId,
    );
    // The write did not fail: "errors only" leaves it out.
    await page.check('.search input[name=error]');
    await runSearch();
    expect(await page.locator(`.results tr[data-trace="${traceId}"]`).count()).toBe(0);
    await page.uncheck('.search input[name=error]');
    await screenshot(page, 'search');
  });

  it('exports a trace as OTLP JSON and imports it back from the page (round trip)', async () => {
    const traceId = await searchFor('write', 'viewer-key');
    await page.goto(`${viewer}/#/trace/${traceId}`);
    await page.locator('.waterfall').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Export OTLP JSON")')]);
    const file = join(ARTIFACTS, `trace-${traceId}.json`);
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    const doc = JSON.parse(text) as {
      resourceSpans: { scopeSpans: { spans: { spanId: string; name: string }[] }[] }[];
    };
    const exported = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const api = (await (await fetch(`${viewer}/api/viewer/traces/${traceId}`)).json()) as {
      spanId: string;
      name: string;
    }[];
    expect(exported.map((s) => s.spanId).sort()).toEqual(api.map((s) => s.spanId).sort());
    // The same file under another trace id (as if from another run) goes in through the page's
    // Import and comes back as the same trace: same spans, same names.
    const other = traceId.split('').reverse().join('');
    const copy = join(ARTIFACTS, `trace-${other}.json`);
    writeFileSync(copy, text.replaceAll(traceId, other));
    await page.setInputFiles('header input[type=file]', copy);
    await page
      .locator('header .status.ok', { hasText: `imported ${exported.length} spans in 1 traces` })
      .waitFor({ timeout: 15_000 });
    await page.goto(`${viewer}/#/trace/${other}`);
    await pageUntil(
      page,
      `the imported trace ${other} to show ${exported.length} spans`,
      async () => (await page.locator('.waterfall tr.span-row').count()) === exported.length,
    );
    const names = await page.locator('.waterfall tr.span-row td.name').allTextContents();
    expect(
      names
        .map((n) =>
          n
            .replace(/^raft-n\d /, '')
            .replace(/error$/, '')
            .trim(),
        )
        .sort(),
    ).toEqual(api.map((s) => s.name).sort());
    // The window on screen exports too, with this write in it.
    await page.goto(`${viewer}/`);
    await page.locator('canvas').waitFor();
    const [win] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Export window")')]);
    const winFile = join(ARTIFACTS, 'window.json');
    await win.saveAs(winFile);
    const winText = readFileSync(winFile, 'utf8');
    expect(JSON.parse(winText)).toHaveProperty('resourceSpans');
    expect(winText).toContain(traceId);
  });

  it('draws sampled heartbeats, hides them with the toggle, and says how to turn them on', async () => {
    await pageUntil(
      page,
      'a sampled heartbeat (RAFT_SAMPLE_HEARTBEATS=0.05) drawn as an arrow',
      async () => (await drawn(page))?.arrows.some((a) => a.kind === 'heartbeat' && a.method === 'AppendEntries'),
      30_000,
    );
    await page.uncheck('.timeline input[type=checkbox]');
    await pageUntil(page, 'no heartbeat drawn once the toggle is off', async () => {
      const d = await drawn(page);
      return (
        d &&
        d.heartbeats > 0 &&
        !d.arrows.some((a) => a.kind === 'heartbeat') &&
        !d.bars.some((b) => b.kind === 'heartbeat')
      );
    });
    await page.click('.timeline button[aria-expanded]');
    expect(await page.locator('.timeline .help').textContent()).toContain('RAFT_SAMPLE_HEARTBEATS');
    await page.click('.timeline button[aria-expanded]');
    await page.check('.timeline input[type=checkbox]');
  });

  it('kill the leader with its button: the failover election appears on the timeline, RequestVotes between the survivors', async () => {
    const old = await agreedLeader(dir, () => up.out);
    const killedAt = Date.now();
    await row(old).locator('button:has-text("Kill")').click();
    await pageUntil(page, `${old} to show as down in the panel`, async () =>
      (await row(old).locator('td.state').textContent())?.startsWith('down'),
    );
    const survivors = NODES.filter((n) => n !== old);
    const leader = await pageUntil(
      page,
      'a new leader among the survivors in the panel',
      async () => {
        const l = await page.locator('[data-testid=leader]').textContent();
        return l && survivors.includes(l) ? l : null;
      },
      30_000,
    );
    const other = survivors.find((n) => n !== leader) as string;
    const seenAt = Date.now();
    // The election that made it leader (the timeline's leader mark), with its RequestVote arrows
    // from the winner's lane to the other survivor's. (A candidate may have lost a round before.)
    const election = await pageUntil(
      page,
      `${leader}'s winning election, with a RequestVote arrow to ${other}, on the timeline after the kill`,
      async () => {
        const d = await drawn(page);
        const won = d?.marks.find((m) => m.kind === 'leader' && m.node === leader && m.atMs >= killedAt - 500);
        return (
          won &&
          d?.arrows.some(
            (a) => a.traceId === won.traceId && a.from === leader && a.to === other && a.method === 'RequestVote',
          ) &&
          won
        );
      },
      15_000,
    );
    console.log(
      `failover: new leader ${leader} in the panel ${seenAt - killedAt} ms after the kill; its election on the timeline ${Date.now() - seenAt} ms later`,
    );
    await screenshot(page, 'failover-timeline');
    await page.click('button:has-text("Latest failover")');
    await pageUntil(
      page,
      `"Latest failover" to open ${leader}'s election`,
      async () => (await page.locator('[data-testid=trace-id]').textContent()) === election.traceId,
    );
    expect(await page.locator('.waterfall .summary').textContent()).toContain('raft.election');
    await screenshot(page, 'failover-election');
    // A click on the election's bar on the canvas opens it too.
    await page.click('button:has-text("✕")');
    const bars = (await drawn(page))?.bars ?? [];
    const bar = bars.find((b) => b.traceId === election.traceId && b.node === leader);
    expect(bar, "the election drawn as a bar on the winner's lane").toBeTruthy();
    if (bar) {
      // Where no other trace's bar lies over it: a lost round before the win may overlap it on the
      // same lane, and a click opens the first bar under the pointer (the page's hit test).
      const lane = bars.filter((b) => Math.abs(b.y - bar.y) <= 9);
      const under = (x: number) => lane.find((b) => x >= b.x0 - 2 && x <= b.x1 + 2);
      const xs = Array.from({ length: Math.max(1, Math.floor(bar.x1 - bar.x0)) + 1 }, (_, i) => bar.x0 + i);
      const x = xs.find((px) => under(px)?.traceId === election.traceId);
      expect(x, 'a point of the election bar that no other bar covers').toBeDefined();
      await page.locator('canvas').click({ position: { x: x ?? (bar.x0 + bar.x1) / 2, y: bar.y } });
    }
    await pageUntil(page, 'a click on the election bar to open it', () =>
      Promise.resolve(page.url().includes(election.traceId)),
    );
    // Restart from the panel: the node comes back as a follower of the new leader.
    await row(old).locator('button:has-text("Restart")').click();
    await pageUntil(
      page,
      `${old} to be back as a follower in the panel`,
      async () => (await row(old).locator('td.state').textContent()) === 'follower',
      30_000,
    );
    await agreedLeader(dir, () => up.out);
  });

  it('partition one node away and heal: the panel shows it cut off, the timeline its failed RequestVotes', async () => {
    const leader = await agreedLeader(dir, () => up.out);
    const lonely = NODES.find((n) => n !== leader) as string;
    const rest = NODES.filter((n) => n !== lonely);
    // The failover test left the timeline paused on the election: "Live" follows the clock again.
    await page.click('.timeline button:has-text("Live")');
    await pageUntil(page, 'the timeline to follow the clock again', async () => (await drawn(page))?.follow);
    await page.fill('input[name=groups]', `${rest.join(' ')} | ${lonely}`);
    const cutAt = Date.now();
    await page.click('button:has-text("Partition")');
    await pageUntil(page, `${lonely} to show as cut off from ${rest.join(', ')}`, async () => {
      const t = (await row(lonely).locator('td.state').textContent()) ?? '';
      return t.includes('cut off') && rest.every((n) => t.includes(n));
    });
    // The majority's leader keeps trying to reach it: its RPCs to the lonely node fail (red).
    const leaderNow = await agreedLeaderOf(rest);
    await pageUntil(
      page,
      `a failed RPC from ${leaderNow} to ${lonely} on the timeline`,
      async () => {
        const d = await drawn(page);
        return d?.arrows.some(
          (a) => a.from === leaderNow && a.to === lonely && (a.error || a.lost) && a.sentMs >= cutAt,
        );
      },
      30_000,
    );
    await screenshot(page, 'partition-timeline');
    await page.click('button:has-text("Heal")');
    await pageUntil(
      page,
      'no node cut off after the heal',
      async () => (await page.locator('.nodes .cut').count()) === 0,
    );
    // Alone, the node timed out and stood for (pre-)election; back in touch, its election ends and
    // is drawn on its lane.
    await pageUntil(
      page,
      `${lonely}'s election during the partition on its lane`,
      async () => {
        const d = await drawn(page);
        return d?.bars.some((b) => b.node === lonely && b.kind === 'election' && b.startMs >= cutAt);
      },
      30_000,
    );
    await agreedLeader(dir, () => up.out);
    expect(pageErrors).toEqual([]);
  });

  it("follows a span's link to the linked trace with a click (URL and waterfall)", async () => {
    // Two traces an hour back (off the live timeline): a span of the first links to the second's root.
    const at = Date.now() - 3_600_000;
    const [cause] = syntheticTrace(0x1a0, at, 1, 'n1');
    const effect = syntheticTrace(0x1b0, at + 50, 2, 'n2');
    cause.links = [{ traceId: effect[0].traceId, spanId: effect[0].spanId, attributes: {} }];
    const imported = await fetch(`${viewer}/api/viewer/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-raft-viewer': '1' },
      body: JSON.stringify(toOtlp([cause, ...effect])),
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    expect(await imported.json()).toMatchObject({ spans: 3, traces: 2 });
    await page.goto(`${viewer}/#/trace/${cause.traceId}`);
    await page.locator(`.waterfall tr.span-row[data-span="${cause.spanId}"]`).click();
    const link = page.locator('.span-detail .links a');
    expect(await link.textContent()).toContain(`span ${effect[0].spanId}`);
    await link.click();
    await pageUntil(page, `the linked trace ${effect[0].traceId} to open`, async () => {
      const rows = await page.locator('.waterfall tr.span-row').evaluateAll((trs) => trs.map((r) => r.dataset.span));
      return rows.length === effect.length && rows.every((id) => effect.some((s) => s.spanId === id));
    });
    expect(new URL(page.url()).hash).toBe(`#/trace/${effect[0].traceId}`);
    expect(await page.locator('[data-testid=trace-id]').textContent()).toBe(effect[0].traceId);
    expect(pageErrors).toEqual([]);
  });
});

/** The leader the nodes of `ids` agree on, from their /status. */
async function agreedLeaderOf(ids: string[]): Promise<string> {
  return waitUntil(
    `one leader among ${ids.join(', ')}`,
    async () => {
      const sts = await Promise.all(ids.map(nodeStatus));
      const l = sts.find((s) => s.role === 'leader');
      return l && sts.every((s) => s.leader === l.id) ? l.id : null;
    },
    { timeoutMs: 20_000 },
  );
}

/** Runs a search by kind and key in the page and returns the one trace id it lists. */
async function searchFor(kind: string, key: string): Promise<string> {
  await page.selectOption('.search select[name=kind]', kind);
  await page.fill('.search input[name=key]', key);
  await page.uncheck('.search input[name=error]');
  return pageUntil(page, `a ${kind} of key ${key} in the search results`, async () => {
    await runSearch();
    const ids = await page
      .locator('.results tbody tr')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-trace')));
    const kinds = await page.locator('.results tbody tr .kind').allTextContents();
    return ids.length >= 1 && kinds.every((k) => k === kind) ? ids[0] : null;
  });
}

/** Clicks "Find traces" and waits for the server's answer to be on the page. */
async function runSearch(): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().includes('/api/viewer/search'), { timeout: 15_000 });
  await page.click('button:has-text("Find traces")');
  expect((await answered).status()).toBe(200);
  await page.locator('.results caption').waitFor({ timeout: 5000 });
}
