// The CLI's compose mode (--compose) against a stand-in for `docker compose up`: a fake `docker`
// on PATH (fake-docker.ts) that records each call and answers `config` and `ps`, and three real
// nodes standing in for the containers, whose HTTP APIs are the "published ports". What is
// checked: each command finds the nodes through compose, changes processes only through
// `docker compose` (kill -s KILL, start, pause, unpause, up, stop), and sets cuts and chaos
// through each node's admin API, with the effect visible on the real nodes.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeader } from '../../src/check/control.js';
import { composeControl, composeNodes, parsePs } from '../../src/cli/compose.js';
import { TestCluster, type TestNode } from '../cluster/harness.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';
import { FakeDocker, type FakeState } from './fake-docker.js';
import { runMain } from './run-main.js';

interface ChaosView {
  chaos: { dropRate: number; cutOut: string[]; cutIn: string[] };
}
interface StatusRow {
  id: string;
  service?: string;
  state: string;
  status: { role: string; leader: string | null } | null;
}

let cluster: TestCluster;
let docker: FakeDocker;
let spare: number[] = [];
const svc = (id: string) => `raft-${id.slice(1)}`;

/** `docker compose config --format json` for the stand-ins: each node's peers are the real
 *  loopback addresses (what "the compose network" is here) and its published port its HTTP port. */
function composeConfig(nodes: { id: string; grpc: string; http: string }[], spareNode: { grpc: string; http: string }) {
  const peers = nodes.map((n) => `${n.id}=${n.grpc}/${n.http}`).join(',');
  const service = (id: string, http: string, env: Record<string, string>, profiles?: string[]) => ({
    environment: { RAFT_CLUSTER_ID: 'raft-otel', RAFT_ID: id, ...env },
    ports: [
      { mode: 'ingress', host_ip: '127.0.0.1', target: Number(http.split(':')[1]), published: http.split(':')[1] },
    ],
    ...(profiles ? { profiles } : {}),
  });
  return {
    name: 'raft-otel',
    services: {
      ...Object.fromEntries(nodes.map((n) => [svc(n.id), service(n.id, n.http, { RAFT_PEERS: peers })])),
      'raft-4': service(
        'n4',
        spareNode.http,
        { RAFT_PEERS: `${peers},n4=${spareNode.grpc}/${spareNode.http}`, RAFT_JOIN: 'true' },
        ['replace'],
      ),
      jaeger: { image: 'jaegertracing/jaeger:2.19.0', ports: [{ target: 16686, published: '16686' }] },
    },
  };
}

/** A command with --compose; its output and exit status. */
const compose = (...args: string[]) => runMain([...args, '--compose']);

async function chaosOf(node: TestNode): Promise<ChaosView['chaos']> {
  const r = await fetch(`http://${node.http}/admin/chaos`, { signal: AbortSignal.timeout(2000) });
  return ((await r.json()) as ChaosView).chaos;
}

/** Waits until the fake docker was called with these arguments (the CLI is then waiting on us). */
function calledWith(args: string): Promise<true> {
  return waitUntil(`the CLI to run \`docker ${args}\``, () => docker.calls().some((c) => c.join(' ') === args), {
    timeoutMs: 20_000,
    context: () => `calls so far:\n${docker.actions().join('\n')}`,
  });
}

/** Points the fake container of node `id` at its (new) stand-in process. */
function containerIs(id: string, state: string, node?: TestNode): void {
  const s = docker.read();
  s.containers[svc(id)] = { state, pid: node?.proc?.pid ?? 0 };
  docker.write(s);
}

/** Starts a node that joins the cluster on the given addresses (those raft-4's config names). */
async function joinAt(id: string, grpc: string, http: string): Promise<TestNode> {
  const members = [...cluster.nodes.filter((n) => n.proc), { id, grpc, http }];
  const dataDir = join(cluster.dir, id);
  const node: TestNode = {
    id,
    grpc,
    http,
    dataDir,
    logFile: join(cluster.dir, `${id}.log`),
    proc: null,
    args: ['--id', id, '--peers', members.map((m) => `${m.id}=${m.grpc}/${m.http}`).join(','), '--data-dir', dataDir],
    env: { RAFT_CLUSTER_SECRET: cluster.secret, RAFT_ADMIN: 'true', RAFT_JOIN: 'true' },
  };
  cluster.nodes.push(node);
  cluster.launch(node);
  await cluster.serving(node);
  return node;
}

beforeAll(async () => {
  cluster = await TestCluster.start(3);
  spare = await reservePorts(2);
  const state: FakeState = {
    config: composeConfig(cluster.nodes, { grpc: `127.0.0.1:${spare[0]}`, http: `127.0.0.1:${spare[1]}` }),
    containers: Object.fromEntries(cluster.nodes.map((n) => [svc(n.id), { state: 'running', pid: n.proc!.pid! }])),
  };
  docker = new FakeDocker(state);
  docker.install();
});

afterAll(async () => {
  docker?.remove();
  await cluster?.stop();
  releasePorts(spare);
});

describe('reading what docker compose prints', () => {
  const config = (ports: { target: number; published: string; host_ip?: string }[]) => ({
    services: {
      'raft-1': { environment: { RAFT_ID: 'n1', RAFT_PEERS: 'n1=raft-1:7000/raft-1:8000' }, ports },
    },
  });
  it('takes ps as one object a line (compose >= 2.21) or as an array (older), and any published address', () => {
    const rows = [{ Service: 'raft-1', State: 'paused' }];
    expect(parsePs(rows.map((r) => JSON.stringify(r)).join('\n'))).toEqual(rows);
    expect(parsePs(JSON.stringify(rows))).toEqual(rows);
    expect(parsePs('')).toEqual([]);
    const p = composeNodes(config([{ target: 8000, published: '18001', host_ip: '0.0.0.0' }]), rows);
    expect(p.nodes).toEqual([
      {
        id: 'n1',
        service: 'raft-1',
        grpc: 'raft-1:7000',
        http: 'raft-1:8000',
        published: '127.0.0.1:18001',
        profiles: [],
        state: 'paused',
      },
    ]);
  });
  it('says what is wrong with a node service it cannot reach, or output that is not JSON', () => {
    expect(() => composeNodes(config([]), [])).toThrow(
      'compose service raft-1 (node n1) publishes no port for its HTTP API (8000); add ports: ["127.0.0.1:PORT:8000"]',
    );
    expect(() => composeNodes({ services: { jaeger: {} } }, [])).toThrow('no node services (none sets RAFT_ID)');
    expect(() => parsePs('Usage: docker compose ps')).toThrow('docker compose ps printed no JSON');
  });
});

describe('raft-otel --compose', () => {
  it('status finds the nodes through docker compose, names each service and the leader', async () => {
    await cluster.settled();
    const r = await compose('status', '--json');
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out) as StatusRow[];
    // raft-4 belongs to the replace profile and has no container: not a node yet.
    expect(rows.map((x) => [x.id, x.service, x.state])).toEqual([
      ['n1', 'raft-1', 'up'],
      ['n2', 'raft-2', 'up'],
      ['n3', 'raft-3', 'up'],
    ]);
    // (Which node leads may change under a loaded machine's elections: one leads, whichever.)
    expect(rows.filter((x) => x.status?.role === 'leader')).toHaveLength(1);
    expect(docker.calls().map((c) => c.join(' '))).toEqual([
      'compose --profile replace config --format json',
      'compose --profile replace ps --all --format json',
    ]);
    await cluster.settled();
    const table = await compose('status');
    expect(table.out).toMatch(/node\s+service\s+state/);
    expect(table.out).toMatch(/the leader is n(\d), service raft-\1: `docker compose stop` it/);
  });

  it('kv writes through the leader and reads back from each node', async () => {
    // A command does not retry (a person reads the error and tries again): run again only when
    // leadership moved meanwhile, as an overloaded machine's elections can make it.
    await cluster.withSteadyLeader(async () => {
      const put = await compose('kv', 'put', 'greeting', 'hello');
      expect(put.code, put.err).toBe(0);
      expect(put.out).toMatch(/^ok, index \d+/);
      for (const n of cluster.nodes) {
        const get = await compose('kv', 'get', 'greeting', '--node', n.id);
        expect(get.code, get.err).toBe(0);
        expect(get.out).toMatch(new RegExp(`^hello\\s+\\(read at index \\d+, from ${n.id}\\)`));
      }
    });
  });

  it('partition and heal cut and restore links through each node’s admin API', async () => {
    const r = await compose('partition', 'n1', 'n2,n3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('partitioned: {n1} | {n2,n3}');
    expect(await chaosOf(cluster.node('n1'))).toMatchObject({ cutOut: ['n2', 'n3'], cutIn: ['n2', 'n3'] });
    expect(await chaosOf(cluster.node('n3'))).toMatchObject({ cutOut: ['n1'], cutIn: ['n1'] });
    const h = await compose('heal');
    expect(h.code, h.err).toBe(0);
    for (const n of cluster.nodes) expect(await chaosOf(n)).toMatchObject({ cutOut: [], cutIn: [] });
    expect(docker.actions(), 'no docker command changes anything for a cut').toEqual([]);
  });

  it('chaos sets faults on one node and --off removes them', async () => {
    const r = await compose('chaos', '--drop', '0.2', '--node', 'n2');
    expect(r.code, r.err).toBe(0);
    expect((await chaosOf(cluster.node('n2'))).dropRate).toBe(0.2);
    expect((await chaosOf(cluster.node('n1'))).dropRate).toBe(0);
    expect((await compose('chaos', '--off')).code).toBe(0);
    expect((await chaosOf(cluster.node('n2'))).dropRate).toBe(0);
  });

  it('pause and resume freeze and thaw the container (docker compose pause/unpause)', async () => {
    await cluster.settled();
    const p = await compose('pause', 'n2');
    expect(p.code, p.err).toBe(0);
    expect(docker.actions().at(-1)).toBe('compose pause raft-2');
    // The fake froze the stand-in as the cgroup freezer would: it no longer answers.
    expect(await cluster.status(cluster.node('n2'), 500)).toBeNull();
    const st = JSON.parse((await compose('status', '--json')).out) as StatusRow[];
    expect(st.find((x) => x.id === 'n2')?.state).toBe('paused');
    expect((await compose('pause', 'n2')).err).toContain('n2 is paused already');
    const u = await compose('resume', 'n2');
    expect(u.code, u.err).toBe(0);
    expect(docker.actions().at(-1)).toBe('compose unpause raft-2');
    await cluster.serving(cluster.node('n2'));
  });

  it('kill sends SIGKILL through compose; restart starts the container and waits until it serves', async () => {
    const n3 = cluster.node('n3');
    const k = await compose('kill', 'n3');
    expect(k.code, k.err).toBe(0);
    expect(k.out).toContain('killed n3 (raft-3) with SIGKILL');
    expect(docker.actions().at(-1)).toBe('compose kill -s KILL raft-3');
    await waitUntil(
      'the stand-in of raft-3 to die of the SIGKILL',
      () => n3.proc?.exitCode !== null || !!n3.proc?.signalCode,
      {
        timeoutMs: 10_000,
      },
    );
    await cluster.kill(n3); // the harness's record of it
    const rows = JSON.parse((await compose('status', '--json')).out) as StatusRow[];
    expect(rows.find((x) => x.id === 'n3')?.state).toBe('down');
    expect((await compose('kill', 'n3')).err).toContain('n3 (raft-3) is not running (exited)');
    // restart: the CLI runs `docker compose start raft-3`, then waits for the node; "docker"
    // (the test) starts the container's process when it sees the call.
    const restarting = compose('restart', 'n3');
    await calledWith('compose start raft-3');
    cluster.launch(n3);
    containerIs('n3', 'running', n3);
    const r = await restarting;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^restarted n3 \(raft-3\): serving as \w+ in term \d+/);
    expect((await compose('restart', 'n3')).err).toContain('n3 (raft-3) is still running');
  });

  it('members add starts the replace profile’s service and the leader adds it; remove stops and removes it', async () => {
    await cluster.settled();
    const adding = compose('members', 'add', 'n4');
    await calledWith('compose --profile replace up -d raft-4');
    // The container's process: a joining node on the spare ports, as raft-4's environment says.
    const n4 = await joinAt('n4', `127.0.0.1:${spare[0]}`, `127.0.0.1:${spare[1]}`);
    containerIs('n4', 'running', n4);
    const r = await adding;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/voters now: n1, n2, n3, n4/);
    const leader = await cluster.settled();
    expect((await cluster.statusOf(leader)).members.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    const again = await compose('members', 'add', 'n4');
    expect(again.err).toContain('n4 is a member already');
    // Removing it: the leader drops it from the configuration, then compose stops the service.
    const rm = await compose('members', 'remove', 'n4');
    expect(rm.code, rm.err).toBe(0);
    expect(rm.out).toContain('removed n4; voters now: n1, n2, n3');
    expect(docker.actions().at(-1)).toBe('compose rm -s -f raft-4');
    await waitUntil('raft-4 to stop on the SIGTERM of `docker compose rm -s`', () => n4.proc?.exitCode !== null, {
      timeoutMs: 15_000,
    });
    await cluster.kill(n4); // the harness's record: n4 is gone on purpose
    const rows = JSON.parse((await compose('status', '--json')).out) as StatusRow[];
    expect(
      rows.map((x) => x.id),
      'a removed member is no node of the stack any more',
    ).toEqual(['n1', 'n2', 'n3']);
  });

  it('composeControl (bench --compose, check-linearizable --compose) sees and drives the same stack', async () => {
    await cluster.settled();
    const control = composeControl();
    expect(control.members().map((m) => m.id)).toEqual(['n1', 'n2', 'n3']);
    expect(control.members().every((m) => control.running(m.id))).toBe(true);
    // The leader the control finds is the cluster's (asked again until they agree: a loaded
    // machine may hold an election in between).
    await waitUntil(
      'composeControl and the cluster to name the same leader',
      async () => (await findLeader(control, 2000)) === (await cluster.waitForLeader()).id,
      { timeoutMs: 20_000 },
    );
    await control.chaos('n1', { dropRate: 0.5 });
    expect((await chaosOf(cluster.node('n1'))).dropRate).toBe(0.5);
    await control.chaos('n1', { dropRate: 0 });
    const follower = cluster.node('n1');
    control.pause(follower.id); // any node: leader or not, compose pauses it
    expect(docker.actions().at(-1)).toBe(`compose pause ${svc(follower.id)}`);
    control.resume(follower.id);
    expect(docker.actions().at(-1)).toBe(`compose unpause ${svc(follower.id)}`);
    await cluster.serving(follower);
  });

  it('without docker on PATH, says so and what to use instead', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const r = await compose('status');
      expect(r.code).toBe(1);
      expect(r.err).toContain('docker is not installed or not on PATH');
      expect(r.err).toContain('npm start');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('with docker but no compose plugin, says which package to install', async () => {
    const saved = docker.read();
    docker.write({ ...saved, compose: null });
    try {
      const r = await compose('status');
      expect(r.code).toBe(1);
      expect(r.err).toContain('docker is installed but not its compose plugin');
    } finally {
      docker.write(saved);
    }
  });

  it('down refuses a compose stack and names the compose command', async () => {
    const r = await compose('down');
    expect(r.code).toBe(1);
    expect(r.err).toContain('docker compose down');
  });
});
