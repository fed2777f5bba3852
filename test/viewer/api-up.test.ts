// A real `raft-otel up` with its viewer: the URL comes first, the nodes' spans reach the viewer (an
// election trace shows through /api/v3), the page's control endpoint kills the leader and the
// failover election appears, `kv put` prints the write's trace link, and a restarted `up` shows the
// earlier history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TraceQueryClient } from '../../src/traces/query-client.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';
import { agreedLeader, cleanUp, cli, clusterPorts, dataDir, Up } from '../cli/procs.js';

let dir = '';
let ports: { http: number; grpc: number };
let viewerPort = 0;
let up: Up;
let url = '';

function startUp(): Up {
  return new Up([
    '--data-dir',
    dir,
    '--http-port',
    String(ports.http),
    '--grpc-port',
    String(ports.grpc),
    '--viewer-port',
    String(viewerPort),
  ]);
}

beforeAll(async () => {
  dir = dataDir();
  ports = await clusterPorts(3);
  [viewerPort] = await reservePorts(1);
  up = startUp();
  const m = await up.waitFor(/Viewer: (http:\/\/\S+)/);
  url = m[1];
  await up.waitFor(/Leader elected: n\d/);
}, 90_000);
afterAll(async () => {
  await cleanUp();
  releasePorts([viewerPort]);
});

const control = (body: unknown) =>
  fetch(`${url}/api/viewer/control`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-raft-viewer': '1' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { ok?: boolean; traceId?: string } }));

/** Election traces whose root started after `since`, as a script reads them from /api/v3. */
async function elections(since: number) {
  const client = new TraceQueryClient(url);
  const services = await client.services();
  const all = await Promise.all(
    services.map((service) =>
      client.findTraces({ service, operation: 'raft.election', startMin: since, startMax: Date.now() + 60_000 }),
    ),
  );
  return all.flat();
}

describe('up with the viewer', () => {
  it('prints the viewer URL before anything else, and says the traces go there', () => {
    expect(url).toBe(`http://127.0.0.1:${viewerPort}`);
    expect(up.out.split('\n')[0]).toMatch(/^Viewer: http:\/\/127\.0\.0\.1:\d+/);
    expect(up.out).toMatch(new RegExp(`Traces go to the viewer, ${url}`));
  });

  it("the nodes' spans reach the viewer: an election trace with RequestVote spans across nodes, via /api/v3", async () => {
    const traces = await waitUntil(
      'an election trace in the viewer',
      async () => {
        const found = (await elections(Date.now() - 10 * 60_000)).filter((t) =>
          t.some((s) => s.name === 'raft.Raft/RequestVote' && s.kind === 'SERVER'),
        );
        return found.length > 0 && found;
      },
      { timeoutMs: 30_000, context: () => up.out },
    );
    const t = traces[0];
    expect(new Set(t.map((s) => s.nodeId)).size).toBeGreaterThanOrEqual(2);
    const root = t.find((s) => s.name === 'raft.election')!;
    expect(
      t
        .filter((s) => s.name === 'raft.Raft/RequestVote' && s.kind === 'CLIENT')
        .every((s) => s.parentSpanId === root.spanId),
    ).toBe(true);
  });

  it('kill from the page: the failover election appears in the viewer', async () => {
    const leader = await agreedLeader(dir, () => up.out);
    const before = Date.now();
    const r = await control({ action: 'kill', node: leader });
    expect(r).toEqual({ status: 200, body: { ok: true } });
    const cluster = (await (await fetch(`${url}/api/viewer/cluster`)).json()) as {
      attached: boolean;
      nodes: { id: string; down: boolean }[];
    };
    expect(cluster.attached).toBe(true);
    expect(cluster.nodes.find((n) => n.id === leader)?.down).toBe(true);
    const won = await waitUntil(
      'a failover election won by a survivor, in the viewer',
      async () => {
        const found = await elections(before);
        return found.find((t) =>
          t.some((s) => s.name === 'raft.election' && s.attributes['raft.election.outcome'] === 'won'),
        );
      },
      { timeoutMs: 30_000, context: () => up.out },
    );
    const winner = won.find((s) => s.name === 'raft.election')!;
    expect(winner.nodeId).not.toBe(leader);
    expect((await control({ action: 'restart', node: leader })).status).toBe(200);
  });

  it('kv put prints the link to its trace in the viewer, and the trace is there', async () => {
    await agreedLeader(dir, () => up.out);
    const r = await cli(['kv', 'put', 'viewer-key', 'v1', '--data-dir', dir]);
    expect(r.code).toBe(0);
    const m = new RegExp(`trace: ${url}/#/trace/([0-9a-f]{32})`).exec(r.out);
    expect(m, r.out + r.err).not.toBeNull();
    const id = m![1];
    // Each node exports on its own: a follower's spans of the trace may come before the leader's.
    const spans = await waitUntil(
      `trace ${id} in the viewer with the leader's raft.propose`,
      async () => {
        const res = await fetch(`${url}/api/viewer/traces/${id}`);
        const got = res.status === 200 && ((await res.json()) as { name: string; nodeId?: string }[]);
        return got && got.some((s) => s.name === 'raft.propose') && got;
      },
      { timeoutMs: 20_000 },
    );
    expect(spans.map((s) => s.name)).toContain('raft.propose');
  });

  it('a restarted up shows the earlier history', async () => {
    const before = (await (await fetch(`${url}/api/viewer/stats`)).json()) as { spans: number };
    expect(before.spans).toBeGreaterThan(0);
    const kept = await elections(Date.now() - 10 * 60_000);
    up.proc.kill('SIGINT');
    await up.exited(30_000);
    up = startUp();
    await up.waitFor(/Viewer: http/);
    const again = await waitUntil(
      'the earlier election traces after the restart',
      async () => {
        const found = await elections(Date.now() - 10 * 60_000);
        const ids = new Set(found.map((t) => t[0].traceId));
        return kept.every((t) => ids.has(t[0].traceId)) && found;
      },
      { timeoutMs: 30_000, context: () => up.out },
    );
    expect(again.length).toBeGreaterThanOrEqual(kept.length);
  });
});
