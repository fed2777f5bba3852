// Spans captured from real node processes (exported over OTLP/HTTP JSON to a receiver in the test)
// must tell Raft's story across nodes, as docs/trace-model.md describes it.
//
// Spans arrive in batches from three processes, in any order: every span an assertion names is
// waited for first, with a deadline, and never looked up on the assumption that it has arrived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../cluster/harness.js';
import { sleep } from '../support/wait.js';
import { CLIENT, ERROR, OtlpReceiver, SERVER, type SpanRecord } from './receiver.js';

let rx: OtlpReceiver;
let c: TestCluster;

const byId = (spans: SpanRecord[]) => new Map(spans.map((s) => [s.spanId, s]));

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
  c = await TestCluster.start(3, { env: rx.env({ RAFT_LOG_LEVEL: 'debug' }) });
});
afterAll(async () => {
  await c?.stop();
  await rx?.stop();
});

describe('the trace model on a real cluster', () => {
  it("an election: RequestVote CLIENT spans under raft.election, each voter's SERVER span their child on another node", async () => {
    const election = await rx.waitFor('a won election', () =>
      rx.spans.find((s) => s.name === 'raft.election' && s.attrs['raft.election.outcome'] === 'won'),
    );
    const votes = (kind: number) =>
      rx.trace(election.traceId).filter((s) => s.name === 'raft.Raft/RequestVote' && s.kind === kind);
    const clients = await rx.waitFor('a RequestVote CLIENT span to each peer', () => {
      const found = votes(CLIENT);
      return found.length >= 2 && found;
    });
    for (const cl of clients) {
      expect(cl.parentSpanId).toBe(election.spanId);
      expect(cl.attrs).toMatchObject({ 'rpc.system.name': 'grpc', 'rpc.method': 'raft.Raft/RequestVote' });
      expect(cl.attrs['server.port']).toEqual(expect.any(Number));
    }
    const server = await rx.waitFor('a voter SERVER span', () => votes(SERVER)[0]);
    const parent = await rx.waitFor('the CLIENT span of the vote', () =>
      rx.spans.find((s) => s.spanId === server.parentSpanId),
    );
    expect(parent.kind).toBe(CLIENT);
    expect(parent.service).not.toBe(server.service); // candidate and voter: two nodes
    expect(server.attrs['raft.vote.granted']).toEqual(expect.any(Boolean));
    expect(election.attrs['raft.election.votes_granted']).toBeGreaterThanOrEqual(2);
    expect(election.service).toMatch(/^raft-n\d$/);
  });

  it('a PUT entering at a follower is one trace: the forwarded hop (raft.Raft/Forward), propose, AppendEntries pairs, persist, commit, and apply on all three nodes', async () => {
    await c.withSteadyLeader(async (leader, attempt) => {
      const follower = c.nodes.find((n) => n.id !== leader.id)!;
      const r = await c.put(follower, `traced${attempt}`, 'yes');
      expect(r.status, r.text).toBe(200);
      const traceId = r.headers.get('x-trace-id') ?? '';
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const spans = await rx.waitFor(`every span of the write (trace ${traceId})`, () => {
        const t = rx.trace(traceId);
        const ids = byId(t);
        const has = (svc: string, name: string) => t.some((s) => s.service === svc && s.name === name);
        const ae = (kind: number) => t.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.kind === kind);
        const complete =
          new Set(t.filter((s) => s.name === 'raft.apply').map((s) => s.service)).size === 3 &&
          has(`raft-${follower.id}`, 'raft.Raft/Forward') &&
          has(`raft-${follower.id}`, 'PUT /kv/{key}') &&
          has(`raft-${leader.id}`, 'raft.Raft/Forward') &&
          has(`raft-${leader.id}`, 'raft.propose') &&
          has(`raft-${leader.id}`, 'raft.commit') &&
          t.filter((s) => s.name === 'raft.persist').length >= 3 &&
          ae(CLIENT).length >= 2 &&
          ae(SERVER).length >= 2 &&
          ae(SERVER).every((s) => ids.has(s.parentSpanId));
        return complete && t;
      });
      const names = spans.map((s) => `${s.service} ${s.name}`);
      expect(names).toContain(`raft-${follower.id} PUT /kv/{key}`);
      // The forward hop: a CLIENT span on the follower (child of its HTTP span), a SERVER span on
      // the leader (child of that CLIENT span, through traceparent in the gRPC metadata).
      const fwdClient = spans.find((s) => s.name === 'raft.Raft/Forward' && s.kind === CLIENT)!;
      const fwdServer = spans.find((s) => s.name === 'raft.Raft/Forward' && s.kind === SERVER)!;
      expect(fwdClient.service).toBe(`raft-${follower.id}`);
      expect(fwdServer.service).toBe(`raft-${leader.id}`);
      expect(byId(spans).get(fwdClient.parentSpanId)?.name).toBe('PUT /kv/{key}');
      expect(fwdServer.parentSpanId).toBe(fwdClient.spanId);
      expect(names).toContain(`raft-${leader.id} raft.propose`);
      expect(names).toContain(`raft-${leader.id} raft.commit`);
      expect(names).toContain(`raft-${leader.id} raft.persist`);
      expect(new Set(spans.filter((s) => s.name === 'raft.apply').map((s) => s.service))).toEqual(
        new Set(c.nodes.map((n) => `raft-${n.id}`)),
      );
      const ids = byId(spans);
      const propose = spans.find((s) => s.name === 'raft.propose')!;
      expect(propose.parentSpanId).toBe(fwdServer.spanId);
      const appends = spans.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.kind === CLIENT);
      for (const a of appends) expect(a.parentSpanId).toBe(propose.spanId);
      const servers = spans.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.kind === SERVER);
      for (const s of servers) expect(ids.get(s.parentSpanId)?.kind).toBe(CLIENT);
      for (const a of spans.filter((s) => s.name === 'raft.apply')) expect(a.parentSpanId).toBe(propose.spanId);
    });
  });

  it('logs carry trace ids that lead to the trace', async () => {
    const leader = await c.waitForLeader();
    const r = await c.put(leader, 'logged', 'yes');
    const traceId = r.headers.get('x-trace-id') ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const line = await c.until(
      () =>
        c
          .log(leader)
          .split('\n')
          .find((l) => l.includes(traceId) && l.includes('"http_request"')),
      10_000,
      `the access log line of trace ${traceId} in ${leader.id}'s log`,
    );
    expect(JSON.parse(line)).toMatchObject({
      event: 'http_request',
      trace_id: traceId,
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
    });
  });

  it('heartbeats are not traced by default', () => {
    // The cluster has been up for the tests above: dozens of heartbeats a second, none sampled.
    expect(rx.spans.length).toBeGreaterThan(0);
    expect(rx.spans.filter((s) => s.attrs['raft.heartbeat'] === true)).toEqual([]);
  });

  it('exports metrics with the right values', async () => {
    await c.withSteadyLeader(async (leader) => {
      const st = await c.statusOf(leader);
      const svc = `raft-${leader.id}`;
      const has = (name: string) => rx.metrics.some((m) => m.service === svc && m.name === name);
      await rx.waitFor(`metrics from ${svc} as of commit index ${st.commitIndex}`, () => {
        const fresh = rx.metrics.some(
          (m) => m.service === svc && m.name === 'raft.commit_index' && m.value >= st.commitIndex,
        );
        return fresh && has('rpc.client.call.duration') && has('raft.fsync.duration');
      });
      const last = (name: string) => rx.metrics.filter((m) => m.service === svc && m.name === name).pop();
      expect(last('raft.term')?.value).toBe(st.term);
      expect(last('raft.role')).toMatchObject({ value: 3, attrs: { 'raft.role': 'leader' } });
      expect(last('raft.applied_index')?.value).toBeGreaterThanOrEqual(2);
      expect(rx.metrics.some((m) => m.name === 'raft.elections.won' && m.value >= 1)).toBe(true);
    });
  });

  it('a killed leader leaves an election trace with an errored RequestVote to it; a restarted node attaches its replayed applies to the original trace', async () => {
    const leader = await c.settled();
    const w = await c.put(leader, 'before-kill', 'v');
    expect(w.status, w.text).toBe(200);
    const traceId = w.headers.get('x-trace-id') ?? '';
    await rx.waitFor(
      'the write applied everywhere',
      () => rx.trace(traceId).filter((s) => s.name === 'raft.apply').length >= 3,
    );
    const killedAt = BigInt(Date.now()) * 1_000_000n;
    await c.kill(leader);
    const next = await c.waitForLeader();
    const election = await rx.waitFor(`the failover election won by ${next.id}`, () =>
      rx.spans.find(
        (s) =>
          s.name === 'raft.election' &&
          s.service === `raft-${next.id}` &&
          s.start > killedAt &&
          s.attrs['raft.election.outcome'] === 'won',
      ),
    );
    const failed = await rx.waitFor(`an errored RequestVote to the dead ${leader.id}`, () =>
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
    await c.restart(leader);
    const replayed = await rx.waitFor(`${leader.id}'s replayed apply span`, () =>
      rx
        .trace(traceId)
        .find((s) => s.name === 'raft.apply' && s.service === `raft-${leader.id}` && s.start > restartedAt),
    );
    expect(replayed.attrs['raft.log.index']).toBe(w.body.index);
  });
});

describe('sampling', () => {
  it('traces heartbeats when their ratio is 1', async () => {
    const rx2 = new OtlpReceiver();
    await rx2.start();
    try {
      const hb = await TestCluster.start(3, { env: rx2.env({ RAFT_SAMPLE_HEARTBEATS: '1' }) });
      try {
        await rx2.waitFor(
          'more than 20 heartbeat spans',
          () =>
            rx2.spans.filter((s) => s.name === 'raft.Raft/AppendEntries' && s.attrs['raft.heartbeat'] === true).length >
            20,
        );
      } finally {
        await hb.stop();
      }
    } finally {
      await rx2.stop();
    }
  });

  it('a per-minute cap bounds new write, read and heartbeat traces per node', async () => {
    const rx3 = new OtlpReceiver();
    await rx3.start();
    const perMinute = 5;
    // The cap is a token bucket: `perMinute` traces at once, then one more every 60/perMinute s.
    // Counting from before the nodes start gives a bound every run must meet, however slow.
    const t0 = Date.now();
    const bound = () => perMinute + Math.floor(((Date.now() - t0) / 60_000) * perMinute);
    const roots = () => {
      const per = new Map<string, Set<string>>();
      // Elections (and transfers, membership changes, snapshots) are never capped: count the rest.
      const cappedKinds = ['write', 'read', 'heartbeat'];
      for (const s of rx3.spans.filter(
        (x) => !x.parentSpanId && cappedKinds.includes(String(x.attrs['raft.trace.kind'])),
      )) {
        if (!per.has(s.service)) per.set(s.service, new Set());
        per.get(s.service)!.add(s.traceId);
      }
      return per;
    };
    try {
      const capped = await TestCluster.start(3, {
        env: rx3.env({ RAFT_SAMPLE_HEARTBEATS: '1', RAFT_TRACES_PER_MINUTE: String(perMinute) }),
      });
      try {
        const leader = await capped.waitForLeader();
        for (let i = 0; i < 10; i++) await capped.put(leader, `k${i}`, 'v');
        // Heartbeats sampled at 1 would start about 20 traces a second at the leader: the cap
        // must be what stops them. Wait until a node has used its budget, then watch for 2 s
        // more (an observation window: without the cap, dozens more would arrive in it).
        await rx3.waitFor(`a node to start ${perMinute} traces`, () =>
          [...roots().values()].some((t) => t.size >= perMinute),
        );
        await sleep(2000);
        const limit = bound();
        for (const [svc, traces] of roots()) expect(traces.size, svc).toBeLessThanOrEqual(limit);
      } finally {
        await capped.stop();
      }
    } finally {
      await rx3.stop();
    }
  });
});
