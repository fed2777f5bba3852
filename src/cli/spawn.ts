// Starts a node as its own OS process, with its output appended to its log file. The process
// is `node` itself (not npm, sh or npx), so its pid is the node: kill -9 of it kills the node.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeEntry } from './cluster-file.js';

/** The CLI entry point beside this file: main.ts under tsx, main.js once compiled. */
const fromSources = import.meta.url.endsWith('.ts');
const MAIN = fileURLToPath(new URL(fromSources ? './main.ts' : './main.js', import.meta.url));
const LOADER = fromSources ? ['--import', 'tsx'] : [];

export function spawnNode(entry: NodeEntry, env: Record<string, string>, detached: boolean): ChildProcess {
  mkdirSync(dirname(entry.logFile), { recursive: true });
  const out = openSync(entry.logFile, 'a');
  const child = spawn(process.execPath, [...LOADER, MAIN, 'node', ...entry.args], {
    stdio: ['ignore', out, out],
    // Without an OTLP endpoint, each node writes its spans as OTLP JSON under its data dir.
    env: {
      ...process.env,
      ...env,
      ...(env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT
        ? {}
        : { RAFT_TRACE_DIR: join(entry.dataDir, 'traces') }),
    },
    detached,
  });
  if (detached) child.unref();
  return child;
}
