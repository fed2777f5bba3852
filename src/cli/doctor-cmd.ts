// `raft-otel doctor`: the pre-flight check before a class or an office hour. Each check prints ✓
// or ✗, and every ✗ says what to do; the exit status is 0 only when all pass. Local mode (the
// default) checks what `npm start` needs; --compose checks what `docker compose up` needs. Nothing
// here starts or changes anything: it binds a port for an instant to see that it is free, and
// writes (then removes) one file in the data directory, or in the folder it would be made in.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, findCluster, isRunning } from './cluster-file.js';
import { help, out } from './common.js';
import { dockerCompose } from './compose.js';
import { firstBusyPort } from './ports.js';

const MIN_NODE = 20;
/** docker-compose.five.yml resets a list with !reset, which compose understands from 2.24 on. */
const MIN_COMPOSE: [number, number] = [2, 24];

export const doctorHelp = `raft-otel doctor [--compose] [--nodes 3|5] [--data-dir DIR] [--json]

Checks that this machine is ready, before a class: each line ✓ or ✗, and what to do about a ✗.
Exit status 0 when every check passes.

Local (default), what \`npm start\` needs:
  Node ${MIN_NODE} or newer; the ports free: the built-in viewer's (--viewer-port, default 8000),
  the nodes' HTTP (--http-port, default 8001..) and gRPC (--grpc-port, default 7001..) ports;
  the data directory (--data-dir, default ${DEFAULT_DATA_DIR}) writable. No browser to install:
  the viewer and Jaeger are web pages.
--compose, what \`docker compose up\` needs (run it in the project's folder):
  docker installed and its daemon answering; docker compose v2.24 or newer; every image pulled
  (raft-otel:local built); the ports compose publishes free, unless the stack already runs.
`;

export interface Check {
  ok: boolean;
  what: string;
  /** What to do when it fails. */
  next?: string;
}

function major(version: string): number {
  return Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
}

export function nodeCheck(version = process.versions.node): Check {
  return major(version) >= MIN_NODE
    ? { ok: true, what: `Node ${version}` }
    : {
        ok: false,
        what: `Node ${version} is older than ${MIN_NODE}`,
        next: `install Node ${MIN_NODE} or newer (https://nodejs.org, or nvm install ${MIN_NODE})`,
      };
}

/** The first busy port of a list, as a check; `label` names the list in the ✓ line. */
async function portsCheck(
  label: string,
  ports: { host: string; port: number; what: string }[],
  next: string,
): Promise<Check> {
  const busy = await firstBusyPort(ports);
  if (!busy) return { ok: true, what: `ports free: ${label}` };
  return {
    ok: false,
    what: `port ${busy.port} (${busy.what}) is in use${busy.holder ? ` by ${busy.holder}` : ''}`,
    next,
  };
}

/** Whether `dir` (or, when it does not exist yet, the folder it would be made in) takes a file. */
export function writableCheck(dir: string): Check {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const probe = join(at, `.raft-otel-doctor-${process.pid}`);
  try {
    writeFileSync(probe, 'ok', { flag: 'wx' });
    rmSync(probe);
    return { ok: true, what: `data directory ${dir} is writable${at === resolve(dir) ? '' : ' (it will be made)'}` };
  } catch (e) {
    return {
      ok: false,
      what: `data directory ${dir} is not writable (${at}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      next: 'use another one: npm start -- --data-dir /tmp/raft-data (and --data-dir on every command)',
    };
  }
}

interface LocalOptions {
  nodes: number;
  httpPort: number;
  grpcPort: number;
  viewerPort: number;
  dataDir: string;
}

export async function localChecks(o: LocalOptions): Promise<Check[]> {
  const checks = [nodeCheck()];
  const running = findCluster(o.dataDir)?.nodes.filter((n) => !n.removed && isRunning(n)) ?? [];
  if (running.length) {
    checks.push({
      ok: false,
      what: `a cluster runs already in ${o.dataDir} (${running.map((n) => `${n.id} pid ${n.pid}`).join(', ')})`,
      next: 'use it as it is, or stop it first: `raft-otel down` (add --data-dir if not the default)',
    });
  } else {
    const range = (base: number) => `${base}-${base + o.nodes - 1}`;
    const ids = Array.from({ length: o.nodes }, (_, i) => i);
    checks.push(
      await portsCheck(
        `${o.viewerPort} (viewer), ${range(o.httpPort)} (nodes' HTTP), ${range(o.grpcPort)} (nodes' gRPC)`,
        [
          { host: '127.0.0.1', port: o.viewerPort, what: "the built-in viewer's" },
          ...ids.map((i) => ({ host: '127.0.0.1', port: o.httpPort + i, what: `n${i + 1}'s HTTP API` })),
          ...ids.map((i) => ({ host: '127.0.0.1', port: o.grpcPort + i, what: `n${i + 1}'s gRPC` })),
        ],
        'stop what holds it, or move the cluster: npm start -- --http-port 9001 --grpc-port 9101 (and a free --viewer-port)',
      ),
    );
  }
  checks.push(writableCheck(o.dataDir));
  checks.push({ ok: true, what: 'no browser to install: the viewer and Jaeger are web pages any browser opens' });
  return checks;
}

/** `docker ARGS`: stdout, or null when docker is missing or the command fails (with its error). */
function docker(args: string[]): { out: string } | { error: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return { error: (r.error as NodeJS.ErrnoException).code ?? r.error.message };
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.status}` };
  return { out: r.stdout.trim() };
}

interface ComposeConfig {
  services?: Record<
    string,
    {
      image?: string;
      build?: unknown;
      profiles?: string[];
      ports?: { published?: string | number; host_ip?: string }[];
    }
  >;
}

export async function dockerChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  const server = docker(['version', '--format', '{{.Server.Version}}']);
  if ('error' in server) {
    const missing = server.error === 'ENOENT';
    checks.push({
      ok: false,
      what: missing ? 'docker is not installed (not on PATH)' : `the Docker daemon does not answer (${server.error})`,
      next: missing
        ? 'install Docker (Docker Desktop, or docker-ce with the compose plugin), or use the local mode: npm start'
        : 'start Docker (Docker Desktop, or `sudo systemctl start docker`); on Linux, your user needs the docker group',
    });
    return checks;
  }
  checks.push({ ok: true, what: `docker ${server.out} answers` });
  const compose = docker(['compose', 'version', '--short']);
  if ('error' in compose) {
    checks.push({
      ok: false,
      what: `docker compose is missing (${compose.error})`,
      next: 'install the compose plugin (docker-compose-plugin; Docker Desktop has it)',
    });
    return checks;
  }
  const [maj, min] = compose.out.replace(/^v/, '').split('.').map(Number);
  const recent = maj > MIN_COMPOSE[0] || (maj === MIN_COMPOSE[0] && min >= MIN_COMPOSE[1]);
  checks.push(
    recent
      ? { ok: true, what: `docker compose ${compose.out}` }
      : {
          ok: false,
          what: `docker compose ${compose.out} is older than ${MIN_COMPOSE.join('.')} (the five-node file needs !reset)`,
          next: 'update Docker Desktop or the docker-compose-plugin package',
        },
  );
  let config: ComposeConfig;
  try {
    config = JSON.parse(dockerCompose(['config', '--format', 'json'], 30_000)) as ComposeConfig;
  } catch (e) {
    checks.push({ ok: false, what: (e as Error).message, next: 'run doctor in the folder of docker-compose.yml' });
    return checks;
  }
  const services = Object.entries(config.services ?? {}).filter(([, s]) => !s.profiles?.length);
  const images = [...new Set(services.map(([, s]) => s.image).filter((i): i is string => !!i))].sort();
  const built = new Set(services.filter(([, s]) => s.build).map(([, s]) => s.image));
  const missing = images.filter((i) => 'error' in docker(['image', 'inspect', i]));
  const toPull = missing.filter((i) => !built.has(i));
  const toBuild = missing.filter((i) => built.has(i));
  if (toPull.length)
    checks.push({
      ok: false,
      what: `not pulled yet: ${toPull.join(', ')}`,
      next: '`docker compose pull` (a download: do it before class, on a good network)',
    });
  if (toBuild.length)
    checks.push({ ok: false, what: `not built yet: ${toBuild.join(', ')}`, next: '`docker compose build`' });
  if (!missing.length) checks.push({ ok: true, what: `images present: ${images.join(', ')}` });
  let running = 0;
  try {
    const ps = dockerCompose(['ps', '--format', 'json'], 30_000).trim();
    running = ps ? (ps.startsWith('[') ? (JSON.parse(ps) as unknown[]).length : ps.split('\n').length) : 0;
  } catch {
    /* ps failing is reported by the ports check if it matters */
  }
  if (running) {
    checks.push({
      ok: true,
      what: `the stack runs already (${running} container${running > 1 ? 's' : ''}): its ports are its own; \`docker compose down\` stops it`,
    });
    return checks;
  }
  const ports = services.flatMap(([name, s]) =>
    (s.ports ?? [])
      .filter((p) => p.published)
      .map((p) => ({
        host: !p.host_ip || p.host_ip === '0.0.0.0' ? '127.0.0.1' : p.host_ip,
        port: Number(p.published),
        what: `published by ${name}`,
      })),
  );
  checks.push(
    await portsCheck(
      ports.map((p) => p.port).join(', '),
      ports,
      'stop what holds it (a local cluster: `raft-otel down`), then `docker compose up`',
    ),
  );
  return checks;
}

export function report(checks: Check[]): string {
  return checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.what}${c.ok || !c.next ? '' : `\n      → ${c.next}`}`).join('\n');
}

function portOption(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name} takes a port (1-65535), not "${text}"`);
  return n;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      compose: { type: 'boolean' },
      nodes: { type: 'string', default: '3' },
      'http-port': { type: 'string', default: '8001' },
      'grpc-port': { type: 'string', default: '7001' },
      'viewer-port': { type: 'string', default: '8000' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return help(doctorHelp);
  if (positionals.length) return help(doctorHelp, `doctor takes options only, not "${positionals.join(' ')}"`);
  let local: LocalOptions;
  try {
    const nodes = Number(values.nodes);
    if (nodes !== 3 && nodes !== 5) throw new Error(`--nodes is 3 or 5, not "${values.nodes}"`);
    local = {
      nodes,
      httpPort: portOption('http-port', values['http-port']),
      grpcPort: portOption('grpc-port', values['grpc-port']),
      viewerPort: portOption('viewer-port', values['viewer-port']),
      dataDir: values['data-dir'],
    };
  } catch (e) {
    return help(doctorHelp, (e as Error).message);
  }
  const checks = values.compose ? await dockerChecks() : await localChecks(local);
  const failed = checks.filter((c) => !c.ok).length;
  const mode = values.compose ? 'docker compose up' : 'npm start';
  const verdict = failed
    ? `${failed} problem${failed > 1 ? 's' : ''} to fix before \`${mode}\``
    : `ready for \`${mode}\``;
  out(
    values.json,
    { ready: !failed, checks },
    `raft-otel doctor (${values.compose ? 'Docker' : 'local'})\n${report(checks)}\n\n${verdict}`,
  );
  return failed ? 1 : 0;
}
