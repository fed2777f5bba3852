// `raft-otel doctor`, the pre-flight check: each problem a class runs into is found, named with
// ✗ and what to do, and makes the exit status 1; a ready machine passes with 0. Docker is the
// fake docker of fake-docker.ts (no engine runs here).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { releasePorts, reservePorts } from '../support/ports.js';
import { FakeDocker, type FakeState } from './fake-docker.js';
import { runMain } from './run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'raft-doctor-'));
const reserved: number[] = [];
let docker: FakeDocker | null = null;

afterEach(() => {
  docker?.remove();
  docker = null;
});
afterAll(() => {
  releasePorts(reserved);
  rmSync(dir, { recursive: true, force: true });
});

/** A viewer port and three consecutive HTTP and gRPC ports, free and ours for the test. */
async function localPorts() {
  const [viewer] = await reservePorts(1);
  const http = await reservePorts(3, true);
  const grpc = await reservePorts(3, true);
  reserved.push(viewer, ...http, ...grpc);
  return { viewer, http: http[0], grpc: grpc[0] };
}

function listen(port: number): Promise<Server> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(port, '127.0.0.1', () => ok(s));
  });
}

const local = (p: { viewer: number; http: number; grpc: number }, dataDir: string) =>
  runMain([
    'doctor',
    '--viewer-port',
    String(p.viewer),
    '--http-port',
    String(p.http),
    '--grpc-port',
    String(p.grpc),
    '--data-dir',
    dataDir,
  ]);

describe('raft-otel doctor (local)', () => {
  it('passes on a ready machine, listing what it checked', async () => {
    const p = await localPorts();
    const r = await local(p, join(dir, 'data'));
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`✓ Node ${process.versions.node}`);
    expect(r.out).toContain(
      `✓ ports free: ${p.viewer} (viewer), ${p.http}-${p.http + 2} (nodes' HTTP), ${p.grpc}-${p.grpc + 2} (nodes' gRPC)`,
    );
    expect(r.out).toContain(`✓ data directory ${join(dir, 'data')} is writable (it will be made)`);
    expect(r.out).not.toContain('✗');
    expect(r.out).toMatch(/ready for `npm start`\n$/);
  });

  it('names a busy port, its holder and what to do; exit 1', async () => {
    const p = await localPorts();
    const squatter = await listen(p.http + 1);
    try {
      const r = await local(p, join(dir, 'data'));
      expect(r.code).toBe(1);
      expect(r.out).toContain(`✗ port ${p.http + 1} (n2's HTTP API) is in use by pid ${process.pid}`);
      expect(r.out).toContain('→ stop what holds it, or move the cluster: npm start -- --http-port 9001');
      expect(r.out).toContain('1 problem to fix before `npm start`');
    } finally {
      await new Promise((ok) => squatter.close(ok));
    }
  });

  it('finds a data directory that cannot be written', async () => {
    const p = await localPorts();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await local(p, join(file, 'data'));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✗ data directory ${join(file, 'data')} is not writable`);
    expect(r.out).toContain('→ use another one: npm start -- --data-dir');
  });

  it('refuses bad options with the help', async () => {
    const r = await runMain(['doctor', '--nodes', '4']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--nodes is 3 or 5, not "4"');
  });
});

describe('raft-otel doctor --compose', () => {
  /** A compose config like docker-compose.yml's: a built image and a pulled one, published ports. */
  async function state(over: Partial<FakeState> = {}): Promise<FakeState> {
    const ports = await reservePorts(2);
    reserved.push(...ports);
    return {
      config: {
        services: {
          'raft-1': {
            image: 'raft-otel:local',
            build: { context: '.' },
            ports: [{ host_ip: '127.0.0.1', target: 8000, published: String(ports[0]) }],
          },
          'raft-4': { image: 'raft-otel:local', build: { context: '.' }, profiles: ['replace'] },
          jaeger: {
            image: 'jaegertracing/jaeger:2.19.0',
            ports: [{ host_ip: '127.0.0.1', target: 16686, published: String(ports[1]) }],
          },
        },
      },
      containers: {},
      images: ['raft-otel:local', 'jaegertracing/jaeger:2.19.0'],
      ...over,
    };
  }
  const doctor = () => runMain(['doctor', '--compose']);

  it('passes when docker, compose, the images and the ports are ready', async () => {
    const s = await state();
    docker = new FakeDocker(s);
    docker.install();
    const r = await doctor();
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('✓ docker 27.3.1 answers');
    expect(r.out).toContain('✓ docker compose 2.29.7');
    expect(r.out).toContain('✓ images present: jaegertracing/jaeger:2.19.0, raft-otel:local');
    const published = (s.config as { services: Record<string, { ports?: { published: string }[] }> }).services;
    expect(r.out).toContain(
      `✓ ports free: ${published['raft-1'].ports![0].published}, ${published.jaeger.ports![0].published}`,
    );
    expect(r.out).toMatch(/ready for `docker compose up`\n$/);
  });

  it('without docker, says to install it or use the local mode', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const r = await doctor();
      expect(r.code).toBe(1);
      expect(r.out).toContain('✗ docker is not installed (not on PATH)');
      expect(r.out).toContain('or use the local mode: npm start');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('a daemon that does not answer, an old compose, images not pulled or built: each named', async () => {
    docker = new FakeDocker(await state({ server: null }));
    docker.install();
    let r = await doctor();
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ the Docker daemon does not answer (Cannot connect to the Docker daemon');
    docker.remove();

    docker = new FakeDocker(await state({ compose: null }));
    docker.install();
    r = await doctor();
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ docker compose is missing (docker: unknown command: docker compose)');
    expect(r.out).toContain('→ install the compose plugin');
    docker.remove();

    docker = new FakeDocker(await state({ compose: '2.20.3' }));
    docker.install();
    r = await doctor();
    expect(r.out).toContain('✗ docker compose 2.20.3 is older than 2.24');
    docker.remove();

    docker = new FakeDocker(await state({ images: [] }));
    docker.install();
    r = await doctor();
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ not pulled yet: jaegertracing/jaeger:2.19.0');
    expect(r.out).toContain('→ `docker compose pull`');
    expect(r.out).toContain('✗ not built yet: raft-otel:local');
    expect(r.out).toContain('→ `docker compose build`');
    expect(r.out).toContain('2 problems to fix before `docker compose up`');
  });

  it('a published port held by another process fails; a running stack owns its ports', async () => {
    const s = await state();
    const port = Number(
      (s.config as { services: Record<string, { ports?: { published: string }[] }> }).services.jaeger.ports![0]
        .published,
    );
    const squatter = await listen(port);
    try {
      docker = new FakeDocker(s);
      docker.install();
      const r = await doctor();
      expect(r.code).toBe(1);
      expect(r.out).toContain(`✗ port ${port} (published by jaeger) is in use by pid ${process.pid}`);
      docker.remove();
      docker = new FakeDocker({ ...s, containers: { jaeger: { state: 'running', pid: 0 } } });
      docker.install();
      const up = await doctor();
      expect(up.code, up.out).toBe(0);
      expect(up.out).toContain('✓ the stack runs already (1 container)');
    } finally {
      await new Promise((ok) => squatter.close(ok));
    }
  });
});
