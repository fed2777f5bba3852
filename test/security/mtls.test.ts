// Mutual TLS between peers (the option for clusters across hosts): a 3-node cluster whose nodes
// authenticate each other by certificates from `raft-otel certs`, with no cluster secret at all.
// A peer whose certificate comes from another CA is refused at the handshake; a member's
// certificate only lets it speak as itself.
import { status as grpcStatus } from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../src/api/status.js';
import { makeCerts } from '../../src/cli/certs-cmd.js';
import { TestCluster, type TestNode } from '../cluster/harness.js';
import { forge, type ForgeOptions } from './forge.js';

let c: TestCluster;
const dir = mkdtempSync(join(tmpdir(), 'raft-certs-'));
const good = join(dir, 'cluster');
const rogue = join(dir, 'rogue');

beforeAll(async () => {
  // The certificates come from the openssl command: without it this test must fail, not skip.
  if (spawnSync('openssl', ['version']).error)
    throw new Error('the mTLS tests need the openssl command, which is missing: install it (apt-get install openssl)');
  makeCerts(good, ['n1', 'n2', 'n3']);
  makeCerts(rogue, ['n1']); // same name, another CA
  c = await TestCluster.start(3, {
    env: { RAFT_CLUSTER_SECRET: '' },
    nodeEnv: (id) => ({
      RAFT_PEER_TLS_CA: join(good, 'ca.crt'),
      RAFT_PEER_TLS_CERT: join(good, `${id}.crt`),
      RAFT_PEER_TLS_KEY: join(good, `${id}.key`),
    }),
  });
  const leader = await c.waitForLeader();
  await c.until(
    async () => {
      const all = await Promise.all(c.nodes.map((n) => c.status(n)));
      return all.every((s) => s?.leader === leader.id);
    },
    10_000,
    `every node to follow ${leader.id} over TLS`,
  );
}, 60_000);
afterAll(() => c?.stop());

const tls = (certDir: string, id: string, server: string): ForgeOptions['tls'] => ({
  ca: readFileSync(join(good, 'ca.crt')),
  cert: readFileSync(join(certDir, `${id}.crt`)),
  key: readFileSync(join(certDir, `${id}.key`)),
  server,
});

function snapshotFrom(to: TestNode, from: string, term: number) {
  return {
    header: { clusterId: 'raft-otel', from, to: to.id, term },
    snapshot: { index: 100_000, term, conf: { voters: [from], learners: [] }, data: '[]' },
    seq: 1,
  };
}

describe('peers over mutual TLS', () => {
  it('elect a leader, replicate and serve linearizable reads everywhere', async () => {
    const leader = await c.waitForLeader();
    for (let i = 0; i < 10; i++) expect((await c.put(leader, `t${i}`, `${i}`)).status).toBe(200);
    for (const n of c.nodes) {
      const r = await c.get(n, 't9');
      expect((r.body as { value?: string } | null)?.value, `${n.id}: ${r.status} ${r.text}\n${c.logTails()}`).toBe('9');
    }
    expect(c.log(leader)).not.toMatch(/peer_refused/);
  });

  it('refuse a peer whose certificate is from another CA, even with the right name', async () => {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== leader.id)!;
    const { term } = (await c.status(follower)) as NodeStatus;
    const r = await forge(follower.grpc, 'InstallSnapshot', snapshotFrom(follower, 'n1', term + 1), {
      tls: tls(rogue, 'n1', follower.id),
    });
    expect(r.code, r.details).toBe(grpcStatus.UNAVAILABLE);
    // No certificate at all: plaintext does not even reach the handshake.
    const plain = await forge(follower.grpc, 'InstallSnapshot', snapshotFrom(follower, 'n1', term + 1));
    expect(plain.code, plain.details).toBe(grpcStatus.UNAVAILABLE);
    expect(((await c.status(follower)) as NodeStatus).term).toBe(term);
    expect((await c.get(follower, 't9')).status).toBe(200);
  });

  it("let a member's certificate speak only as that member", async () => {
    const leader = await c.waitForLeader();
    const victim = c.nodes.find((n) => n.id !== leader.id)!;
    const other = c.nodes.find((n) => n !== victim && n !== leader)!;
    const { term } = (await c.status(victim)) as NodeStatus;
    // The other follower's certificate, claiming to be the leader.
    const claim = await forge(victim.grpc, 'InstallSnapshot', snapshotFrom(victim, leader.id, term + 1), {
      tls: tls(good, other.id, victim.id),
    });
    expect(claim.code, claim.details).toBe(grpcStatus.UNAUTHENTICATED);
    expect(claim.details).toMatch(new RegExp(`names ${other.id}, not ${leader.id}`));
    // Claiming itself in the headers, but the message says it is from the leader.
    const body = await forge(victim.grpc, 'InstallSnapshot', snapshotFrom(victim, leader.id, term + 1), {
      tls: tls(good, other.id, victim.id),
      claim: other.id,
    });
    expect(body.code, body.details).toBe(grpcStatus.PERMISSION_DENIED);
    expect(((await c.status(victim)) as NodeStatus).term).toBe(term);
    expect((await c.get(victim, 't9')).status).toBe(200);
  });
});
