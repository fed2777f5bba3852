// Files a local cluster keeps that some checks read besides spans and /status: each node's log
// (exercise 12: what the new leader logged) and the histories `check-linearizable` writes
// (exercise 10). A check context names the nodes by their HTTP addresses only, so the data dir is
// found from a node itself: /status gives its pid, and a local node's command line (`raft-otel node
// --id ID ... --data-dir DIR/ID`) names its data dir. A compose node's pid belongs to its container,
// not to this machine: its command line here is something else (or nothing), and there are no files.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NodeStatus } from '../api/status.js';
import { findCluster, type ClusterFile } from '../cli/cluster-file.js';

/** The arguments of process `pid` on this machine, or null (gone, another OS, not readable). */
function argsOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** The local cluster whose node answered with `st`, or null when that node is not a local process
 *  (a compose container, or a process that is not the node the status names). */
export function localClusterOf(st: Pick<NodeStatus, 'id' | 'pid'>): ClusterFile | null {
  const args = argsOf(st.pid);
  if (!args) return null;
  const at = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (!args.includes('node') || at('--id') !== st.id) return null;
  const dir = at('--data-dir');
  if (!dir) return null;
  return findCluster(dirname(dir));
}

/** The first local cluster any of the statuses leads to. */
export function localCluster(sts: Iterable<NodeStatus | null>): ClusterFile | null {
  for (const st of sts) {
    const c = st ? localClusterOf(st) : null;
    if (c) return c;
  }
  return null;
}

/** One JSON line of a node's log. */
export interface LogLine {
  time: string;
  level: string;
  node: string;
  event: string;
  trace_id?: string;
  span_id?: string;
  [field: string]: unknown;
}

/** The node's log lines with `event`, written at or after `sinceMs` (lines that are not JSON, such
 *  as a crash's stack trace, are skipped). */
export function logLines(file: string, event: string, sinceMs: number): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(`"${event}"`)) continue;
    try {
      const l = JSON.parse(line) as LogLine;
      if (l.event === event && Date.parse(l.time) >= sinceMs) out.push(l);
    } catch {
      /* not a log record */
    }
  }
  return out;
}
