// Which nodes an exercise looks at, and their state through the HTTP API.
// - A local cluster (`raft-otel up`): its records in the data dir (cluster.json, node.json).
// - A compose cluster (`--compose`): the nodes `docker compose` lists for the project, each on
//   its published port; a stopped container still counts as a member.
import { findCluster, liveNodes } from '../cli/cluster-file.js';
import { composeCluster } from '../cli/compose.js';
import { tryStatus } from '../cli/http.js';
import type { NodeStatus } from '../api/status.js';
import type { NodeRef } from './types.js';

export interface Cluster {
  nodes: NodeRef[];
  /** RAFT_* / OTEL_* settings the nodes were started with, when known. */
  settings: Record<string, string>;
  /** Where `exercise start` keeps its records. */
  recordDir: string | null;
  where: string;
}

/** The local cluster in dataDir, or null when there is none. */
export function localCluster(dataDir: string): Cluster | null {
  const c = findCluster(dataDir);
  if (!c) return null;
  return {
    nodes: liveNodes(c).map((n) => ({ id: n.id, http: n.http })),
    settings: { ...c.env },
    recordDir: c.dataDir,
    where: `the local cluster in ${c.dataDir}`,
  };
}

/** The compose stack's nodes, as `docker compose` itself describes the project (the same
 *  reading the other commands' --compose mode uses: src/cli/compose.ts); its error says what to do
 *  when no node has a container. */
export function composeNodes(recordDir: string): Cluster {
  const c = composeCluster();
  return {
    nodes: liveNodes(c).map((n) => ({ id: n.id, http: n.http })),
    settings: {},
    recordDir,
    where: `the compose project ${c.compose?.name ?? ''} (node APIs on their published ports)`,
  };
}

export async function statuses(nodes: NodeRef[]): Promise<Map<string, NodeStatus | null>> {
  const sts = await Promise.all(nodes.map((n) => tryStatus(n, 1500)));
  return new Map(nodes.map((n, i) => [n.id, sts[i]]));
}

/** The node every answering node agrees leads, with its term; null when there is none. */
export function agreedLeader(sts: Map<string, NodeStatus | null>): { id: string; term: number } | null {
  const up = [...sts.values()].filter((s): s is NodeStatus => s !== null);
  const leader = up.find((s) => s.role === 'leader');
  if (!leader || !up.every((s) => s.leader === leader.id)) return null;
  return { id: leader.id, term: leader.term };
}
