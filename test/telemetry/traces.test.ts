// Spans captured from real node processes (exported over OTLP/HTTP JSON to a receiver in the test)
// must tell Raft's story across nodes, as design section 5 says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, type TestNode } from '../cluster/harness.js';
import { CLIENT, ERROR, OtlpReceiver, SERVER, waitFor, type SpanRecord } from './receiver.js';

let rx: OtlpReceiver;
let c: TestCluster;

const byId = (spans: SpanRecord[]) => new Map(spans.map((s) => [s.spanId, s]));

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
  c = await TestCluster.start(3, { env: rx.env({ RAFT_LOG_LEVEL: 'debug' }) });
}, 30_000);
afterAll(async () => {
  await c?.stop();
  await rx?.stop();
});

describe('the trace model on a real cluster', () => {
  it("an election: RequestVote CLIENT spans under raft.election, each voter's SERVER span their child on another node", async () => {
    const election = await waitFor('a won election', () =>
      rx.spans.find((s) => s.name === 'raft.election' && s.attrs['raft.election.outcome'] === 'won'),
    );
    const spans = byId(rx.trace(election.traceId));
    await waitFor('the votes', () =>
      rx.trace(election.traceId).some((s) => s.name === 'raft.Raft/RequestVote' && s.kind === SERVER),
    );
    const all = rx.trace(election.traceId);
    const clients = all.filter((s) => s.name === 'raft.Raft/RequestVote' && s.kind === CLIENT);
    expect(clients.length).toBeGreaterThanOrEqual(2);
    for (const cl of clients) {
      expect(cl.parentSpanId).toBe(election.spanId);
      expect(cl.attrs).toMatchObject({ 'rpc.system.name': 'grpc', 'rpc.method': 'raft.Raft/RequestVote' });
      expect(cl.attrs['server.port']).toEqual(expect.any(Number));
    }
    const server = all.find((s) => s.name === 'raft.Raft/RequestVote' && s.kind === SERVER)!;
    const parent =
      spans.get(server.parentSpanId) ??
      (await waitFor('the matching CLIENT span', () => rx.spans.find((s) => s.spanId === server.parentSpanId)));
    expect(parent.kind).toBe(CLIENT);
    expect(parent.service).not.toBe(server.service); // candidate and voter: two nodes
    expect(server.attrs['raft.vote.granted']).toEqual(expect.any(Boolean));
    expect(election.attrs['raft.election.votes_granted']).toBeGreaterThanOrEqual(2);
    expect(election.service).toMatch(/^raft-n\d$/);
  });

  it('a PUT entering at a follower is one trace: the forwarded hop, propose, AppendEntries pairs, persist, commit, and apply on all three nodes', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    const r = await c.put(follower, 'traced', 'yes');
    expect(r.status).toBe(200);
    const traceId = r.headers.get('x-trace-id')!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Spans arrive in batches from three processes: wait for every one the assertions name.
    const spans = await waitFor('the whole write', () => {
      const t = rx.trace(traceId);
      const has = (svc: string, name: string) => t.some((s) => s.service === svc && s.name === name);
      const complete =
        t.filter((s) => s.name === 'raft.apply').length >= 3 &&
        has(`raft-${follower.id}`, 'PUT') &&
        has(`raft-${follower.id}`, 'PUT /kv/{key}') &&
        has(`raft-${leader.id}`, 'PUT /kv/{key}') &&
        t.filter((s) => s.name === 'raft.Raft/AppendEntries').length >= 4;
      return complete && t;
    });
    const names = spans.map((s) => `${s.service} ${s.name}`);
    expect(names).toContain(`raft-${follower.id} PUT /kv/{key}`);
    expect(names).toContain(`raft-${follower.id} PUT`); // the forwarding CLIENT span
    expect(names).toContain(`raft-${leader.id} PUT /kv/{key}`);
    expect(names).toContain(`raft-${leader.id} raft.propose`);
    expect(names).toContain(`raft-${leader.id} raft.commit`);
    expect(names).toContain(`raft-${leader.id} raft.persist`);
    expect(new Set(spans.filter((s) => s.name === 'raft.apply').map((s) => s.service))).toEqual(
      new Set(c.nodes.map((n) => `raft-${n.id}`)),
    );
    const ids = byId(spans);
    const propose = spans.find((s) => s.name === 'raft.propose')!;
    expect(ids.get(propose.parentSpanId)!.name).toBe('PUT /kv/{key}');
    const appends = spans.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.kind === CLIENT);
    expect(appends.length).toBeGreaterThanOrEqual(2);
    for (const a of appends) expect(a.parentSpanId).toBe(propose.spanId);
    const servers = spans.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.kind === SERVER);
    expect(servers.length).toBeGreaterThanOrEqual(2);
    for (const s of servers) expect(ids.get(s.parentSpanId)!.kind).toBe(CLIENT);
    expect(spans.filter((s) => s.name === 'raft.persist').map((s) => s.service).length).toBeGreaterThanOrEqual(3);
    for (const a of spans.filter((s) => s.name === 'raft.apply')) expect(a.parentSpanId).toBe(propose.spanId);
  });

  it('logs carry trace ids that lead to the trace', async () => {
    const leader = await c.waitForLeader();
    const r = await c.put(leader, 'logged', 'yes');
    const traceId = r.headers.get('x-trace-id')!;
    const accessLine = () =>
      c
        .log(leader)
        .split('\n')
        .find((l) => l.includes(traceId) && l.includes('"http_request"'));
    const line = await waitFor('the access log', accessLine);
    expect(JSON.parse(line)).toMatchObject({
      event: 'http_request',
      trace_id: traceId,
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });

  it('heartbeats are not traced by default', () => {
    expect(rx.spans.filter((s) => s.attrs['raft.heartbeat'] === true)).toEqual([]);
  });

  it('exports metrics with the right values', async () => {
    const leader = await c.waitForLeader();
    const st = await c.status(leader);
    const svc = `raft-${leader.id}`;
    await waitFor('metrics', () =>
      rx.metrics.some((m) => m.service === svc && m.name === 'raft.commit_index' && m.value >= st.commitIndex),
    );
    const last = (name: string) => rx.metrics.filter((m) => m.service === svc && m.name === name).pop();
    expect(last('raft.term')!.value).toBe(st.term);
    expect(last('raft.role')!).toMatchObject({ value: 3, attrs: { 'raft.role': 'leader' } });
    expect(last('raft.applied_index')!.value).toBeGreaterThanOrEqual(2);
    expect(rx.metrics.some((m) => m.service === svc && m.name === 'rpc.client.duration')).toBe(true);
    expect(rx.metrics.some((m) => m.service === svc && m.name === 'raft.fsync.duration')).toBe(true);
    expect(rx.metrics.some((m) => m.name === 'raft.elections.won' && m.value >= 1)).toBe(true);
  });

  it('a killed leader leaves an election trace with an errored RequestVote to it; a restarted node attaches its replayed applies to the original trace', async () => {
    const leader = await c.waitForLeader();
    const w = await c.put(leader, 'before-kill', 'v');
    const traceId = w.headers.get('x-trace-id')!;
    await waitFor(
      'the write applied everywhere',
      () => rx.trace(traceId).filter((s) => s.name === 'raft.apply').length >= 3,
    );
    const killedAt = BigInt(Date.now()) * 1_000_000n;
    await c.kill(leader);
    const next = await c.waitForLeader(
      10_000,
      c.nodes.filter((n) => n.proc).map((n) => n.id),
    );
    const election = await waitFor('the failover election', () =>
      rx.spans.find(
        (s) =>
          s.name === 'raft.election' &&
          s.service === `raft-${next.id}` &&
          s.start > killedAt &&
          s.attrs['raft.election.outcome'] === 'won',
      ),
    );
    const failed = await waitFor('an errored RequestVote to the dead node', () =>
      rx
        .trace(election.traceId)
        .find(
          (s) =>
            s.name === 'raft.Raft/RequestVote' &&
            s.kind === CLIENT &&
            s.attrs['raft.peer.id'] === leader.id &&
            s.status === ERROR,
        ),
    );
    expect(failed.attrs['rpc.status_code']).toBe('UNAVAILABLE');
    expect(failed.attrs['error.type']).toBe('UNAVAILABLE');

    // The old leader comes back and replays its log: its applies join the write's trace again.
    const restartedAt = BigInt(Date.now()) * 1_000_000n;
    await c.restart(leader as TestNode);
    const replayed = await waitFor('replayed apply spans', () =>
      rx
        .trace(traceId)
        .find((s) => s.name === 'raft.apply' && s.service === `raft-${leader.id}` && s.start > restartedAt),
    );
    expect(replayed.attrs['raft.log.index']).toBe(w.body.index);
  });
});

describe('sampling', () => {
  it('traces heartbeats when their ratio is 1, and a per-minute cap bounds new traces per node', async () => {
    const rx2 = new OtlpReceiver();
    await rx2.start();
    const hb = await TestCluster.start(3, { env: rx2.env({ RAFT_SAMPLE_HEARTBEATS: '1' }) });
    try {
      await waitFor(
        'heartbeat spans',
        () =>
          rx2.spans.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.attrs['raft.heartbeat'] === true).length >
          20,
      );
    } finally {
      await hb.stop();
      await rx2.stop();
    }
    const rx3 = new OtlpReceiver();
    await rx3.start();
    const capped = await TestCluster.start(3, {
      env: rx3.env({ RAFT_SAMPLE_HEARTBEATS: '1', RAFT_TRACES_PER_MINUTE: '5' }),
    });
    try {
      const leader = await capped.waitForLeader();
      for (let i = 0; i < 10; i++) await capped.put(leader, `k${i}`, 'v');
      await new Promise((r) => setTimeout(r, 2000));
      const roots = new Map<string, Set<string>>();
      for (const s of rx3.spans.filter((x) => !x.parentSpanId)) {
        if (!roots.has(s.service)) roots.set(s.service, new Set());
        roots.get(s.service)!.add(s.traceId);
      }
      expect(roots.size).toBeGreaterThan(0);
      for (const [svc, traces] of roots) expect(traces.size, svc).toBeLessThanOrEqual(5);
    } finally {
      await capped.stop();
      await rx3.stop();
    }
  }, 60_000);
});
