// `raft-otel node`: runs one node in the foreground. Every setting is a flag and an environment
// variable (see `raft-otel node --help`), which is how the Docker image runs it.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createApp } from '../api/app.js';
import { loadNodeConfig, NODE_OPTIONS, nodeOptionsHelp } from '../node/config.js';
import { createLogger } from '../node/log.js';
import { RaftNode } from '../node/node.js';

export const nodeHelp = `raft-otel node [options]

Runs one Raft node: its gRPC server for peers and its HTTP API for clients. Each option can also
be set by the environment variable beside it; flags win.

Options:
${nodeOptionsHelp()}

Chaos defaults: RAFT_CHAOS_DROP, RAFT_CHAOS_DROP_REPLY, RAFT_CHAOS_DELAY_MS, RAFT_CHAOS_CUT.

SIGTERM or SIGINT stops the node gracefully: a leader hands leadership over first.
`;

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

export async function nodeCommand(argv: string[]): Promise<number> {
  const options = Object.fromEntries(NODE_OPTIONS.map((o) => [o.flag, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  if (values.help) {
    process.stdout.write(nodeHelp);
    return 0;
  }
  const cfg = loadNodeConfig(values as Record<string, string | undefined>, process.env);
  let node: RaftNode;
  try {
    node = await RaftNode.start(cfg);
  } catch (e) {
    // Damaged storage, a port in use: say so in the node's log format, and exit non-zero.
    createLogger(cfg.id, cfg.logLevel).error('start_failed', { error: (e as Error).message });
    return 1;
  }
  const http = createServer(createApp(node));
  const { host, port } = splitHostPort(cfg.httpListen);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
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
      resolve(code);
    };
    process.on('SIGTERM', () => void stop('SIGTERM', true, 0));
    process.on('SIGINT', () => void stop('SIGINT', true, 0));
    node.on('fatal', () => void stop('fatal', false, 1));
  });
}
