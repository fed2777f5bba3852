// Starts a node as its own OS process, with its output appended to its log file. The process
// is `node` itself (not npm, sh or npx), so its pid is the node: kill -9 of it kills the node.
// Its entry (pid included) goes to <node dir>/node.json before anything else can happen.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNodeFile, type ClusterFile, type NodeEntry } from './cluster-file.js';
import { inheritedEnv } from './credentials.js';
import type { NodeStatus } from '../api/status.js';
import { ownStatus } from './http.js';

/** The CLI entry point beside this file: main.ts under tsx, main.js once compiled. */
const fromSources = import.meta.url.endsWith('.ts');
const MAIN = fileURLToPath(new URL(fromSources ? './main.ts' : './main.js', import.meta.url));
const LOADER = fromSources ? ['--import', 'tsx'] : [];

export interface Started {
  child: ChildProcess;
  /** Where this start's output begins in the log file (for the lines a failure prints). */
  logOffset: number;
}

/** Starts the node and records its pid in `entry` and in its node.json. */
export function spawnNode(c: Pick<ClusterFile, 'clusterId' | 'env'>, entry: NodeEntry, detached: boolean): Started {
  mkdirSync(dirname(entry.logFile), { recursive: true });
  let logOffset = 0;
  try {
    logOffset = statSync(entry.logFile).size;
  } catch {
    /* a new log */
  }
  const out = openSync(entry.logFile, 'a');
  const child = spawn(process.execPath, [...LOADER, MAIN, 'node', ...entry.args], {
    stdio: ['ignore', out, out],
    // Without an OTLP endpoint, each node writes its spans as OTLP JSON under its data dir.
    env: {
      ...inheritedEnv(c.env),
      ...c.env,
      ...(c.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT
        ? {}
        : { RAFT_TRACE_DIR: join(entry.dataDir, 'traces') }),
    },
    detached,
  });
  closeSync(out);
  // A detached node outlives the command that started it; its 'exit' still arrives while we wait.
  if (detached) child.unref();
  entry.pid = child.pid ?? 0;
  writeNodeFile(c, entry);
  return { child, logOffset };
}

/** The last `n` lines of the node's log written since `offset`, indented for a terminal. */
export function logTail(entry: NodeEntry, offset = 0, n = 8): string {
  let text: string;
  try {
    text = readFileSync(entry.logFile, 'utf8').slice(offset);
  } catch {
    return `    (no log at ${entry.logFile})`;
  }
  const lines = text.trimEnd().split('\n').filter(Boolean).slice(-n);
  return lines.length ? lines.map((l) => `    ${l}`).join('\n') : '    (the log is empty)';
}

/** The message of the node's last error line (its JSON log's `error` field) since `offset`. */
export function logError(entry: NodeEntry, offset = 0): string | null {
  let text: string;
  try {
    text = readFileSync(entry.logFile, 'utf8').slice(offset);
  } catch {
    return null;
  }
  for (const line of text.trimEnd().split('\n').reverse()) {
    try {
      const j = JSON.parse(line) as { level?: string; error?: unknown; event?: string };
      if (j.level === 'error') return typeof j.error === 'string' ? j.error : (j.event ?? line);
    } catch {
      // Not JSON: a crash before the logger (a stack trace). Its first line says what.
      if (/Error|error:/.test(line)) return line.trim();
    }
  }
  return null;
}

/** Waits until the node we started serves its API, or fails with what its log says. */
export async function waitServing(entry: NodeEntry, started: Started, timeoutMs = 15_000): Promise<NodeStatus> {
  const { child, logOffset } = started;
  const seen: { exit: string | null } = { exit: null };
  const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
    (seen.exit = signal ? `signal ${signal}` : `code ${code}`);
  child.once('exit', onExit);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (seen.exit !== null) throw startFailure(entry, `exited at start (${seen.exit})`, logOffset);
      const st = await ownStatus(entry, 300);
      if (st) return st;
      if (Date.now() > deadline) throw startFailure(entry, `did not answer within ${timeoutMs / 1000} s`, logOffset);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.off('exit', onExit);
  }
}

function startFailure(entry: NodeEntry, what: string, offset: number): Error {
  const why = logError(entry, offset);
  return new Error(
    `${entry.id} ${what}${why ? `: ${why}` : ''}\n  last lines of ${entry.logFile}:\n${logTail(entry, offset)}`,
  );
}
