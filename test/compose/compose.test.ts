// The Docker path cannot run here (no Docker engine), so these checks keep it correct: they fail
// when the compose file, the collector and Jaeger configs, the Dockerfile and the settings the
// code reads drift apart. The last test runs the very command line and environment the compose
// file gives each node, as local processes, and checks they form a cluster and export spans.
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { CHAOS_ENV, NODE_OPTIONS, parsePeers } from '../../src/node/config.js';
import { OtlpReceiver } from '../telemetry/receiver.js';

const read = (f: string) => readFileSync(resolve(f), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true });
const five = parse(read('docker-compose.five.yml'), { merge: true });
const collector = parse(read('otel-collector.yaml'));
const tail = parse(read('otel-collector-tail-sampling.yaml'));
const jaeger = parse(read('jaeger/config.yaml'));
const dockerfile = read('Dockerfile');

/** Every environment variable the code reads. */
const TELEMETRY_ENV = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'RAFT_TRACING',
  'RAFT_TRACE_DIR',
  'RAFT_SAMPLE_ELECTIONS',
  'RAFT_SAMPLE_WRITES',
  'RAFT_SAMPLE_READS',
  'RAFT_SAMPLE_HEARTBEATS',
  'RAFT_SAMPLE_SNAPSHOTS',
  'RAFT_SAMPLE_ADMIN',
  'RAFT_TRACES_PER_MINUTE',
];
const KNOWN_ENV = new Set([...NODE_OPTIONS.map((o) => o.env), ...CHAOS_ENV, ...TELEMETRY_ENV]);

/** The node services of a compose document, merged with the base file where given. */
function nodes(doc: any, base?: any): [string, any][] {
  const services = { ...(base?.services ?? {}) };
  for (const [name, svc] of Object.entries<any>(doc.services)) {
    services[name] = {
      ...(services[name] ?? {}),
      ...svc,
      environment: { ...(services[name]?.environment ?? {}), ...(svc.environment ?? {}) },
    };
  }
  return Object.entries<any>(services).filter(([name]) => /^raft-\d$/.test(name));
}

/** The one-shot service that makes the cluster secret, as the node services expect it. */
function secretMaker(): { command: string[]; volumes: string[] } {
  return (compose as { services: Record<string, { command: string[]; volumes: string[] }> }).services['cluster-secret'];
}

function envDefault(name: string): string | undefined {
  const m = new RegExp(`${name}=(\\S+)`).exec(dockerfile);
  return m?.[1];
}

describe('docker-compose.yml and docker-compose.five.yml', () => {
  for (const [label, list] of [
    ['three nodes', nodes(compose)],
    ['five nodes', nodes(five, compose)],
  ] as const) {
    it(`${label}: every node's id, peers, ports, volume and environment are consistent`, () => {
      const httpPort = Number(envDefault('RAFT_HTTP_LISTEN')!.split(':')[1]);
      const grpcPort = Number(envDefault('RAFT_GRPC_LISTEN')!.split(':')[1]);
      const volumes = new Set<string>();
      for (const [name, svc] of list) {
        const env = svc.environment;
        const i = Number(name.split('-')[1]);
        expect(env.RAFT_ID, name).toBe(`n${i}`);
        expect(svc.hostname ?? name, name).toBe(name);
        for (const k of Object.keys(env)) expect(KNOWN_ENV.has(k), `${name} sets ${k}, which no code reads`).toBe(true);
        const peers = parsePeers(env.RAFT_PEERS);
        expect(peers.map((p) => p.id)).toEqual(list.map(([n]) => `n${n.split('-')[1]}`));
        for (const p of peers) {
          const host = p.grpc.split(':')[0];
          expect(
            list.map(([n]) => n),
            `peer ${p.id} resolves to a service`,
          ).toContain(host);
          expect(Number(p.grpc.split(':')[1])).toBe(grpcPort);
          expect(p.http).toBe(`${host}:${httpPort}`);
        }
        // The published port follows the local mode: node i on localhost:800<i>.
        expect(svc.ports).toEqual([`127.0.0.1:${8000 + i}:${httpPort}`]);
        const [vol, mount] = String(svc.volumes[0]).split(':');
        expect(mount).toBe(envDefault('RAFT_DATA_DIR'));
        volumes.add(vol);
        expect({ ...compose.volumes, ...(five.volumes ?? {}) }).toHaveProperty(vol);
        expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4317');
        expect(svc.init, `${name} needs init: true so SIGTERM reaches node`).toBe(true);
        // Peers authenticate: the secret file comes from the volume the cluster-secret service fills.
        const secretFile = String((env as Record<string, unknown>).RAFT_CLUSTER_SECRET_FILE);
        const wiring = svc as { volumes: string[]; depends_on: Record<string, unknown> };
        const secretMount = wiring.volumes.map((v) => v.split(':')).find(([, m]) => secretFile.startsWith(`${m}/`));
        expect(secretMount, `${name} mounts the directory of ${secretFile}`).toBeDefined();
        const maker = secretMaker();
        expect(maker.volumes.map((v) => v.split(':')[0])).toContain(secretMount![0]);
        expect(maker.command).toEqual(['secret', '--out', secretFile]);
        expect(wiring.depends_on['cluster-secret'], name).toEqual({ condition: 'service_completed_successfully' });
      }
      expect(volumes.size, 'each node has its own volume').toBe(list.length);
    });
  }

  it('pins every image, and the bench service targets the nodes', () => {
    for (const [name, svc] of Object.entries<any>({ ...compose.services, ...five.services })) {
      if (!svc.image) continue;
      expect(svc.image, name).toMatch(/:[\w.-]+$/);
      expect(svc.image, name).not.toMatch(/:latest$/);
    }
    expect(compose.services.jaeger.image).toMatch(/^jaegertracing\/jaeger:2\.(19|20)\.\d+$/);
    const targets = compose.services.bench.command[compose.services.bench.command.indexOf('--targets') + 1];
    expect(targets).toBe(
      nodes(compose)
        .map(([n, s]) => `${s.environment.RAFT_ID}=${n}:8000`)
        .join(','),
    );
  });

  it('points the nodes at the collector, the collector at Jaeger, and Jaeger listens where expected', () => {
    const grpcEndpoint = collector.receivers.otlp.protocols.grpc.endpoint;
    expect(grpcEndpoint).toBe('0.0.0.0:4317');
    expect(compose.services['otel-collector'].ports).toContain('127.0.0.1:4317:4317');
    const jaegerExporter = collector.exporters['otlp_grpc/jaeger'];
    const [host, port] = jaegerExporter.endpoint.split(':');
    expect(compose.services).toHaveProperty(host);
    expect(jaeger.receivers.otlp.protocols.grpc.endpoint).toBe(`0.0.0.0:${port}`);
    expect(compose.services.jaeger.ports).toContain(
      `127.0.0.1:16686:${jaeger.extensions.jaeger_query.http.endpoint.split(':')[1]}`,
    );
    expect(jaeger.extensions.jaeger_query.ui.config_file).toBe('/etc/jaeger/ui-config.json');
    JSON.parse(read('jaeger/ui-config.json'));
    expect(parse(read('prometheus/prometheus.yml')).scrape_configs[0].static_configs[0].targets).toEqual([
      `otel-collector:${collector.exporters.prometheus.endpoint.split(':')[1]}`,
    ]);
  });

  for (const [file, cfg] of [
    ['otel-collector.yaml', collector],
    ['otel-collector-tail-sampling.yaml', tail],
    ['jaeger/config.yaml', jaeger],
  ] as const) {
    it(`${file}: every pipeline and extension names a component that is defined`, () => {
      for (const [pipeline, p] of Object.entries<any>(cfg.service.pipelines)) {
        for (const kind of ['receivers', 'processors', 'exporters'] as const) {
          for (const id of p[kind] ?? [])
            expect(cfg[kind], `${file} ${pipeline} uses ${kind} ${id}`).toHaveProperty([id]);
        }
        expect(
          p.processors?.[0] === 'memory_limiter' || file.startsWith('jaeger'),
          `${file}: memory_limiter goes first`,
        ).toBe(true);
      }
      for (const ext of cfg.service.extensions ?? []) expect(cfg.extensions).toHaveProperty([ext]);
      // Component names use the current snake_case spelling (not the deprecated otlp/otlphttp exporters).
      for (const id of Object.keys(cfg.exporters)) expect(id.split('/')[0], file).not.toMatch(/^(otlp|otlphttp)$/);
    });
  }

  it('tail sampling keeps errors, elections and slow traces', () => {
    const policies = tail.processors.tail_sampling.policies.map((p: any) => p.type);
    expect(policies).toEqual(expect.arrayContaining(['status_code', 'string_attribute', 'latency', 'probabilistic']));
    const election = tail.processors.tail_sampling.policies.find((p: any) => p.type === 'string_attribute');
    expect(election.string_attribute).toEqual({ key: 'raft.trace.kind', values: ['election'] });
  });
});

describe('Dockerfile', () => {
  it('runs a command the CLI has, as a non-root user, with a health check on /status', async () => {
    const entry = /ENTRYPOINT \["node", "([^"]+)"\]/.exec(dockerfile)![1];
    expect(entry).toBe('dist/src/cli/main.js'); // tsconfig.build.json compiles src/cli/main.ts there
    const cmd = /CMD \["(\w+)"\]/.exec(dockerfile)![1];
    const { main } = await import('../../src/cli/main.js');
    expect(cmd).toBe('node');
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main([cmd, '--help'])).toBe(0);
      expect(String(quiet.mock.calls[0]?.[0])).toMatch(/^raft-otel node/);
    } finally {
      quiet.mockRestore();
    }
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/FROM node:20-[\w-]+ AS build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*127\.0\.0\.1:8000\/status/);
    expect(read('tsconfig.build.json')).toMatch(/"outDir": "dist"/);
  });
});

describe('the nodes exactly as compose runs them', () => {
  const procs: ChildProcess[] = [];
  let rx: OtlpReceiver;
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await rx?.stop();
  });

  it('form a cluster and export spans to an OTLP endpoint', async () => {
    rx = new OtlpReceiver();
    await rx.start();
    const dir = mkdtempSync(join(tmpdir(), 'raft-compose-'));
    // The same command (the image's ENTRYPOINT + CMD, from the sources) and the same environment,
    // with three substitutions a host needs: service hostname raft-<i> becomes loopback address
    // 127.0.0.<i> (so every node keeps ports 7000 and 8000), the image's data dir and listen
    // defaults point there too, and the collector becomes the test's OTLP/HTTP JSON receiver.
    const list = nodes(compose);
    // The cluster-secret service's volume becomes a directory here, and its command runs first.
    const hostFor = (text: string) => text.replace(/raft-(\d)/g, '127.0.0.$1').replace(/^\/secret\//, `${dir}/secret/`);
    const maker = secretMaker();
    const made = spawnSync(
      process.execPath,
      ['--import', 'tsx', resolve('src/cli/main.ts'), ...maker.command.map((a) => hostFor(a))],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    for (const [name, svc] of list) {
      const i = name.split('-')[1];
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries<any>(svc.environment)) env[k] = hostFor(String(v));
      Object.assign(env, {
        RAFT_DATA_DIR: join(dir, name),
        RAFT_GRPC_LISTEN: `127.0.0.${i}:7000`,
        RAFT_HTTP_LISTEN: `127.0.0.${i}:8000`,
        ...rx.env(),
      });
      const out = openSync(join(dir, `${name}.log`), 'a');
      procs.push(
        spawn(process.execPath, ['--import', 'tsx', resolve('src/cli/main.ts'), 'node'], {
          env: { ...process.env, ...env },
          stdio: ['ignore', out, out],
        }),
      );
    }
    const status = async (i: number) => {
      try {
        return await (await fetch(`http://127.0.0.${i}:8000/status`, { signal: AbortSignal.timeout(500) })).json();
      } catch {
        return null;
      }
    };
    const deadline = Date.now() + 20_000;
    let leader: any = null;
    while (!leader && Date.now() < deadline) {
      const all = await Promise.all(list.map((_, k) => status(k + 1)));
      leader = all.find((s) => s?.role === 'leader') ?? null;
      if (!leader) await new Promise((r) => setTimeout(r, 100));
    }
    expect(leader, 'a leader among the compose-configured nodes').not.toBeNull();
    const i = Number(leader.id.slice(1));
    const r = await fetch(`http://127.0.0.${i}:8000/kv/compose`, {
      method: 'PUT',
      body: JSON.stringify({ value: 'works' }),
    });
    expect(r.status).toBe(200);
    const services = () => new Set(rx.spans.map((s) => s.service));
    while (Date.now() < deadline && (services().size < 3 || !rx.spans.some((s) => s.name === 'raft.apply')))
      await new Promise((res) => setTimeout(res, 100));
    expect(new Set(rx.spans.map((s) => s.service))).toEqual(new Set(['raft-n1', 'raft-n2', 'raft-n3']));
    expect(rx.spans.some((s) => s.name === 'raft.election')).toBe(true);
  }, 40_000);
});

describe('README documents every setting the code reads', () => {
  it('names each environment variable', () => {
    const readme = read('README.md');
    for (const name of KNOWN_ENV) expect(readme, name).toContain(name);
  });
});
