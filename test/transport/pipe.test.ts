// The pipe (proto/raft.proto's Pipe; src/transport/pipe-client.ts and pipe-server.ts): the stream
// that carries AppendEntries and Forward between two nodes must behave, to everything above the
// transport, exactly as the unary calls it replaces: each reply reaches its own call whatever order
// the answers come in, trace context crosses with each call, a peer that does not answer fails the
// call with DEADLINE_EXCEEDED, a server that stops neither hangs its shutdown nor strands its
// callers, and a restarted peer is reached again on a new stream.
import { Metadata, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  AppendEntries,
  AppendEntriesResponse,
  ReadIndexRequest,
  ReadIndexResponse,
} from '../../src/raft/types.js';
import { Chaos, type ChaosSettings } from '../../src/transport/chaos.js';
import { PeerClients } from '../../src/transport/client.js';
import type { RequestMessage, ResponseMessage } from '../../src/transport/codec.js';
import { PLAIN_HOOKS, type RpcHooks } from '../../src/transport/hooks.js';
import { FROM_HEADER, SECRET_HEADER, type PeerSecurity } from '../../src/transport/peer-auth.js';
import { RaftServer } from '../../src/transport/server.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';

const CLUSTER = 'pipe-test';
const SECURE: PeerSecurity = { secret: 'a-cluster-secret-of-some-length', tls: null };
const noFaults = (): ChaosSettings => ({ dropRate: 0, dropReplyRate: 0, delayMs: [0, 0], cutOut: [], cutIn: [] });

function append(seq: number): AppendEntries {
  return {
    type: 'AppendEntries',
    clusterId: CLUSTER,
    from: 'n1',
    to: 'n2',
    term: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    seq,
    heartbeat: true,
  };
}

function answer(m: RequestMessage): AppendEntriesResponse {
  const a = m as AppendEntries;
  return {
    type: 'AppendEntriesResponse',
    clusterId: CLUSTER,
    from: 'n2',
    to: a.from,
    term: a.term,
    success: true,
    matchIndex: 0,
    rejectedIndex: 0,
    conflictIndex: 0,
    conflictTerm: 0,
    lastLogIndex: 0,
    seq: a.seq,
    heartbeat: a.heartbeat,
  };
}

const servers: RaftServer[] = [];
const clientSets: PeerClients[] = [];
let ports: number[] = [];

afterEach(() => {
  for (const c of clientSets.splice(0)) c.close();
  for (const s of servers.splice(0)) s.forceClose();
  releasePorts(ports);
});

async function server(
  port: number,
  handler: (m: RequestMessage) => Promise<ResponseMessage | null>,
  hooks: RpcHooks = PLAIN_HOOKS,
): Promise<RaftServer> {
  const s = new RaftServer({
    clusterId: CLUSTER,
    nodeId: 'n2',
    chaos: new Chaos(noFaults()),
    hooks,
    security: SECURE,
    handler,
  });
  servers.push(s);
  await s.listen(`127.0.0.1:${port}`);
  return s;
}

function client(port: number, timeoutMs = 400, hooks: RpcHooks = PLAIN_HOOKS) {
  const replies: ResponseMessage[] = [];
  const failures: { code: number; details: string }[] = [];
  const c = new PeerClients({
    nodeId: 'n1',
    chaos: new Chaos(noFaults()),
    hooks,
    resolve: () => `127.0.0.1:${port}`,
    deliver: (r) => replies.push(r),
    onFailure: (_peer, _method, code, details) => failures.push({ code, details }),
    timeoutMs,
    snapshotTimeoutMs: timeoutMs,
    maxInFlightPerPeer: 256,
    security: SECURE,
  });
  clientSets.push(c);
  return { c, replies, failures };
}

const seqs = (rs: ResponseMessage[]) => rs.map((r) => (r as AppendEntriesResponse).seq).sort((a, b) => a - b);

describe('the pipe between two nodes', () => {
  it('pairs each reply with its own call when the answers come back out of order', async () => {
    ports = await reservePorts(1);
    // The first calls wait longest: their answers leave last.
    await server(ports[0], (m) => {
      const seq = (m as AppendEntries).seq;
      return new Promise((r) => setTimeout(() => r(answer(m)), 5 * (20 - seq)));
    });
    const { c, replies, failures } = client(ports[0], 2000);
    for (let seq = 1; seq <= 20; seq++) c.send(append(seq));
    await waitUntil('20 replies', () => replies.length === 20 || failures.length > 0, { timeoutMs: 10_000 });
    expect(failures).toEqual([]);
    // Each reply echoes the seq of the call it answered: none was handed to another call.
    expect(seqs(replies)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((replies[0] as AppendEntriesResponse).seq).toBe(20);
  });

  it("carries a follower's ReadIndex calls too, each answered with its own read index", async () => {
    ports = await reservePorts(1);
    await server(ports[0], (m) => {
      const r = m as ReadIndexRequest;
      const reply: ReadIndexResponse = {
        type: 'ReadIndexResponse',
        clusterId: CLUSTER,
        from: 'n2',
        to: r.from,
        term: r.term,
        requestId: r.requestId,
        index: Number(r.requestId.slice(1)) * 10,
      };
      return Promise.resolve(reply);
    });
    const { c, replies, failures } = client(ports[0], 2000);
    for (const id of ['r1', 'r2', 'r3'])
      c.send({ type: 'ReadIndex', clusterId: CLUSTER, from: 'n1', to: 'n2', term: 1, requestId: id });
    await waitUntil('3 read indexes', () => replies.length === 3 || failures.length > 0, { timeoutMs: 10_000 });
    expect(failures).toEqual([]);
    expect(replies.map((r) => [(r as ReadIndexResponse).requestId, (r as ReadIndexResponse).index]).sort()).toEqual([
      ['r1', 10],
      ['r2', 20],
      ['r3', 30],
    ]);
  });

  it("carries each call's trace context, and the sender the stream was authenticated as, never the secret", async () => {
    ports = await reservePorts(1);
    const seen: Record<string, string | Buffer>[] = [];
    const serverHooks: RpcHooks = {
      ...PLAIN_HOOKS,
      serverCall: (_info, md, handle) => {
        seen.push(md.getMap());
        return handle();
      },
    };
    await server(ports[0], (m) => Promise.resolve(answer(m)), serverHooks);
    const clientHooks: RpcHooks = {
      ...PLAIN_HOOKS,
      clientCall: (info, send) => {
        const md = new Metadata();
        md.set('traceparent', `00-${'a'.repeat(31)}${(info.message as AppendEntries).seq}-${'b'.repeat(16)}-01`);
        // A frame cannot speak for another node: the server uses the stream's sender.
        md.set(FROM_HEADER, 'n3');
        return send(md);
      },
    };
    const { c, replies } = client(ports[0], 2000, clientHooks);
    c.send(append(1));
    c.send(append(2));
    await waitUntil('2 replies', () => replies.length === 2, { timeoutMs: 10_000 });
    expect(seen.map((md) => md.traceparent).sort()).toEqual([
      `00-${'a'.repeat(31)}1-${'b'.repeat(16)}-01`,
      `00-${'a'.repeat(31)}2-${'b'.repeat(16)}-01`,
    ]);
    for (const md of seen) {
      expect(md[FROM_HEADER]).toBe('n1');
      expect(md[SECRET_HEADER]).toBeUndefined();
    }
  });

  it('fails a call the peer does not answer with DEADLINE_EXCEEDED, and works again on a new stream', async () => {
    ports = await reservePorts(1);
    let answering = false;
    let handled = 0;
    await server(ports[0], (m) => {
      handled++;
      return answering ? Promise.resolve(answer(m)) : new Promise(() => {});
    });
    const { c, replies, failures } = client(ports[0], 300);
    c.send(append(1));
    c.send(append(2));
    await waitUntil('both calls failed', () => failures.length === 2, { timeoutMs: 10_000 });
    expect(failures.map((f) => f.code)).toEqual([status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED]);
    expect(handled).toBe(2);
    answering = true;
    c.send(append(3));
    await waitUntil('a reply', () => replies.length === 1, { timeoutMs: 10_000 });
    expect(seqs(replies)).toEqual([3]);
  });

  it('lets a server with open pipes stop gracefully; its callers fail fast and reach it again after a restart', async () => {
    ports = await reservePorts(1);
    const first = await server(ports[0], (m) => Promise.resolve(answer(m)));
    const { c, replies, failures } = client(ports[0], 5000);
    c.send(append(1));
    await waitUntil('a reply on the pipe', () => replies.length === 1, { timeoutMs: 10_000 });

    const t0 = performance.now();
    await first.close(); // would wait forever for the open pipe if the server did not end it
    expect(performance.now() - t0).toBeLessThan(2000);
    c.send(append(2));
    await waitUntil('the call to the stopped peer failed', () => failures.length === 1, { timeoutMs: 10_000 });
    expect(failures[0].code).toBe(status.UNAVAILABLE); // refused at once, not after the 5 s deadline
    expect(performance.now() - t0).toBeLessThan(4000);

    await server(ports[0], (m) => Promise.resolve(answer(m)));
    let seq = 10;
    await waitUntil('a reply from the restarted peer', () => (c.send(append(++seq)), replies.length > 1), {
      timeoutMs: 10_000,
      everyMs: 100,
    });
  }, 30_000);
});
