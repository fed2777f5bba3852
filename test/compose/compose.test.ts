// The Docker path cannot run here (no Docker engine), so these checks keep it correct: they fail
// when the compose file, the collector and Jaeger configs, the Dockerfile and the settings the
// code reads drift apart. The last test runs the very command line and environment the compose
// file gives each node, as local processes, and checks they form a cluster and export spans.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse, type ParseOptions, type DocumentOptions, type SchemaOptions, type ToJSOptions } from 'yaml';
import { CHAOS_ENV, NODE_OPTIONS, loadNodeConfig, parsePeers } from '../../src/node/config.js';
import { telemetryConfig } from '../../src/telemetry/config.js';
import { chaosFromEnv } from '../../src/transport/chaos.js';
import { ATTR } from '../../src/telemetry/names.js';
import { ensureBuilt } from '../../scripts/build.mjs';
import { releasePorts, reservePorts } from '../support/ports.js';
import { EXIT_WITH_PARENT, killChild, spawnTracked } from '../support/processes.js';
import { waitUntil } from '../support/wait.js';
import { OtlpReceiver } from '../telemetry/receiver.js';

/** What the tests read of a compose service. */
interface ComposeService {
  image?: string;
  profiles?: string[];
  hostname?: string;
  init?: boolean;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
}
interface ComposeDoc {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}
/** An OpenTelemetry Collector (or Jaeger v2) configuration, as far as the pipeline checks go. */
interface PipelineConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  service: {
    pipelines: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }>;
    extensions?: string[];
  };
}

const read = (f: string) => readFileSync(resolve(f), 'utf8');
/** Compose's `!reset []` (an override that empties the base file's list) reads as that empty list. */
const composeYaml: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions = {
  merge: true,
  customTags: [{ tag: '!reset', collection: 'seq', resolve: (seq) => seq }],
};
const compose = parse(read('docker-compose.yml'), composeYaml) as ComposeDoc;
const five = parse(read('docker-compose.five.yml'), composeYaml) as ComposeDoc;
const collector = parse(read('otel-collector.yaml')) as PipelineConfig;
const tail = parse(read('otel-collector-tail-sampling.yaml')) as PipelineConfig;
const jaeger = parse(read('jaeger/config.yaml')) as PipelineConfig;
const dockerfile = read('Dockerfile');

/** The value at `path` in a parsed config file; an error naming the path when it is not there. */
function at(file: string, doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null || !(part in v)) throw new Error(`${file} has no ${path}`);
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}
function str(file: string, doc: unknown, path: string): string {
  const v = at(file, doc, path);
  if (typeof v !== 'string') throw new Error(`${file}: ${path} is not a string`);
  return v;
}

/** A tail-sampling policy, as far as the tests evaluate it. */
interface Policy {
  name: string;
  type: string;
  string_attribute?: { key: string; values: unknown[]; invert_match?: boolean };
  boolean_attribute?: { key: string; value: boolean; invert_match?: boolean };
  latency?: { threshold_ms: number };
  and?: { and_sub_policy: Policy[] };
}

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

/** The node services `docker compose up` starts (no profile), merged with the base file where
 *  given; with `profile`, those of that profile only. */
function nodes(doc: ComposeDoc, base?: ComposeDoc, profile?: string): [string, ComposeService][] {
  const services: Record<string, ComposeService> = { ...(base?.services ?? {}) };
  for (const [name, svc] of Object.entries(doc.services)) {
    services[name] = {
      ...(services[name] ?? {}),
      ...svc,
      environment: { ...(services[name]?.environment ?? {}), ...(svc.environment ?? {}) },
    };
  }
  return Object.entries(services).filter(
    ([name, svc]) => /^raft-\d$/.test(name) && (profile ? svc.profiles?.includes(profile) : !svc.profiles?.length),
  );
}

/** Compose's interpolation of one value: ${NAME}, ${NAME:-default}, ${NAME-default}. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)(?:(:?-)([^}]*))?\}/g,
    (_, name: string, op: string | undefined, dflt: string | undefined) => {
      const v = env[name];
      if (op === ':-') return v ? v : (dflt ?? '');
      if (op === '-') return v ?? dflt ?? '';
      return v ?? '';
    },
  );
}

/** The environment a node's process gets when compose runs in `shell`. */
function resolved(svc: ComposeService, shell: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(envOf(svc)).map(([k, v]) => [k, interpolate(v, shell)]));
}

/** The settings an exercise (or a demo) changes: each passes from compose's environment to every
 *  node, defaulting to the code's own default. */
const PASSED_ENV = [
  'RAFT_TICK_MS',
  'RAFT_ELECTION_TICKS',
  'RAFT_HEARTBEAT_TICKS',
  'RAFT_PRE_VOTE',
  'RAFT_CHECK_QUORUM',
  'RAFT_SNAPSHOT_EVERY',
  'RAFT_REQUEST_TIMEOUT_MS',
  'RAFT_LOG_LEVEL',
  'RAFT_CHAOS_DROP',
  'RAFT_CHAOS_DROP_REPLY',
  'RAFT_CHAOS_DELAY_MS',
  'RAFT_TRACING',
  'RAFT_SAMPLE_ELECTIONS',
  'RAFT_SAMPLE_WRITES',
  'RAFT_SAMPLE_READS',
  'RAFT_SAMPLE_HEARTBEATS',
  'RAFT_SAMPLE_SNAPSHOTS',
  'RAFT_SAMPLE_ADMIN',
  'RAFT_TRACES_PER_MINUTE',
  'OTEL_METRIC_EXPORT_INTERVAL',
];
/** Set by the compose file itself, the same way whatever the shell says (they wire the stack). */
const WIRED_ENV = [
  'RAFT_ID',
  'RAFT_PEERS',
  'RAFT_CLUSTER_ID',
  'RAFT_CLUSTER_SECRET_FILE',
  'RAFT_ADMIN',
  'RAFT_JOIN',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
];
/** Read by the code but not passed by compose, each for a reason. */
const NOT_PASSED: Record<string, string> = {
  RAFT_DATA_DIR: "the image's default (/data) is each node's volume",
  RAFT_GRPC_LISTEN: "the image's default (0.0.0.0:7000)",
  RAFT_HTTP_LISTEN: "the image's default (0.0.0.0:8000)",
  RAFT_ADMIN_TOKEN: 'the admin API is bound to the compose network and this machine only',
  RAFT_ADMIN_TOKEN_FILE: 'as RAFT_ADMIN_TOKEN',
  RAFT_INSECURE_PEERS: 'peers authenticate with the cluster secret',
  RAFT_PEER_TLS_CA: 'mutual TLS is the alternative to the secret, set up by hand (README "Peer security")',
  RAFT_PEER_TLS_CERT: 'as RAFT_PEER_TLS_CA',
  RAFT_PEER_TLS_KEY: 'as RAFT_PEER_TLS_CA',
  RAFT_CHAOS_CUT: 'a cut names peers of one node: `raft-otel partition --compose` sets it at run time',
  OTEL_SERVICE_NAME: 'raft-<id> by default, which Jaeger shows on every row',
  RAFT_TRACE_DIR: 'spans go to the collector',
};

/** A service's environment as the strings a process sees. */
function envOf(svc: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

/** The one-shot service that makes the cluster secret, as the node services expect it. */
function secretMaker(): { command: string[]; volumes: string[] } {
  const svc = compose.services['cluster-secret'];
  return { command: svc?.command ?? [], volumes: svc?.volumes ?? [] };
}

function envDefault(name: string): string | undefined {
  const m = new RegExp(`${name}=(\\S+)`).exec(dockerfile);
  return m?.[1];
}

describe('docker-compose.yml and docker-compose.five.yml', () => {
  it('accounts for every setting the code reads: passed from the environment, wired, or left out for a reason', () => {
    const all = [...PASSED_ENV, ...WIRED_ENV, ...Object.keys(NOT_PASSED)];
    expect(new Set(all).size, 'each setting in one list').toBe(all.length);
    expect([...all].sort()).toEqual([...KNOWN_ENV].sort());
  });

  for (const [label, list] of [
    ['three nodes', nodes(compose)],
    ['five nodes', nodes(five, compose)],
    ['the replace profile', nodes(compose, undefined, 'replace')],
  ] as const) {
    it(`${label}: every setting an exercise changes reaches every node, with the code's default`, () => {
      expect(list.length).toBeGreaterThan(0);
      for (const [name, svc] of list) {
        for (const k of PASSED_ENV) expect(envOf(svc)[k], `${name} passes ${k}`).toMatch(new RegExp(`^\\$\\{${k}:-`));
        const secret = { RAFT_CLUSTER_SECRET_FILE: '', RAFT_CLUSTER_SECRET: 'x'.repeat(32) };
        // Unset in the shell: the node gets what it would get with no variable at all...
        const dflt = resolved(svc, {});
        const wired = Object.fromEntries(WIRED_ENV.filter((k) => k in dflt).map((k) => [k, dflt[k]]));
        const config = (env: Record<string, string>) => {
          const { security: _s, ...node } = loadNodeConfig({}, { ...env, ...secret });
          return { node, telemetry: telemetryConfig('n1', env), chaos: chaosFromEnv(env) };
        };
        const withDefaults = config(dflt);
        const bare = config(wired);
        // (compose exports metrics every 5 s instead of 10 so that a demo's graphs move)
        expect(withDefaults.telemetry.metricIntervalMs).toBe(5000);
        expect({ ...withDefaults, telemetry: { ...withDefaults.telemetry, metricIntervalMs: 0 } }, name).toEqual({
          ...bare,
          telemetry: { ...bare.telemetry, metricIntervalMs: 0 },
        });
        // ...and set in the shell, the node gets the shell's value.
        const shell = {
          RAFT_PRE_VOTE: 'false',
          RAFT_CHECK_QUORUM: 'false',
          RAFT_ELECTION_TICKS: '100',
          RAFT_HEARTBEAT_TICKS: '20',
          RAFT_TICK_MS: '20',
          RAFT_SNAPSHOT_EVERY: '50',
          RAFT_SAMPLE_WRITES: '0.25',
          RAFT_SAMPLE_HEARTBEATS: '1',
          RAFT_TRACES_PER_MINUTE: '20',
          RAFT_CHAOS_DELAY_MS: '5-50',
        };
        const set = config(resolved(svc, shell));
        expect(set.node).toMatchObject({
          preVote: false,
          checkQuorum: false,
          electionTicks: 100,
          heartbeatTicks: 20,
          tickMs: 20,
          snapshotEvery: 50,
        });
        expect(set.telemetry.ratios).toMatchObject({ write: 0.25, heartbeat: 1 });
        expect(set.telemetry.tracesPerMinute).toBe(20);
        expect(set.chaos.delayMs).toEqual([5, 50]);
      }
    });
  }

  it('the replace profile adds raft-4 as a joining n4 that docker compose up leaves alone; five nodes make it a member', () => {
    const spare = nodes(compose, undefined, 'replace');
    expect(spare.map(([n]) => n)).toEqual(['raft-4']);
    const [, svc] = spare[0];
    const env = envOf(svc);
    expect(env.RAFT_ID).toBe('n4');
    expect(env.RAFT_JOIN).toBe('true');
    // It knows the three members and itself, at the addresses compose gives them.
    expect(parsePeers(env.RAFT_PEERS)).toEqual([
      ...parsePeers(envOf(compose.services['raft-1']).RAFT_PEERS),
      { id: 'n4', grpc: 'raft-4:7000', http: 'raft-4:8000' },
    ]);
    expect(svc.ports).toEqual(['127.0.0.1:8004:8000']);
    expect(compose.volumes).toHaveProperty(String(svc.volumes?.[0]).split(':')[0]);
    // In the five-node file raft-4 is an initial member: default profile, not joining.
    const fiveFour = nodes(five, compose).find(([n]) => n === 'raft-4')?.[1];
    expect(fiveFour?.profiles).toEqual([]);
    expect(envOf(fiveFour!).RAFT_JOIN).toBe('false');
    expect(read('docker-compose.five.yml')).toMatch(/raft-4:\n\s+profiles: !reset \[\]/);
  });

  it("Jaeger's menu links only ports compose publishes on this machine", () => {
    const ui = JSON.parse(read('jaeger/ui-config.json')) as { menu: { items: { url: string }[] }[] };
    const published = new Set(
      Object.values(compose.services).flatMap((svc) =>
        (svc.ports ?? []).map((p) => {
          const [ip, host] = p.replace(/\/\w+$/, '').split(':');
          return `${ip}:${host}`;
        }),
      ),
    );
    const urls = ui.menu.flatMap((m) => m.items.map((i) => i.url));
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      const u = new URL(url);
      expect(['localhost', '127.0.0.1'], url).toContain(u.hostname);
      expect(published.has(`127.0.0.1:${u.port}`), `${url}: compose publishes 127.0.0.1:${u.port}`).toBe(true);
    }
  });

  for (const [label, list] of [
    ['three nodes', nodes(compose)],
    ['five nodes', nodes(five, compose)],
  ] as const) {
    it(`${label}: every node's id, peers, ports, volume and environment are consistent`, () => {
      const httpPort = Number(envDefault('RAFT_HTTP_LISTEN')?.split(':')[1]);
      const grpcPort = Number(envDefault('RAFT_GRPC_LISTEN')?.split(':')[1]);
      expect(httpPort, 'the Dockerfile sets RAFT_HTTP_LISTEN').toBeGreaterThan(0);
      expect(grpcPort, 'the Dockerfile sets RAFT_GRPC_LISTEN').toBeGreaterThan(0);
      const volumes = new Set<string>();
      for (const [name, svc] of list) {
        const env = envOf(svc);
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
        const [vol, mount] = String(svc.volumes?.[0]).split(':');
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
    for (const [name, svc] of Object.entries({ ...compose.services, ...five.services })) {
      if (!svc.image) continue;
      expect(svc.image, name).toMatch(/:[\w.-]+$/);
      expect(svc.image, name).not.toMatch(/:latest$/);
    }
    expect(compose.services.jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\.(19|20)\.\d+$/);
    const command = compose.services.bench?.command ?? [];
    const targets = command[command.indexOf('--targets') + 1];
    expect(targets).toBe(
      nodes(compose)
        .map(([n, s]) => `${envOf(s).RAFT_ID}=${n}:8000`)
        .join(','),
    );
  });

  it('points the nodes at the collector, the collector at Jaeger, and Jaeger listens where expected', () => {
    const c = 'otel-collector.yaml';
    const j = 'jaeger/config.yaml';
    expect(str(c, collector, 'receivers.otlp.protocols.grpc.endpoint')).toBe('0.0.0.0:4317');
    expect(compose.services['otel-collector']?.ports).toContain('127.0.0.1:4317:4317');
    const [host, port] = str(c, collector, 'exporters.otlp_grpc/jaeger.endpoint').split(':');
    expect(compose.services).toHaveProperty(host);
    expect(str(j, jaeger, 'receivers.otlp.protocols.grpc.endpoint')).toBe(`0.0.0.0:${port}`);
    expect(compose.services.jaeger?.ports).toContain(
      `127.0.0.1:16686:${str(j, jaeger, 'extensions.jaeger_query.http.endpoint').split(':')[1]}`,
    );
    expect(str(j, jaeger, 'extensions.jaeger_query.ui.config_file')).toBe('/etc/jaeger/ui-config.json');
    expect(() => JSON.parse(read('jaeger/ui-config.json')) as unknown).not.toThrow();
    const prometheus = parse(read('prometheus/prometheus.yml')) as {
      scrape_configs?: { static_configs?: { targets?: string[] }[] }[];
    };
    expect(prometheus.scrape_configs?.[0]?.static_configs?.[0]?.targets).toEqual([
      `otel-collector:${str(c, collector, 'exporters.prometheus.endpoint').split(':')[1]}`,
    ]);
  });

  it('runs the built-in viewer, which the collector sends every trace to (both collector configs)', () => {
    const viewer = compose.services.viewer;
    expect(viewer?.image).toBe(compose.services['raft-1']?.image); // the same image as the nodes
    const command = viewer?.command ?? [];
    expect(command[0]).toBe('viewer');
    expect(command[command.indexOf('--host') + 1]).toBe('0.0.0.0'); // reachable from the collector
    const port = command[command.indexOf('--port') + 1];
    expect(viewer?.ports).toContain(`127.0.0.1:${port}:${port}`);
    const dataDir = command[command.indexOf('--data-dir') + 1];
    expect(viewer?.volumes?.map((v) => v.split(':')[1])).toContain(dataDir); // history survives a restart
    // the image's health check asks a node's /status, which the viewer has not: it has its own
    const health = (viewer as { healthcheck?: { test?: string[] } } | undefined)?.healthcheck?.test?.join(' ') ?? '';
    expect(health).toContain(`http://127.0.0.1:${port}/api/viewer/stats`);
    for (const [file, cfg] of [
      ['otel-collector.yaml', collector],
      ['otel-collector-tail-sampling.yaml', tail],
    ] as const) {
      expect(str(file, cfg, 'exporters.otlp_http/viewer.endpoint')).toBe(`http://viewer:${port}`);
      expect(cfg.service.pipelines.traces?.exporters, file).toEqual(
        expect.arrayContaining(['otlp_grpc/jaeger', 'otlp_http/viewer']),
      );
    }
  });

  for (const [file, cfg] of [
    ['otel-collector.yaml', collector],
    ['otel-collector-tail-sampling.yaml', tail],
    ['jaeger/config.yaml', jaeger],
  ] as const) {
    it(`${file}: every pipeline and extension names a component that is defined`, () => {
      for (const [pipeline, p] of Object.entries(cfg.service.pipelines)) {
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
    const policies = at('otel-collector-tail-sampling.yaml', tail, 'processors.tail_sampling.policies') as Policy[];
    expect(policies.map((p) => p.type)).toEqual(
      expect.arrayContaining(['and', 'string_attribute', 'latency', 'probabilistic']),
    );
    const election = policies.find((p) => p.type === 'string_attribute');
    expect(election?.string_attribute).toEqual({ key: ATTR.traceKind, values: ['election'] });
  });

  it('tail sampling keeps an error trace unless it is a heartbeat (a dead peer fails every one)', () => {
    const policies = at('otel-collector-tail-sampling.yaml', tail, 'processors.tail_sampling.policies') as Policy[];
    // The collector's rules, for the policy types this file uses: a trace is kept when any top-level
    // policy says Sampled and none says InvertNotSampled; `and` samples when no sub-policy says no.
    type Span = { error: boolean; attributes: Record<string, unknown>; ms: number };
    const decide = (p: Policy, spans: Span[]): 'yes' | 'no' | 'inverted-no' => {
      switch (p.type) {
        case 'status_code':
          return spans.some((s) => s.error) ? 'yes' : 'no';
        case 'string_attribute':
        case 'boolean_attribute': {
          const rule = (p.string_attribute ?? p.boolean_attribute)!;
          const wanted = 'values' in rule ? rule.values : [rule.value];
          const hit = spans.some((s) => wanted.includes(s.attributes[rule.key]));
          if (rule.invert_match) return hit ? 'inverted-no' : 'yes';
          return hit ? 'yes' : 'no';
        }
        case 'latency':
          return Math.max(...spans.map((s) => s.ms)) >= (p.latency?.threshold_ms ?? Infinity) ? 'yes' : 'no';
        case 'probabilistic':
          return 'no'; // the 10% baseline is luck: leave it out of what the policy guarantees
        case 'and':
          return p.and!.and_sub_policy.every((sub) => decide(sub, spans) === 'yes') ? 'yes' : 'no';
        default:
          throw new Error(`the test does not know policy type ${p.type}: teach it, or use a known type`);
      }
    };
    const kept = (spans: Span[]) => {
      const d = policies.map((p) => decide(p, spans));
      return !d.includes('inverted-no') && d.includes('yes');
    };
    const span = (attributes: Record<string, unknown>, error = false, ms = 1): Span => ({ error, attributes, ms });
    // A heartbeat to a dead peer (sampled with RAFT_SAMPLE_HEARTBEATS=1): an error, not kept.
    expect(kept([span({ [ATTR.traceKind]: 'heartbeat', [ATTR.heartbeat]: true }, true)])).toBe(false);
    // A write whose AppendEntries to the dead peer failed: an error, kept, even though its
    // followers' AppendEntries server spans say raft.trace.kind = heartbeat.
    const write = [
      span({ [ATTR.traceKind]: 'write' }),
      span({ [ATTR.traceKind]: 'write', [ATTR.heartbeat]: false }, true),
      span({ [ATTR.traceKind]: 'heartbeat', [ATTR.heartbeat]: false }),
    ];
    expect(kept(write)).toBe(true);
    // Elections always; a refused write; a slow write; not a healthy fast heartbeat or write.
    expect(kept([span({ [ATTR.traceKind]: 'election' })])).toBe(true);
    expect(kept([span({ [ATTR.traceKind]: 'write' }, true)])).toBe(true);
    expect(kept([span({ [ATTR.traceKind]: 'write' }, false, 250)])).toBe(true);
    expect(kept([span({ [ATTR.traceKind]: 'heartbeat', [ATTR.heartbeat]: true })])).toBe(false);
    expect(kept([span({ [ATTR.traceKind]: 'write' })])).toBe(false);
    // And the instructions at the top name variables compose passes on.
    for (const v of read('otel-collector-tail-sampling.yaml').match(/RAFT_\w+/g) ?? [])
      expect(PASSED_ENV, `otel-collector-tail-sampling.yaml tells users to set ${v}`).toContain(v);
  });
});

describe('Dockerfile', () => {
  it('runs a command the CLI has, as a non-root user, with a health check on /status', async () => {
    const entry = /ENTRYPOINT \["node", "([^"]+)"\]/.exec(dockerfile)?.[1];
    expect(entry).toBe('dist/src/cli/main.js'); // scripts/build.mjs compiles src/cli/main.ts there
    const cmd = /CMD \["(\w+)"\]/.exec(dockerfile)?.[1];
    expect(cmd).toBe('node');
    const { main } = await import('../../src/cli/main.js');
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', '--help'])).toBe(0);
      expect(String(quiet.mock.calls[0]?.[0])).toMatch(/^raft-otel node/);
    } finally {
      quiet.mockRestore();
    }
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/FROM node:20-[\w-]+ AS build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*127\.0\.0\.1:8000\/status/);
    // The image runs the same build as `npm start` (the node code and the viewer's page), and that
    // build writes what the entry point and the viewer service load (built here if not yet).
    await ensureBuilt();
    expect(dockerfile).toMatch(/^RUN node scripts\/build\.mjs --force$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(existsSync(resolve(entry!)), `${entry} (run npm run build)`).toBe(true);
    expect(existsSync(resolve('dist', 'viewer', 'index.html')), 'dist/viewer/index.html (run npm run build)').toBe(
      true,
    );
  });
});

describe('the nodes exactly as compose runs them', () => {
  let rx: OtlpReceiver | null = null;
  let dir = '';
  afterAll(async () => {
    await rx?.stop();
    if (dir && !process.env.RAFT_TEST_KEEP_DATA) rmSync(dir, { recursive: true, force: true });
  });

  it('form a cluster and export spans to an OTLP endpoint', async () => {
    const receiver = (rx = new OtlpReceiver());
    await receiver.start();
    dir = mkdtempSync(join(tmpdir(), 'raft-compose-'));
    // The same command (the image's ENTRYPOINT + CMD, from the sources) and the same environment,
    // with the substitutions a host needs: each service's address raft-<i>:<port> becomes a
    // loopback port of its own (reserved, so that two runs never collide), the image's data dir
    // and listen defaults point there too, and the collector becomes the test's OTLP/HTTP JSON
    // receiver.
    const list = nodes(compose);
    const ports = await reservePorts(2 * list.length);
    const local = new Map<string, string>();
    list.forEach(([name], k) => {
      local.set(`${name}:7000`, `127.0.0.1:${ports[2 * k]}`);
      local.set(`${name}:8000`, `127.0.0.1:${ports[2 * k + 1]}`);
    });
    // The cluster-secret service's volume (/secret) becomes a directory here.
    const onHost = (text: string) =>
      text
        .replace(/raft-\d:\d+/g, (addr) => {
          const to = local.get(addr);
          if (!to) throw new Error(`the compose file names ${addr}, which is no node's gRPC or HTTP address`);
          return to;
        })
        .replace(/^\/secret\//, `${dir}/secret/`);
    // The cluster-secret service's command runs first, as compose's depends_on orders it.
    const made = spawnSync(
      process.execPath,
      [resolve('bin/raft-otel.mjs'), ...secretMaker().command.map((a) => onHost(a))],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    const http = list.map(([name]) => local.get(`${name}:8000`)!);
    const procs = list.map(([name, svc]) => {
      const env = Object.fromEntries(Object.entries(resolved(svc, {})).map(([k, v]) => [k, onHost(v)]));
      Object.assign(env, {
        RAFT_DATA_DIR: join(dir, name),
        RAFT_GRPC_LISTEN: local.get(`${name}:7000`)!,
        RAFT_HTTP_LISTEN: local.get(`${name}:8000`)!,
        ...receiver.env(),
      });
      const out = openSync(join(dir, `${name}.log`), 'a');
      try {
        return spawnTracked(process.execPath, ['--import', EXIT_WITH_PARENT, resolve('bin/raft-otel.mjs'), 'node'], {
          env: { ...process.env, ...env },
          stdio: ['ignore', out, out],
        });
      } finally {
        closeSync(out);
      }
    });
    const logs = () =>
      list
        .map(
          ([name]) =>
            `--- ${name}\n${read(join(dir, `${name}.log`))
              .split('\n')
              .slice(-8)
              .join('\n')}`,
        )
        .join('\n');
    try {
      const status = async (addr: string) => {
        try {
          const r = await fetch(`http://${addr}/status`, { signal: AbortSignal.timeout(2000) });
          return (await r.json()) as { id: string; role: string };
        } catch {
          return null;
        }
      };
      // A write accepted by the leader. Sent again when the answer is not 200 (a leader that lost
      // its place to an election on a loaded machine): the same value, so a repeat changes nothing.
      let last = 'no leader yet';
      await waitUntil(
        () => `a leader among the compose-configured nodes to accept a write (last: ${last})`,
        async () => {
          const leader = (await Promise.all(http.map(status))).find((s) => s?.role === 'leader');
          if (!leader) return false;
          const addr = http[Number(leader.id.slice(1)) - 1];
          const r = await fetch(`http://${addr}/kv/compose`, {
            method: 'PUT',
            body: JSON.stringify({ value: 'works' }),
            signal: AbortSignal.timeout(10_000),
          });
          last = `${leader.id} answered ${r.status} ${await r.text()}`;
          return r.status === 200;
        },
        { timeoutMs: 60_000, everyMs: 200, context: logs },
      );
      await waitUntil(
        'spans from all three nodes, a raft.apply among them',
        () =>
          new Set(receiver.spans.map((s) => s.service)).size === 3 &&
          receiver.spans.some((s) => s.name === 'raft.apply'),
        { timeoutMs: 20_000, context: () => receiver.summary() },
      );
      expect(new Set(receiver.spans.map((s) => s.service))).toEqual(new Set(['raft-n1', 'raft-n2', 'raft-n3']));
      expect(receiver.spans.some((s) => s.name === 'raft.election')).toBe(true);
    } finally {
      await Promise.all(procs.map((p) => killChild(p)));
      releasePorts(ports);
    }
  });
});

describe('README documents every setting the code reads', () => {
  it('names each environment variable', () => {
    const readme = read('README.md');
    for (const name of KNOWN_ENV) expect(readme, name).toContain(name);
  });
});
