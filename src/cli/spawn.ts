// Starts a node as its own OS process, with its output appended to its log file. The process
// is `node` itself (not npm, sh or npx), so its pid is the node: kill -9 of it kills the node.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NodeEntry } from './cluster-file.js';

export function spawnNode(entry: NodeEntry, env: Record<string, string>, detached: boolean): ChildProcess {
  mkdirSync(dirname(entry.logFile), { recursive: true });
  const out = openSync(entry.logFile, 'a');
  // Re-run this very program (with the same loader flags, e.g. --import tsx) as `raft-otel node`.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'node', ...entry.args], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
    detached,
  });
  if (detached) child.unref();
  return child;
}
