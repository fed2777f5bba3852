// A peer known by a host name (as in compose: raft-2:7002) that restarts must be reachable again
// within a moment. A restarted container may get a new IP address; grpc-js then needs to resolve
// the name again, and by default it resolves a name at most once every 30 s, so without a lower
// `grpc.dns_min_time_between_resolutions_ms` the peer stays unreachable for up to 30 s.
// Every other test names peers by IP address, which skips DNS. Here the peer is `raft-2.test`,
// whose address the test's resolver changes when the peer restarts (127.0.0.2, then 127.0.0.3: all
// of 127.0.0.0/8 is loopback on Linux), as Docker's DNS would.
import dns from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestVote, RequestVoteResponse } from '../../src/raft/types.js';
import { Chaos, type ChaosSettings } from '../../src/transport/chaos.js';
import { PeerClients } from '../../src/transport/client.js';
import type { ResponseMessage } from '../../src/transport/codec.js';
import { PLAIN_HOOKS } from '../../src/transport/hooks.js';
import { INSECURE_PEERS } from '../../src/transport/peer-auth.js';
import { RaftServer } from '../../src/transport/server.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';

/** A transport with no injected faults. */
const noFaults = (): ChaosSettings => ({ dropRate: 0, dropReplyRate: 0, delayMs: [0, 0], cutOut: [], cutIn: [] });

const CLUSTER = 'dns-test';

function voter(): RaftServer {
  return new RaftServer({
    clusterId: CLUSTER,
    nodeId: 'n2',
    chaos: new Chaos(noFaults()),
    hooks: PLAIN_HOOKS,
    security: INSECURE_PEERS,
    handler: (m) => {
      const reply: RequestVoteResponse = {
        type: 'RequestVoteResponse',
        clusterId: CLUSTER,
        from: 'n2',
        to: m.from,
        term: m.term,
        granted: true,
        preVote: false,
        candidateTerm: m.term,
        reason: null,
      };
      return Promise.resolve(reply);
    },
  });
}

const servers: RaftServer[] = [];
let clients: PeerClients | null = null;
let ports: number[] = [];

/** What `raft-2.test` resolves to now; grpc-js resolves through dns.promises.lookup. */
let peerAddress = '127.0.0.2';
const realLookup = dns.promises.lookup.bind(dns.promises);
vi.spyOn(dns.promises, 'lookup').mockImplementation(((host: string, options: dns.LookupAllOptions) =>
  host === 'raft-2.test'
    ? Promise.resolve([{ address: peerAddress, family: 4 }])
    : realLookup(host, options)) as typeof dns.promises.lookup);

afterEach(() => {
  clients?.close();
  for (const s of servers.splice(0)) s.forceClose();
  releasePorts(ports);
});

describe('a peer known by host name', () => {
  it('is reachable again within seconds after it restarts at a new address', async () => {
    ports = await reservePorts(1);
    const [port] = ports;
    const first = voter();
    servers.push(first);
    await first.listen(`${peerAddress}:${port}`);

    let term = 0;
    const replies: ResponseMessage[] = [];
    const failures: string[] = [];
    clients = new PeerClients({
      nodeId: 'n1',
      chaos: new Chaos(noFaults()),
      hooks: PLAIN_HOOKS,
      resolve: () => `raft-2.test:${port}`,
      deliver: (r) => replies.push(r),
      onFailure: (_peer, _method, code, details) => failures.push(`${code} ${details}`),
      timeoutMs: 500,
      snapshotTimeoutMs: 500,
      maxInFlightPerPeer: 8,
      security: INSECURE_PEERS,
    });
    const ask = () => {
      const m: RequestVote = {
        type: 'RequestVote',
        clusterId: CLUSTER,
        from: 'n1',
        to: 'n2',
        term: ++term,
        lastLogIndex: 0,
        lastLogTerm: 0,
        preVote: false,
        transfer: false,
      };
      clients!.send(m);
    };
    const answeredAfter = (t: number) => () => {
      ask();
      return replies.some((r) => r.term > t);
    };

    await waitUntil('a first reply from raft-2.test', answeredAfter(0), { timeoutMs: 10_000, everyMs: 100 });

    // The peer dies, a call fails, and it comes back on the same name and port, at a new address.
    first.forceClose();
    const before = failures.length;
    await waitUntil('a failed call to the stopped peer', () => (ask(), failures.length > before), {
      timeoutMs: 10_000,
      everyMs: 100,
    });
    peerAddress = '127.0.0.3';
    const second = voter();
    servers.push(second);
    await second.listen(`${peerAddress}:${port}`);
    const restartedAt = Date.now();
    const termAtRestart = term;

    // Calls go out every 100 ms, as heartbeats would. A reply must come long before grpc-js's
    // default 30 s between resolutions (5 s leaves room for a loaded machine).
    await waitUntil(
      () => `a reply after the restart (last failures: ${failures.slice(-3).join(' | ')})`,
      answeredAfter(termAtRestart),
      { timeoutMs: 5000, everyMs: 100 },
    );
    expect(Date.now() - restartedAt).toBeLessThan(5000);
  }, 30_000);
});
