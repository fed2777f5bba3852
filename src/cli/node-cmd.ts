// `raft-otel node`: runs one node in the foreground. Every setting is a flag and an environment
// variable (see `raft-otel node --help`), which is how the Docker image runs it.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createHttpListener } from '../api/app.js';
import { loadNodeConfig, NODE_OPTIONS, nodeOptionsHelp, splitHostPort } from '../node/config.js';
import { createLogger } from '../node/log.js';
import { telemetryConfig } from '../telemetry/config.js';
import { NO_TRACING, RaftTracing } from '../telemetry/raft-tracing.js';
import { startTelemetry } from '../telemetry/sdk.js';
import { RaftNode } from '../node/node.js';
import { DISK_GRPC_KV } from '../node/factory.js';

export const nodeHelp = `raft-otel node [options]

Runs one Raft node: its gRPC server for peers and its HTTP API for clients. Each option can also
be set by the environment variable beside it; flags win.

Options:
${nodeOptionsHelp()}

Chaos defaults: RAFT_CHAOS_DROP, RAFT_CHAOS_DROP_REPLY, RAFT_CHAOS_DELAY_MS, RAFT_CHAOS_CUT.

Telemetry: OTEL_EXPORTER_OTLP_ENDPOINT (gRPC, e.g. http://localhost:4317), OTEL_EXPORTER_OTLP_PROTOCOL
(grpc or http/json), OTEL_SERVICE_NAME, OTEL_METRIC_EXPORT_INTERVAL, RAFT_TRACING (on/off),
RAFT_TRACE_DIR (without an endpoint: OTLP JSON files here), RAFT_SAMPLE_ELECTIONS, RAFT_SAMPLE_WRITES,
RAFT_SAMPLE_READS, RAFT_SAMPLE_HEARTBEATS (default 0), RAFT_SAMPLE_SNAPSHOTS, RAFT_SAMPLE_ADMIN,
RAFT_TRACES_PER_MINUTE (cap on new traces per node per minute).

SIGTERM or SIGINT stops the node gracefully: a leader hands leadership over first.
`;

export async function nodeCommand(argv: string[]): Promise<number> {
  const options = Object.fromEntries(NODE_OPTIONS.map((o) => [o.flag, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: argv,
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(nodeHelp);
    return 0;
  }
  const cfg = loadNodeConfig(values, process.env);
  // Telemetry first, so that everything after it is traced and logged with trace ids.
  const telemetry = await startTelemetry(telemetryConfig(cfg.id, process.env));
  let node: RaftNode | null = null;
  const tracing = telemetry.enabled
    ? new RaftTracing(cfg.id, {
        term: () => node?.status().term ?? 0,
        role: () => node?.status().role ?? 'follower',
        commitIndex: () => node?.status().commitIndex ?? 0,
        appliedIndex: () => node?.status().lastApplied ?? 0,
      })
    : NO_TRACING;
  const logger = createLogger(cfg.id, cfg.logLevel, undefined, () => tracing.logFields());
  try {
    node = await RaftNode.start(cfg, { collaborators: DISK_GRPC_KV, tracing, logger });
  } catch (e) {
    // Damaged storage, a port in use: say so in the node's log format, and exit non-zero.
    logger.error('start_failed', { error: (e as Error).message });
    await telemetry.shutdown();
    return 1;
  }
  logger.info('telemetry', {
    tracing: telemetry.enabled,
    spans: telemetry.destination,
    sampler: telemetry.sampler?.toString() ?? 'none',
  });
  const http = createServer(createHttpListener(node));
  const { host, port } = splitHostPort(cfg.httpListen);
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => resolve());
    });
  } catch (e) {
    // The HTTP port is taken: without its API the node would run on unseen (its gRPC server and
    // ticker keep the process alive), so stop it and exit non-zero with the reason in its log.
    logger.error('start_failed', { error: `the HTTP API cannot listen on ${cfg.httpListen}: ${(e as Error).message}` });
    await node.stop({ graceful: false });
    await telemetry.shutdown();
    return 1;
  }
  node.log.info('http_listening', { http: cfg.httpListen, admin: cfg.admin });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string, graceful: boolean, code: number) => {
      if (stopping) return;
      stopping = true;
      node.log.info('stopping', { signal });
      await node.stop({ graceful });
      http.closeAllConnections();
      http.close();
      // Flush the spans still in the batch processor (a SIGKILL loses them: nothing runs then).
      const flushError = await telemetry.shutdown();
      if (flushError) node.log.warn('telemetry_flush_failed', { error: flushError });
      resolve(code);
    };
    process.on('SIGTERM', () => void stop('SIGTERM', true, 0));
    process.on('SIGINT', () => void stop('SIGINT', true, 0));
    node.on('fatal', () => void stop('fatal', false, 1));
  });
}
